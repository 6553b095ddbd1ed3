"""Long waits that users watch log their progress through ``logging`` (``smartsim`` loggers),
every ``SMARTSIM_JM_INTERVAL`` seconds: a blocking start of many entities (launching them, then
waiting for them), a database coming up, its shards agreeing on a cluster."""

from __future__ import annotations

import logging
import re
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartsim import Experiment
from smartsim.database import readiness
from smartsim.error import SmartSimError
from smartsim_ai import find_server
from smartsim_ai.testing.servers import free_port


@pytest.fixture
def smartsim_caplog(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.LogCaptureFixture]:
    """INFO records of the ``smartsim`` loggers, with progress every 0.5 s."""
    monkeypatch.setenv("SMARTSIM_JM_INTERVAL", "0.5")
    logger = logging.getLogger("smartsim")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="smartsim"):
            yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def _messages(caplog: pytest.LogCaptureFixture, pattern: str) -> list[re.Match[str]]:
    found = (re.search(pattern, r.getMessage()) for r in caplog.records)
    return [m for m in found if m]


def test_blocking_start_of_many_entities_reports_how_many_still_run(
    tmp_path, monkeypatch, smartsim_caplog
):
    monkeypatch.chdir(tmp_path)
    exp = Experiment("many", exp_path=str(tmp_path), launcher="local")
    models = []
    for i in range(24):  # they end one after the other over about 2.5 s; one fails
        command = f"sleep {0.1 * i:.1f}" + ("; exit 3" if i == 23 else "")
        settings = exp.create_run_settings("sh", ["-c", command])
        models.append(exp.create_model(f"m{i}", settings, path=str(tmp_path)))
    exp.start(*models, block=True)

    waiting = _messages(
        smartsim_caplog, r"waiting for (\d+) of 24 job\(s\)(?: \((.*) so far\))?: (.*)"
    )
    assert len(waiting) >= 2, smartsim_caplog.text
    counts = [int(m.group(1)) for m in waiting]
    assert counts == sorted(counts, reverse=True) and counts[-1] < counts[0]
    for match in waiting:  # the ended ones are counted, the first running ones named
        ended = sum(int(n) for n in re.findall(r"(\d+) Completed", match.group(2) or ""))
        assert ended == 24 - int(match.group(1))
        assert match.group(3).split(", ")[0].startswith("m")
    final = _messages(smartsim_caplog, r"all 24 job\(s\) ended after \d+ s: (.*)")
    assert [m.group(1) for m in final] == ["23 Completed, 1 Failed"]
    assert "Model m23 failed (exit code 3)" in smartsim_caplog.text


def test_a_short_blocking_start_logs_no_progress(tmp_path, monkeypatch, smartsim_caplog):
    monkeypatch.chdir(tmp_path)
    exp = Experiment("short", exp_path=str(tmp_path), launcher="local")
    model = exp.create_model("quick", exp.create_run_settings("true"), path=str(tmp_path))
    exp.start(model, block=True)
    assert not _messages(smartsim_caplog, r"waiting for|ended after|launched \d+ of")


def test_launching_many_entities_reports_how_many_are_launched(
    tmp_path, monkeypatch, smartsim_caplog
):
    """Each launch takes 0.1 s here (as an ``srun`` does on a busy cluster)."""
    monkeypatch.chdir(tmp_path)
    exp = Experiment("launching", exp_path=str(tmp_path), launcher="local")
    ensemble = exp.create_ensemble(
        "member", run_settings=exp.create_run_settings("true"), replicas=15
    )
    exp.generate(ensemble)
    launcher = exp._control.launcher
    real_run = launcher.run

    def slow_run(step):  # type: ignore[no-untyped-def]
        time.sleep(0.1)
        return real_run(step)

    monkeypatch.setattr(launcher, "run", slow_run)
    exp.start(ensemble, block=True)
    launched = _messages(
        smartsim_caplog, r"launched (\d+) of 15 entities \(\d+ s so far; last (\S+)\)"
    )
    assert launched, smartsim_caplog.text
    done = [int(m.group(1)) for m in launched]
    assert done == sorted(done) and all(0 < d < 15 for d in done)
    assert all(m.group(2) == f"member_{int(m.group(1)) - 1}" for m in launched)
    assert len(_messages(smartsim_caplog, r"launched all 15 entities in \d+ s")) == 1
    assert set(exp.get_status(ensemble)) == {"Completed"}


def _slow_server(tmp_path: Path, delay: float) -> Path:
    """A server binary that takes ``delay`` seconds to start (the real one, started late)."""
    real = find_server().path
    wrapper = tmp_path / "slow-valkey-server"
    wrapper.write_text(f'#!/bin/sh\n[ "$1" = --version ] || sleep {delay}\nexec {real} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return wrapper


def test_a_database_coming_up_slowly_reports_its_shards(tmp_path, monkeypatch, smartsim_caplog):
    monkeypatch.chdir(tmp_path)
    exp = Experiment("slowdb", exp_path=str(tmp_path), launcher="local")
    db = exp.create_database(
        port=free_port(), interface="lo", server=str(_slow_server(tmp_path, 2.0))
    )
    exp.start(db)
    try:
        address = db.get_address()[0]
    finally:
        exp.stop(db)
    waiting = _messages(
        smartsim_caplog,
        r"waiting for database shard\(s\) orchestrator \(0 of 1 up; (\d+) s so far, limit 60 s\)",
    )
    assert len(waiting) >= 2, smartsim_caplog.text
    up = [r.getMessage() for r in smartsim_caplog.records].index(
        f"database orchestrator is up at {address}"
    )
    assert up > [r.getMessage() for r in smartsim_caplog.records].index(waiting[-1].group(0))


def test_shards_that_never_form_a_cluster_report_while_waiting(ai_server_factory, smartsim_caplog):
    servers = [ai_server_factory(config={"cluster-enabled": "yes"}) for _ in range(3)]
    addresses = [s.address for s in servers]
    with pytest.raises(SmartSimError, match="did not reach cluster_state:ok"):
        readiness.wait_cluster_ok(addresses, timeout=1.6)
    waiting = _messages(
        smartsim_caplog, r"waiting for the 3 shards to agree on the cluster \(\d+ s so far"
    )
    assert len(waiting) >= 2, smartsim_caplog.text


def test_interval_comes_from_smartsim_jm_interval(monkeypatch):
    from smartsim._core.config.config import progress_interval

    monkeypatch.setenv("SMARTSIM_JM_INTERVAL", "3")
    assert progress_interval() == 3.0
    monkeypatch.setenv("SMARTSIM_JM_INTERVAL", "0.01")
    assert progress_interval() == 0.5  # never a flood
    monkeypatch.setenv("SMARTSIM_JM_INTERVAL", "soon")
    assert progress_interval() == 10.0
    assert sys.modules["smartsim._core.control.controller"].progress_interval is progress_interval
