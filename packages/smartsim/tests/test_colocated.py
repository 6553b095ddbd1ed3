"""A database colocated with an application: started beside it, gone when it ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from smartsim.database.colocated import colocated_settings, wrap_colocated
from smartsim.error import SmartSimError
from smartsim_ai.testing.servers import free_port

# The application: reads SSDB, writes and reads a key with redis-py, lists its parent's
# children (the database) and prints what it saw.
APP = textwrap.dedent(
    """
    import json, os, sys
    import psutil, redis
    address = os.environ["SSDB"]
    if address.startswith("unix://"):
        client = redis.Redis(unix_socket_path=address[len("unix://"):])
    else:
        host, port = address.rsplit(":", 1)
        client = redis.Redis(host=host, port=int(port))
    client.set("colo-key", "colo-value")
    modules = [m[b"name"].decode() for m in client.execute_command("MODULE", "LIST")]
    siblings = [p.pid for p in psutil.Process(os.getppid()).children(recursive=True)
                if p.pid != os.getpid()]
    print(json.dumps({"ssdb": address, "value": client.get("colo-key").decode(),
                      "modules": modules, "db_pids": siblings}))
    sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    """
)


def _run(cfg: dict, *app_args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    import json

    app = [sys.executable, "-c", APP, *app_args]
    done = subprocess.run(
        wrap_colocated(app, app, cfg), capture_output=True, text=True, timeout=120
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    return done, seen


def test_tcp_database_beside_the_app_and_gone_after() -> None:
    port = free_port()
    done, seen = _run(colocated_settings(port=port, threads_per_queue=1))
    assert done.returncode == 0, done.stderr
    assert seen["ssdb"] == f"127.0.0.1:{port}"
    assert seen["value"] == "colo-value"
    assert "ai" in seen["modules"]
    assert len(seen["db_pids"]) >= 2, "the database and its model worker run beside the app"
    assert not any(psutil.pid_exists(pid) for pid in seen["db_pids"])


def test_unix_socket_database_removes_its_socket(tmp_path: Path) -> None:
    sock = tmp_path / "db.sock"
    done, seen = _run(colocated_settings(unix_socket=str(sock)))
    assert done.returncode == 0, done.stderr
    assert seen["ssdb"] == f"unix://{sock}"
    assert seen["value"] == "colo-value"
    assert not sock.exists()
    assert not any(psutil.pid_exists(pid) for pid in seen["db_pids"])


def test_app_exit_status_is_kept() -> None:
    done, seen = _run(colocated_settings(port=free_port()), "3")
    assert done.returncode == 3
    assert seen["value"] == "colo-value"


def test_database_failure_is_reported_with_its_log() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done, _ = _run(colocated_settings(port=port))
    assert done.returncode == 1
    assert "colocated database" in done.stderr
    assert "Address already in use" in done.stderr


def test_killing_the_wrapper_takes_the_database_with_it(tmp_path: Path) -> None:
    port = free_port()
    app = [sys.executable, "-c", "import time; time.sleep(60)"]
    cmd = wrap_colocated(app, app, colocated_settings(port=port))
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        wrapper = psutil.Process(proc.pid)
        for _ in range(500):
            children = wrapper.children()
            if len(children) == 2:
                break
            psutil.wait_procs([], timeout=0.02)
        assert len(children) == 2, children
        proc.kill()
        proc.wait()
        _, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"orphans left: {alive}"
    finally:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass


def test_colocated_settings_checks() -> None:
    with pytest.raises(SmartSimError, match="port"):
        colocated_settings(port=0)
    with pytest.raises(SmartSimError, match="db_cpus"):
        colocated_settings(port=6780, db_cpus=0)
    with pytest.raises(TypeError, match="custom_pinning"):
        colocated_settings(port=6780, custom_pinning=["a"])  # type: ignore[list-item]
    cfg = colocated_settings(port=6780, maxmemory="1gb", intra_op_threads=2)
    assert cfg["db_conf"] == {"maxmemory": "1gb"}
    assert cfg["module_args"] == {"INTRA_OP_PARALLELISM": "2"}


def test_wrap_keeps_the_run_command_in_front() -> None:
    cfg = colocated_settings(port=6780)
    program = ["/bin/app", "-x"]
    wrapped = wrap_colocated(["mpirun", "-n", "2", *program], program, cfg)
    assert wrapped[:3] == ["mpirun", "-n", "2"]
    assert wrapped[-3:] == ["--", "/bin/app", "-x"]
    assert wrapped[3] == sys.executable


@pytest.mark.parametrize("transport", ["tcp", "uds"])
def test_colocated_model_in_an_experiment(tmp_path: Path, transport: str) -> None:
    import json

    from smartsim import Experiment
    from smartsim.status import SmartSimStatus

    exp = Experiment("colo", exp_path=str(tmp_path), launcher="local")
    settings = exp.create_run_settings(sys.executable, ["-c", APP])
    model = exp.create_model("app", settings, path=str(tmp_path))
    port = free_port()
    sock = tmp_path / "colo.sock"
    if transport == "tcp":
        model.colocate_db_tcp(port=port, db_cpus=1, debug=True)
        expected = f"127.0.0.1:{port}"
    else:
        model.colocate_db_uds(unix_socket=str(sock))
        expected = f"unix://{sock}"
    assert model.colocated
    try:
        exp.start(model, block=True)
    finally:
        exp._control.stop_all()
    assert exp.get_status(model) == [SmartSimStatus.STATUS_COMPLETED], (
        tmp_path / "app.err"
    ).read_text()
    seen = json.loads((tmp_path / "app.out").read_text().strip().splitlines()[-1])
    assert seen["ssdb"] == expected and seen["value"] == "colo-value"
    assert "ai" in seen["modules"]
    assert not any(psutil.pid_exists(pid) for pid in seen["db_pids"])
    assert not sock.exists()
    if transport == "tcp":
        assert "Ready to accept connections" in (tmp_path / "app-db.log").read_text()


def test_mpmd_model_cannot_be_colocated(tmp_path: Path) -> None:
    from smartsim.error import SSUnsupportedError
    from smartsim.settings import MpirunSettings

    settings = MpirunSettings(sys.executable, ["-c", "pass"])
    settings.make_mpmd(MpirunSettings(sys.executable, ["-c", "pass"]))
    from smartsim.entity import Model

    model = Model("mpmd", {}, str(tmp_path), settings)
    with pytest.raises(SSUnsupportedError, match="MPMD"):
        model.colocate_db_tcp(port=free_port())


# The application of a database with a password: our smartredis client with no code
# change (SR_DB_PASSWORD from the environment), and a plain redis-py client without it.
AUTH_APP = textwrap.dedent(
    """
    import json, os
    import numpy as np, redis
    from smartredis import Client
    client = Client(cluster=False)
    client.put_tensor("colo", np.arange(3))
    address = os.environ["SSDB"]
    if address.startswith("unix://"):
        plain = redis.Redis(unix_socket_path=address[len("unix://"):])
    else:
        plain = redis.Redis(port=int(address.rsplit(":", 1)[1]))
    try:
        plain.ping()
        refused = False
    except redis.AuthenticationError:
        refused = True
    print(json.dumps({"sum": int(client.get_tensor("colo").sum()), "refused": refused,
                      "orchestrator_password": os.environ.get("SR_DB_PASSWORD") == "orc-pw"}))
    """
)


@pytest.mark.parametrize("transport", ["tcp", "uds"])
def test_colocated_database_with_password(
    tmp_path: Path, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from smartsim import Experiment
    from smartsim.status import SmartSimStatus

    monkeypatch.setenv("SR_DB_PASSWORD", "orc-pw")  # another database's: must not leak in
    exp = Experiment("colo-auth", exp_path=str(tmp_path), launcher="local")
    settings = exp.create_run_settings(sys.executable, ["-c", AUTH_APP])
    model = exp.create_model("app", settings, path=str(tmp_path))
    if transport == "tcp":
        model.colocate_db_tcp(port=free_port(), password="colo pw")
    else:
        model.colocate_db_uds(unix_socket=str(tmp_path / "colo.sock"), password=True)
    assert model.run_settings.colocated_db_settings["password"]
    argv = model.wrap_command([sys.executable, "-c", AUTH_APP])
    assert not any("colo pw" in a for a in argv)  # not on the command line
    try:
        exp.start(model, block=True)
    finally:
        exp._control.stop_all()
    err = (tmp_path / "app.err").read_text()
    assert exp.get_status(model) == [SmartSimStatus.STATUS_COMPLETED], err
    seen = json.loads((tmp_path / "app.out").read_text().strip().splitlines()[-1])
    assert seen == {"sum": 3, "refused": True, "orchestrator_password": False}
