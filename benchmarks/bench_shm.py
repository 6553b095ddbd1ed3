"""Big tensors through a model: shared memory (SHM_THRESHOLD) against the socket path.

Two servers of the same engine side by side, identical but for SHM_THRESHOLD: the default
(256 KB: tensors from 256 KB up cross to the worker through shared memory) and 0 (every
tensor through the worker's socket, as before shared memory existed).  On each:

1. big tensors of 1, 16 and 64 MB, against TENSORSET + TENSORGET of the same bytes through the
   same client (the bytes to the server and back): MODELEXECUTE of ``x * 2`` alone (the bytes
   to the worker and back, plus the model; target <= 1.3x), and the whole SmartRedis
   ``put_tensor`` + ``run_model`` + ``unpack_tensor`` round trip (TENSORSET, MODELEXECUTE,
   TENSORGET BLOB);
2. small tensors: the same three commands on a 1x10 float tensor (median latency), which must
   not change (it never reaches the threshold).

Wall times on a shared machine follow its load; the CPU time the server and its worker spend
(``/proc`` accounting, summed over the rounds) does not, so it is printed too: the copies
saved show up there even when the wall clock is noisy.

Each size runs in its own block (a 64 MB round right before a 1 MB one would charge the 1 MB
round with freeing the 64 MB tensors); within a block, rounds alternate between the two servers
and the best round of each counts (big) or the median of all calls (small), which evens out
noise on a shared machine.  The client is a raw socket
with the hiredis parser (bench_run_model.LeanClient), so the client costs little per byte.

    .venv/bin/python benchmarks/bench_shm.py [--engine valkey|redis] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import psutil
from _engines import ENGINES, engine_binary
from bench_run_model import LeanClient, resp

from smartsim_ai.testing.servers import ServerProcess
from smartsim_ai.worker import samples

CONFIGS = (("shm", ["SHM_THRESHOLD", str(256 * 1024)]), ("socket", ["SHM_THRESHOLD", "0"]))


def _cpu(server: ServerProcess) -> float:
    """CPU seconds the server and its workers have used so far."""
    procs = [psutil.Process(server.proc.pid)]
    procs += procs[0].children()
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _big_round(c: LeanClient, mb: int, cpu: list[float], server: ServerProcess) -> tuple:
    """(put + run + get, run alone, put + get) from the same client, in seconds; adds the CPU
    seconds of MODELEXECUTE and of TENSORSET + TENSORGET to cpu[0] and cpu[1]."""
    n = mb * (1 << 20) // 4
    x = np.random.default_rng(mb).random(n, dtype=np.float32)
    put = resp("AI.TENSORSET", "x", "FLOAT", n, "BLOB", x.tobytes())
    run = resp("AI.MODELEXECUTE", "scale", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    get_y = resp("AI.TENSORGET", "y", "BLOB")
    get_x = resp("AI.TENSORGET", "x", "BLOB")
    t0 = time.perf_counter()
    c.call(put)
    ta = time.perf_counter()
    c.call(run)
    tb = time.perf_counter()
    y = c.call(get_y)
    t1 = time.perf_counter()
    c0 = _cpu(server)
    c.call(run)
    c1 = _cpu(server)
    t1b = time.perf_counter()
    c.call(put)
    back = c.call(get_x)
    t2 = time.perf_counter()
    c2 = _cpu(server)
    cpu[0] += c1 - c0
    cpu[1] += c2 - c1
    t2 -= t1b - t1
    assert isinstance(y, bytes) and len(y) == x.nbytes and isinstance(back, bytes)
    return t1 - t0, tb - ta, t2 - t1


def _small(c: LeanClient, calls: int) -> float:
    """Median µs of TENSORSET + MODELEXECUTE + TENSORGET on 1x10 floats."""
    blob = np.random.default_rng(0).random((1, 10), dtype=np.float32).tobytes()
    seq = (
        resp("AI.TENSORSET", "s", "FLOAT", 1, 10, "BLOB", blob),
        resp("AI.MODELEXECUTE", "lin", "INPUTS", 1, "s", "OUTPUTS", 1, "so"),
        resp("AI.TENSORGET", "so", "BLOB"),
    )
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        for cmd in seq:
            c.call(cmd)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, default="valkey")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 rounds, fewer small calls")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    small_calls = 300 if args.quick else 2000
    sizes = (1, 16, 64)

    servers, clients = {}, {}
    workdir = tempfile.mkdtemp(prefix="bench-shm-")
    try:
        for label, module_args in CONFIGS:
            os.makedirs(f"{workdir}/{label}")
            server = ServerProcess(
                engine_binary(args.engine), module_args=module_args, workdir=f"{workdir}/{label}"
            )
            servers[label] = server.start()
            c = LeanClient(server.port)
            c.call(
                resp("AI.MODELSTORE", "scale", "TORCH", "CPU", "BLOB", samples.torch_scale_bytes())
            )
            c.call(
                resp(
                    "AI.MODELSTORE", "lin", "TORCH", "CPU", "BLOB", samples.torch_linear_bytes()[0]
                )
            )
            _small(c, 50)  # warm: the worker's torch import
            clients[label] = c

        small: dict[str, list[float]] = {label: [] for label, _ in CONFIGS}
        for _ in range(rounds):
            for label, _ in CONFIGS:
                small[label].append(_small(clients[label], small_calls // rounds))
        inf = float("inf")
        best = {(label, mb): (inf, inf, inf) for label, _ in CONFIGS for mb in sizes}
        cpu = {(label, mb): [0.0, 0.0] for label, _ in CONFIGS for mb in sizes}
        for mb in sizes:
            for label, _ in CONFIGS:  # warm: the regions' growth, the allocator's first pages
                _big_round(clients[label], mb, [0.0, 0.0], servers[label])
            for _ in range(rounds):
                for label, _ in CONFIGS:
                    now = _big_round(clients[label], mb, cpu[(label, mb)], servers[label])
                    best[(label, mb)] = tuple(map(min, best[(label, mb)], now))

        print(
            f"== {args.engine}: MODELEXECUTE (x * 2) alone, and put_tensor + run_model + "
            f"unpack_tensor, against TENSORSET + TENSORGET of the same bytes; best of {rounds}"
        )
        print(
            f"   {'size':>6} {'path':>7} {'execute':>9} {'ratio':>6} {'put+run+get':>12} "
            f"{'ratio':>6} {'set+get':>9} {'cpu: execute':>13} {'set+get':>8}"
        )
        for mb in sizes:
            for label, _ in CONFIGS:
                full, run, store = best[(label, mb)]
                cpu_run, cpu_store = (v / rounds * 1e3 for v in cpu[(label, mb)])
                print(
                    f"   {mb:4d} MB {label:>7} {run * 1e3:7.1f}ms {run / store:5.2f}x "
                    f"{full * 1e3:10.1f}ms {full / store:5.2f}x {store * 1e3:7.1f}ms "
                    f"{cpu_run:11.1f}ms {cpu_store:6.1f}ms"
                )
        print("== small tensors (1x10 FLOAT): TENSORSET + MODELEXECUTE + TENSORGET, median")
        for label, _ in CONFIGS:
            print(f"   {label:>7} {statistics.median(small[label]):8.1f} us")
    finally:
        for server in servers.values():
            server.cleanup()


if __name__ == "__main__":
    main()
