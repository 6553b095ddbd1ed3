"""Constructor forms, configuration, addresses and connection failures (real servers)."""

from __future__ import annotations

import os

import pytest

from smartredis import Client, ConfigOptions
from smartredis.error import RedisConnectionError, RedisKeyError, RedisRuntimeError
from smartsim_ai.testing.servers import free_port


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for var in list(os.environ):
        if var.startswith(("SSDB", "SR_", "SSKEY")):
            monkeypatch.delenv(var)


def test_address_form_sets_ssdb(ai_server, ai_client):
    c = Client(False, address=ai_server.address)
    assert os.environ["SSDB"] == ai_server.address
    assert not c.key_exists("nothing")
    c.close()


def test_environment_form_with_sr_db_type(ai_server, ai_client, monkeypatch):
    monkeypatch.setenv("SSDB", f"tcp://{ai_server.address}")
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    with Client() as c, Client(None, logger_name="x") as c2:
        assert not c.key_exists("a") and not c2.key_exists("a")


def test_sr_db_type_defaults_to_clustered(ai_server, monkeypatch):
    # a standalone server cannot answer CLUSTER SLOTS: the default is the cluster client
    monkeypatch.setenv("SSDB", ai_server.address)
    monkeypatch.setenv("SR_CONN_TIMEOUT", "1")
    monkeypatch.setenv("SR_CMD_TIMEOUT", "1")
    with pytest.raises(RedisConnectionError, match="cluster"):
        Client()


def test_config_options_with_suffix(ai_server, ai_client, monkeypatch):
    monkeypatch.setenv("SSDB_db2", ai_server.address)
    monkeypatch.setenv("SR_DB_TYPE_db2", "Standalone")
    monkeypatch.setenv("SSKEYOUT_db2", "prod")
    cfg = ConfigOptions.create_from_environment("db2")
    assert cfg.get_string_option("SSDB") == ai_server.address
    assert cfg.is_configured("SR_DB_TYPE") and not cfg.is_configured("SSKEYIN")
    with Client(cfg, logger_name="suffix") as c:
        assert c._prefix.put_prefix == "prod"


def test_config_options_api(monkeypatch):
    monkeypatch.setenv("N_x", "12")
    monkeypatch.setenv("BAD_x", "12a")
    cfg = ConfigOptions.create_from_environment("x")
    assert cfg.get_integer_option("N") == 12
    with pytest.raises(ValueError):
        cfg.get_integer_option("BAD")
    with pytest.raises(RedisKeyError):
        cfg.get_string_option("MISSING")
    cfg.override_integer_option("N", 5)
    cfg.override_string_option("S", "v")
    assert cfg.get_integer_option("N") == 5 and cfg.get_string_option("S") == "v"
    with pytest.raises(TypeError):
        cfg.override_integer_option("N", "5")
    with pytest.raises(RedisRuntimeError):
        ConfigOptions().get_string_option("N")


def test_unix_socket(ai_server_factory, tmp_path):
    sock = tmp_path / "db.sock"
    server = ai_server_factory(config={"unixsocket": str(sock), "unixsocketperm": "700"})
    with Client(False, address=f"unix://{sock}") as c:
        assert not c.key_exists("k")
        c.use_tensor_ensemble_prefix(False)
        assert c.get_db_node_info([f"unix://{sock}"])[0]["Server"]["tcp_port"] == str(server.port)


def test_missing_ssdb():
    with pytest.raises(RedisConnectionError, match="SSDB"):
        Client(False)
    with pytest.raises(RedisConnectionError, match="SSDB"):
        Client()


@pytest.mark.parametrize("ssdb", ["127.0.0.1:6379;", "nohost", "127.0.0.1:"])
def test_malformed_ssdb(ssdb, monkeypatch):
    monkeypatch.setenv("SSDB", ssdb)
    with pytest.raises(RedisConnectionError):
        Client(None)


@pytest.mark.timeout(30)  # SR_CONN_TIMEOUT is 2 s: a hang fails the test
def test_unreachable_server_fails_within_the_timeout_with_the_address(monkeypatch):
    port = free_port()
    monkeypatch.setenv("SR_CONN_TIMEOUT", "2")
    monkeypatch.setenv("SR_CONN_INTERVAL", "200")
    with pytest.raises(RedisConnectionError, match=f"127.0.0.1:{port}"):
        Client(False, address=f"127.0.0.1:{port}")


@pytest.mark.timeout(60)
def test_nothing_listening_is_reported_in_seconds_with_default_settings(monkeypatch):
    """Upstream waits SR_CONN_TIMEOUT (100 s) for an address where nothing listens."""
    import time

    port = free_port()
    monkeypatch.delenv("SR_CONN_TIMEOUT", raising=False)
    start = time.monotonic()
    with pytest.raises(RedisConnectionError, match=f"127.0.0.1:{port}: nothing listens there"):
        Client(False, address=f"127.0.0.1:{port}")
    assert time.monotonic() - start < 30  # 5 s of refusals, not 100 s


def test_bad_constructor_arguments(ai_server):
    with pytest.raises(TypeError):
        Client(3)
    with pytest.raises(TypeError):
        Client(False, address=ai_server.address, bogus=1)
    with pytest.raises(TypeError):
        Client(address=ai_server.address)  # cluster is required in the address form


def test_bad_integer_setting(ai_server, monkeypatch):
    monkeypatch.setenv("SR_CMD_TIMEOUT", "ten")
    with pytest.raises(ValueError, match="SR_CMD_TIMEOUT"):
        Client(False, address=ai_server.address)
