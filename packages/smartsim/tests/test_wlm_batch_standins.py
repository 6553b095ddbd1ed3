"""Batch launchers end to end through stand-in schedulers that really run the jobs
(``tests/standin_wlm/``): a batch model, a batch ensemble, an Orchestrator submitted as a
batch job and used by a SmartRedis client, stop(), Ctrl-C of the driver, every injected
fault ending in a clear error within bounded time, and job names within the scheduler's
limit. Each test runs for every row of :data:`WLMS` (one row per workload manager)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartsim import Experiment
from smartsim.error import SmartSimError
from smartsim.status import SmartSimStatus as S
from smartsim_ai.testing.processes import wait_for


@dataclass(frozen=True)
class Wlm:
    """What the tests need to know about one workload manager's stand-in."""

    name: str  # the launcher and the stand-in module
    submit: str
    status: str  # the one status command per poll
    cancel: str
    batch_kwargs: tuple[tuple[str, object], ...] = ()
    launcher_class: str = ""  # "module:Class", for its submit_timeout/stop_timeout
    env: tuple[tuple[str, str], ...] = ()


#: one row per workload manager (wlm-lsf adds lsf and cobalt rows)
WLMS = {
    "pbs": Wlm(
        "pbs",
        "qsub",
        "qstat",
        "qdel",
        launcher_class="smartsim._core.launcher.pbs.launcher:PBSLauncher",
    ),
    "sge": Wlm(
        "sge",
        "qsub",
        "qstat",
        "qdel",
        launcher_class="smartsim._core.launcher.sge.launcher:SGELauncher",
        env=(("SMARTSIM_SGE_ACCOUNTING_WAIT", "1"),),
    ),
}


def _launcher_class(wlm: Wlm) -> type:
    import importlib

    module, _, cls = wlm.launcher_class.partition(":")
    return getattr(importlib.import_module(module), cls)


@dataclass
class Setup:
    wlm: Wlm
    standin: object
    exp: Experiment
    path: Path

    def batch(self, **kwargs: object):
        return self.exp.create_batch_settings(nodes=1, time="00:10:00", **kwargs)

    def plain(self, script: str):
        return self.exp.create_run_settings("sh", ["-c", script], run_command="")

    def model(self, name: str, script: str, **kwargs: object):
        return self.exp.create_model(
            name, self.plain(script), path=str(self.path), batch_settings=self.batch(**kwargs)
        )


@pytest.fixture(params=sorted(WLMS))
def wlm(request, standin_wlm, tmp_path, monkeypatch):
    info = WLMS[request.param]
    standin = standin_wlm(info.name)
    monkeypatch.setenv("SMARTSIM_WLM_POLL_INTERVAL", "0.1")
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "20")  # a loaded test machine is slow
    monkeypatch.setenv("SMARTSIM_WLM_TRIES", "2")
    if os.geteuid() == 0:  # the batch Orchestrator's shards start under mpirun
        monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT", "1")
        monkeypatch.setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    for key, value in info.env:
        monkeypatch.setenv(key, value)
    cls = _launcher_class(info)
    monkeypatch.setattr(cls, "submit_timeout", 3.0)
    monkeypatch.setattr(cls, "stop_timeout", 10.0)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "exp").mkdir()
    exp = Experiment("standin", exp_path=str(tmp_path / "exp"), launcher=info.name)
    yield Setup(info, standin, exp, tmp_path)
    exp._control.stop_all()
    exp._control.close()


# ---- batch model and ensemble --------------------------------------------------------------
def test_batch_model_exit_codes_and_output(wlm):
    good = wlm.model("good", "echo out; echo err >&2")
    bad = wlm.model("bad", "exit 3")
    wlm.exp.start(good, bad)
    assert wlm.exp.get_status(good, bad) == [S.STATUS_COMPLETED, S.STATUS_FAILED]
    assert wlm.exp._control.jobs.get_job("bad").returncode == 3
    assert (wlm.path / "good.out").read_text() == "out\n"
    assert (wlm.path / "good.err").read_text() == "err\n"
    submits = [c for c in wlm.standin.calls(wlm.wlm.submit) if c[-1].endswith(".batch.sh")]
    assert len(submits) == 2
    jobs = wlm.standin.jobs()
    assert {j["state"] for j in jobs} == {"finished"} and len(jobs) == 2


def test_batch_ensemble_is_one_job(wlm):
    ens = wlm.exp.create_ensemble(
        "ens", batch_settings=wlm.batch(), run_settings=wlm.plain("echo $SSKEYOUT"), replicas=3
    )
    wlm.exp.generate(ens)
    wlm.exp.start(ens)
    assert wlm.exp.get_status(ens) == [S.STATUS_COMPLETED]
    assert wlm.exp.get_status(*ens.entities) == [S.STATUS_COMPLETED] * 3
    for member in ens.entities:
        assert (Path(member.path) / f"{member.name}.out").read_text() == f"{member.name}\n"
    assert len(wlm.standin.jobs()) == 1
    script = Path(wlm.exp.exp_path, "ens", "ens.batch.sh").read_text()
    assert script.count("pids+=($!)") == 3


def test_status_of_many_jobs_is_one_call_per_poll(wlm):
    models = [wlm.model(f"m{i}", "sleep 0.5") for i in range(12)]
    wlm.exp.start(*models, block=False)
    launcher = wlm.exp._control.launcher
    before_calls, before_polls = launcher.runner.calls[wlm.wlm.status], launcher.poller.polls
    wlm.exp.poll(interval=3600, verbose=False)
    calls = launcher.runner.calls[wlm.wlm.status] - before_calls
    polls = launcher.poller.polls - before_polls
    assert polls >= 1 and calls == polls
    assert set(wlm.exp.get_status(*models)) == {S.STATUS_COMPLETED}


# ---- stop and interrupts -------------------------------------------------------------------
def test_stop_deletes_a_running_job(wlm, procs):
    pidfile = wlm.path / "pid"
    model = wlm.model("sleeper", f"echo $$ > {pidfile}; exec sleep 1000")
    wlm.exp.start(model, block=False)
    pid = procs.read_pids(str(pidfile), 1)[0]
    wait_for(lambda: wlm.exp.get_status(model) == [S.STATUS_RUNNING], what="Running")
    wlm.exp.stop(model)
    assert wlm.exp.get_status(model) == [S.STATUS_CANCELLED]
    assert not procs.alive(pid)
    assert len(wlm.standin.calls(wlm.wlm.cancel)) == 1
    assert wlm.standin.jobs()[0]["deleted"]


def test_stop_of_many_jobs_is_one_cancel_call(wlm, procs):
    """``exp.stop(*models, ensemble)`` cancels every batch job in one scheduler call (one
    call per entity took minutes for 200 jobs)."""
    models = [wlm.model(f"many{i}", "exec sleep 1000") for i in range(4)]
    ens = wlm.exp.create_ensemble(
        "ens", batch_settings=wlm.batch(), run_settings=wlm.plain("exec sleep 1000"), replicas=2
    )
    wlm.exp.generate(ens)
    wlm.exp.start(*models, ens, block=False)
    wait_for(
        lambda: set(wlm.exp.get_status(*models, ens)) == {S.STATUS_RUNNING}, what="all Running"
    )
    wlm.exp.stop(*models, ens)
    assert set(wlm.exp.get_status(*models, ens)) == {S.STATUS_CANCELLED}
    cancels = wlm.standin.calls(wlm.wlm.cancel)
    assert len(cancels) == 1
    assert len(cancels[0]) - 1 == 5  # four models and the ensemble's one job


DRIVER = """
import sys, time
from smartsim import Experiment

launcher, workdir, pidfile = sys.argv[1:4]
exp = Experiment("drv", exp_path=workdir, launcher=launcher)
rs = exp.create_run_settings("sh", ["-c", f"echo $$ >> {pidfile}; exec sleep 1000"], run_command="")
bs = exp.create_batch_settings(nodes=1)
models = [exp.create_model(f"m{i}", rs, path=workdir, batch_settings=bs) for i in range(3)]
exp.start(*models, block=True)
"""


def test_ctrl_c_of_the_driver_deletes_every_job(wlm, procs):
    script = wlm.path / "driver.py"
    script.write_text(DRIVER)
    pidfile = wlm.path / "pids"
    driver = subprocess.Popen(
        [sys.executable, str(script), wlm.wlm.name, str(wlm.path), str(pidfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pids: list[int] = []
    try:
        pids = procs.read_pids(str(pidfile), 3)
        driver.send_signal(signal.SIGINT)
        _, err = driver.communicate(timeout=60)
        assert driver.returncode != 0, err
        jobs = wlm.standin.jobs()
        assert len(jobs) == 3 and all(j["deleted"] for j in jobs)
        deleted = {a for argv in wlm.standin.calls(wlm.wlm.cancel) for a in argv[1:]}
        assert len(deleted) == 3
        wait_for(lambda: not [p for p in pids if procs.alive(p)], 10, "job processes gone")
    finally:
        driver.kill()
        driver.wait()
        procs.kill_leftovers(pids)


# ---- faults ---------------------------------------------------------------------------------
#: (command, fault) -> what the error must say
SUBMIT_FAULTS = {
    "fail": "refused the batch job",
    "hang": "timed out",
}


@pytest.mark.parametrize("fault", sorted(SUBMIT_FAULTS))
def test_submit_fault_is_a_clear_error(wlm, fault, monkeypatch):
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "3")
    wlm.standin.fault(wlm.wlm.submit, fault)
    model = wlm.model("m", "true")
    start = time.monotonic()
    with pytest.raises(SmartSimError) as err:
        wlm.exp.start(model)
    assert time.monotonic() - start < 30
    assert "Model 'm'" in str(err.value) and SUBMIT_FAULTS[fault] in str(err.value)


@pytest.mark.parametrize("fault", ["fail", "hang", "garbage"])
def test_status_fault_is_a_clear_error(wlm, fault, procs, monkeypatch):
    # the poller keeps polling: a call already under way when the fault arrives uses the
    # timeout it started with, so this one is set before anything starts
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "8")
    pidfile = wlm.path / "pid"
    model = wlm.model("m", f"echo $$ > {pidfile}; exec sleep 1000")
    wlm.exp.start(model, block=False)
    pid = procs.read_pids(str(pidfile), 1)[0]
    wait_for(lambda: wlm.exp.get_status(model) == [S.STATUS_RUNNING], what="Running")
    wlm.standin.fault(wlm.wlm.status, fault)
    start = time.monotonic()
    with pytest.raises(SmartSimError, match="could not be read from") as err:
        wlm.exp.poll(interval=3600, verbose=False)
    assert time.monotonic() - start < 45  # 2 tries of 8 s, and the backoff
    assert wlm.wlm.status in str(err.value)
    assert wlm.exp.get_status(model) == [S.STATUS_FAILED]
    wlm.standin.clear_faults()
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "20")
    wlm.exp.stop(model)  # the job the poller gave up on is still deleted
    wait_for(lambda: not procs.alive(pid), 10, "job process gone")


def test_a_job_lost_from_the_queue_fails_with_the_reason(wlm, smartsim_log):
    model = wlm.model("m", "sleep 1000")
    wlm.exp.start(model, block=False)
    wait_for(lambda: wlm.exp.get_status(model) == [S.STATUS_RUNNING], what="Running")
    wlm.standin.fault(wlm.wlm.status, "lose", times=1)
    start = time.monotonic()
    wlm.exp.poll(interval=3600, verbose=False)
    assert time.monotonic() - start < 30
    assert wlm.exp.get_status(model) == [S.STATUS_FAILED]
    assert any("no longer knows" in m or "no record" in m for m in smartsim_log), smartsim_log


def test_a_job_lost_at_submission_fails_with_the_reason(wlm, smartsim_log):
    wlm.standin.fault(wlm.wlm.submit, "lose")
    model = wlm.model("m", "true")
    start = time.monotonic()
    wlm.exp.start(model)
    assert time.monotonic() - start < 30
    assert wlm.exp.get_status(model) == [S.STATUS_FAILED]
    assert any("no longer knows" in m or "no record" in m for m in smartsim_log), smartsim_log


@pytest.mark.parametrize("fault", ["fail", "hang"])
def test_cancel_fault_is_reported_and_bounded(wlm, fault, procs, smartsim_log, monkeypatch):
    pidfile = wlm.path / "pid"
    model = wlm.model("m", f"echo $$ > {pidfile}; exec sleep 1000")
    wlm.exp.start(model, block=False)
    pid = procs.read_pids(str(pidfile), 1)[0]
    monkeypatch.setenv("SMARTSIM_WLM_TIMEOUT", "3")
    wlm.standin.fault(wlm.wlm.cancel, fault)
    start = time.monotonic()
    wlm.exp.stop(model)
    assert time.monotonic() - start < 40
    assert any(f"{wlm.wlm.cancel} failed" in m for m in smartsim_log), smartsim_log
    assert any("still lists" in m for m in smartsim_log), smartsim_log
    assert procs.alive(pid)  # nothing pretended: the scheduler never deleted it
    wlm.standin.clear_faults()


# ---- names ------------------------------------------------------------------------------------
def test_long_entity_names_give_unique_accepted_job_names(wlm):
    names = [f"a_rather_long_model_name_number_{i}" for i in range(3)]
    models = [wlm.model(n, "true") for n in names]
    wlm.exp.start(*models)
    assert wlm.exp.get_status(*models) == [S.STATUS_COMPLETED] * 3
    job_names = [j["name"] for j in wlm.standin.jobs()]
    assert len(set(job_names)) == 3
    assert all(n.startswith("a_rather") for n in job_names)


# ---- the database as a batch job --------------------------------------------------------------
def test_orchestrator_batch_job_serves_a_client(wlm):
    from smartredis import Client
    from smartsim_ai.testing.servers import free_port

    port = free_port()
    db = wlm.exp.create_database(
        port=port,
        interface="lo",
        batch=True,
        time="00:10:00",
        hosts=[socket.gethostname()],  # mpirun (sge) needs them
        path=str(wlm.path / "db"),
    )
    wlm.exp.start(db)
    try:
        assert wlm.exp.get_status(db) == [S.STATUS_RUNNING]
        assert db.get_address() == [f"127.0.0.1:{port}"]
        client = Client(address=f"127.0.0.1:{port}", cluster=False)
        client.put_tensor("x", __import__("numpy").arange(4))
        assert list(client.get_tensor("x")) == [0, 1, 2, 3]
        assert len(wlm.standin.jobs()) == 1
    finally:
        wlm.exp.stop(db)
    assert wlm.exp.get_status(db) == [S.STATUS_CANCELLED]
    assert wlm.standin.jobs()[0]["state"] == "finished"

    def port_closed() -> bool:  # the shard is gone too (mpirun's ranks have their own group)
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) != 0

    wait_for(port_closed, 10, "the database's port closed")


def test_environment_of_the_job(wlm, monkeypatch):
    monkeypatch.setenv("SMARTSIM_TEST_DRIVER_MARK", "from-the-driver")
    model = wlm.model("env", "env")
    wlm.exp.start(model)
    env = dict(
        line.split("=", 1)
        for line in (wlm.path / "env.out").read_text().splitlines()
        if "=" in line
    )
    job = wlm.standin.jobs()[0]
    if wlm.wlm.name == "pbs":
        assert env["PBS_JOBID"] == f"{job['seq']}.pbs-standin"
        assert env["PBS_ENVIRONMENT"] == "PBS_BATCH" and Path(env["PBS_NODEFILE"]).is_file()
    else:
        assert env["JOB_ID"] == str(job["seq"]) and env["ENVIRONMENT"] == "BATCH"
    assert env["SMARTSIM_TEST_DRIVER_MARK"] == "from-the-driver"  # -V: the driver's environment
