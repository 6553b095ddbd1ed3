"""A database's life seen from the driver: reconnected status, a deliberate stop, the driver's
exit. Real servers, real driver processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from smartsim import Experiment
from smartsim_ai.testing.servers import free_port

SECOND_DRIVER = textwrap.dedent(
    """
    import json, sys
    from smartsim import Experiment
    exp = Experiment("second", exp_path=sys.argv[1], launcher="local")
    db = exp.reconnect_orchestrator(sys.argv[2])
    before = [s.value for s in exp.get_status(db)]
    summary_before = exp.summary()
    exp.stop(db)
    after = [s.value for s in exp.get_status(db)]
    print(json.dumps({"before": before, "after": after, "summary_before": summary_before,
                      "summary_after": exp.summary(), "active": db.is_active()}))
    """
)


def test_reconnected_database_reports_running_then_cancelled(exp, tmp_path):
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "db"))
    exp.start(db, kill_on_interrupt=False)
    try:
        driver = tmp_path / "second.py"
        driver.write_text(SECOND_DRIVER)
        (tmp_path / "d2").mkdir()
        done = subprocess.run(
            [sys.executable, str(driver), str(tmp_path / "d2"), db.path + "/smartsim_db.dat"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["before"] == ["Running"] and seen["after"] == ["Cancelled"]
        assert "| orchestrator | DBNode" in seen["summary_before"]
        assert "Running" in seen["summary_before"] and "Cancelled" in seen["summary_after"]
        assert seen["active"] is False
        assert "stopped running" not in done.stderr  # a deliberate stop is not a failure
    finally:
        exp.stop(db)


def test_is_active_after_a_deliberate_stop_logs_nothing(exp, tmp_path, smartsim_log):
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "db"))
    exp.start(db)
    exp.stop(db)
    assert db.is_active() is False
    assert db.is_active() is False
    assert not [m for m in smartsim_log if "stopped running" in m], smartsim_log


DRIVER = textwrap.dedent(
    """
    import os, sys, time
    from smartsim import Experiment
    exp = Experiment("exits", exp_path=sys.argv[1], launcher="local")
    db = exp.create_database(port=int(sys.argv[2]), db_nodes=int(sys.argv[3]), interface="lo",
                             path=os.path.join(sys.argv[1], "db"))
    exp.start(db)
    print(sorted(os.listdir(db.path)), flush=True)
    if sys.argv[4] == "sigterm":
        os.kill(os.getpid(), 15)
        time.sleep(30)
    """
)


@pytest.mark.parametrize(("shards", "how"), [(1, "exit"), (3, "exit"), (3, "sigterm")])
def test_driver_exit_without_stop_removes_the_database_files(tmp_path, shards, how):
    port = free_port()
    while any(not _free(port + i) for i in range(shards)):
        port = free_port()
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    done = subprocess.run(
        [sys.executable, str(driver), str(tmp_path), str(port), str(shards), how],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.stdout.strip(), f"the driver failed ({done.returncode}): {done.stderr[-3000:]}"
    listed = done.stdout.strip().splitlines()[0]
    assert "smartsim_db.dat" in listed  # it was there while the database ran
    if shards > 1:
        assert "nodes-" in listed
    left = sorted(p.name for p in (tmp_path / "db").iterdir())
    assert "smartsim_db.dat" not in left
    assert not [n for n in left if n.startswith("nodes-")], left
    assert all(n.endswith((".log", ".out", ".err")) for n in left), left  # logs stay


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_get_status_of_a_never_started_database_still_says_so(tmp_path):
    exp = Experiment("never", exp_path=str(tmp_path), launcher="local")
    db = exp.create_database(port=free_port(), interface="lo", path=str(tmp_path / "db"))
    with pytest.raises(Exception, match="never launched"):
        exp.get_status(db)
    assert Path(tmp_path).exists()


def test_a_taken_cluster_bus_port_is_named_with_its_holder(exp, tmp_path):
    import os
    import socket

    while True:  # shard ports all free (no TIME_WAIT left by other tests) and a bus port to take
        port = free_port()
        if not all(_free(port + i) and _free(port + i + 10000) for i in range(3)):
            continue
        blocker = socket.socket()
        try:
            blocker.bind(("127.0.0.1", port + 1 + 10000))
            break
        except OSError:
            blocker.close()
    blocker.listen()
    try:
        db = exp.create_database(port=port, db_nodes=3, interface="lo", path=str(tmp_path / "db"))
        with pytest.raises(Exception) as info:
            exp.start(db)
    finally:
        blocker.close()
    message = str(info.value)
    assert f"port {port + 1 + 10000} (the cluster bus port of {port + 1}, " in message
    assert f"pid {os.getpid()}" in message and "a cluster also needs each port + 10000" in message
