"""torch.export programs (.pt2) through the server, side by side with the same model as
TorchScript: store, run, MODELGET, errors, auto-batching of several clients' requests,
persistence across a restart (RDB and AOF), and the SmartRedis client, both engines."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import redis

from smartsim_ai.worker import samples

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def cnn() -> dict[str, object]:
    return {
        "module": samples.torch_cnn_module(),
        "script": samples.torch_cnn_bytes(),
        "export": samples.torch_cnn_export_bytes(),
        "fixed": samples.torch_cnn_export_bytes(batch_dim=False),
    }


def images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def put(c: redis.Redis, key: str, x: np.ndarray) -> None:
    c.execute_command("AI.TENSORSET", key, "FLOAT", *x.shape, "BLOB", x.tobytes())


def get(c: redis.Redis, key: str) -> np.ndarray:
    meta = c.execute_command("AI.TENSORGET", key, "META", "BLOB")
    return np.frombuffer(meta[5], np.float32).reshape(meta[3])


def expected(cnn, x: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    return cnn["module"](torch.from_numpy(x)).detach().numpy()


def test_both_formats_store_run_and_get_alike(ai_client: redis.Redis, cnn) -> None:
    c = ai_client
    for key in ("script", "export"):
        assert c.execute_command("AI.MODELSTORE", key, "TORCH", "CPU", "TAG", "t", "BLOB", cnn[key])
    meta = {k: c.execute_command("AI.MODELGET", k, "META") for k in ("script", "export")}
    assert meta["script"] == meta["export"]
    assert meta["export"][11] == [b"x"] and meta["export"][13] == [b""]
    assert c.execute_command("AI.MODELGET", "export", "BLOB") == cnn["export"]
    x = images(3, 0)
    put(c, "x", x)
    for key in ("script", "export"):
        c.execute_command("AI.MODELEXECUTE", key, "INPUTS", 1, "x", "OUTPUTS", 1, f"y_{key}")
    np.testing.assert_allclose(get(c, "y_export"), expected(cnn, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(get(c, "y_export"), get(c, "y_script"), rtol=1e-5, atol=1e-7)
    # one DAG running both
    c.execute_command(
        "AI.DAGEXECUTE", "LOAD", 1, "x", "PERSIST", 1, "d", "|>",
        "AI.MODELEXECUTE", "export", "INPUTS", 1, "x", "OUTPUTS", 1, "e", "|>",
        "AI.MODELEXECUTE", "script", "INPUTS", 1, "e", "OUTPUTS", 1, "s", "|>",
        "AI.TENSORSET", "d", "FLOAT", 1, "VALUES", 1,
    )  # fmt: skip
    info = dict(zip(*[iter(c.execute_command("AI.INFO", "export"))] * 2))
    assert info[b"calls"] == 2 and info[b"samples"] == 6 and info[b"errors"] == 0


def test_load_and_run_errors(ai_client: redis.Redis, cnn) -> None:
    c = ai_client
    for blob in (cnn["export"][:-30], cnn["script"][:-30]):
        with pytest.raises(redis.ResponseError) as info:
            c.execute_command("AI.MODELSTORE", "bad", "TORCH", "CPU", "BLOB", blob)
        assert "failed" in str(info.value) and "\n" not in str(info.value)
    assert c.exists("bad") == 0
    c.execute_command("AI.MODELSTORE", "fixed", "TORCH", "CPU", "BLOB", cnn["fixed"])
    put(c, "x3", images(3, 1))
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command("AI.MODELEXECUTE", "fixed", "INPUTS", 1, "x3", "OUTPUTS", 1, "y")
    assert "dim 0 fixed at 2, got shape [3, 1, 28, 28]" in str(info.value)
    assert c.exists("y") == 0
    assert c.execute_command("AI.INFO", "fixed")[17] == 1  # errors


def run_clients(port: int, model: str, batches: list[np.ndarray]) -> list[object]:
    """One client per batch, all running ``model`` at once; their replies, in order."""
    replies: list[object] = [None] * len(batches)
    barrier = threading.Barrier(len(batches))

    def one(i: int) -> None:
        c = redis.Redis(port=port, socket_timeout=60)
        try:
            put(c, f"in{i}", batches[i])
            barrier.wait()
            replies[i] = c.execute_command(
                "AI.MODELEXECUTE", model, "INPUTS", 1, f"in{i}", "OUTPUTS", 1, f"out{i}"
            )
        except redis.ResponseError as exc:
            replies[i] = exc
        finally:
            c.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return replies


def test_batching_several_clients_both_formats(ai_server, ai_client: redis.Redis, cnn) -> None:
    c = ai_client
    # MINBATCHSIZE 6 and no timeout: the four requests (1+2+1+2 samples) can only run together
    for key in ("script", "export"):
        c.execute_command(
            "AI.MODELSTORE", key, "TORCH", "CPU", "BATCHSIZE", 6, "MINBATCHSIZE", 6,
            "BLOB", cnn[key],
        )  # fmt: skip
    batches = [images(n, 10 + i) for i, n in enumerate((1, 2, 1, 2))]
    for key in ("script", "export"):
        assert run_clients(ai_server.port, key, batches) == [b"OK"] * 4
        for i, x in enumerate(batches):
            np.testing.assert_allclose(get(c, f"out{i}"), expected(cnn, x), rtol=1e-5, atol=1e-7)
        info = dict(zip(*[iter(c.execute_command("AI.INFO", key))] * 2))
        assert info[b"calls"] == 4 and info[b"samples"] == 6, (key, info)
    # MINBATCHTIMEOUT releases a lonely request of a program with a dynamic batch
    c.execute_command(
        "AI.MODELSTORE", "lonely", "TORCH", "CPU", "BATCHSIZE", 8, "MINBATCHSIZE", 8,
        "MINBATCHTIMEOUT", 200, "BLOB", cnn["export"],
    )  # fmt: skip
    assert run_clients(ai_server.port, "lonely", batches[:1]) == [b"OK"]
    np.testing.assert_allclose(get(c, "out0"), expected(cnn, batches[0]), rtol=1e-5, atol=1e-7)


def test_batching_a_fixed_shape_program_says_why(ai_server, ai_client: redis.Redis, cnn) -> None:
    c = ai_client
    c.execute_command(
        "AI.MODELSTORE", "fixed", "TORCH", "CPU", "BATCHSIZE", 4, "MINBATCHSIZE", 4,
        "BLOB", cnn["fixed"],
    )  # fmt: skip
    replies = run_clients(ai_server.port, "fixed", [images(2, 20), images(2, 21)])
    for reply in replies:  # the batch of 4 does not fit the program's fixed batch of 2
        assert isinstance(reply, redis.ResponseError)
        assert "dim 0 fixed at 2, got shape [4, 1, 28, 28]" in str(reply)
        assert "BATCHSIZE" in str(reply) and "torch.export.Dim" in str(reply)


@pytest.mark.parametrize("persistence", ["rdb", "aof"])
@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_programs_survive_a_restart(ai_server_factory, tmp_path, cnn, engine, persistence) -> None:
    config = {"appendonly": "yes"} if persistence == "aof" else {}
    server = ai_server_factory(engine, workdir=tmp_path / "db", config=config)
    c = redis.Redis(port=server.port)
    for key in ("script", "export"):
        c.execute_command("AI.MODELSTORE", key, "TORCH", "CPU", "BATCHSIZE", 4, "BLOB", cnn[key])
    x = images(2, 30)
    put(c, "x", x)
    c.execute_command("AI.MODELEXECUTE", "export", "INPUTS", 1, "x", "OUTPUTS", 1, "before")
    before = c.execute_command("AI.TENSORGET", "before", "BLOB")
    meta = c.execute_command("AI.MODELGET", "export", "META")
    if persistence == "rdb":
        assert c.save()
    c.close()
    server.stop()
    server.start()
    c = redis.Redis(port=server.port)
    assert c.execute_command("AI.MODELGET", "export", "META") == meta
    assert c.execute_command("AI.MODELGET", "export", "BLOB") == cnn["export"]
    for key in ("script", "export"):
        c.execute_command("AI.MODELEXECUTE", key, "INPUTS", 1, "x", "OUTPUTS", 1, f"after_{key}")
    assert c.execute_command("AI.TENSORGET", "after_export", "BLOB") == before
    np.testing.assert_allclose(get(c, "after_script"), get(c, "after_export"), rtol=1e-5, atol=1e-7)
    c.close()


def test_smartredis_client_stores_them_unchanged(ai_server, ai_client, cnn, tmp_path) -> None:
    from smartredis import Client

    path = tmp_path / "cnn.pt2"
    path.write_bytes(cnn["export"])
    client = Client(address=f"127.0.0.1:{ai_server.port}", cluster=False)
    client.set_model_from_file("from_file", str(path), "TORCH", "CPU")
    client.set_model("from_bytes", cnn["export"], "TORCH", "CPU")
    assert client.get_model("from_file") == cnn["export"]
    x = images(2, 40)
    client.put_tensor("x", x)
    for name in ("from_file", "from_bytes"):
        client.run_model(name, ["x"], [f"y_{name}"])
        got = client.get_tensor(f"y_{name}")
        np.testing.assert_allclose(got, expected(cnn, x), rtol=1e-5, atol=1e-7)


def test_the_first_program_loads_under_a_small_memory_limit(ai_server_factory, cnn) -> None:
    # torch.export's loader imports ~100 MB of torch on first use: like a backend's import, that
    # must not count against BACKEND_MEMORY_LIMIT (redis: its workers run this tree's code)
    server = ai_server_factory("redis", module_args=["BACKEND_MEMORY_LIMIT", "48"])
    c = redis.Redis(port=server.port, socket_timeout=120)
    for key in ("script", "export"):
        assert c.execute_command("AI.MODELSTORE", key, "TORCH", "CPU", "BLOB", cnn[key]) == b"OK"
    x = images(4, 50)
    put(c, "x", x)
    for key in ("script", "export"):
        c.execute_command("AI.MODELEXECUTE", key, "INPUTS", 1, "x", "OUTPUTS", 1, f"y_{key}")
        np.testing.assert_allclose(get(c, f"y_{key}"), expected(cnn, x), rtol=1e-5, atol=1e-7)
    # the limit still holds after the loader came in
    c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    with pytest.raises(redis.ResponseError, match=r"(?i)memory|alloc"):
        c.execute_command("AI.SCRIPTRUN", "s", "hog", "INPUTS", "x", "OUTPUTS", "y")
    c.close()


def test_a_script_runs_a_program_through_model_execute(ai_client: redis.Redis, cnn) -> None:
    c = ai_client
    c.execute_command("AI.MODELSTORE", "net{1}", "TORCH", "CPU", "BLOB", cnn["export"])
    source = (
        "def ep(tensors: List[Tensor], keys: List[str], args: List[str]):\n"
        "    return redisAI.model_execute(keys[0], tensors, 1)[0]\n"
    )
    c.execute_command("AI.SCRIPTSTORE", "s{1}", "CPU", "ENTRY_POINTS", 1, "ep", "SOURCE", source)
    x = images(2, 60)
    put(c, "x{1}", x)
    c.execute_command(
        "AI.SCRIPTEXECUTE", "s{1}", "ep", "KEYS", 1, "net{1}", "INPUTS", 1, "x{1}",
        "OUTPUTS", 1, "y{1}",
    )  # fmt: skip
    np.testing.assert_allclose(get(c, "y{1}"), expected(cnn, x), rtol=1e-5, atol=1e-7)


def test_a_fresh_sandboxed_worker_loads_a_program(ai_server_factory, cnn, tmp_path, monkeypatch):
    # torch's loader asks for inductor's cache directory (under TMPDIR) and creates it when
    # missing: a write the Landlock sandbox refuses. A temporary directory where it does not
    # exist yet (redis: the workers inherit this environment)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    server = ai_server_factory("redis")
    c = redis.Redis(port=server.port, socket_timeout=120)
    assert c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", cnn["export"]) == b"OK"
    put(c, "x", images(2, 70))
    c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    np.testing.assert_allclose(get(c, "y"), expected(cnn, images(2, 70)), rtol=1e-5, atol=1e-7)
    assert list(tmp.iterdir()) == []  # nothing written there
    c.close()
