"""Password, TLS, dead pooled connections and SSDB parsing, against real servers."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import redis

from smartredis import Client, ConfigOptions, Dataset
from smartredis._wire.address import parse_address, parse_ssdb, redact
from smartredis.error import RedisConnectionError
from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import LocalCluster, ServerProcess, free_port

_ENV = ("SSKEYIN", "SSKEYOUT", "SR_DB_TYPE", "SSDB", "SR_DB_PASSWORD", "SR_DB_USERNAME")
_TLS_ENV = ("SR_DB_TLS", "SR_DB_TLS_CA", "SR_DB_TLS_CERT", "SR_DB_TLS_KEY")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (*_ENV, *_TLS_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SR_CONN_TIMEOUT", "20")  # a retried failure would take 20 s


def _calls(raw: redis.Redis, command: str) -> int:
    stats = raw.info("commandstats").get(f"cmdstat_{command}")
    return int(stats["calls"]) if stats else 0


# ---- a server restart does not cost a non-repeatable command -------------------------


def test_first_call_after_server_restart_on_same_port_runs(ai_server_factory) -> None:
    """Issue 14: the pooled connection was dead, RPUSH failed with 'reply lost' unsent."""
    server = ai_server_factory()
    client = Client(False, address=server.address)
    ds = Dataset("d")
    ds.add_meta_string("k", "v")
    client.put_dataset(ds)
    server.stop()
    server.start()  # the same port
    raw = redis.Redis(port=server.port)
    assert _calls(raw, "rpush") == 0
    client.append_to_list("L", ds)  # RPUSH, not repeatable, on the pooled connection
    assert raw.lrange("L", 0, -1) == [b"{d}"]
    assert _calls(raw, "rpush") == 1
    raw.close()
    client.close()


# ---- SSDB parsing --------------------------------------------------------------------


@pytest.mark.parametrize("value", [",", ",,", " , "])
def test_ssdb_without_address_names_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", value)
    with pytest.raises(RedisConnectionError, match=r"SSDB=.*(holds no address|is invalid)"):
        Client(False)
    monkeypatch.setenv("SSDB_other", value)
    with pytest.raises(RedisConnectionError, match="SSDB_other"):
        Client(ConfigOptions.create_from_environment("other"))


def test_port_with_leading_zero_is_decimal(ai_server, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_address("h:010").port == 10
    assert parse_address("h:0x1F").port == 31
    with pytest.raises(ValueError, match="not a number"):
        parse_address("h:1e3")
    with pytest.raises(ValueError, match="not a number"):
        parse_address("h:+80")
    monkeypatch.setenv("SSDB", f"127.0.0.1:0{ai_server.port}")  # octal would be another port
    client = Client(False)
    client.put_tensor("zero", np.ones(2))
    assert client.tensor_exists("zero")
    client.delete_tensor("zero")
    client.close()


def test_url_addresses_and_redaction() -> None:
    assert [str(a) for a in parse_ssdb("redis://:p%40ss@h:1,redis://:p%40ss@g:2")] == [
        "h:1",
        "g:2",
    ]
    assert redact("redis://u:secret@h:1") == "redis://***@h:1"
    with pytest.raises(ValueError, match="different credentials"):
        parse_ssdb("redis://:a@h:1,rediss://:a@g:2")


# ---- password ------------------------------------------------------------------------


@pytest.fixture
def locked_server(ai_server_factory) -> Iterator[ServerProcess]:
    server = ai_server_factory()
    raw = redis.Redis(port=server.port)
    raw.config_set("requirepass", "pw with spaces")
    raw.close()
    yield server


def test_password_from_environment(
    locked_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", locked_server.address)
    monkeypatch.setenv("SR_DB_PASSWORD", "pw with spaces")
    client = Client(False)
    client.put_tensor("t", np.arange(70_000, dtype=np.float32))  # a large (zero-copy) one
    assert client.get_tensor("t")[-1] == 69_999
    client.close()


def test_password_keyword_and_url(locked_server: ServerProcess) -> None:
    with Client(False, address=locked_server.address, password="pw with spaces") as client:
        client.put_tensor("kw", np.ones(1))
    url = f"redis://:pw%20with%20spaces@{locked_server.address}"
    with Client(False, address=url) as client:
        assert client.tensor_exists("kw")


@pytest.mark.parametrize("password", [None, "wrong"])
def test_missing_or_wrong_password_fails_at_once(
    locked_server: ServerProcess, password: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSDB", f"redis://:{password}@{locked_server.address}" if password else "")
    start = time.monotonic()
    with pytest.raises(RedisConnectionError) as info:
        if password:
            Client(False)
        else:
            Client(False, address=locked_server.address)
    took = time.monotonic() - start
    text = str(info.value)
    assert "SR_DB_PASSWORD" in text
    assert ("requires a password" if password is None else "refused") in text
    assert "redis://:wrong@" not in text
    assert took < 10  # not the 20 s connect timeout


def test_cluster_with_password(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = LocalCluster(3, engine_binary("valkey")).start()
    try:
        for node in cluster.nodes:
            conn = redis.Redis(port=node.port)
            conn.config_set("requirepass", "cpw")
            conn.close()
        monkeypatch.setenv("SR_DB_PASSWORD", "cpw")
        client = Client(True, address=cluster.addresses[0])
        for i in range(20):
            client.put_tensor(f"t{i}", np.full(3, i))
        assert [int(client.get_tensor(f"t{i}")[0]) for i in range(20)] == list(range(20))
        client.close()
    finally:
        cluster.cleanup()


# ---- TLS -----------------------------------------------------------------------------


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
        + ["-subj", "/CN=smartredis-test-ca"],
        ["req", *new_key, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial"]
        + ["-out", cert, "-days", "2", "-extfile", str(ext)],
    ):
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)
    return {"cert": cert, "key": key, "ca": ca}


@pytest.fixture
def tls_server(ai_server_factory, tmp_path: Path) -> Iterator[tuple[ServerProcess, int, dict]]:
    """Debian's redis-server (built with TLS) with a TLS port beside its plain one."""
    binary = engine_binary("redis")
    if b"SSL_CTX_new" not in Path(binary.path).read_bytes():
        pytest.skip(f"{binary.path} is built without TLS")
    files = make_tls_files(tmp_path / "tls")
    tls_port = free_port()
    config = {
        "tls-port": str(tls_port),
        "tls-cert-file": files["cert"],
        "tls-key-file": files["key"],
        "tls-ca-cert-file": files["ca"],
        "tls-auth-clients": "optional",
    }
    server = ai_server_factory("redis", config=config)
    yield server, tls_port, files


def test_tls_round_trip_and_restart(tls_server, monkeypatch: pytest.MonkeyPatch) -> None:
    server, tls_port, files = tls_server
    monkeypatch.setenv("SSDB", f"127.0.0.1:{tls_port}")
    monkeypatch.setenv("SR_DB_TLS", "1")
    monkeypatch.setenv("SR_DB_TLS_CA", files["ca"])
    client = Client(False)
    big = np.random.default_rng(0).random(100_000)  # sent in pieces, read in place
    client.put_tensor("big", big)
    assert np.array_equal(client.get_tensor("big"), big)
    ds = Dataset("tds")
    ds.add_tensor("x", np.ones(3))
    client.put_dataset(ds)
    assert np.array_equal(client.get_dataset("tds").get_tensor("x"), np.ones(3))
    # a restart on the same ports: the pooled TLS connection is found dead before sending
    server.stop()
    server.start()
    raw = redis.Redis(port=server.port)
    client.append_to_list("L", ds)
    assert raw.lrange("L", 0, -1) == [b"{tds}"]
    raw.close()
    client.close()
    with Client(False, address=f"rediss://127.0.0.1:{tls_port}") as by_url:
        assert by_url.key_exists("L")


def test_tls_with_wrong_ca_fails_at_once(
    tls_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, tls_port, _ = tls_server
    other = make_tls_files(tmp_path / "other")
    monkeypatch.setenv("SR_DB_TLS", "1")
    monkeypatch.setenv("SR_DB_TLS_CA", other["ca"])
    start = time.monotonic()
    with pytest.raises(RedisConnectionError, match=r"CERTIFICATE_VERIFY_FAILED.*SR_DB_TLS_CA"):
        Client(False, address=f"127.0.0.1:{tls_port}")
    assert time.monotonic() - start < 10  # not the 20 s connect timeout
