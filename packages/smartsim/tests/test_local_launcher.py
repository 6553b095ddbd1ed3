"""The local launcher with real processes: output files, exit codes, status, stopping."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from smartsim import Experiment
from smartsim._core.launcher import launcher_names
from smartsim._core.launcher.local import launcher as local_launcher
from smartsim.error import SmartSimError, SSUnsupportedError
from smartsim.status import STATUS_COMPLETED, SmartSimStatus


def sh(exp, script: str, **kw):
    return exp.create_run_settings("sh", ["-c", script], **kw)


def test_output_files_exit_codes_and_summary(exp, tmp_path):
    ok = exp.create_model("ok", sh(exp, "echo out-$GREETING; echo err >&2"), path=str(tmp_path))
    ok.run_settings.update_env({"GREETING": "hi"})
    bad = exp.create_model("bad", sh(exp, "exit 3"), path=str(tmp_path))
    exp.start(ok, bad, block=True)
    assert (tmp_path / "ok.out").read_text() == "out-hi\n"
    assert (tmp_path / "ok.err").read_text() == "err\n"
    assert exp.get_status(ok, bad) == [STATUS_COMPLETED, SmartSimStatus.STATUS_FAILED]
    job = exp._control.jobs.get_job("bad")
    assert job.returncode == 3 and job.current.detail == "exit 3"
    assert exp.finished(ok) and exp.finished(bad)
    exp.start(ok)  # a second run of the same entity
    table = exp.summary()
    assert table.count("| ok ") == 2 and "| bad " in table and "Failed" in table
    assert "Returncode" in exp.summary(style="plain")


def test_ensemble_members_get_their_env(exp, tmp_path):
    ens = exp.create_ensemble(
        "ens",
        params={"v": [1, 2]},
        run_settings=sh(exp, 'echo "$SSKEYOUT|${SSDB:-none}"'),
        params_as_args=["v"],
    )
    exp.generate(ens)
    exp.start(ens)
    for i in range(2):
        member = tmp_path / "ens" / f"ens_{i}"
        assert (member / f"ens_{i}.out").read_text() == f"ens_{i}|none\n"
    assert exp.get_status(ens) == [STATUS_COMPLETED] * 2


def test_status_follows_the_process(exp, tmp_path):
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    model = exp.create_model("waiter", sh(exp, f"read x < {fifo}; exit 0"), path=str(tmp_path))
    exp.start(model, block=False)
    assert exp.get_status(model) == [SmartSimStatus.STATUS_RUNNING]
    assert not exp.finished(model)
    with open(fifo, "w") as f:
        f.write("go\n")
    assert exp._control.jobs.wait(["waiter"], timeout=30)
    assert exp.get_status(model) == [STATUS_COMPLETED]


def test_stop_kills_the_whole_tree(exp, tmp_path, procs):
    pidfile = tmp_path / "pids"
    script = (
        f"trap '' TERM; echo $$ >> {pidfile}; "
        f"sleep 1000 & echo $! >> {pidfile}; "
        f"setsid sleep 1001 & echo $! >> {pidfile}; "
        f"sh -c 'trap \"\" TERM; echo $$ >> {pidfile}; sleep 1002' & wait"
    )
    exp._control.launcher.stop_grace = 0.5
    model = exp.create_model("tree", sh(exp, script), path=str(tmp_path))
    exp.start(model, block=False)
    pids = procs.read_pids(str(pidfile), 4)
    try:
        assert all(procs.alive(p) for p in pids)
        exp.stop(model)
        assert exp.get_status(model) == [SmartSimStatus.STATUS_CANCELLED]
        assert [p for p in pids if procs.alive(p)] == []
    finally:
        procs.kill_leftovers(pids)


def test_interrupt_between_start_and_registration_still_stops_it(exp, tmp_path, procs, monkeypatch):
    """Ctrl-C landing right after a process started, before the launcher had recorded it,
    used to leave that process running: the stop that follows did not know of it."""
    real_start = local_launcher.start_process
    started: list[int] = []

    def start_then_interrupted(step, env):
        proc = real_start(step, env)
        started.append(proc.pid)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.2)  # Python runs the SIGINT handler here, before run() records proc
        return proc

    monkeypatch.setattr(local_launcher, "start_process", start_then_interrupted)
    exp._control.launcher.stop_grace = 0.5
    model = exp.create_model("late", sh(exp, "sleep 1000"), path=str(tmp_path))
    try:
        with pytest.raises(KeyboardInterrupt):
            exp.start(model, block=False)
        assert len(started) == 1
        assert not procs.alive(started[0])
        assert exp._control.launcher.active_steps() == []
    finally:
        procs.kill_leftovers(started)


def test_bad_input_launches_nothing(exp, tmp_path):
    good = exp.create_model("good", sh(exp, "sleep 1000"), path=str(tmp_path))
    missing = exp.create_model(
        "missing", exp.create_run_settings("sh"), path=str(tmp_path / "nope")
    )
    with pytest.raises(SmartSimError, match=r"missing.*does not exist"):
        exp.start(good, missing, block=False)
    with pytest.raises(SmartSimError, match="never launched"):
        exp.get_status(good)
    from smartsim.settings import RunSettings

    ghost = exp.create_model("ghost", RunSettings("no-such-program-xyz"), path=str(tmp_path))
    with pytest.raises(SmartSimError, match=r"ghost.*not found on PATH"):
        exp.start(good, ghost)
    with pytest.raises(ValueError, match="never launched"):
        exp.finished(good)
    with pytest.raises(TypeError):
        exp.stop("good")
    with pytest.raises(TypeError):
        exp.start([good])
    with pytest.raises(SmartSimError, match="unique"):
        exp.start(good, good)


def test_batch_ensemble_refused_on_local(exp):
    from smartsim.entity import Ensemble, Model
    from smartsim.settings import RunSettings, SbatchSettings

    ens = Ensemble("b", batch_settings=SbatchSettings(nodes=1))
    ens.add_model(Model("m", {}, None, RunSettings("true")))
    with pytest.raises(SmartSimError, match="no batch system"):
        exp.start(ens)


def test_experiment_arguments(tmp_path):
    with pytest.raises(NotADirectoryError):
        Experiment("x", exp_path=str(tmp_path / "missing"))
    with pytest.raises(TypeError):
        Experiment("x", exp_path=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(SSUnsupportedError, match="not supported"):
        Experiment("x", launcher="bogus")
    assert Experiment("x", launcher="auto").launcher in launcher_names()
    with pytest.raises(SmartSimError, match="no batch system"):
        Experiment("y", exp_path=str(tmp_path)).create_batch_settings()


def test_many_quick_models_all_complete(exp, tmp_path):
    ens = exp.create_ensemble("many", run_settings=exp.create_run_settings("true"), replicas=60)
    exp.generate(ens)
    exp.start(ens)
    assert set(exp.get_status(ens)) == {STATUS_COMPLETED}


def test_python_model_sees_its_directory(exp, tmp_path):
    rs = exp.create_run_settings(sys.executable, ["-c", "import os; print(os.getcwd())"])
    model = exp.create_model("py", rs)
    exp.generate(model)
    exp.start(model)
    assert (tmp_path / "py" / "py.out").read_text().strip() == str(tmp_path / "py")


def test_refuses_running_twice_and_duplicate_names(exp, tmp_path):
    model = exp.create_model("busy", sh(exp, "sleep 1000"), path=str(tmp_path))
    exp.start(model, block=False)
    with pytest.raises(SmartSimError, match="already running: busy"):
        exp.start(model, block=False)
    exp.stop(model)
    twin = exp.create_model("ens_0", sh(exp, "true"), path=str(tmp_path))
    ens = exp.create_ensemble("ens", run_settings=sh(exp, "true"), replicas=2)
    with pytest.raises(SmartSimError, match="repeated: ens_0"):
        exp.start(ens, twin)


@pytest.mark.parametrize("use_pidfd", [True, False])
def test_exit_watcher_reports_each_exit_once(tmp_path, use_pidfd):
    import subprocess
    import threading

    from smartsim._core.launcher.local.watcher import ExitWatcher

    seen: dict[str, int] = {}
    done = threading.Event()

    def on_exit(key, proc):
        seen[key] = proc.returncode
        if len(seen) == 3:
            done.set()

    watcher = ExitWatcher(on_exit, use_pidfd=use_pidfd)
    try:
        for i, code in enumerate((0, 1, 7)):
            proc = subprocess.Popen(["sh", "-c", f"exit {code}"])
            watcher.watch(f"p{i}", proc)
        assert done.wait(30)
        assert seen == {"p0": 0, "p1": 1, "p2": 7}
    finally:
        watcher.close()


def test_failed_model_is_logged_with_exit_code_and_end_of_its_stderr(exp, tmp_path, smartsim_log):
    code = "import sys; sys.stderr.write('ImportError: no module named foo\\n'); sys.exit(3)"
    model = exp.create_model(
        "dies", exp.create_run_settings(sys.executable, ["-c", code]), path=str(tmp_path)
    )
    exp.start(model, block=True)
    assert exp.get_status(model) == [SmartSimStatus.STATUS_FAILED]
    report = [m for m in smartsim_log if "Model dies failed" in m]
    assert len(report) == 1, smartsim_log
    assert "exit code 3" in report[0]
    assert f"last lines of {tmp_path / 'dies.err'}" in report[0]
    assert "ImportError: no module named foo" in report[0]
