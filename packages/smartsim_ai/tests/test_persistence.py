"""Tensors (and stored models/scripts) survive RDB restarts and AOF rewrites, on both engines."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from smartsim_ai.testing.processes import wait_for
from smartsim_ai.testing.servers import ServerProcess

ENGINES = ["valkey", "redis"]


def client_of(server: ServerProcess) -> redis.Redis:
    return redis.Redis(host=server.host, port=server.port)


def fill(client: redis.Redis) -> dict[str, list]:
    """One tensor per dtype and format; returns what TENSORGET must answer after a reload."""
    rng = np.random.default_rng(11)
    client.execute_command(
        "AI.TENSORSET",
        "f",
        "FLOAT",
        2,
        3,
        "BLOB",
        rng.standard_normal(6).astype(np.float32).tobytes(),
    )
    client.execute_command("AI.TENSORSET", "d", "DOUBLE", "VALUES", 2.5)
    client.execute_command("AI.TENSORSET", "i8", "INT8", 4, "VALUES", 1, 2, 3, 127)
    client.execute_command("AI.TENSORSET", "u16", "UINT16", 2, 2)
    client.execute_command("AI.TENSORSET", "b", "BOOL", 3, "BLOB", b"\x01\x00\x01")
    client.execute_command("AI.TENSORSET", "s", "STRING", 2, "VALUES", "hello", "")
    big = rng.integers(0, 255, size=3 << 20, dtype=np.uint8)
    client.execute_command("AI.TENSORSET", "big", "UINT8", 3, 1 << 20, "BLOB", big.tobytes())
    client.set("plain", "value")
    keys = ["f", "d", "i8", "u16", "b", "s", "big"]
    return {k: client.execute_command("AI.TENSORGET", k, "META", "BLOB") for k in keys}


@pytest.mark.parametrize("engine", ENGINES)
def test_rdb_save_and_restart_keeps_every_tensor(ai_server_factory, tmp_path, engine):
    server = ai_server_factory(engine, workdir=tmp_path / "db")
    expected = fill(client_of(server))
    client_of(server).save()
    server.stop()
    server.start()
    client = client_of(server)
    assert {
        k: client.execute_command("AI.TENSORGET", k, "META", "BLOB") for k in expected
    } == expected
    assert client.get("plain") == b"value"
    assert "Done loading RDB" in server.log_text() or "DB loaded from disk" in server.log_text()


@pytest.mark.parametrize("engine", ENGINES)
def test_debug_reload_and_flushall(ai_server_factory, engine):
    server = ai_server_factory(engine, config={"enable-debug-command": "yes"})
    client = client_of(server)
    expected = fill(client)
    assert client.execute_command("DEBUG", "RELOAD")
    assert {
        k: client.execute_command("AI.TENSORGET", k, "META", "BLOB") for k in expected
    } == expected
    client.flushall()
    assert client.dbsize() == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_aof_rewrite_replays_tensorset(ai_server_factory, tmp_path, engine):
    server = ai_server_factory(engine, workdir=tmp_path / "aof", config={"appendonly": "yes"})
    client = client_of(server)
    expected = fill(client)
    client.bgrewriteaof()
    wait_for(lambda: client_of(server).info("persistence")["aof_rewrite_in_progress"] == 0
             and client_of(server).info("persistence")["aof_rewrite_scheduled"] == 0)  # fmt: skip
    # one more write after the rewrite lands in the incremental AOF
    client.execute_command("AI.TENSORSET", "after", "INT32", 1, "VALUES", 7)
    server.stop()
    server.start()
    client = client_of(server)
    assert {
        k: client.execute_command("AI.TENSORGET", k, "META", "BLOB") for k in expected
    } == expected
    assert client.execute_command("AI.TENSORGET", "after", "VALUES") == [7]


@pytest.mark.parametrize("engine", ENGINES)
def test_aof_rewrite_emits_tensorset_commands(ai_server_factory, tmp_path, engine):
    server = ai_server_factory(
        engine,
        workdir=tmp_path / "aof",
        config={"appendonly": "yes", "aof-use-rdb-preamble": "no"},
    )
    client = client_of(server)
    client.execute_command("AI.TENSORSET", "k", "INT16", 2, 1, "VALUES", 3, 4)
    client.execute_command("AI.TENSORSET", "scalar", "FLOAT", "VALUES", 1)
    client.bgrewriteaof()
    wait_for(lambda: client_of(server).info("persistence")["aof_rewrite_in_progress"] == 0
             and client_of(server).info("persistence")["aof_rewrite_scheduled"] == 0)  # fmt: skip
    text = b"".join(p.read_bytes() for p in (tmp_path / "aof").rglob("*.aof"))
    assert (
        b"AI.TENSORSET\r\n$1\r\nk\r\n$5\r\nINT16\r\n$1\r\n2\r\n$1\r\n1\r\n$4\r\nBLOB\r\n$4\r\n\x03\x00\x04\x00"
        in text
    )
    assert b"$6\r\nscalar\r\n$5\r\nFLOAT\r\n$4\r\nBLOB\r\n$4\r\n\x00\x00\x80?" in text
