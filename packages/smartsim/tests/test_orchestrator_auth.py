"""The Orchestrator with a password and with TLS, against real servers (local launcher)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from smartsim import Experiment
from smartsim.database import Orchestrator, reconnect_orchestrator
from smartsim.database.security import AuthError, DBSecurity, server_has_tls
from smartsim.error import SmartSimError, SSConfigError
from smartsim.status import SmartSimStatus
from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import free_port


@pytest.fixture
def exp(tmp_path: Path) -> Iterator[Experiment]:
    experiment = Experiment("auth-test", exp_path=str(tmp_path), launcher="local")
    try:
        yield experiment
    finally:
        experiment._control.stop_all()


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _consecutive_free_ports(n: int) -> int:
    port = free_port()
    while not all(_port_free(p) and _port_free(p + 10000) for p in range(port, port + n)):
        port = free_port()
    return port


def _noauth(port: int) -> None:
    """A client without the password is refused."""
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).set("k", "v")


def _cmdlines(db: Orchestrator) -> list[str]:
    out = []
    for node in db:
        info = node.state().info or {}
        for pid in (info.get("pid"), info.get("supervisor_pid")):
            out.append(" ".join(psutil.Process(int(pid)).cmdline()))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_requirepass_in_db_conf_starts_at_once(
    exp: Experiment, tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: db_conf={'requirepass': ...} waited 60 s and failed with 'did not answer PING'."""
    monkeypatch.setenv("SMARTSIM_DB_START_TIMEOUT", "20")
    port = free_port()
    db = exp.create_database(
        port=port,
        interface="lo",
        server=str(engine_binary(engine).path),
        db_conf={"requirepass": 's3cret pass"word'},
        path=str(tmp_path / "db"),
    )
    exp.start(db)
    assert db.get_address() == [f"127.0.0.1:{port}"] and db.is_active()
    assert db.shard_report() == {db.name: "running"}
    _noauth(port)
    client = redis.Redis(port=port, password='s3cret pass"word')
    assert client.ping()
    secret = db.entities[0].shard.secret_file
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert "s3cret" not in " ".join(_cmdlines(db))  # never on a command line
    checkpoint = Path(db.path) / "smartsim_db.dat"
    assert stat.S_IMODE(checkpoint.stat().st_mode) == 0o600
    db.set_max_clients(777)  # runtime configuration uses the password too
    assert client.config_get("maxclients")["maxclients"] == "777"
    client.close()
    exp.stop(db)
    assert not db.is_active() and not secret.exists()


def test_generated_password_reaches_models_and_second_driver(
    exp: Experiment, tmp_path: Path
) -> None:
    port = free_port()
    db = exp.create_database(port=port, interface="lo", password=True, path=str(tmp_path / "db"))
    assert db.password and len(db.password) >= 32
    exp.start(db)
    try:
        _noauth(port)
        script = tmp_path / "model.py"
        script.write_text(
            textwrap.dedent(
                """
                import os, numpy as np
                from smartredis import Client
                c = Client(cluster=False)
                c.put_tensor("from_model", np.arange(4, dtype=np.int32))
                print("password set:", bool(os.environ.get("SR_DB_PASSWORD")))
                """
            )
        )
        settings = exp.create_run_settings(sys.executable, [str(script)])
        model = exp.create_model("m", settings, path=str(tmp_path / "m"))
        os.makedirs(model.path, exist_ok=True)
        exp.start(model, block=True)
        out = (tmp_path / "m" / "m.out").read_text() + (tmp_path / "m" / "m.err").read_text()
        assert exp.get_status(model) == [SmartSimStatus.STATUS_COMPLETED], out
        assert "password set: True" in out
        client = redis.Redis(port=port, password=db.password)
        assert client.exists("from_model") == 1
        client.close()
        # another driver reconnects with the password from the (0600) reconnect file
        driver = tmp_path / "driver2.py"
        driver.write_text(
            textwrap.dedent(
                """
                import json, sys
                from smartsim.database import reconnect_orchestrator
                db = reconnect_orchestrator(sys.argv[1])
                print(json.dumps({"active": db.is_active(), "has_password": bool(db.password)}))
                """
            )
        )
        done = subprocess.run(
            [sys.executable, str(driver), db.path], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {
            "active": True,
            "has_password": True,
        }
    finally:
        exp.stop(db)


def _wrapped_server(tmp_path: Path, extra: str) -> str:
    """A server binary that appends ``extra`` options (a server whose password we don't know)."""
    real = engine_binary("valkey").path
    wrapper = tmp_path / "valkey-server"
    wrapper.write_text(f'#!/bin/sh\nexec {real} "$@" {extra}\n')
    wrapper.chmod(0o755)
    return str(wrapper)


@pytest.mark.parametrize("password", [None, "not-the-servers"])
def test_missing_or_wrong_password_reported_at_once(
    exp: Experiment, tmp_path: Path, password: str | None
) -> None:
    server = _wrapped_server(tmp_path, "--requirepass the-servers")
    db = exp.create_database(
        port=free_port(), interface="lo", server=server, password=password, path=str(tmp_path)
    )
    start = time.monotonic()
    with pytest.raises(AuthError) as info:
        exp.start(db)
    took = time.monotonic() - start
    text = str(info.value)
    assert ("requires a password" if password is None else "refused the password") in text
    assert "not-the-servers" not in text and "the-servers" not in text  # no secret in errors
    assert took < 30  # not the 60 s start timeout
    assert not db.is_active()


def test_password_arguments_checked() -> None:
    with pytest.raises(SmartSimError, match="differ"):
        Orchestrator(port=free_port(), db_conf={"requirepass": "a"}, password="b")
    with pytest.raises(SmartSimError, match="empty"):
        Orchestrator(port=free_port(), password="")
    with pytest.raises(SmartSimError, match="tls_key"):
        Orchestrator(port=free_port(), tls_cert=__file__)
    assert "hunter2" not in repr(DBSecurity(password="hunter2"))


@pytest.mark.parametrize("method", ["cli", "python"])
def test_cluster_with_password(
    exp: Experiment, tmp_path: Path, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTSIM_CLUSTER_CREATE", method)
    port = _consecutive_free_ports(3)
    db = exp.create_database(
        port=port, db_nodes=3, interface="lo", password="cluster-pw", path=str(tmp_path / "db")
    )
    exp.start(db)
    try:
        assert db.is_active()
        _noauth(port)
        for i in range(3):
            conf = redis.Redis(port=port + i, password="cluster-pw").config_get("masterauth")
            assert conf["masterauth"] == "cluster-pw"
        cluster = redis.RedisCluster(host="127.0.0.1", port=port, password="cluster-pw")
        for i in range(30):
            cluster.set(f"key{i}", i)
        assert [int(cluster.get(f"key{i}")) for i in range(30)] == list(range(30))
        cluster.close()
        assert "cluster-pw" not in " ".join(_cmdlines(db))
    finally:
        exp.stop(db)
    assert not db.is_active()


# ---- TLS ---------------------------------------------------------------------------------


def make_tls_files(directory: Path) -> dict[str, str]:
    """A self-signed CA and a certificate for 127.0.0.1 signed by it (the openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        str(directory / n) for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt")
    )
    ext = directory / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    new_key = ["-newkey", "rsa:2048", "-nodes"]
    for args in (
        ["req", "-x509", *new_key, "-keyout", ca_key, "-out", ca, "-days", "2"]
        + ["-subj", "/CN=smartsim-test-ca"],
        ["req", *new_key, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial"]
        + ["-out", cert, "-days", "2", "-extfile", str(ext)],
    ):
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)
    return {"tls_cert": cert, "tls_key": key, "tls_ca": ca}


def test_tls_refused_at_once_on_a_build_without_tls(tmp_path: Path) -> None:
    valkey = engine_binary("valkey").path
    if server_has_tls(valkey):
        pytest.skip(f"{valkey} has TLS")
    files = make_tls_files(tmp_path / "tls")
    with pytest.raises(SSConfigError, match="built without TLS"):
        Orchestrator(port=free_port(), server=str(valkey), path=str(tmp_path), **files)


def _tls_redis(port: int, files: dict[str, str], **kwargs: object) -> redis.Redis:
    return redis.Redis(
        port=port,
        ssl=True,
        ssl_ca_certs=files["tls_ca"],
        ssl_check_hostname=False,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("shards", [1, 3])
def test_tls_and_password(exp: Experiment, tmp_path: Path, shards: int) -> None:
    redis_server = engine_binary("redis").path
    if not server_has_tls(redis_server):
        pytest.skip(f"{redis_server} is built without TLS")
    files = make_tls_files(tmp_path / "tls")
    port = _consecutive_free_ports(shards)
    db = exp.create_database(
        port=port,
        db_nodes=shards,
        interface="lo",
        server=str(redis_server),
        password="tls-pw",
        path=str(tmp_path / "db"),
        **files,
    )
    exp.start(db)
    try:
        assert db.is_active()
        assert db.client_env() == {
            "SR_DB_PASSWORD": "tls-pw",
            "SR_DB_TLS": "1",
            "SR_DB_TLS_CA": files["tls_ca"],
        }
        with pytest.raises(redis.ConnectionError):  # plain text is not served at all
            redis.Redis(
                port=port, password="tls-pw", socket_timeout=2, retry=Retry(NoBackoff(), 0)
            ).ping()
        with pytest.raises(redis.AuthenticationError):
            _tls_redis(port, files).set("k", "v")
        conn = _tls_redis(port, files, password="tls-pw")
        assert conn.ping()
        conn.close()
        script = tmp_path / "model.py"
        script.write_text(
            "import numpy as np\nfrom smartredis import Client\n"
            f"c = Client(cluster={shards > 1})\n"
            "c.put_tensor('over_tls', np.ones(3))\n"
            "assert c.get_tensor('over_tls').sum() == 3\n"
        )
        settings = exp.create_run_settings(sys.executable, [str(script)])
        model = exp.create_model("m", settings, path=str(tmp_path / "m"))
        os.makedirs(model.path, exist_ok=True)
        exp.start(model, block=True)
        err = (tmp_path / "m" / "m.err").read_text()
        assert exp.get_status(model) == [SmartSimStatus.STATUS_COMPLETED], err
        again = reconnect_orchestrator(db.path)  # the reconnect file keeps password and TLS
        assert again.is_active() and again.security == db.security
        assert again.server == db.server
    finally:
        exp.stop(db)
    assert not db.is_active()


def test_tls_with_a_ca_that_did_not_sign_the_certificate_fails_at_once(
    exp: Experiment, tmp_path: Path
) -> None:
    redis_server = engine_binary("redis").path
    if not server_has_tls(redis_server):
        pytest.skip(f"{redis_server} is built without TLS")
    files = make_tls_files(tmp_path / "tls")
    files["tls_ca"] = make_tls_files(tmp_path / "other")["tls_ca"]
    db = exp.create_database(
        port=free_port(), interface="lo", server=str(redis_server), path=str(tmp_path), **files
    )
    start = time.monotonic()
    with pytest.raises(AuthError, match=r"TLS handshake .* failed .*CERTIFICATE_VERIFY_FAILED"):
        exp.start(db)
    assert time.monotonic() - start < 30  # not the 60 s start timeout
