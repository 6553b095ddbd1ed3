"""Time from ``exp.start(db)`` to a ready database, for 1 and 3 shards.

"Ready" is what start() guarantees when it returns: every shard answers PING with the
``ai`` module loaded, the cluster (3 shards) reports ``cluster_state:ok`` and a SET/GET
round trip went through.  Side by side in one run:

* a bare server started by hand and polled until PING answers (the floor),
* the Orchestrator, 1 shard, default module settings and with module workers configured,
* the Orchestrator, 3 shards, with the CLI's ``--cluster create`` and with the Python
  slot assignment (``SMARTSIM_CLUSTER_CREATE=python``).

Absolute times on shared machines are noise; the ratios to the bare server are the figures.

    .venv/bin/python benchmarks/bench_db_start.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from smartsim import Experiment
from smartsim_ai.testing.servers import ServerProcess, free_port


def _consecutive_free_ports(n: int) -> int:
    from smartsim_ai.testing.servers import _port_is_free

    while True:
        port = free_port()
        if all(_port_is_free(p) and _port_is_free(p + 10000) for p in range(port, port + n)):
            return port


def bare_server() -> float:
    server = ServerProcess(port=free_port())
    t0 = time.perf_counter()
    server.start()
    elapsed = time.perf_counter() - t0
    server.cleanup()
    return elapsed


def orchestrator(shards: int, **kwargs: object) -> Callable[[], float]:
    def run() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            exp = Experiment("bench", exp_path=tmp, launcher="local")
            db = exp.create_database(
                port=_consecutive_free_ports(shards),
                db_nodes=shards,
                interface="lo",
                path=os.path.join(tmp, "db"),
                **kwargs,
            )
            t0 = time.perf_counter()
            exp.start(db)
            elapsed = time.perf_counter() - t0
            exp.stop(db)
            return elapsed

    return run


SCRIPT = (
    "def fn(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] + 1\n"
)


def first_script_run() -> float:
    """start() and then the first TorchScript run answered (the worker loads torch lazily)."""
    import redis

    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment("bench", exp_path=tmp, launcher="local")
        port = free_port()
        db = exp.create_database(port=port, interface="lo", path=os.path.join(tmp, "db"))
        t0 = time.perf_counter()
        exp.start(db)
        try:
            r = redis.Redis(port=port)
            r.execute_command(
                "AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "fn", "SOURCE", SCRIPT
            )
            r.execute_command("AI.TENSORSET", "in", "FLOAT", 2, "VALUES", 1, 2)
            r.execute_command("AI.SCRIPTEXECUTE", "s", "fn", "INPUTS", 1, "in", "OUTPUTS", 1, "out")
            r.execute_command("AI.TENSORGET", "out", "VALUES")
            return time.perf_counter() - t0
        finally:
            exp.stop(db)


def with_env(name: str, value: str, fn: Callable[[], float]) -> Callable[[], float]:
    def run() -> float:
        old = os.environ.get(name)
        os.environ[name] = value
        try:
            return fn()
        finally:
            if old is None:
                del os.environ[name]
            else:
                os.environ[name] = old

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cases: list[tuple[str, Callable[[], float]]] = [
        ("bare server + module, PING", bare_server),
        ("Orchestrator 1 shard", orchestrator(1)),
        (
            "Orchestrator 1 shard, module workers set",
            orchestrator(1, threads_per_queue=2, intra_op_threads=1, inter_op_threads=1),
        ),
        ("Orchestrator 1 shard + first TorchScript run", first_script_run),
        ("Orchestrator 3 shards (cli --cluster create)", orchestrator(3)),
        (
            "Orchestrator 3 shards (python slot assignment)",
            with_env("SMARTSIM_CLUSTER_CREATE", "python", orchestrator(3)),
        ),
    ]
    results = {}
    for name, fn in cases:
        fn()  # warm-up (imports, page cache)
        times = [fn() for _ in range(args.repeat)]
        results[name] = statistics.median(times)
    floor = results[cases[0][0]]
    print(f"{'case':50s} {'median s':>9s} {'vs bare':>8s}")
    for name, median in results.items():
        print(f"{name:50s} {median:9.3f} {median / floor:7.1f}x")
    one = results["Orchestrator 1 shard, module workers set"]
    print(
        f"\none shard with module workers: {one:.3f} s (target < 2 s): "
        f"{'OK' if one < 2 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
