"""smartsim-ai-server: a database node from this package alone."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import redis

import smartsim_ai
from smartsim_ai.server import main, server_command
from smartsim_ai.testing.servers import free_port


def test_command_loads_the_module_and_names_this_python():
    cmd = server_command(["--port", "7000", "--save", "", "--", "THREADS_PER_QUEUE", "2"])
    assert cmd[0] == str(smartsim_ai.find_server().path)
    assert cmd[1:4] == ["--port", "7000", "--save"]
    at = cmd.index("--loadmodule")
    assert cmd[at + 1 :] == [
        str(smartsim_ai.module_path()),
        "THREADS_PER_QUEUE",
        "2",
        "WORKER_PYTHON",
        sys.executable,
    ]


def test_explicit_server_and_worker_python_win():
    found = smartsim_ai.find_server()
    cmd = server_command(["--server", str(found.path), "--", "worker_python", "/opt/py"])
    assert cmd[0] == str(found.path) and "--server" not in cmd
    assert cmd[-2:] == ["worker_python", "/opt/py"] and "WORKER_PYTHON" not in cmd


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--", "THREADS_PER_QUEUE"], "KEY VALUE pairs"),
        (["--server"], "--server needs the path"),
        (["--server", "/nonexistent/valkey-server"], "is not an executable file"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_dry_run_prints_the_command(capsys):
    assert main(["--dry-run", "--port", "7001"]) == 0
    printed = capsys.readouterr().out
    assert "--port 7001 --loadmodule" in printed and "WORKER_PYTHON" in printed


def test_serves_tensors(tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartsim_ai.server", "--port", str(port), "--bind", "127.0.0.1"]
        + ["--save", "", "--logfile", "db.log"],
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        client = redis.Redis(port=port, socket_timeout=2)
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (tmp_path / "db.log").read_text()
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, (tmp_path / "db.log").read_text()
                time.sleep(0.05)
        client.execute_command("AI.TENSORSET", "t", "FLOAT", 2, "VALUES", 1.5, 2.5)
        values = client.execute_command("AI.TENSORGET", "t", "VALUES")
        assert [float(v) for v in values] == [1.5, 2.5]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
