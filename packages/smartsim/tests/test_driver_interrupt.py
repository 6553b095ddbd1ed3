"""A real driver process is interrupted or fails while its models run: nothing may remain."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

DRIVER = textwrap.dedent(
    """
    import os, sys, time
    from smartsim import Experiment

    mode, workdir = sys.argv[1], sys.argv[2]
    pidfile = os.path.join(workdir, "pids")
    exp = Experiment("drv", exp_path=workdir, launcher="local")
    script = f"echo $$ >> {pidfile}; sleep 1000 & echo $! >> {pidfile}; wait"
    rs = exp.create_run_settings("sh", ["-c", script])
    ens = exp.create_ensemble("ens", run_settings=rs, replicas=3)
    exp.generate(ens)
    if mode == "block":
        exp.start(ens, block=True)
    elif mode == "detached":
        exp.start(ens, block=False, kill_on_interrupt=False)
        while len(open(pidfile).read().split()) < 6 if os.path.exists(pidfile) else True:
            time.sleep(0.02)
    elif mode == "exception":
        exp.start(ens, block=False)
        while len(open(pidfile).read().split()) < 6 if os.path.exists(pidfile) else True:
            time.sleep(0.02)
        raise RuntimeError("driver failed on purpose")
    else:
        exp.start(ens, block=False)
        time.sleep(1000)
    """
)


def run_driver(tmp_path, mode: str) -> subprocess.Popen[bytes]:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    return subprocess.Popen(
        [sys.executable, str(script), mode, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    "mode,sig",
    [("block", signal.SIGINT), ("nonblock", signal.SIGINT), ("nonblock", signal.SIGTERM)],
)
def test_signal_to_driver_stops_every_model(tmp_path, procs, mode, sig):
    driver = run_driver(tmp_path, mode)
    pids: list[int] = []
    try:
        pids = procs.read_pids(str(tmp_path / "pids"), 6)
        assert all(procs.alive(p) for p in pids)
        driver.send_signal(sig)
        _, err = driver.communicate(timeout=60)
        assert driver.returncode != 0
        if sig == signal.SIGINT:
            assert b"KeyboardInterrupt" in err
        assert [p for p in pids if procs.alive(p)] == []
    finally:
        driver.kill()
        driver.wait()
        procs.kill_leftovers(pids)


def test_exception_in_driver_stops_every_model(tmp_path, procs):
    driver = run_driver(tmp_path, "exception")
    pids: list[int] = []
    try:
        _, err = driver.communicate(timeout=60)
        assert b"driver failed on purpose" in err
        pids = procs.read_pids(str(tmp_path / "pids"), 6, timeout=1)
        assert [p for p in pids if procs.alive(p)] == []
        assert b"stopping 3 process(es)" in err
    finally:
        driver.kill()
        driver.wait()
        procs.kill_leftovers(pids)


def test_detached_jobs_outlive_the_driver(tmp_path, procs):
    driver = run_driver(tmp_path, "detached")
    pids: list[int] = []
    try:
        _, err = driver.communicate(timeout=60)
        assert driver.returncode == 0, err
        pids = procs.read_pids(str(tmp_path / "pids"), 6, timeout=1)
        assert all(procs.alive(p) for p in pids)
    finally:
        driver.kill()
        driver.wait()
        procs.kill_leftovers(pids)
