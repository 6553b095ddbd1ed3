"""The LSF and Cobalt launchers end to end through their stand-ins (``tests/standin_wlm/``
``lsf.py`` and ``cobalt.py`` on the shared core), which accept the real tools' syntax and
really run the jobs on this machine: batch models and ensembles, an Orchestrator as a batch
job used by a client, stop(), an interrupted driver, every injected fault, job names,
jsrun/aprun steps inside an allocation, and one status call per poll."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from smartsim import Experiment
from smartsim._core.launcher import detect_launcher
from smartsim.database import CobaltOrchestrator, LSFOrchestrator
from smartsim.error import SmartSimError
from smartsim.settings import AprunSettings, JsrunSettings, create_run_settings
from smartsim.status import SmartSimStatus as S

WLMS = ["lsf", "cobalt"]
RUN_COMMAND = {"lsf": "jsrun", "cobalt": "aprun"}
JOB_ID_VAR = {"lsf": "LSB_JOBID", "cobalt": "COBALT_JOBID"}
STATUS_CMD = {"lsf": "bjobs", "cobalt": "qstat"}
CANCEL_CMD = {"lsf": "bkill", "cobalt": "qdel"}
SUBMIT_CMD = {"lsf": "bsub", "cobalt": "qsub"}


@pytest.fixture
def fast(monkeypatch):
    """Short poll interval, kill delay and scheduler timeouts for the tests."""
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    monkeypatch.setenv("STANDIN_WLM_KILL_DELAY", "0.5")


@pytest.fixture(params=WLMS)
def wlm(request, standin_wlm, fast, tmp_path, monkeypatch):
    """(name, stand-in, experiment) for each workload manager."""
    monkeypatch.chdir(tmp_path)
    standin = standin_wlm(request.param)
    (tmp_path / "exp").mkdir()
    exp = Experiment(f"exp-{request.param}", exp_path=str(tmp_path / "exp"), launcher=request.param)
    yield request.param, standin, exp
    exp._control.stop_all()
    exp._control.close()


def batch(exp, **kwargs):
    return exp.create_batch_settings(nodes=1, time="00:10:00", **kwargs)


def step(exp, name: str, script: str):
    return exp.create_run_settings("sh", ["-c", script], run_command=RUN_COMMAND[name])


def wait_status(exp, entity, wanted, timeout=30.0):
    deadline = time.monotonic() + timeout
    while exp.get_status(entity) != [wanted] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert exp.get_status(entity) == [wanted]


# ---- batch jobs --------------------------------------------------------------------------
def test_batch_model_runs_in_the_schedulers_environment(wlm, tmp_path):
    name, standin, exp = wlm
    var = JOB_ID_VAR[name]
    model = exp.create_model(
        "m",
        step(exp, name, f"echo job ${var}"),
        path=str(tmp_path),
        batch_settings=batch(exp),
    )
    exp.start(model)
    assert exp.get_status(model) == [S.STATUS_COMPLETED]
    assert (tmp_path / "m.out").read_text() == "job 1\n"
    job = exp._control.jobs.get_job("m").current
    assert job.job_id == "1"
    script = (tmp_path / "m.batch.sh").read_text()
    prefix = {"lsf": "#BSUB", "cobalt": "#COBALT"}[name]
    assert f"{prefix} " in script and RUN_COMMAND[name] in script
    assert standin.calls(SUBMIT_CMD[name]) == [[SUBMIT_CMD[name], str(tmp_path / "m.batch.sh")]]


def test_failing_member_fails_the_job_with_its_exit_code(wlm, tmp_path):
    name, _, exp = wlm
    bs = batch(exp)
    good = exp.create_model(
        "good", step(exp, name, "exit 0"), path=str(tmp_path), batch_settings=bs
    )
    bad = exp.create_model("bad", step(exp, name, "exit 3"), path=str(tmp_path), batch_settings=bs)
    exp.start(good, bad)
    assert exp.get_status(good, bad) == [S.STATUS_COMPLETED, S.STATUS_FAILED]
    assert exp._control.jobs.get_job("bad").returncode == 3


def test_batch_ensemble_is_one_job(wlm, tmp_path):
    name, standin, exp = wlm
    ens = exp.create_ensemble(
        "ens", batch_settings=batch(exp), run_settings=step(exp, name, "echo $SSKEYOUT"), replicas=3
    )
    exp.generate(ens)
    exp.start(ens)
    assert exp.get_status(ens) == [S.STATUS_COMPLETED]
    for member in ens.entities:
        assert (Path(member.path) / f"{member.name}.out").read_text() == f"{member.name}\n"
    assert len(standin.jobs()) == 1
    rows = exp.summary(style="plain").splitlines()
    assert len(rows) == 2 and "Completed" in rows[1]


def test_stop_cancels_the_job_and_waits(wlm, tmp_path, procs):
    name, standin, exp = wlm
    pidfile = tmp_path / "pid"
    model = exp.create_model(
        "sleeper",
        step(exp, name, f"echo $$ > {pidfile}; exec sleep 1000"),
        path=str(tmp_path),
        batch_settings=batch(exp),
    )
    exp.start(model, block=False)
    pid = procs.read_pids(str(pidfile), 1)[0]
    wait_status(exp, model, S.STATUS_RUNNING)
    exp.stop(model)
    assert exp.get_status(model) == [S.STATUS_CANCELLED]
    assert not procs.alive(pid)
    assert standin.calls(CANCEL_CMD[name]) == [[CANCEL_CMD[name], "1"]]
    assert standin.job(1)["state"] == "finished" and standin.job(1)["deleted"]


def test_refused_job_surfaces_the_schedulers_message(wlm, tmp_path):
    name, _, exp = wlm
    model = exp.create_model(
        "m", step(exp, name, "true"), path=str(tmp_path), batch_settings=batch(exp, queue="nope")
    )
    with pytest.raises(SmartSimError) as err:
        exp.start(model)
    text = str(err.value)
    assert "Model 'm'" in text
    assert {
        "lsf": "nope: No such queue. Job not submitted.",
        "cobalt": "'nope' is not a valid queue",
    }[name] in text


def test_cobalt_refuses_a_job_without_walltime(standin_wlm, fast, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    standin_wlm("cobalt")
    exp = Experiment("c", exp_path=str(tmp_path), launcher="cobalt")
    bs = exp.create_batch_settings(nodes=1)  # Cobalt requires -t
    rs = exp.create_run_settings("true", run_command="")
    model = exp.create_model("m", rs, path=str(tmp_path), batch_settings=bs)
    with pytest.raises(SmartSimError, match="Not all required arguments provided: time needed"):
        exp.start(model)
    exp._control.close()


def test_one_status_call_per_poll_for_many_jobs(wlm, tmp_path):
    name, _, exp = wlm
    bs = batch(exp)
    models = [
        exp.create_model(
            f"m{i}", step(exp, name, "sleep 0.5"), path=str(tmp_path), batch_settings=bs
        )
        for i in range(12)
    ]
    exp.start(*models, block=False)
    launcher = exp._control.launcher
    before_calls, before_polls = launcher.runner.calls[STATUS_CMD[name]], launcher.poller.polls
    exp.poll(interval=3600, verbose=False)
    calls = launcher.runner.calls[STATUS_CMD[name]] - before_calls
    polls = launcher.poller.polls - before_polls
    assert polls >= 1 and calls == polls
    assert set(exp.get_status(*models)) == {S.STATUS_COMPLETED}


def test_job_names_stay_within_the_limit_and_unique(wlm, tmp_path):
    name, standin, exp = wlm
    long = "x" * 200  # a file name (<name>.batch.sh) has at most 255 bytes
    bs = batch(exp)
    a = exp.create_model(long, step(exp, name, "true"), path=str(tmp_path), batch_settings=bs)
    b = exp.create_model(
        long[:-1] + "y", step(exp, name, "true"), path=str(tmp_path), batch_settings=bs
    )
    exp.start(a, b)
    assert exp.get_status(a, b) == [S.STATUS_COMPLETED] * 2
    names = [j["name"] for j in standin.jobs()]
    limit = exp._control.launcher.job_name_limit
    assert len(set(names)) == 2 and all(len(n) <= limit for n in names)
    assert all(n.startswith("xxxx") for n in names)


# ---- injected faults: a clear error in bounded time ------------------------------------------
@pytest.mark.parametrize("kind", ["fail", "hang", "garbage"])
def test_status_command_fault_ends_in_a_clear_error(wlm, tmp_path, monkeypatch, kind):
    name, standin, exp = wlm
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "1")
    monkeypatch.setenv("SMARTSIM_WLM_TRIES", "2")
    standin.fault(STATUS_CMD[name], kind)
    model = exp.create_model(
        "m", step(exp, name, "sleep 1000"), path=str(tmp_path), batch_settings=batch(exp)
    )
    started = time.monotonic()
    with pytest.raises(SmartSimError) as err:
        exp.start(model)
    assert time.monotonic() - started < 30
    text = str(err.value)
    assert f"could not be read from {name}" in text
    expected = {"fail": "exit ", "hang": "timed out after 1 s", "garbage": "not"}[kind]
    assert expected in text
    assert exp.get_status(model) in ([S.STATUS_FAILED], [S.STATUS_CANCELLED])
    standin.clear_faults()
    exp.stop(model)
    deadline = time.monotonic() + 30
    while standin.job(1)["state"] != "finished" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert standin.job(1)["state"] == "finished"  # the job was cancelled, not left running


def test_submit_fault_ends_in_a_clear_error(wlm, tmp_path):
    name, standin, exp = wlm
    standin.fault(SUBMIT_CMD[name], "fail")
    model = exp.create_model(
        "m", step(exp, name, "true"), path=str(tmp_path), batch_settings=batch(exp)
    )
    with pytest.raises(SmartSimError, match=f"{name} refused the batch job m"):
        exp.start(model)
    assert standin.jobs() == []


@pytest.mark.parametrize("where", ["submit", "status"])
def test_a_lost_job_is_reported_failed_with_a_reason(wlm, tmp_path, where):
    name, standin, exp = wlm
    command = SUBMIT_CMD[name] if where == "submit" else STATUS_CMD[name]
    standin.fault(command, "lose", times=1)
    model = exp.create_model(
        "m", step(exp, name, "sleep 1000"), path=str(tmp_path), batch_settings=batch(exp)
    )
    started = time.monotonic()
    with pytest.raises(SmartSimError) as err:
        exp.start(model)
    assert time.monotonic() - started < 30
    assert f"{STATUS_CMD[name]} no longer" in str(err.value)
    assert exp.get_status(model) == [S.STATUS_FAILED]


# ---- the driver interrupted --------------------------------------------------------------------
DRIVER = """
import sys, time
from smartsim import Experiment

workdir, pidfile, wlm, run_command = sys.argv[1:5]
exp = Experiment("drv", exp_path=workdir, launcher=wlm)
rs = exp.create_run_settings("sh", ["-c", f"echo $$ >> {pidfile}; exec sleep 1000"],
                             run_command=run_command)
bs = exp.create_batch_settings(nodes=1, time="00:10:00")
models = [exp.create_model(f"m{i}", rs, path=workdir, batch_settings=bs) for i in range(2)]
exp.start(*models, block=sys.argv[5] == "block")
time.sleep(1000)
"""


@pytest.mark.parametrize("mode,sig", [("block", signal.SIGINT), ("nonblock", signal.SIGTERM)])
def test_interrupted_driver_cancels_every_job(wlm, tmp_path, procs, mode, sig):
    name, standin, _ = wlm
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    pidfile = tmp_path / "pids"
    driver = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), str(pidfile), name, RUN_COMMAND[name], mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pids: list[int] = []
    try:
        pids = procs.read_pids(str(pidfile), 2)
        driver.send_signal(sig)
        _, err = driver.communicate(timeout=60)
        assert driver.returncode != 0, err
        cancelled = sorted(i for call in standin.calls(CANCEL_CMD[name]) for i in call[1:])
        assert cancelled == ["1", "2"]
        deadline = time.monotonic() + 30
        while any(procs.alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p for p in pids if procs.alive(p)] == []
    finally:
        driver.kill()
        driver.wait()
        procs.kill_leftovers(pids)


# ---- the Orchestrator as a batch job ---------------------------------------------------------------
@pytest.mark.parametrize("legacy", [False, True])
def test_batch_orchestrator_serves_a_client(wlm, tmp_path, legacy):
    from smartredis import Client
    from smartsim_ai.testing.servers import free_port

    name, standin, exp = wlm
    port = free_port()
    if legacy:
        cls = LSFOrchestrator if name == "lsf" else CobaltOrchestrator
        with pytest.warns(DeprecationWarning):
            db = cls(
                port=port, db_nodes=1, interface="lo", time="00:10:00", path=str(tmp_path / "db")
            )
        assert db.launcher == name and db.batch
    else:
        db = exp.create_database(
            port=port, interface="lo", batch=True, time="00:10:00", path=str(tmp_path / "db")
        )
    exp.start(db)
    try:
        wait_status(exp, db, S.STATUS_RUNNING)  # the database answered; qstat/bjobs follow
        client = Client(address=db.get_address()[0], cluster=False)
        client.put_tensor("t", np.arange(4, dtype=np.float32))
        assert np.array_equal(client.get_tensor("t"), np.arange(4, dtype=np.float32))
        script = (Path(db.path) / f"{db.name}.batch.sh").read_text()
        assert RUN_COMMAND[name] in script
    finally:
        exp.stop(db)
    assert exp.get_status(db) == [S.STATUS_CANCELLED]
    assert standin.calls(CANCEL_CMD[name]) == [[CANCEL_CMD[name], "1"]]


# ---- steps inside an allocation ------------------------------------------------------------------
def test_jsrun_needs_an_allocation(standin_wlm, fast, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    standin_wlm("lsf")
    monkeypatch.delenv("LSB_JOBID", raising=False)
    exp = Experiment("j", exp_path=str(tmp_path), launcher="lsf")
    model = exp.create_model("m", exp.create_run_settings("true", run_command="jsrun"))
    with pytest.raises(SmartSimError, match="jsrun needs an LSF allocation"):
        exp.start(model)
    exp._control.close()


def test_jsrun_steps_mpmd_erf_and_jskill(standin_wlm, fast, tmp_path, monkeypatch, procs):
    monkeypatch.chdir(tmp_path)
    standin = standin_wlm("lsf")
    monkeypatch.setenv("LSB_JOBID", "77")  # the driver runs inside allocation 77
    exp = Experiment("j", exp_path=str(tmp_path), launcher="lsf")
    rs = exp.create_run_settings("sh", ["-c", "echo a$JSM_NAMESPACE_RANK"], run_command="jsrun")
    assert isinstance(rs, JsrunSettings)
    rs.set_tasks(2)
    other = JsrunSettings(rs.exe_path, ["-c", "echo b$JSM_NAMESPACE_RANK"])
    other.set_erf_sets({"rank_count": "1", "cpu": "{0:1}"})
    rs.make_mpmd(other)
    mpmd = exp.create_model("mpmd", rs, path=str(tmp_path))
    exp.start(mpmd)
    assert exp.get_status(mpmd) == [S.STATUS_COMPLETED]
    assert sorted((tmp_path / "mpmd.out").read_text().split()) == ["a0", "a1", "b2"]
    erf = (tmp_path / "mpmd.mpmd").read_text()
    assert "2 : { host: *; cpu: * } : app 0" in erf and "1 : { host: *; cpu: {0:1} } : app 1" in erf

    pidfile = tmp_path / "pid"
    sleeper = exp.create_model(
        "sleeper",
        exp.create_run_settings(
            "sh", ["-c", f"echo $$ > {pidfile}; exec sleep 1000"], run_command="jsrun"
        ),
        path=str(tmp_path),
    )
    exp.start(sleeper, block=False)
    pid = procs.read_pids(str(pidfile), 1)[0]
    exp.stop(sleeper)
    assert exp.get_status(sleeper) == [S.STATUS_CANCELLED]
    assert not procs.alive(pid)
    assert standin.calls("jskill") == [["jskill", "2"]]


def test_aprun_step_in_a_cobalt_allocation(standin_wlm, fast, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    standin_wlm("cobalt")
    exp = Experiment("a", exp_path=str(tmp_path), launcher="cobalt")
    rs = exp.create_run_settings("sh", ["-c", "echo pe$ALPS_APP_PE"], run_command="aprun")
    assert isinstance(rs, AprunSettings)
    rs.set_tasks(2)
    model = exp.create_model("m", rs, path=str(tmp_path))
    with pytest.raises(SmartSimError, match="aprun needs a Cobalt allocation"):
        exp.start(model)
    monkeypatch.setenv("COBALT_JOBID", "5")
    exp.start(model)
    assert exp.get_status(model) == [S.STATUS_COMPLETED]
    assert sorted((tmp_path / "m.out").read_text().split()) == ["pe0", "pe1"]
    exp._control.close()


# ---- detection -----------------------------------------------------------------------------------
def test_detection_and_auto_run_command(standin_wlm, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    bare = f"{os.path.dirname(sys.executable)}:/usr/bin:/bin"
    monkeypatch.setenv("PATH", bare)
    lsf = standin_wlm("lsf")
    assert detect_launcher() == "lsf"
    assert Experiment("x", exp_path=str(tmp_path), launcher="auto").launcher == "lsf"
    assert create_run_settings("lsf", "true").run_command == "jsrun"
    monkeypatch.setenv("PATH", bare)
    standin_wlm("cobalt")
    assert detect_launcher() == "cobalt"
    assert create_run_settings("cobalt", "true").run_command == "aprun"
    assert lsf.calls("bjobs") == []  # detection only looks at PATH (and qsub --version)
