"""The batch base and the controller's batch path against a stand-in Slurm (no scheduler):
``tests/standin_slurm/`` puts ``sbatch``, ``squeue``, ``scancel`` and ``scontrol`` on PATH
that run the generated script with bash. The real cluster runs ``test_slurm_launcher.py``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smartsim import Experiment
from smartsim.error import SmartSimError
from smartsim.status import SmartSimStatus as S

STANDIN = Path(__file__).parent / "standin_slurm"


@pytest.fixture
def exp(tmp_path, monkeypatch):
    state = tmp_path / "fake-slurm"
    state.mkdir()
    monkeypatch.setenv("PATH", f"{STANDIN}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM_DIR", str(state))
    monkeypatch.setenv("FAKE_SLURM_PYTHON", sys.executable)
    monkeypatch.setenv("SMARTSIM_SLURM_STATUS", "squeue")
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    (tmp_path / "exp").mkdir()
    e = Experiment("standin", exp_path=str(tmp_path / "exp"), launcher="slurm")
    yield e
    e._control.stop_all()
    e._control.close()


def plain(exp, script: str):
    return exp.create_run_settings("sh", ["-c", script], run_command="")


def test_batch_ensemble_is_one_job(exp):
    bs = exp.create_batch_settings(nodes=1, time="00:01:00")
    ens = exp.create_ensemble(
        "ens", batch_settings=bs, run_settings=plain(exp, "echo $SSKEYOUT"), replicas=3
    )
    exp.generate(ens)
    exp.start(ens)
    assert exp.get_status(ens) == [S.STATUS_COMPLETED]
    assert exp.get_status(*ens.entities) == [S.STATUS_COMPLETED] * 3
    for member in ens.entities:
        assert (Path(member.path) / f"{member.name}.out").read_text() == f"{member.name}\n"
    rows = exp.summary(style="plain").splitlines()
    assert len(rows) == 2 and "ens" in rows[1] and "Completed" in rows[1]
    assert exp._control.jobs.get_job("ens").current.job_id == "1"


def test_failing_member_fails_the_job_with_its_exit_code(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=1)
    good = exp.create_model("good", plain(exp, "exit 0"), path=str(tmp_path), batch_settings=bs)
    bad = exp.create_model("bad", plain(exp, "exit 3"), path=str(tmp_path), batch_settings=bs)
    exp.start(good, bad)
    assert exp.get_status(good, bad) == [S.STATUS_COMPLETED, S.STATUS_FAILED]
    assert exp._control.jobs.get_job("bad").returncode == 3


def test_stop_cancels_and_waits(exp, tmp_path, procs):
    pidfile = tmp_path / "pid"
    bs = exp.create_batch_settings(nodes=1)
    model = exp.create_model(
        "sleeper",
        plain(exp, f"echo $$ > {pidfile}; exec sleep 1000"),
        path=str(tmp_path),
        batch_settings=bs,
    )
    exp.start(model, block=False)
    pid = procs.read_pids(str(pidfile), 1)[0]
    deadline = time.monotonic() + 30
    while exp.get_status(model) != [S.STATUS_RUNNING] and time.monotonic() < deadline:
        time.sleep(0.05)
    exp.stop(model)
    assert exp.get_status(model) == [S.STATUS_CANCELLED]
    assert not procs.alive(pid)


def test_refused_job_surfaces_the_schedulers_message(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=1, queue="nope")
    model = exp.create_model("m", plain(exp, "true"), path=str(tmp_path), batch_settings=bs)
    with pytest.raises(SmartSimError) as err:
        exp.start(model)
    assert "Model 'm'" in str(err.value)
    assert "Invalid partition name specified" in str(err.value)


def test_one_status_call_per_poll_for_many_jobs(exp, tmp_path):
    bs = exp.create_batch_settings(nodes=1)
    models = [
        exp.create_model(f"m{i}", plain(exp, "sleep 1"), path=str(tmp_path), batch_settings=bs)
        for i in range(40)
    ]
    exp.start(*models, block=False)
    launcher = exp._control.launcher
    before_calls, before_polls = launcher.runner.calls["squeue"], launcher.poller.polls
    exp.poll(interval=3600, verbose=False)
    calls = launcher.runner.calls["squeue"] - before_calls
    polls = launcher.poller.polls - before_polls
    assert polls >= 1 and calls == polls
    assert set(exp.get_status(*models)) == {S.STATUS_COMPLETED}


DRIVER = """
import sys, time
from smartsim import Experiment

workdir, pidfile = sys.argv[1], sys.argv[2]
exp = Experiment("drv", exp_path=workdir, launcher="slurm")
rs = exp.create_run_settings("sh", ["-c", f"echo $$ >> {pidfile}; exec sleep 1000"], run_command="")
bs = exp.create_batch_settings(nodes=1)
models = [exp.create_model(f"m{i}", rs, path=workdir, batch_settings=bs) for i in range(2)]
exp.start(*models, block=sys.argv[3] == "block")
time.sleep(1000)
"""


@pytest.mark.parametrize(
    "mode,sig",
    [("block", signal.SIGINT), ("nonblock", signal.SIGINT), ("nonblock", signal.SIGTERM)],
)
def test_interrupted_driver_cancels_its_batch_jobs(exp, tmp_path, procs, mode, sig):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    pidfile = tmp_path / "pids"
    driver = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), str(pidfile), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pids: list[int] = []
    try:
        pids = procs.read_pids(str(pidfile), 2)
        driver.send_signal(sig)
        _, err = driver.communicate(timeout=60)
        assert driver.returncode != 0, err
        assert [p for p in pids if procs.alive(p)] == []
        state = Path(os.environ["FAKE_SLURM_DIR"])
        assert len(list(state.glob("*.cancelled"))) == 2
    finally:
        driver.kill()
        driver.wait()
        procs.kill_leftovers(pids)
