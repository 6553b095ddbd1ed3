"""AI.TENSORSET / AI.TENSORGET BLOB against plain SET / GET of the same bytes, same server.

One server (Valkey by default, ``--engine redis`` for Redis 7) with the ``ai`` module. The
load generator is several processes, each with one connection sending pre-encoded
pipelines over a raw socket and parsing replies with hiredis (C), so the client side costs
little per operation. The four commands run in alternating rounds and the best round of
each counts, which evens out noise on a shared machine. Prints ops/s and the ratios
TENSORSET/SET and TENSORGET/GET per size, then MEMORY USAGE minus the raw bytes.

The same rounds measure a no-op module command sent with the tensor command's arguments
(``_noop_module.py``: NOOP.SET key UINT8 n BLOB data, NOOP.GET key BLOB; no key lookup, no
storage): the ceiling ("noop") that any module command carrying those arguments can reach on
this server. ``--no-ceiling`` leaves it out.

    .venv/bin/python benchmarks/bench_tensor.py [--engine valkey|redis] [--seconds 2] [--sizes 1KB 64KB]
        [--load redis-benchmark] [--pin] [--no-ceiling]

``--load redis-benchmark`` drives the same commands with Redis's own C load generator
instead (1 KB and 64 KB only: it takes the value as a command-line argument); ``--pin`` puts
the server on the first CPU and the load on the others.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import hiredis
import psutil
import redis
from _engines import ENGINES, engine_binary
from _noop_module import build_noop_module

from smartsim_ai.testing.servers import ServerProcess

SIZES = {"1KB": 1 << 10, "64KB": 64 << 10, "1MB": 1 << 20, "16MB": 16 << 20}
CLIENT_CPUS: set[int] = set()  # --pin: where the load generator runs (the server: elsewhere)
PIPELINE = {"1KB": 64, "64KB": 16, "1MB": 2, "16MB": 1}


def resp(*args: bytes | str | int) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def command(kind: str, key: str, data: bytes) -> bytes:
    return resp(*command_words(kind, key, data))


def command_words(kind: str, key: str, data: bytes | str) -> list[bytes | str | int]:
    """The command's arguments (redis-benchmark takes them on its command line)."""
    n = len(data)
    return {
        "SET": ["SET", key, data],
        "GET": ["GET", key],
        "TENSORSET": ["AI.TENSORSET", key, "UINT8", n, "BLOB", data],
        "TENSORGET": ["AI.TENSORGET", key, "BLOB"],
        "NOOPSET": ["NOOP.SET", key, "UINT8", n, "BLOB", data],
        "NOOPGET": ["NOOP.GET", key, "BLOB"],
    }[kind]


def _load(port: int, request: bytes, batch: int, seconds: float, start, results) -> None:
    if CLIENT_CPUS:
        os.sched_setaffinity(0, CLIENT_CPUS)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = hiredis.Reader()
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    start.wait()
    ops, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while time.perf_counter() < deadline:
        sock.sendall(request)
        got = 0
        while got < batch:
            n = sock.recv_into(view)
            if n == 0:
                raise ConnectionError("server closed the connection")
            reader.feed(view[:n])
            while (reply := reader.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise RuntimeError(reply)
                got += 1
        ops += batch
    results.put((ops, time.perf_counter() - t0))
    sock.close()


def measure(port: int, kind: str, size: str, clients: int, seconds: float) -> tuple[float, int]:
    """Total ops/s of all clients, and the number of operations done."""
    data = bytes(range(256)) * (SIZES[size] // 256)
    batch = PIPELINE[size]
    ctx = mp.get_context("fork")
    start, results = ctx.Barrier(clients + 1), ctx.Queue()
    procs = []
    for i in range(clients):
        request = command(kind, f"k{i}", data) * batch
        p = ctx.Process(target=_load, args=(port, request, batch, seconds, start, results))
        p.start()
        procs.append(p)
    start.wait()
    done = [results.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return sum(ops / elapsed for ops, elapsed in done), sum(ops for ops, _ in done)


REQUESTS: dict[tuple[str, str], int] = {}  # redis-benchmark: requests per run, sized to --seconds


def measure_c(port: int, kind: str, size: str, clients: int, seconds: float) -> tuple[float, int]:
    """measure() with redis-benchmark: `clients` connections of PIPELINE[size] commands on
    the key k0 (which prepare_kind filled)."""
    n = REQUESTS[(kind, size)]
    return _redis_benchmark(port, kind, size, clients, n, seconds), n


def calibrate_c(port: int, kind: str, size: str, clients: int, seconds: float) -> None:
    """A first, uncounted redis-benchmark run: how many requests fill `seconds`."""
    if (kind, size) not in REQUESTS:
        rate = _redis_benchmark(port, kind, size, clients, 20000, seconds)
        REQUESTS[(kind, size)] = max(1000, int(rate * seconds))


def _redis_benchmark(
    port: int, kind: str, size: str, clients: int, n: int, seconds: float
) -> float:
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", str(clients), "-P", str(PIPELINE[size]),
         "-n", str(n), "--csv", *map(str, command_words(kind, "k0", "x" * SIZES[size]))],
        check=True, capture_output=True, text=True, timeout=seconds * 20 + 120,
        preexec_fn=(lambda: os.sched_setaffinity(0, CLIENT_CPUS)) if CLIENT_CPUS else None,
    )  # fmt: skip
    return float(list(csv.reader(out.stdout.splitlines()))[-1][1])


def measure_with_cpu(
    server: ServerProcess, kind: str, size: str, clients: int, seconds: float, load: str
) -> tuple[float, float]:
    """(ops/s, server CPU microseconds per operation).  A saturated server's throughput is
    1 / (CPU per operation); unlike ops/s, that cost barely moves when other processes
    compete for the machine's cores."""
    run_load = measure
    if load == "redis-benchmark":
        calibrate_c(server.port, kind, size, clients, seconds)
        run_load = measure_c
    proc = psutil.Process(server.proc.pid)
    before = proc.cpu_times()
    rate, ops = run_load(server.port, kind, size, clients, seconds)
    after = proc.cpu_times()
    cpu = (after.user - before.user) + (after.system - before.system)
    return rate, cpu * 1e6 / max(ops, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, default="valkey")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=None)
    parser.add_argument("--load", choices=("python", "redis-benchmark"), default="python")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the no-op commands")
    parser.add_argument(
        "--pin", action="store_true",
        help="run the server (all its threads) on the first CPU, the clients on the others",
    )  # fmt: skip
    args = parser.parse_args()
    if args.load == "redis-benchmark":
        if shutil.which("redis-benchmark") is None:
            raise SystemExit("redis-benchmark is not installed (apt-get install redis-tools)")
        args.sizes = args.sizes or ["1KB", "64KB"]
        if set(args.sizes) - {"1KB", "64KB"}:
            raise SystemExit("--load redis-benchmark: 1KB and 64KB only (values go on its argv)")
    args.sizes = args.sizes or list(SIZES)

    binary = engine_binary(args.engine)
    with tempfile.TemporaryDirectory(prefix="bench-tensor-") as tmp:
        config = {} if args.no_ceiling else {"loadmodule": str(build_noop_module(Path(tmp)))}
        with ServerProcess(binary, config=config) as server:
            if args.pin:
                pin(server)
            run(server, args)


def pin(server: ServerProcess) -> None:
    """The server's threads on the first CPU, the load generator on the others."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin needs at least 2 CPUs")
    for tid in os.listdir(f"/proc/{server.proc.pid}/task"):
        os.sched_setaffinity(int(tid), {cpus[0]})
    CLIENT_CPUS.update(cpus[1:])


def run(server: ServerProcess, args: argparse.Namespace) -> None:
    client = redis.Redis(host=server.host, port=server.port)
    print(f"server: {server.binary.path} ({args.engine}), {args.clients} pipelined clients "
          f"({args.load}), best of {args.rounds} rounds x {args.seconds}s")  # fmt: skip
    print("ops/s: best round; server CPU per operation (us): lowest round. Ratios are")
    print("tensor/plain for ops/s, and plain CPU / tensor CPU for capacity ('cap');")
    if not args.no_ceiling:
        print("'noop' and 'ncap': the same for the no-op command with the tensor's arguments.")
    pairs = (("SET", "NOOPSET", "TENSORSET"), ("GET", "NOOPGET", "TENSORGET"))
    kinds = [k for pair in pairs for k in pair if not (args.no_ceiling and "NOOP" in k)]
    head = f"{'ops/s':>9} {'ops/s':>9} {'ratio':>5} {'us/op':>6} {'us/op':>6} {'cap':>5}"
    if not args.no_ceiling:
        head += f" {'noop':>5} {'ncap':>5}"
    pad = "" if args.no_ceiling else " " * 12
    print(f"{'':>6} {'SET':>9} {'TENSORSET':>9} {'':>5} {'SET':>6} {'TSET':>6} {'':>5}{pad} | "
          f"{'GET':>9} {'TENSORGET':>9} {'':>5} {'GET':>6} {'TGET':>6}")  # fmt: skip
    print(f"{'size':>6} {head} | {head}")
    for size in args.sizes:
        nbytes = SIZES[size]
        rate = {k: 0.0 for k in kinds}
        cpu = {k: float("inf") for k in kinds}
        for _ in range(args.rounds):
            for kind in kinds:
                client.flushall()
                prepare_kind(client, kind, args.clients, nbytes)
                r, c = measure_with_cpu(server, kind, size, args.clients, args.seconds, args.load)
                rate[kind], cpu[kind] = max(rate[kind], r), min(cpu[kind], c)
        cells = []
        for p, n, t in pairs:
            cell = (
                f"{rate[p]:>9.0f} {rate[t]:>9.0f} {rate[t] / rate[p]:>5.2f} "
                f"{cpu[p]:>6.2f} {cpu[t]:>6.2f} {cpu[p] / cpu[t]:>5.2f}"
            )
            if n in rate:
                cell += f" {rate[n] / rate[p]:>5.2f} {cpu[p] / cpu[n]:>5.2f}"
            cells.append(cell)
        print(f"{size:>6} {cells[0]} | {cells[1]}")
    print("\nMEMORY USAGE minus raw bytes (key overhead included in both)")
    for size in args.sizes:
        nbytes = SIZES[size]
        data = b"\x01" * nbytes
        client.flushall()
        client.set("s", data)
        client.execute_command("AI.TENSORSET", "t", "UINT8", nbytes, "BLOB", data)
        wait_for_compaction(client)
        print(f"{size:>6} tensor {client.memory_usage('t') - nbytes:>8} B   "
              f"string {client.memory_usage('s') - nbytes:>8} B")  # fmt: skip
    client.close()


def wait_for_compaction(client: redis.Redis, timeout: float = 10.0) -> None:
    """Until the module's background compaction of big tensors has no job left."""
    deadline = time.monotonic() + timeout
    while client.info("ai_tensor_compaction").get("ai_waiting", 0) and time.monotonic() < deadline:
        time.sleep(0.001)


def prepare_kind(client: redis.Redis, kind: str, clients: int, nbytes: int) -> None:
    """GET / TENSORGET read keys that already hold a value of their type (NOOP.GET: a
    reply of that length)."""
    data = bytes(range(256)) * (nbytes // 256)
    for i in range(clients):
        if kind == "GET":
            client.set(f"k{i}", data)
        elif kind == "TENSORGET":
            client.execute_command("AI.TENSORSET", f"k{i}", "UINT8", nbytes, "BLOB", data)
        elif kind == "NOOPGET":
            client.execute_command("NOOP.SET", f"k{i}", "UINT8", nbytes, "BLOB", data)


if __name__ == "__main__":
    main()
