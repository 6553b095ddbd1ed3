"""The Slurm launcher against plain Slurm usage, side by side in one run.

Needs a running Slurm (e.g. ``bash scripts/slurm-cluster.sh start --index 1`` then
``source .slurm/c1/env``). Measures:

  * steps: ``--steps`` trivial steps (``srun -N1 -n1 --overlap true``) in one allocation,
    started through ``Experiment.start(block=True)`` against a plain shell loop of
    ``srun ... &`` + ``wait`` on the same allocation; steps per second and the ratio
    (target >= 0.9), the median of ``--rounds`` rounds, the two kinds alternating;
  * polling: ``--jobs`` live batch jobs (batch models, each ``sleep``-ing) polled by the
    launcher: scheduler status calls per poll (target: 1, not 1 per job) and the lag from a
    job's last command to its ``Completed`` status (target <= one poll interval).

Usage: .venv/bin/python benchmarks/bench_slurm.py [--steps 100] [--rounds 3] [--jobs 200]
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import statistics
import subprocess
import tempfile
import time

from smartsim import Experiment
from smartsim.settings import SbatchSettings
from smartsim.wlm import slurm

STEP_ARGS = {"nodes": 1, "ntasks": 1, "overlap": None}


def plain_loop(alloc: str, count: int, workdir: str) -> float:
    """``srun ... &`` ``count`` times, then ``wait``; seconds."""
    args = " ".join(f"--{k}" if v is None else f"--{k}={v}" for k, v in STEP_ARGS.items())
    script = (
        f"for i in $(seq {count}); do srun --jobid={alloc} {args} true "
        f"> {shlex.quote(workdir)}/p$i.out 2> {shlex.quote(workdir)}/p$i.err & done; wait"
    )
    t0 = time.perf_counter()
    subprocess.run(["bash", "-c", script], check=True)
    return time.perf_counter() - t0


def experiment_steps(alloc: str, count: int, workdir: str) -> float:
    """``count`` models through one ``Experiment.start(block=True)``; seconds."""
    exp = Experiment("bench-steps", exp_path=workdir, launcher="slurm")
    t0 = time.perf_counter()
    rs = exp.create_run_settings("true", run_command="srun", run_args=STEP_ARGS, alloc=alloc)
    models = [exp.create_model(f"s{i}", rs, path=workdir) for i in range(count)]
    exp.start(*models, block=True)
    elapsed = time.perf_counter() - t0
    statuses = set(exp.get_status(*models))
    assert statuses == {"Completed"}, statuses
    return elapsed


def bench_steps(count: int, rounds: int, nodes: int) -> dict[str, float]:
    alloc = slurm.get_allocation(nodes=nodes, time="00:30:00", options={"exclusive": None})
    plain: list[float] = []
    ours: list[float] = []
    try:
        for r in range(rounds):
            order = (plain_loop, experiment_steps) if r % 2 == 0 else (experiment_steps, plain_loop)
            for fn in order:
                with tempfile.TemporaryDirectory() as tmp:
                    (plain if fn is plain_loop else ours).append(fn(alloc, count, tmp))
    finally:
        slurm.release_allocation(alloc)
    p, o = statistics.median(plain), statistics.median(ours)
    return {"plain_s": p, "experiment_s": o, "plain_rate": count / p, "exp_rate": count / o}


def bench_polling(jobs: int, sleep: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment("bench-poll", exp_path=tmp, launcher="slurm")
        launcher = exp._control.launcher
        interval = launcher.poller.interval
        models = []
        for i in range(jobs):
            path = os.path.join(tmp, f"j{i}")
            os.makedirs(path)
            rs = exp.create_run_settings(
                "sh", ["-c", f"sleep {sleep}; date +%s.%N > {path}/end"], run_command=""
            )
            bs = SbatchSettings(nodes=1, time="00:10:00")
            models.append(exp.create_model(f"j{i}", rs, path=path, batch_settings=bs))
        t0 = time.perf_counter()
        exp.start(*models, block=False)
        submit_s = time.perf_counter() - t0
        calls_before = sum(launcher.runner.calls.values())
        polls_before = launcher.poller.polls
        live_max = len(launcher.poller.live())
        exp.poll(interval=3600, verbose=False)
        calls = sum(launcher.runner.calls.values()) - calls_before
        polls = launcher.poller.polls - polls_before
        lags = []
        for model in models:
            job = exp._control.jobs.get_job(model.name)
            assert job is not None and job.status == "Completed", (model.name, job)
            end = float(open(os.path.join(model.path, "end")).read())
            assert job.current.end_time is not None
            lags.append(job.current.end_time - end)
        return {
            "jobs": jobs,
            "live_at_start": live_max,
            "submit_s": submit_s,
            "polls": polls,
            "calls_per_poll": calls / max(polls, 1),
            "interval_s": interval,
            "lag_median_s": statistics.median(lags),
            "lag_max_s": max(lags),
            "status_calls": dict(launcher.runner.calls),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=2.0)
    args = parser.parse_args()
    logging.getLogger("smartsim").setLevel(logging.WARNING)
    steps = bench_steps(args.steps, args.rounds, args.nodes)
    print(f"== {args.steps} steps in one allocation (median of {args.rounds} rounds)")
    print(f"  plain srun & loop : {steps['plain_s']:.2f} s  {steps['plain_rate']:.1f} steps/s")
    print(f"  Experiment.start  : {steps['experiment_s']:.2f} s  {steps['exp_rate']:.1f} steps/s")
    print(f"  ratio (Experiment / plain) : {steps['exp_rate'] / steps['plain_rate']:.2f}x")
    poll = bench_polling(args.jobs, args.sleep)
    print(f"== status polling of {args.jobs} live batch jobs")
    print(
        f"  submit {poll['submit_s']:.1f} s; {poll['polls']} polls, interval {poll['interval_s']} s"
    )
    print(f"  scheduler status calls per poll : {poll['calls_per_poll']:.2f}")
    print(
        f"  lag end -> Completed : median {poll['lag_median_s']:.2f} s, max {poll['lag_max_s']:.2f} s"
    )
    print(f"  calls by command (whole run) : {poll['status_calls']}")


if __name__ == "__main__":
    main()
