"""Worker thread counts: THREADS_PER_QUEUE 2 with the backends' own thread default against the
module's default (the cores shared by the CPU queue's workers), side by side in one run.

Before issue 14, INTRA_OP_PARALLELISM / INTER_OP_PARALLELISM left at 0 meant "the backend's
default": torch runs every core in every worker, so two workers on the same cores
oversubscribe them.  That old default is reproduced here by giving every core explicitly.

Each configuration runs in its own server; clients (separate processes) call MODELEXECUTE on a
small model in a closed loop for a fixed time.  Rounds alternate between the configurations
so that load from other users of the machine hits both alike; the ratio is what to read.

Run: .venv/bin/python benchmarks/bench_threads.py [--seconds 5] [--rounds 3] [--clients 4]
     [--engine valkey|redis] [--model linear|cnn]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time

import numpy as np
import redis

from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import ServerProcess
from smartsim_ai.worker import samples


def client_loop(port: int, seconds: float, shape: tuple[int, ...], out: mp.Queue) -> None:
    c = redis.Redis(port=port)
    key = f"x{os.getpid()}"
    data = np.random.default_rng(os.getpid()).random(shape, dtype=np.float32).tobytes()
    c.execute_command("AI.TENSORSET", key, "FLOAT", *shape, "BLOB", data)
    lat = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, key, "OUTPUTS", 1, key + "y")
        lat.append(time.perf_counter() - t0)
    out.put(lat)


def measure(
    port: int, clients: int, seconds: float, shape: tuple[int, ...]
) -> tuple[float, float, float]:
    """Runs/s, median and p99 latency (ms) of `clients` closed-loop clients."""
    q: mp.Queue = mp.Queue()
    procs = [mp.Process(target=client_loop, args=(port, seconds, shape, q)) for _ in range(clients)]
    for p in procs:
        p.start()
    lat: list[float] = []
    for _ in procs:
        lat += q.get()
    for p in procs:
        p.join()
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return len(lat) / seconds, statistics.median(lat) * 1e3, p99 * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--engine", default="valkey")
    ap.add_argument("--model", choices=["linear", "cnn"], default="linear")
    args = ap.parse_args()

    cores = len(os.sched_getaffinity(0))
    if args.model == "linear":
        blob, _ = samples.torch_linear_bytes()
        shape: tuple[int, ...] = (1, 10)
    else:
        blob = samples.torch_cnn_bytes()
        shape = (1, 1, 28, 28)
    configs = {
        "TPQ 2, backend default threads (old)": [
            "THREADS_PER_QUEUE", "2",
            "INTRA_OP_PARALLELISM", str(cores), "INTER_OP_PARALLELISM", str(cores),
        ],
        "TPQ 2, module default (new)": ["THREADS_PER_QUEUE", "2"],
        "TPQ 1, module default (new)": ["THREADS_PER_QUEUE", "1"],
        "TPQ 1, INTRA/INTER_OP 1": [
            "THREADS_PER_QUEUE", "1", "INTRA_OP_PARALLELISM", "1", "INTER_OP_PARALLELISM", "1",
        ],
    }  # fmt: skip
    servers = {}
    try:
        for name, margs in configs.items():
            s = ServerProcess(engine_binary(args.engine), module_args=margs).start()
            c = redis.Redis(port=s.port)
            c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
            servers[name] = s
        # warm every worker (the first run in a worker imports nothing, but warms torch)
        for s in servers.values():
            measure(s.port, args.clients, 1.0, shape)
        results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in configs}
        for _round in range(args.rounds):
            for name, s in servers.items():
                results[name].append(measure(s.port, args.clients, args.seconds, shape))
        print(
            f"{cores} cores, {args.clients} clients, {args.model} model, {args.engine}, "
            f"{args.rounds} x {args.seconds:.0f} s per configuration (interleaved)"
        )
        base = statistics.median(x[0] for x in results[next(iter(configs))])
        for name, rs in results.items():
            rate = statistics.median(x[0] for x in rs)
            p50 = statistics.median(x[1] for x in rs)
            p99 = statistics.median(x[2] for x in rs)
            print(
                f"  {name:40s} {rate:8.0f} runs/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
                f"x{rate / base:5.1f}"
            )
    finally:
        for s in servers.values():
            s.cleanup()


if __name__ == "__main__":
    main()
