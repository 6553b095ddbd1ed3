"""Status values, errors, logging, the launcher registry and Experiment odds and ends."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from smartsim import Experiment, status
from smartsim._core.launcher import (
    REGISTRY,
    create_launcher,
    detect_launcher,
    get_launcher_spec,
    launcher_names,
)
from smartsim.error import (
    AllocationError,
    EntityExistsError,
    LauncherError,
    ParameterWriterError,
    ShellError,
    SmartSimError,
    SSConfigError,
    SSInternalError,
    SSUnsupportedError,
    UserStrategyError,
)
from smartsim.settings import SbatchSettings
from smartsim.status import SmartSimStatus


def test_status_constants_and_enum():
    assert status.STATUS_COMPLETED == "Completed" == SmartSimStatus.STATUS_COMPLETED
    assert SmartSimStatus("Failed") is SmartSimStatus.STATUS_FAILED
    assert str(SmartSimStatus.STATUS_RUNNING) == "Running"
    assert status.TERMINAL_STATUSES == {"Cancelled", "Completed", "Failed"}
    assert {"Running", "Paused", "New"} <= status.LIVE_STATUSES
    assert status.SMARTSIM_STATUS["Paused"] == "Paused"
    with pytest.warns(DeprecationWarning):
        import importlib

        import smartsim.constants

        importlib.reload(smartsim.constants)


def test_error_hierarchy():
    for cls in (EntityExistsError, UserStrategyError, ParameterWriterError):
        assert issubclass(cls, SmartSimError)
    assert not issubclass(SSUnsupportedError, SmartSimError)
    for cls in (SSConfigError, LauncherError, AllocationError, ShellError):
        assert issubclass(cls, SSInternalError)
    err = ShellError("sacct failed", "boom", ["sacct", "-p"])
    assert "sacct -p" in str(err) and "boom" in str(err)
    assert "write" in str(ParameterWriterError("f", read=False))


def test_registry_is_the_single_table():
    assert launcher_names() == ["local", "slurm", "pbs", "pals", "cobalt", "lsf", "sge"]
    assert get_launcher_spec("SLURM").batch_settings_class() is SbatchSettings
    assert get_launcher_spec("local").batch_settings_class() is None
    assert get_launcher_spec("local").implemented
    assert all(REGISTRY[n].implemented for n in ("slurm", "pbs", "pals", "sge", "lsf", "cobalt"))
    assert get_launcher_spec("local").detect()
    assert detect_launcher() in launcher_names()
    assert all(type(create_launcher(n)).name == n for n in launcher_names())
    with pytest.raises(SSUnsupportedError, match="choose one of"):
        get_launcher_spec("dragon")
    with pytest.raises(TypeError):
        get_launcher_spec(3)  # type: ignore[arg-type]


def test_log_level_from_environment():
    code = (
        "import logging; from smartsim.log import get_logger; "
        "print(get_logger('x').getEffectiveLevel())"
    )
    for value, level in (("quiet", logging.WARNING), ("debug", logging.DEBUG), ("info", 20)):
        env = dict(os.environ, SMARTSIM_LOG_LEVEL=value)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert int(out.stdout) == level
    env = dict(os.environ, SMARTSIM_LOG_LEVEL="loud")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == logging.INFO and "not one of" in out.stderr


def test_progress_is_logged_while_waiting(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SMARTSIM_JM_INTERVAL", "0.5")
    exp = Experiment("p", exp_path=str(tmp_path))
    model = exp.create_model("slow", exp.create_run_settings("sleep", "1.5"), path=str(tmp_path))
    logger = logging.getLogger("smartsim")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="smartsim"):
            exp.start(model, block=True)
    finally:
        logger.removeHandler(caplog.handler)
    assert "waiting for 1 of 1 job(s): slow" in caplog.text
    assert exp.finished(model)


def test_poll_and_finished_on_ensembles(exp, tmp_path):
    ens = exp.create_ensemble("e", run_settings=exp.create_run_settings("true"), replicas=3)
    exp.generate(ens)
    exp.start(ens, block=False)
    exp.poll(interval=1, verbose=False)
    assert exp.finished(ens)
    assert exp.get_status(ens) == [SmartSimStatus.STATUS_COMPLETED] * 3


def test_create_database_passes_the_launcher(exp):
    db = exp.create_database(port=6399, interface="lo", path=exp.exp_path)
    assert db.provides_database and db.launcher == "local"
