"""Launcher throughput: smartsim's local launcher against plain subprocess, in one run.

Measures, side by side:
  * 500 trivial models (``true``) started with Experiment.start(block=True) against the same
    500 commands started with subprocess.Popen (own session, output to files, like the
    launcher) and waited for: wall time, launches per second, ratio;
  * the same for one 500-member ensemble (replicas);
  * the delay between a process exiting and its status showing Completed: each model writes
    its clock just before exiting, the job manager records when it saw the exit.

Usage: .venv/bin/python benchmarks/bench_launch.py [--count 500] [--delay-samples 40]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time

from smartsim import Experiment


def plain_subprocess(count: int, workdir: str, exe: str) -> float:
    """Start ``count`` processes like the launcher does and wait for all; seconds."""
    t0 = time.perf_counter()
    procs = []
    for i in range(count):
        with (
            open(os.path.join(workdir, f"p{i}.out"), "wb") as out,
            open(os.path.join(workdir, f"p{i}.err"), "wb") as err,
        ):
            procs.append(
                subprocess.Popen(
                    [exe],
                    cwd=workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    env=dict(os.environ),
                )
            )
    for proc in procs:
        proc.wait()
    return time.perf_counter() - t0


def smartsim_models(count: int, workdir: str, exe: str) -> tuple[float, float]:
    """(seconds to create the models, seconds from start() to all Completed)."""
    exp = Experiment("bench-models", exp_path=workdir, launcher="local")
    t0 = time.perf_counter()
    rs = exp.create_run_settings(exe)
    models = [exp.create_model(f"m{i}", rs, path=workdir) for i in range(count)]
    t1 = time.perf_counter()
    exp.start(*models, block=True)
    t2 = time.perf_counter()
    statuses = set(exp.get_status(*models))
    assert statuses == {"Completed"}, statuses
    return t1 - t0, t2 - t1


def smartsim_ensemble(count: int, workdir: str, exe: str) -> tuple[float, float]:
    """(seconds to create the ensemble, seconds from start() to all Completed)."""
    exp = Experiment("bench-ensemble", exp_path=workdir, launcher="local")
    t0 = time.perf_counter()
    ens = exp.create_ensemble(
        "ens", run_settings=exp.create_run_settings(exe), replicas=count, path=workdir
    )
    t1 = time.perf_counter()
    exp.start(ens, block=True)
    t2 = time.perf_counter()
    assert set(exp.get_status(ens)) == {"Completed"}
    return t1 - t0, t2 - t1


def exit_to_status_delay(samples: int, workdir: str) -> list[float]:
    """Seconds between each process's last clock reading and its Completed status."""
    exp = Experiment("bench-delay", exp_path=workdir, launcher="local")
    code = "import time, sys; time.sleep(0.3); print(repr(time.time()), flush=True)"
    models = []
    for i in range(samples):
        rs = exp.create_run_settings(sys.executable, ["-c", code])
        models.append(exp.create_model(f"d{i}", rs, path=workdir))
    delays = []
    # launched in small groups so the machine is not saturated by python start-ups
    for start in range(0, samples, 4):
        group = models[start : start + 4]
        exp.start(*group, block=True)
        for model in group:
            exited = float(open(os.path.join(workdir, f"{model.name}.out")).read())
            seen = exp._control.jobs.get_job(model.name).current.end_time
            delays.append(seen - exited)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--delay-samples", type=int, default=40)
    args = parser.parse_args()
    logging.getLogger("smartsim").setLevel(logging.WARNING)
    exe = "/bin/true"
    n = args.count
    with tempfile.TemporaryDirectory() as d:
        base_a = plain_subprocess(n, d, exe)
    with tempfile.TemporaryDirectory() as d:
        create_m, run_m = smartsim_models(n, d, exe)
    with tempfile.TemporaryDirectory() as d:
        base_b = plain_subprocess(n, d, exe)
    with tempfile.TemporaryDirectory() as d:
        create_e, run_e = smartsim_ensemble(n, d, exe)
    with tempfile.TemporaryDirectory() as d:
        delays = exit_to_status_delay(args.delay_samples, d)
    base = min(base_a, base_b)
    print(f"machine: {os.cpu_count()} CPUs; {n} launches of {exe}")
    print(f"{'':34}{'seconds':>10}{'launches/s':>12}{'vs subprocess':>15}")
    print(f"{'plain subprocess (best of 2)':34}{base:10.3f}{n / base:12.0f}{1.0:14.2f}x")
    print(
        f"{'smartsim: 500 models start->done':34}{run_m:10.3f}{n / run_m:12.0f}"
        f"{run_m / base:14.2f}x"
    )
    print(
        f"{'smartsim: 500 models incl. create':34}{run_m + create_m:10.3f}"
        f"{n / (run_m + create_m):12.0f}{(run_m + create_m) / base:14.2f}x"
    )
    print(
        f"{'smartsim: ensemble start->done':34}{run_e:10.3f}{n / run_e:12.0f}{run_e / base:14.2f}x"
    )
    print(
        f"{'smartsim: ensemble incl. create':34}{run_e + create_e:10.3f}"
        f"{n / (run_e + create_e):12.0f}{(run_e + create_e) / base:14.2f}x"
    )
    print(
        f"exit -> Completed delay over {len(delays)} processes: median "
        f"{statistics.median(delays) * 1000:.1f} ms, max {max(delays) * 1000:.1f} ms "
        "(targets: >= 100 launches/s, <= 200 ms)"
    )


if __name__ == "__main__":
    main()
