"""Tensors reach a replica: by full sync (RDB) and by AI.TENSORSET replicated verbatim."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from smartsim_ai.testing.processes import wait_for

ENGINES = ["valkey", "redis"]


@pytest.mark.parametrize("engine", ENGINES)
def test_tensors_replicate(ai_server_factory, engine):
    debug = {"enable-debug-command": "yes"}
    primary = ai_server_factory(engine, config={"repl-diskless-sync-delay": "0", **debug})
    p = redis.Redis(host=primary.host, port=primary.port)
    arr = np.arange(1 << 16, dtype=np.float64)
    p.execute_command("AI.TENSORSET", "before", "DOUBLE", 256, 256, "BLOB", arr.tobytes())

    replica = ai_server_factory(
        engine, config={"replicaof": f"{primary.host} {primary.port}", **debug}
    )
    r = redis.Redis(host=replica.host, port=replica.port)
    wait_for(lambda: r.info("replication").get("master_link_status") == "up")
    wait_for(lambda: r.exists("before") == 1)  # full sync through RDB
    assert r.execute_command("AI.TENSORGET", "before", "BLOB") == arr.tobytes()

    p.execute_command("AI.TENSORSET", "after", "string", 2, "VALUES", "a", "b")
    p.execute_command("AI.TENSORSET", "zeros", "INT8", 3)
    p.execute_command("COPY", "after", "copied")
    p.delete("before")
    wait_for(lambda: r.exists("before") == 0 and r.exists("copied") == 1 and r.exists("zeros"))
    assert r.execute_command("AI.TENSORGET", "after", "VALUES") == [b"a", b"b"]
    assert r.execute_command("AI.TENSORGET", "copied", "META") == [
        b"dtype",
        b"STRING",
        b"shape",
        [2],
    ]
    assert r.execute_command("AI.TENSORGET", "zeros", "VALUES") == [0, 0, 0]
    # the replica's dataset is byte-identical (DEBUG DIGEST covers dtype, shape and data)
    wait_for(lambda: r.execute_command("DEBUG", "DIGEST") == p.execute_command("DEBUG", "DIGEST"))
    assert p.execute_command("DEBUG", "DIGEST-VALUE", "after") != p.execute_command(
        "DEBUG", "DIGEST-VALUE", "zeros"
    )
    # a replica is read-only for clients, but serves reads
    with pytest.raises(redis.ReadOnlyError):
        r.execute_command("AI.TENSORSET", "x", "FLOAT", 1)


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_tensorset_is_not_replicated(ai_server_factory, engine):
    primary = ai_server_factory(engine, config={"repl-diskless-sync-delay": "0"})
    replica = ai_server_factory(engine, config={"replicaof": f"{primary.host} {primary.port}"})
    p = redis.Redis(host=primary.host, port=primary.port)
    r = redis.Redis(host=replica.host, port=replica.port)
    wait_for(lambda: r.info("replication").get("master_link_status") == "up")
    with pytest.raises(redis.ResponseError):
        p.execute_command("AI.TENSORSET", "bad", "FLOAT", 2, "VALUES", 1)
    p.execute_command("AI.TENSORSET", "good", "FLOAT", 1, "VALUES", 1)
    wait_for(lambda: r.exists("good") == 1)
    assert r.exists("bad") == 0
    offset = p.info("replication")["master_repl_offset"]
    wait_for(lambda: r.info("replication")["slave_repl_offset"] == offset)
    assert r.keys() == [b"good"]


@pytest.mark.parametrize("engine", ENGINES)
def test_same_shape_overwrites_replicate(ai_server_factory, engine):
    """In-place overwrites (ai_tensor_overwrite) reach a replica through RDB and the stream,
    also several of one key inside MULTI, whose propagation is sent after EXEC."""
    debug = {"enable-debug-command": "yes", "repl-diskless-sync-delay": "0"}
    primary = ai_server_factory(engine, config=debug)
    p = redis.Redis(host=primary.host, port=primary.port)
    rng = np.random.default_rng(5)

    def write(key: str, nbytes: int) -> bytes:
        blob = rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes()
        p.execute_command("AI.TENSORSET", key, "UINT8", 2, nbytes // 2, "BLOB", blob)
        return blob

    for _ in range(3):
        small, big = write("small", 1024), write("big", 64 << 10)
    replica = ai_server_factory(
        engine, config={"replicaof": f"{primary.host} {primary.port}", **debug}
    )
    r = redis.Redis(host=replica.host, port=replica.port)
    wait_for(lambda: r.info("replication").get("master_link_status") == "up")
    wait_for(lambda: r.exists("small", "big") == 2)  # full sync through RDB
    assert r.execute_command("AI.TENSORGET", "small", "BLOB") == small
    assert r.execute_command("AI.TENSORGET", "big", "BLOB") == big
    blobs = [rng.integers(0, 256, 1024, dtype=np.uint8).tobytes() for _ in range(3)]
    with p.pipeline() as pipe:
        for blob in blobs:
            pipe.execute_command("AI.TENSORSET", "small", "UINT8", 2, 512, "BLOB", blob)
        pipe.execute()
    big = write("big", 64 << 10)
    wait_for(lambda: r.execute_command("DEBUG", "DIGEST") == p.execute_command("DEBUG", "DIGEST"))
    assert r.execute_command("AI.TENSORGET", "small", "BLOB") == blobs[-1]
    assert r.execute_command("AI.TENSORGET", "big", "BLOB") == big
