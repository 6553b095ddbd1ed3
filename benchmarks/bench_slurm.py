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


def plain_loop(alloc: str, count: int, workdir: str, setsid: bool = False) -> float:
    """``srun ... &`` ``count`` times, then ``wait``; seconds. With ``setsid`` each srun
    gets its own session, as the launcher gives it (srun is about twice as fast then)."""
    args = " ".join(f"--{k}" if v is None else f"--{k}={v}" for k, v in STEP_ARGS.items())
    prefix = "setsid " if setsid else ""
    script = (
        f"for i in $(seq {count}); do {prefix}srun --jobid={alloc} {args} true "
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
    times: dict[str, list[float]] = {"plain": [], "setsid": [], "experiment": []}

    def run(kind: str, tmp: str) -> float:
        if kind == "experiment":
            return experiment_steps(alloc, count, tmp)
        return plain_loop(alloc, count, tmp, setsid=kind == "setsid")

    try:
        for r in range(rounds):
            kinds = list(times)
            for kind in kinds[r % 3 :] + kinds[: r % 3]:  # rotate the order each round
                with tempfile.TemporaryDirectory() as tmp:
                    times[kind].append(run(kind, tmp))
    finally:
        slurm.release_allocation(alloc)
    return {kind: statistics.median(values) for kind, values in times.items()}


def bench_polling(jobs: int, sleep: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment("bench-poll", exp_path=tmp, launcher="slurm")
        launcher = exp._control.launcher
        interval = launcher.poller.interval
        query_times: list[float] = []
        query = launcher.poller._query

        def timed_query(ids: list[str]) -> dict:
            t = time.perf_counter()
            try:
                return query(ids)
            finally:
                query_times.append(time.perf_counter() - t)

        launcher.poller._query = timed_query
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
            "lag_p90_s": statistics.quantiles(lags, n=10)[-1],
            "lag_max_s": max(lags),
            "query_median_s": statistics.median(query_times),
            "query_max_s": max(query_times),
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
    n = args.steps
    print(f"== {n} steps in one allocation (median of {args.rounds} rounds)")
    for kind, label in (
        ("plain", "plain `srun ... &` loop"),
        ("setsid", "plain `setsid srun ... &` loop"),
        ("experiment", "Experiment.start(block=True)"),
    ):
        print(f"  {label:32}: {steps[kind]:6.2f} s  {n / steps[kind]:6.1f} steps/s")
    print(f"  ratio Experiment / plain loop        : {steps['plain'] / steps['experiment']:.2f}x")
    print(f"  ratio Experiment / setsid plain loop : {steps['setsid'] / steps['experiment']:.2f}x")
    poll = bench_polling(args.jobs, args.sleep)
    print(f"== status polling of {args.jobs} live batch jobs")
    print(
        f"  submit {poll['submit_s']:.1f} s; {poll['polls']} polls, interval {poll['interval_s']} s"
    )
    print(f"  scheduler status calls per poll : {poll['calls_per_poll']:.2f}")
    print(
        f"  lag end -> Completed : median {poll['lag_median_s']:.2f} s, "
        f"p90 {poll['lag_p90_s']:.2f} s, max {poll['lag_max_s']:.2f} s"
    )
    print(
        f"  one status query     : median {poll['query_median_s']:.3f} s, "
        f"max {poll['query_max_s']:.3f} s"
    )
    print(f"  calls by command (whole run) : {poll['status_calls']}")


if __name__ == "__main__":
    main()
