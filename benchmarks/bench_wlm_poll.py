"""Status polling of many batch jobs: scheduler calls per poll, per workload manager.

Runs on the stand-in schedulers of ``packages/smartsim/tests/standin_wlm`` (they really run
the jobs on this machine), so no workload manager is needed. For each launcher row of
:data:`ROWS`, ``--jobs`` batch models that each ``sleep`` are submitted in one
``Experiment.start(block=False)``; then, while they run, the launcher's poller is timed:

  * status calls per poll (the launcher's :class:`CommandRunner` counts every call): target
    1 for any number of jobs, against ``--jobs`` for a launcher that asks per job (SmartSim
    0.4's LSF and Cobalt launchers ran ``bjobs``/``qstat`` once per job);
  * the wall time of one poll of every job (one status call) against asking the same
    scheduler once per job, side by side; the per-job way is timed on ``--sample`` of the
    ids and scaled to all of them (asking 200 times per round takes minutes here). The ratio
    is the figure (absolute times on a shared machine are noise).

Usage: .venv/bin/python benchmarks/bench_wlm_poll.py [--jobs 200] [--sample 20] [--wlm lsf cobalt]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from smartsim import Experiment

TESTS = Path(__file__).resolve().parent.parent / "packages" / "smartsim" / "tests"

#: one row per workload manager: stand-in name, batch settings, the status command counted,
#: and the per-job status command a launcher asking job by job would run
ROWS = {
    "lsf": {
        "batch": {"nodes": 1, "time": "00:30"},
        "status": "bjobs",
        "per_job": lambda job: ["bjobs", "-a", "-o", "jobid stat exit_code", "-json", job],
    },
    "cobalt": {
        "batch": {"nodes": 1, "time": "00:30:00"},
        "status": "qstat",
        "per_job": lambda job: ["qstat", "--header", "JobID:State", job],
    },
}


def _standin_package():
    spec = importlib.util.spec_from_file_location(
        "standin_wlm",
        TESTS / "standin_wlm" / "__init__.py",
        submodule_search_locations=[str(TESTS / "standin_wlm")],
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["standin_wlm"] = module
    spec.loader.exec_module(module)
    return module


def bench(wlm: str, jobs: int, rounds: int, sample: int, workdir: Path) -> dict[str, float]:
    """Submit ``jobs`` sleeping batch jobs through the stand-in of ``wlm`` and time polls."""
    row = ROWS[wlm]
    standin = _standin_package().StandIn(wlm, workdir / "standin")
    saved = dict(os.environ)
    os.environ.update(standin.env())
    os.environ["SMARTSIM_WLM_POLL_INTERVAL"] = "3600"  # polls are driven by hand below
    exp = Experiment(f"bench-{wlm}", exp_path=str(workdir), launcher=wlm)
    try:
        bs = exp.create_batch_settings(**row["batch"])
        rs = exp.create_run_settings("sleep", ["600"], run_command="")
        models = [
            exp.create_model(f"j{i}", rs, path=str(workdir), batch_settings=bs) for i in range(jobs)
        ]
        exp.start(*models, block=False)
        launcher = exp._control.launcher
        ids = list(launcher.poller.live())
        assert len(ids) == jobs, (len(ids), jobs)
        runner, command = launcher.runner, row["status"]
        one_call, per_job, calls_per_poll = [], [], []
        for _ in range(rounds):
            before, polls = runner.calls[command], launcher.poller.polls
            t0 = time.perf_counter()
            launcher.poller.poll_once()
            one_call.append(time.perf_counter() - t0)
            calls_per_poll.append(
                (runner.calls[command] - before) / (launcher.poller.polls - polls)
            )
            t0 = time.perf_counter()
            for job in ids[:sample]:
                runner.run(row["per_job"](job), "per-job status", ok_codes=(0, 1, 255))
            per_job.append((time.perf_counter() - t0) * len(ids) / min(sample, len(ids)))
        exp.stop(*models)
        return {
            "calls_per_poll": statistics.median(calls_per_poll),
            "one_call_s": statistics.median(one_call),
            "per_job_s": statistics.median(per_job),
        }
    finally:
        exp._control.close()
        standin.close()
        os.environ.clear()
        os.environ.update(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--wlm", nargs="+", default=list(ROWS), choices=list(ROWS))
    args = parser.parse_args()
    logging.getLogger("smartsim").setLevel(logging.ERROR)
    print(
        f"status polling of {args.jobs} batch jobs (stand-in schedulers, median of {args.rounds})"
    )
    print(f"{'wlm':8} {'calls/poll':>10} {'per-job calls':>14} {'one call s':>11} "
          f"{'per-job s*':>10} {'speed-up':>9}")  # fmt: skip
    for wlm in args.wlm:
        with tempfile.TemporaryDirectory(prefix=f"bench-{wlm}-") as tmp:
            r = bench(wlm, args.jobs, args.rounds, args.sample, Path(tmp))
        print(
            f"{wlm:8} {r['calls_per_poll']:>10g} {args.jobs:>14} {r['one_call_s']:>11.3f} "
            f"{r['per_job_s']:>10.3f} {r['per_job_s'] / r['one_call_s']:>8.1f}x"
        )
    print(f"* per-job time measured on {args.sample} jobs, scaled to {args.jobs}")


if __name__ == "__main__":
    main()
