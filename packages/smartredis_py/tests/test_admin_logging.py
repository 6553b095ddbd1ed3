"""Admin/info calls and the logging API."""

from __future__ import annotations

import pytest

import smartredis
from smartredis import LLDebug, LLInfo, LLQuiet, LogContext, log_data, log_error, log_warning
from smartredis.error import RedisRuntimeError


def test_node_info_flush_config_save(client, raw, ai_server):
    address = ai_server.address
    info = client.get_db_node_info([address])[0]
    assert info["Server"]["tcp_port"] == str(ai_server.port)
    raw.set("k", "v")
    client.flush_db([address])
    assert raw.dbsize() == 0
    assert client.config_get("maxmemory-policy", address) == {"maxmemory-policy": "noeviction"}
    assert client.config_get("no-such-param", address) == {}
    client.config_set("maxmemory-policy", "allkeys-lru", address)
    assert raw.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    client.config_set("maxmemory-policy", "noeviction", address)
    client.save([address])


def test_address_must_match_the_standalone_address(client, raw):
    with pytest.raises(RedisRuntimeError, match="does not match"):
        client.flush_db(["127.0.0.1:1"])
    with pytest.raises(RedisRuntimeError, match="non-cluster"):
        client.get_db_cluster_info(["127.0.0.1:1"])


def test_logging_to_file(tmp_path, monkeypatch):
    from smartredis import logger

    path = tmp_path / "log.txt"
    monkeypatch.setenv("SR_LOG_FILE", str(path))
    monkeypatch.setenv("SR_LOG_LEVEL", "info")
    monkeypatch.setattr(logger, "_state", {})
    monkeypatch.setattr(logger._logger, "handlers", [])
    log_data("ctx", LLInfo, "hello")
    log_warning("ctx", LLInfo, "careful")
    log_error("ctx", LLQuiet, "bad")
    log_data("ctx", LLDebug, "hidden")
    LogContext("lc").log_data(LLInfo, "from context")
    for h in logger._logger.handlers:
        h.flush()
    lines = path.read_text().splitlines()
    assert [line.split(":", 1)[1] for line in lines] == [
        "hello",
        "WARNING: careful",
        "ERROR: bad",
        "from context",
    ]
    assert lines[0].startswith("ctx@") and lines[-1].startswith("lc@")
    with pytest.raises(TypeError):
        log_data("ctx", "INFO", "x")
    assert LLInfo.name == "LLInfo"


def test_public_names():
    for name in ("Client", "Dataset", "ConfigOptions", "DatasetConverter", "LogContext"):
        assert hasattr(smartredis, name)
    from smartredis.error import RedisKeyError, RedisReplyError

    assert issubclass(RedisKeyError, RedisReplyError) and issubclass(RedisReplyError, RuntimeError)
