"""Status polling of many batch jobs through the stand-in schedulers, per launcher.

For each row of :data:`ROWS` (one per workload manager; add a row for another launcher),
``--jobs`` batch models (each a ``sleep``) are submitted through ``Experiment.start`` to the
stand-in scheduler of ``packages/smartsim/tests/standin_wlm/`` (or the fake Slurm of
``tests/standin_slurm/``), which really runs them here. Then, side by side:

  * the launcher's poll: ``--polls`` polls of every live job; scheduler calls per poll
    (target: 1, whatever the number of jobs) and seconds per poll;
  * the naive poll: one status call per job (what a per-job poller does); calls and seconds;

and the ratio naive/launcher of the seconds; then the time to cancel every job (one cancel
call, then waiting until the scheduler lists none). No scheduler is needed. The stand-ins' commands
are Python scripts, so absolute times are those of this machine's process start-up; the
ratio and the call counts are what compare.

Usage: .venv/bin/python benchmarks/bench_wlm_poll.py [--jobs 200] [--polls 5] [--only pbs,sge]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "packages" / "smartsim" / "tests"


def standin_package():
    """``tests/standin_wlm`` imported by path (it is test infrastructure, not a package)."""
    if "standin_wlm" not in sys.modules:
        folder = TESTS / "standin_wlm"
        spec = importlib.util.spec_from_file_location(
            "standin_wlm", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["standin_wlm"] = module
        spec.loader.exec_module(module)
    return sys.modules["standin_wlm"]


def standin_env(scheduler: str, root: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """The environment that puts a core stand-in first on PATH, and its cleanup."""
    standin = standin_package().StandIn(scheduler, root)
    return standin.env(), standin.close


def fake_slurm_env(root: Path) -> tuple[dict[str, str], Callable[[], None]]:
    """The fake Slurm of ``tests/standin_slurm`` (squeue for status)."""
    state = root / "fake-slurm"
    state.mkdir(parents=True)
    env = dict(os.environ)
    env["PATH"] = f"{TESTS / 'standin_slurm'}{os.pathsep}{env['PATH']}"
    env.update(FAKE_SLURM_DIR=str(state), FAKE_SLURM_PYTHON=sys.executable)
    env["SMARTSIM_SLURM_STATUS"] = "squeue"

    def close() -> None:
        import signal

        for pidfile in state.glob("*.pid"):
            try:
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass

    return env, close


@dataclass(frozen=True)
class Row:
    """One launcher: how to get its stand-in, which commands are status calls, and the
    command a per-job poller would run for one job."""

    launcher: str
    setup: Callable[[Path], tuple[dict[str, str], Callable[[], None]]]
    status_commands: tuple[str, ...]
    per_job: Callable[[str], list[str]]
    batch_kwargs: tuple[tuple[str, object], ...] = ()


ROWS = [
    Row(
        "pbs",
        lambda root: standin_env("pbs", root),
        ("qstat",),
        lambda job: ["qstat", "-f", "-F", "json", "-x", job],
    ),
    Row(
        "sge",
        lambda root: standin_env("sge", root),
        ("qstat", "qacct"),
        lambda job: ["qstat", "-j", job],
    ),
    Row(
        "lsf",
        lambda root: standin_env("lsf", root),
        ("bjobs",),
        lambda job: ["bjobs", "-a", "-o", "jobid stat exit_code", "-json", job],
    ),
    Row(
        "cobalt",
        lambda root: standin_env("cobalt", root),
        ("qstat",),
        lambda job: ["qstat", "--header", "JobID:State", job],
    ),
    Row("slurm", fake_slurm_env, ("squeue", "sacct"), lambda job: ["squeue", "-h", "-j", job]),
]


def bench(row: Row, jobs: int, polls: int, workdir: Path) -> dict[str, float]:
    env, close = row.setup(workdir / "standin")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    os.environ["SMARTSIM_WLM_POLL_INTERVAL"] = "3600"  # the benchmark polls by hand
    from smartsim import Experiment

    exp = Experiment(f"bench-{row.launcher}", exp_path=str(workdir), launcher=row.launcher)
    try:
        bs = exp.create_batch_settings(nodes=1, time="00:30:00", **dict(row.batch_kwargs))
        rs = exp.create_run_settings("sleep", ["600"], run_command="")
        models = [
            exp.create_model(f"j{i}", rs, path=str(workdir), batch_settings=bs) for i in range(jobs)
        ]
        t0 = time.perf_counter()
        exp.start(*models, block=False)
        submit_s = time.perf_counter() - t0
        launcher = exp._control.launcher
        job_ids = [launcher._jobs[s].job_id for s in list(launcher._jobs)]
        time.sleep(1.0)  # let the poller's first poll pass
        calls = lambda: sum(launcher.runner.calls[c] for c in row.status_commands)  # noqa: E731
        poll_s = []
        before_calls, before_polls = calls(), launcher.poller.polls
        for _ in range(polls):
            t = time.perf_counter()
            launcher.poller.poll_once()
            poll_s.append(time.perf_counter() - t)
        per_poll = (calls() - before_calls) / max(1, launcher.poller.polls - before_polls)
        t = time.perf_counter()
        for job in job_ids:
            subprocess.run(row.per_job(job), capture_output=True, check=False)
        naive_s = time.perf_counter() - t
        live = len(launcher.poller.live())
        t = time.perf_counter()
        exp._control.stop_all()  # one cancel call for every job (exp.stop(*models) goes
        stop_s = time.perf_counter() - t  # entity by entity: one cancel and wait each)
        return {
            "jobs": jobs,
            "live": live,
            "submit_s": submit_s,
            "calls_per_poll": per_poll,
            "poll_s": statistics.median(poll_s),
            "naive_calls": len(job_ids),
            "naive_s": naive_s,
            "stop_s": stop_s,
        }
    finally:
        exp._control.close()
        close()
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--polls", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated launchers (default: all)")
    args = parser.parse_args()
    logging.getLogger("smartsim").setLevel(logging.ERROR)
    wanted = {w for w in args.only.split(",") if w}
    print(
        f"{'launcher':<8} {'jobs':>5} {'live':>5} {'calls/poll':>10} {'s/poll':>8} "
        f"{'naive calls':>11} {'naive s':>8} {'ratio':>7} {'submit s':>9} {'stop s':>7}"
    )
    for row in ROWS:
        if wanted and row.launcher not in wanted:
            continue
        with tempfile.TemporaryDirectory(prefix=f"bench-{row.launcher}-") as tmp:
            r = bench(row, args.jobs, args.polls, Path(tmp))
        print(
            f"{row.launcher:<8} {r['jobs']:>5} {r['live']:>5} {r['calls_per_poll']:>10.2f} "
            f"{r['poll_s']:>8.3f} {r['naive_calls']:>11} {r['naive_s']:>8.2f} "
            f"{r['naive_s'] / r['poll_s']:>6.1f}x {r['submit_s']:>9.1f} {r['stop_s']:>7.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
