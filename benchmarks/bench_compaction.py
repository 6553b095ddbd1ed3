"""What background compaction of big tensors costs and saves, for tensors that stay.

bench_tensor.py overwrites a few keys, so compaction (which waits TENSOR_COMPACTION_DELAY
before copying) hardly ever runs there.  Here every operation stores a new key, so every
tensor is kept and, with compaction on, copied once by the module's background thread.
Three servers of one engine side by side: SET, AI.TENSORSET with compaction (the default
delay), AI.TENSORSET with compaction off (TENSOR_COMPACTION_DELAY -1).  Per size it prints

- ops/s of the store phase (two pipelined clients, raw sockets) and its ratio to SET;
- server CPU per operation, the main thread's and the compaction thread's ("ai-compact"),
  counted until compaction has nothing left to do;
- memory per key (INFO used_memory growth / keys) minus the data.

    .venv/bin/python benchmarks/bench_compaction.py [--engine redis|valkey] [--mb 512]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import time

import hiredis
import psutil
import redis
from _engines import ENGINES, engine_binary

from smartsim_ai.testing.servers import ServerProcess

SIZES = {"64KB": 64 << 10, "1MB": 1 << 20, "16MB": 16 << 20}
PIPELINE = {"64KB": 16, "1MB": 2, "16MB": 1}


def header(kind: str, key: bytes, n: int) -> bytes:
    """Everything of the command before the data's bytes."""
    args = [b"SET", key] if kind == "SET" else [b"AI.TENSORSET", key, b"UINT8", b"%d" % n, b"BLOB"]
    out = [b"*%d\r\n" % (len(args) + 1)]
    out += [b"$%d\r\n%s\r\n" % (len(a), a) for a in args]
    out.append(b"$%d\r\n" % n)
    return b"".join(out)


def _store(port: int, kind: str, first: int, count: int, n: int, batch: int, start, results):
    data = bytes(range(256)) * (n // 256)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = hiredis.Reader()
    buf = memoryview(bytearray(1 << 16))
    start.wait()
    t0 = time.perf_counter()
    for lo in range(first, first + count, batch):
        keys = range(lo, min(lo + batch, first + count))
        parts = []
        for k in keys:
            parts += [header(kind, b"k%d" % k, n), data, b"\r\n"]
        for i in range(0, len(parts), 512):  # sendmsg takes at most IOV_MAX buffers
            sock.sendmsg(parts[i : i + 512])
        got = 0
        while got < len(keys):
            reader.feed(buf[: sock.recv_into(buf)])
            while (reply := reader.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise RuntimeError(reply)
                got += 1
    results.put(time.perf_counter() - t0)
    sock.close()


def cpu(proc: psutil.Process) -> tuple[float, float]:
    """(whole process, compaction thread) CPU seconds."""
    total = proc.cpu_times()
    compact = 0.0
    for t in proc.threads():
        try:
            with open(f"/proc/{proc.pid}/task/{t.id}/comm") as f:
                if f.read().strip() == "ai-compact":
                    compact = t.user_time + t.system_time
        except FileNotFoundError:
            pass
    return total.user + total.system, compact


def run(binary, kind: str, module_args: list[str], size: str, total_mb: int) -> dict[str, float]:
    n = SIZES[size]
    keys = max(8, (total_mb << 20) // n)
    with ServerProcess(binary, module_args=module_args) as server:
        client = redis.Redis(host=server.host, port=server.port)
        proc = psutil.Process(server.proc.pid)
        used0 = client.info("memory")["used_memory"]
        cpu0 = cpu(proc)
        ctx = mp.get_context("fork")
        start, results = ctx.Barrier(3), ctx.Queue()
        half = keys // 2
        procs = [
            ctx.Process(
                target=_store,
                args=(server.port, kind, first, count, n, PIPELINE[size], start, results),
            )
            for first, count in ((0, half), (half, keys - half))
        ]
        for p in procs:
            p.start()
        start.wait()
        elapsed = max(results.get(timeout=600) for _ in procs)
        for p in procs:
            p.join(timeout=30)
        deadline = time.monotonic() + 120
        while kind != "SET" and time.monotonic() < deadline:
            if not client.info("ai_tensor_compaction").get("ai_waiting", 0):
                break
            time.sleep(0.01)
        cpu1 = cpu(proc)
        used = client.info("memory")["used_memory"] - used0
        compact_cpu = cpu1[1] - cpu0[1]
        client.close()
    return {
        "ops": keys / elapsed,
        "main_us": ((cpu1[0] - cpu0[0]) - compact_cpu) * 1e6 / keys,
        "compact_us": compact_cpu * 1e6 / keys,
        "overhead": used / keys - n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, default="redis")
    parser.add_argument("--mb", type=int, default=512, help="data stored per run (MB)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(SIZES))
    args = parser.parse_args()

    binary = engine_binary(args.engine)
    cases = {
        "SET": ("SET", []),
        "TENSORSET compacted": ("TENSORSET", []),
        "TENSORSET not compacted": ("TENSORSET", ["TENSOR_COMPACTION_DELAY", "-1"]),
    }
    print(f"server: {binary.path} ({args.engine}); {args.mb} MB of new keys per run, "
          f"best of {args.rounds} rounds; CPU in us per operation")  # fmt: skip
    print(f"{'size':>5} {'case':<24} {'ops/s':>8} {'vs SET':>6} {'main':>8} {'compact':>8} "
          f"{'B/key over data':>16}")  # fmt: skip
    for size in args.sizes:
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.rounds):
            for name, (kind, module_args) in cases.items():
                r = run(binary, kind, module_args, size, args.mb)
                if name not in best or r["ops"] > best[name]["ops"]:
                    best[name] = r
        for name, r in best.items():
            print(f"{size:>5} {name:<24} {r['ops']:>8.0f} {r['ops'] / best['SET']['ops']:>6.2f} "
                  f"{r['main_us']:>8.1f} {r['compact_us']:>8.1f} {r['overhead']:>16.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
