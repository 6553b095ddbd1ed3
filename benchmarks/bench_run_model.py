"""Model execution through the `ai` module against the same model in-process.

Three measurements, side by side in one run (no absolute targets are asserted):

1. latency: a 1x10 linear TorchScript model through the server against calling it in-process;
   prints the added median latency of three ways to run it: TENSORSET + MODELEXECUTE +
   TENSORGET (three round trips, as SmartRedis's put_tensor/run_model/unpack_tensor), the same
   three ops in one AI.DAGEXECUTE (one round trip), and MODELEXECUTE alone (input already in
   the database: SmartRedis's run_model call);
2. throughput: 16 concurrent client processes on a small CNN, BATCHSIZE 16 against 0;
3. big tensors: 1..64 MB through a model (x * 2); the time per MB must stay flat (no quadratic
   copies).

Run: .venv/bin/python benchmarks/bench_run_model.py [--quick] [--engine valkey|redis]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import time

import hiredis
import numpy as np
import redis
import torch

from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import ServerProcess
from smartsim_ai.worker import samples


def resp(*args: object) -> bytes:
    """One command in RESP, encoded once (the lean client re-sends the same bytes)."""
    parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


class LeanClient:
    """A minimal RESP client (socket + hiredis parser): measures the server, not redis-py."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def call(self, encoded: bytes) -> object:
        self.sock.sendall(encoded)
        while True:
            reply = self.reader.gets()
            if reply is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise RuntimeError(str(reply))
                return reply
            self.reader.feed(self.sock.recv(1 << 20))


def bench_latency(port: int, n: int) -> None:
    blob, module = samples.torch_linear_bytes()
    c = redis.Redis(port=port)
    c.execute_command("AI.MODELSTORE", "lin", "TORCH", "CPU", "BLOB", blob)
    x = np.random.default_rng(0).random((1, 10), dtype=np.float32)
    data = x.tobytes()

    def through_server() -> None:
        c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 10, "BLOB", data)
        c.execute_command("AI.MODELEXECUTE", "lin", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
        c.execute_command("AI.TENSORGET", "y", "META", "BLOB")

    def in_process() -> None:
        with torch.no_grad():
            module(torch.from_numpy(np.frombuffer(data, np.float32).reshape(1, 10))).numpy()

    def ping3() -> None:  # the same three round trips with no work: the client+network floor
        c.ping()
        c.ping()
        c.ping()

    lean = LeanClient(port)
    cmds = [
        resp("AI.TENSORSET", "x", "FLOAT", 1, 10, "BLOB", data),
        resp("AI.MODELEXECUTE", "lin", "INPUTS", 1, "x", "OUTPUTS", 1, "y"),
        resp("AI.TENSORGET", "y", "META", "BLOB"),
    ]
    ping = resp("PING")
    execute = resp("AI.MODELEXECUTE", "lin", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    dag = resp(
        *("AI.DAGEXECUTE", "ROUTING", "lin", "|>", "AI.TENSORSET", "x", "FLOAT", 1, 10, "BLOB"),
        *(data, "|>", "AI.MODELEXECUTE", "lin", "INPUTS", 1, "x", "OUTPUTS", 1, "y"),
        *("|>", "AI.TENSORGET", "y", "META", "BLOB"),
    )

    def lean_server() -> None:
        for cmd in cmds:
            lean.call(cmd)

    def lean_ping3() -> None:
        for _ in range(3):
            lean.call(ping)

    def lean_execute() -> None:
        lean.call(execute)

    def lean_dag() -> None:
        lean.call(dag)

    # the model alone in a tight (cache-warm) loop: the most favourable in-process number
    warm = []
    for i in range(n + 200):
        t0 = time.perf_counter()
        in_process()
        if i >= 200:
            warm.append(time.perf_counter() - t0)
    local_warm = statistics.median(warm) * 1e6
    # interleaved: every variant sees the same background load (this machine is shared)
    variants = {
        "local": in_process,
        "lean": lean_server,
        "lean_floor": lean_ping3,
        "lean_execute": lean_execute,
        "lean_dag": lean_dag,
        "redispy": through_server,
        "redispy_floor": ping3,
    }
    samples_: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(n + 200):
        if i == 200:
            c.execute_command("AI.INFO", "lin", "RESETSTAT")
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn()
            if i >= 200:
                samples_[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) * 1e6 for name, v in samples_.items()}
    info = c.execute_command("AI.INFO", "lin")
    stats = dict(zip(info[::2], info[1::2], strict=True))
    worker_run = stats[b"duration"] / max(1, stats[b"calls"])
    local, lean_rt, lean_floor = med["local"], med["lean"], med["lean_floor"]
    server, floor = med["redispy"], med["redispy_floor"]
    print("== (1) run_model round trip, 1x10 linear TorchScript, median of", n, "(interleaved)")
    print("   -- lean RESP client (socket + hiredis)")
    print(f"   in-process forward (interleaved){local:8.1f} us")
    print(f"   in-process forward (warm loop)  {local_warm:8.1f} us")
    print(f"   server TENSORSET+EXECUTE+GET    {lean_rt:8.1f} us")
    print(f"   three PINGs (network floor)     {lean_floor:8.1f} us")
    print(f"   one DAGEXECUTE (the same ops)   {med['lean_dag']:8.1f} us")
    print(f"   MODELEXECUTE alone              {med['lean_execute']:8.1f} us")
    print(f"   worker's own run (AI.INFO mean) {worker_run:8.1f} us")
    print("   added latency (target <= 200 us)    vs interleaved   vs warm loop")
    for label, total in (
        ("three calls (put, run, get)", lean_rt),
        ("one DAGEXECUTE (put, run, get)", med["lean_dag"]),
        ("MODELEXECUTE alone (run_model)", med["lean_execute"]),
    ):
        print(f"   {label:32s} {total - local:8.1f} us {total - local_warm:10.1f} us")
    print(f"   three calls beyond the network floor {lean_rt - local_warm - lean_floor:8.1f} us")
    print("   -- redis-py client")
    print(f"   server TENSORSET+EXECUTE+GET    {server:8.1f} us")
    print(f"   three PINGs (client floor)      {floor:8.1f} us")
    print(f"   added latency (server - local)  {server - local:8.1f} us")


def _client_loop(port: int, key: str, seconds: float, start, queue) -> None:  # type: ignore[no-untyped-def]
    c = LeanClient(port)
    x = np.random.default_rng(len(key)).random((1, 1, 28, 28), dtype=np.float32)
    c.call(resp("AI.TENSORSET", key, "FLOAT", 1, 1, 28, 28, "BLOB", x.tobytes()))
    run = resp("AI.MODELEXECUTE", "cnn", "INPUTS", 1, key, "OUTPUTS", 1, key + "o")
    start.wait()
    n = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        c.call(run)
        n += 1
    queue.put(n)


def _throughput(port: int, batch: int, blob: bytes, seconds: float, clients: int) -> float:
    c = redis.Redis(port=port)
    c.execute_command("AI.MODELSTORE", "cnn", "TORCH", "CPU", "BATCHSIZE", batch, "BLOB", blob)
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    start = ctx.Event()
    procs = [
        ctx.Process(target=_client_loop, args=(port, f"in{i}", seconds, start, q))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    while int(c.info("clients")["connected_clients"]) < clients + 1:
        time.sleep(0.05)
    time.sleep(0.3)
    start.set()
    total = sum(q.get(timeout=seconds + 120) for _ in procs)
    for p in procs:
        p.join()
    c.close()
    return total / seconds


def bench_throughput(port: int, seconds: float, rounds: int, clients: int = 16) -> None:
    print(f"== (2) {clients} concurrent clients, CNN on 1x1x28x28, BATCHSIZE 16 vs 0")
    print(f"   ({rounds} alternating rounds of {seconds:.0f} s; median per-round ratio)")
    for label, channels in (("tiny CNN (8/16 ch)", (8, 16)), ("MNIST CNN (32/64 ch)", (32, 64))):
        blob = samples.torch_cnn_bytes(channels)
        ratios, r0, r16 = [], [], []
        for _ in range(rounds):
            a = _throughput(port, 0, blob, seconds, clients)
            b = _throughput(port, 16, blob, seconds, clients)
            r0.append(a)
            r16.append(b)
            ratios.append(b / a)
        rounds_text = ", ".join(f"{a:.0f}->{b:.0f}" for a, b in zip(r0, r16, strict=True))
        print(
            f"   {label:22s} ratio {statistics.median(ratios):5.2f}x  (target >= 2x)"
            f"   runs/s per round (BATCHSIZE 0->16): {rounds_text}"
        )


def bench_big(port: int, max_mb: int) -> None:
    c = redis.Redis(port=port)
    c.execute_command("AI.MODELSTORE", "scale", "TORCH", "CPU", "BLOB", samples.torch_scale_bytes())
    print("== (3) big tensors through a model (TENSORSET + MODELEXECUTE + TENSORGET)")
    mb = 1
    per_mb = []
    while mb <= max_mb:
        n = mb * (1 << 20) // 4
        x = np.ones(n, dtype=np.float32)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            c.execute_command("AI.TENSORSET", "big", "FLOAT", n, "BLOB", x.tobytes())
            c.execute_command("AI.MODELEXECUTE", "scale", "INPUTS", 1, "big", "OUTPUTS", 1, "bo")
            out = c.execute_command("AI.TENSORGET", "bo", "BLOB")
            times.append(time.perf_counter() - t0)
        assert np.frombuffer(out, np.float32)[-1] == 2.0
        best = min(times)
        per_mb.append(best / mb)
        print(f"   {mb:3d} MB  {best * 1e3:8.1f} ms   {best / mb * 1e3:6.2f} ms/MB")
        mb *= 4
    print(f"   ms/MB at the largest size / at 1 MB: {per_mb[-1] / per_mb[0]:.2f} (flat = linear)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--engine", default="valkey", choices=["valkey", "redis"])
    parser.add_argument("--only", choices=["latency", "throughput", "big"])
    args = parser.parse_args()

    torch.set_num_threads(1)
    with ServerProcess(engine_binary(args.engine)) as server:
        if args.only in (None, "latency"):
            bench_latency(server.port, 500 if args.quick else 3000)
        if args.only in (None, "throughput"):
            bench_throughput(server.port, 2.0 if args.quick else 4.0, 1 if args.quick else 3)
        if args.only in (None, "big"):
            bench_big(server.port, 64)


if __name__ == "__main__":
    main()
