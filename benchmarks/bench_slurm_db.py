"""A 3-shard Orchestrator, start to ready: on 3 Slurm nodes vs on one machine.

"Ready" is what ``exp.start(db)`` guarantees when it returns: every shard answers PING with
the ``ai`` module loaded, the Redis Cluster reports ``cluster_state:ok`` and a SET/GET round
trip went through. Side by side in one run, alternating:

* one machine: the local launcher, 3 shards on loopback (consecutive ports);
* Slurm: ``Orchestrator(launcher="slurm", db_nodes=3, interface=<nic>)`` in a 3-node
  allocation (one ``srun`` step per shard), and the same as one MPMD ``srun``
  (``single_cmd=True``).

Needs a running Slurm (the test cluster: ``bash scripts/slurm-cluster.sh start --index 2``
then ``source .slurm/c2/env``); the driver runs where a login node would. Absolute times on
shared machines are noise; the ratios to the local database are the figures.

    .venv/bin/python benchmarks/bench_slurm_db.py [--repeat 5] [--interface eth0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from smartsim import Experiment
from smartsim.database import Orchestrator
from smartsim.wlm import slurm
from smartsim_ai.testing.servers import _port_is_free, free_port


def _consecutive_free_ports(n: int) -> int:
    while True:
        port = free_port()
        if all(_port_is_free(p) and _port_is_free(p + 10000) for p in range(port, port + n)):
            return port


def local() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment("bench", exp_path=tmp, launcher="local")
        db = exp.create_database(
            port=_consecutive_free_ports(3),
            db_nodes=3,
            interface="lo",
            path=os.path.join(tmp, "db"),
        )
        t0 = time.perf_counter()
        exp.start(db)
        elapsed = time.perf_counter() - t0
        exp.stop(db)
        return elapsed


def on_slurm(alloc: str, interface: str, single_cmd: bool) -> Callable[[], float]:
    def run() -> float:
        with tempfile.TemporaryDirectory(prefix="bench-slurm-db-") as tmp:
            exp = Experiment("bench", exp_path=tmp, launcher="slurm")
            db = Orchestrator(
                port=free_port(),
                launcher="slurm",
                db_nodes=3,
                interface=interface,
                alloc=alloc,
                single_cmd=single_cmd,
                path=os.path.join(tmp, "db"),
            )
            t0 = time.perf_counter()
            exp.start(db)
            elapsed = time.perf_counter() - t0
            hosts = sorted(
                str(state.info["hostname"])  # type: ignore[index]
                for node in db
                for state in node.shard_states()
            )
            exp.stop(db)
            if len(set(hosts)) != 3:
                raise SystemExit(f"the shards did not land on 3 nodes: {hosts}")
            return elapsed

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--interface", default="eth0", help="the nodes' network interface")
    parser.add_argument("--partition", default=None)
    args = parser.parse_args()
    options = {"partition": args.partition} if args.partition else None
    alloc = slurm.get_allocation(nodes=3, time="00:30:00", options=options)
    try:
        cases: list[tuple[str, Callable[[], float]]] = [
            ("one machine, local launcher, 3 shards on lo", local),
            (
                f"Slurm, 3 nodes, one srun per shard ({args.interface})",
                on_slurm(alloc, args.interface, single_cmd=False),
            ),
            (
                f"Slurm, 3 nodes, one MPMD srun ({args.interface})",
                on_slurm(alloc, args.interface, single_cmd=True),
            ),
        ]
        times: dict[str, list[float]] = {name: [] for name, _ in cases}
        for _, fn in cases:
            fn()  # warm-up (imports, page cache, the nodes' first step)
        for _ in range(args.repeat):  # alternate, so load changes hit every case alike
            for name, fn in cases:
                times[name].append(fn())
    finally:
        slurm.release_allocation(alloc)
    base = statistics.median(times[cases[0][0]])
    print(f"{'case':55s} {'median s':>9s} {'min s':>7s} {'vs local':>9s}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:55s} {median:9.3f} {min(values):7.3f} {median / base:8.2f}x")
    print("\nevery run (s):")
    for name, values in times.items():
        print(f"  {name:55s} {' '.join(f'{v:.2f}' for v in values)}")


if __name__ == "__main__":
    main()
