"""put_tensor + get_tensor: our client vs plain redis-py SET/GET of the same bytes vs the
official SmartRedis 0.6.1 client, on the same server, in one run; and the peak client
memory of get_tensor of a 256 MB tensor.

    .venv/bin/python benchmarks/bench_client.py [--quick] [--official PYTHON]

The official client runs in its own environment (``SMARTREDIS_OFFICIAL_PYTHON`` or
``--official``, default ``.venv-official/bin/python``); it is left out when missing.
Absolute times on a shared machine are noise: read the ratios (higher = ours faster).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import redis

from smartredis import Client
from smartsim_ai.testing.servers import ServerProcess

SIZES = [1 << 10, 16 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20]
ROOT = Path(__file__).resolve().parents[1]

OFFICIAL_LOOP = """
import json, sys, time
import numpy as np
from smartredis import Client
address, plan, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
c = Client(False, address=address)
out = {}
for size, n in plan:
    data = np.ones(size // 4, dtype=np.float32)
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            c.put_tensor("bench_off", data)
            c.get_tensor("bench_off")
        best = min(best, (time.perf_counter() - t0) / n)
    out[str(size)] = best
print(json.dumps(out))
"""

MEMORY_CHILD = """
import sys, tracemalloc
from smartredis import Client
def hwm():  # peak resident set of this process (VmHWM), in bytes
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
c = Client(False, address=sys.argv[1])
c.get_tensor("small")  # warm up connection and imports
base = hwm()
tracemalloc.start()
arr = c.get_tensor("big")
traced = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
print(traced, hwm() - base, arr.nbytes)
"""


def iterations(size: int, quick: bool) -> int:
    budget = 5e7 if quick else 4e8
    return int(max(3, min(3000, budget / size)))


def best_time(fn, n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def official_python(arg: str | None) -> str | None:
    candidate = arg or os.environ.get("SMARTREDIS_OFFICIAL_PYTHON")
    candidate = candidate or str(ROOT / ".venv-official" / "bin" / "python")
    return candidate if Path(candidate).exists() else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--official", help="python of the official smartredis environment")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    official = official_python(args.official)
    plan = [(size, iterations(size, args.quick)) for size in SIZES]

    with ServerProcess(config={"proto-max-bulk-len": str(1 << 30)}) as server:
        ours = Client(False, address=server.address)
        plain = redis.Redis(host=server.host, port=server.port)
        official_times: dict[str, float] = {}
        if official:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SSKEY", "SR_"))}
            env["SR_LOG_LEVEL"] = "QUIET"
            proc = subprocess.run(
                [official, "-c", OFFICIAL_LOOP, server.address, json.dumps(plan),
                 str(args.rounds)],
                capture_output=True, text=True, timeout=900, env=env, check=False,
            )  # fmt: skip
            if proc.returncode == 0:
                official_times = json.loads(proc.stdout.strip().splitlines()[-1])
            else:
                print("official client failed:", proc.stderr[-2000:], file=sys.stderr)

        print(f"server: {server.binary.path.name} {server.address}; rounds={args.rounds}")
        header = f"{'size':>8} {'ours us':>10} {'redis-py us':>12} {'official us':>12} "
        print(header + f"{'vs redis-py':>12} {'vs official':>12}")
        for size, n in plan:
            data = np.ones(size // 4, dtype=np.float32)
            raw = data.tobytes()

            def ours_op(data=data):
                ours.put_tensor("bench", data)
                ours.get_tensor("bench")

            def plain_op(raw=raw):
                plain.set("bench_raw", raw)
                plain.get("bench_raw")

            t_ours = t_plain = float("inf")
            for _ in range(args.rounds):  # alternate, keep each one's best round
                t_ours = min(t_ours, best_time(ours_op, n, 1))
                t_plain = min(t_plain, best_time(plain_op, n, 1))
            t_off = official_times.get(str(size))
            label = f"{size // 1024} KB" if size < 1 << 20 else f"{size >> 20} MB"
            off_us = f"{t_off * 1e6:12.1f}" if t_off else f"{'-':>12}"
            off_ratio = f"{t_off / t_ours:11.2f}x" if t_off else f"{'-':>12}"
            print(
                f"{label:>8} {t_ours * 1e6:10.1f} {t_plain * 1e6:12.1f} {off_us} "
                f"{t_plain / t_ours:11.2f}x {off_ratio}"
            )
        plain.flushall()

        big = np.ones(256 << 18, dtype=np.float32)  # 256 MB
        ours.put_tensor("big", big)
        ours.put_tensor("small", np.ones(4, dtype=np.float32))
        del big
        child = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, server.address],
            capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
        traced, rss, nbytes = (int(x) for x in child.stdout.split())
        print(
            f"get_tensor of a {nbytes >> 20} MB tensor: peak traced allocations "
            f"{traced / nbytes:.3f}x the tensor, peak RSS growth {rss / nbytes:.3f}x"
        )
        ours.close()
        plain.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
