"""What one wake-up between two processes costs on this machine: the floor under every hop.

Two processes ping-pong one byte over a socketpair, first both pinned to the same CPU, then
each pinned to its own CPU, then unpinned (the scheduler decides). A model run through the
``ai`` module crosses processes four times (client -> server -> worker -> server -> client),
so this number, not the module's own code, sets most of its latency on a given machine.

    .venv/bin/python benchmarks/bench_wakeup.py [--rounds 20000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time


def _echo(sock: socket.socket, cpu: int | None, rounds: int) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    for _ in range(rounds):
        sock.sendall(sock.recv(1))


def ping_pong(cpus: tuple[int | None, int | None], rounds: int) -> float:
    """Median round trip in microseconds, with the two processes pinned as `cpus` says."""
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        try:
            _echo(b, cpus[1], rounds)
        finally:
            os._exit(0)
    b.close()
    before = os.sched_getaffinity(0)
    if cpus[0] is not None:
        os.sched_setaffinity(0, {cpus[0]})
    times = []
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            a.sendall(b"x")
            a.recv(1)
            times.append(time.perf_counter() - t0)
    finally:
        os.sched_setaffinity(0, before)
        a.close()
        os.waitpid(pid, 0)
    return statistics.median(times[rounds // 10 :]) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    args = parser.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("needs at least two CPUs")
    first, second = cpus[0], cpus[1]
    same = ping_pong((first, first), args.rounds)
    cross = ping_pong((first, second), args.rounds)
    free = ping_pong((None, None), args.rounds)
    print(f"process ping-pong over a socketpair, median round trip of {args.rounds}")
    print(f"   both on CPU {first}              {same:8.1f} us")
    print(f"   CPU {first} and CPU {second}              {cross:8.1f} us")
    print(f"   unpinned (scheduler's choice) {free:8.1f} us")
    print(f"   one cross-CPU wake-up costs about {(cross - same) / 2:.1f} us more than a switch")


if __name__ == "__main__":
    main()
