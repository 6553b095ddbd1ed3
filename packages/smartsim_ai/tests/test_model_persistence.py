"""Stored models and scripts survive RDB save/restart and AOF, and run afterwards (workers
recompile them on first use)."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_models_and_scripts_survive_a_restart(ai_server_factory, tmp_path, engine) -> None:
    blob, _ = samples.torch_linear_bytes()
    server = ai_server_factory(engine, workdir=tmp_path / "db")
    c = redis.Redis(port=server.port)
    c.execute_command(
        "AI.MODELSTORE", "m", "TORCH", "CPU", "TAG", "t1", "BATCHSIZE", 4, "BLOB", blob
    )
    c.execute_command(
        "AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "ep", "SOURCE", samples.SCRIPT
    )
    x = np.random.default_rng(1).random((2, 10), dtype=np.float32)
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, 10, "BLOB", x.tobytes())
    c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "before")
    before = c.execute_command("AI.TENSORGET", "before", "BLOB")
    meta = c.execute_command("AI.MODELGET", "m", "META")
    assert c.save()
    c.close()
    server.stop()
    server.start()
    c = redis.Redis(port=server.port)
    assert c.execute_command("AI.MODELGET", "m", "META") == meta
    assert c.execute_command("AI.MODELGET", "m", "BLOB") == blob
    assert c.execute_command("AI.SCRIPTGET", "s", "SOURCE") == samples.SCRIPT.encode()
    assert c.execute_command("AI.SCRIPTGET", "s", "META")[5] == [b"ep"]
    # stats entries are recreated (zeroed) on load
    assert c.execute_command("AI.INFO", "m")[15] == 0
    assert c.execute_command("AI.INFO", "s")[3] == b"SCRIPT"
    c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "after")
    assert c.execute_command("AI.TENSORGET", "after", "BLOB") == before
    c.execute_command(
        "AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 2, "x", "x", "ARGS", 1, "2", "OUTPUTS", 2, "p", "q"
    )
    got = np.frombuffer(c.execute_command("AI.TENSORGET", "p", "BLOB"), np.float32)
    np.testing.assert_allclose(got, 2 * x.reshape(-1))


def test_models_survive_aof_rewrite(ai_server_factory, tmp_path) -> None:
    blob = samples.torch_two_outputs_bytes()
    server = ai_server_factory("valkey", workdir=tmp_path / "aof", config={"appendonly": "yes"})
    c = redis.Redis(port=server.port)
    c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    c.bgrewriteaof()
    for _ in range(200):
        if c.info("persistence")["aof_rewrite_in_progress"] == 0:
            break
        import time

        time.sleep(0.05)
    c.close()
    server.stop()
    server.start()
    c = redis.Redis(port=server.port)
    assert c.execute_command("AI.MODELGET", "m", "BLOB") == blob
    assert c.execute_command("AI.SCRIPTGET", "s", "SOURCE") == samples.SCRIPT.encode()
    c.execute_command("AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 3)
    c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 2, "a", "a", "OUTPUTS", 2, "s1", "p1")
    assert float(c.execute_command("AI.TENSORGET", "p1", "VALUES")[0]) == 9.0


def test_outputs_replicate_as_tensorset(ai_server_factory) -> None:
    blob, _ = samples.torch_linear_bytes()
    primary = ai_server_factory("valkey")
    replica = ai_server_factory("valkey", config={"replicaof": f"127.0.0.1 {primary.port}"})
    p = redis.Redis(port=primary.port)
    r = redis.Redis(port=replica.port)
    p.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    p.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 10)
    p.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    assert p.wait(1, 20000) == 1
    assert r.execute_command("AI.TENSORGET", "y", "BLOB") == p.execute_command(
        "AI.TENSORGET", "y", "BLOB"
    )
    assert r.execute_command("AI.MODELGET", "m", "BLOB") == blob
