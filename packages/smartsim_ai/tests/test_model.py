"""AI.MODELSTORE/MODELSET/MODELGET/MODELDEL/MODELEXECUTE/MODELRUN with real backends, both engines."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from smartsim_ai.worker import samples


def tensorset(client: redis.Redis, key: str, arr: np.ndarray) -> None:
    dtype = {np.float32: "FLOAT", np.float64: "DOUBLE", np.int64: "INT64"}[arr.dtype.type]
    client.execute_command("AI.TENSORSET", key, dtype, *arr.shape, "BLOB", arr.tobytes())


def tensorget(client: redis.Redis, key: str) -> np.ndarray:
    meta = client.execute_command("AI.TENSORGET", key, "META", "BLOB")
    dtype = {b"FLOAT": np.float32, b"DOUBLE": np.float64, b"INT64": np.int64}[meta[1]]
    return np.frombuffer(meta[5], dtype=dtype).reshape(meta[3])


def error_of(client: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


@pytest.fixture(scope="module")
def linear() -> tuple[bytes, object]:
    pytest.importorskip("torch")
    return samples.torch_linear_bytes()


@pytest.mark.torch
def test_torch_store_execute_get_del(ai_client: redis.Redis, linear) -> None:
    import torch

    blob, module = linear
    c = ai_client
    assert (
        c.execute_command("AI.MODELSTORE", "m{1}", "TORCH", "CPU", "TAG", "v1", "BLOB", blob)
        == b"OK"
    )
    x = np.random.default_rng(0).random((4, 10), dtype=np.float32)
    tensorset(c, "x{1}", x)
    reply = c.execute_command(
        "AI.MODELEXECUTE", "m{1}", "INPUTS", 1, "x{1}", "OUTPUTS", 1, "y{1}", "TIMEOUT", 60000000
    )
    assert reply == b"OK"
    expected = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(tensorget(c, "y{1}"), expected, rtol=1e-6)

    meta = c.execute_command("AI.MODELGET", "m{1}", "META")
    assert meta == [
        b"backend", b"TORCH", b"device", b"CPU", b"tag", b"v1", b"batchsize", 0,
        b"minbatchsize", 0, b"inputs", [b"x"], b"outputs", [b""], b"minbatchtimeout", 0,
    ]  # fmt: skip
    assert c.execute_command("AI.MODELGET", "m{1}", "BLOB") == blob
    full = c.execute_command("AI.MODELGET", "m{1}")
    assert len(full) == 18 and full[17] == blob

    # deprecated MODELRUN gives the same answer
    assert c.execute_command("AI.MODELRUN", "m{1}", "INPUTS", "x{1}", "OUTPUTS", "z{1}") == b"OK"
    np.testing.assert_array_equal(tensorget(c, "z{1}"), tensorget(c, "y{1}"))

    info = c.execute_command("AI.INFO", "m{1}")
    stats = dict(zip(info[::2], info[1::2]))
    assert stats[b"key"] == b"m{1}" and stats[b"type"] == b"MODEL" and stats[b"tag"] == b"v1"
    assert stats[b"calls"] == 2 and stats[b"samples"] == 8 and stats[b"errors"] == 0
    assert stats[b"duration"] > 0
    assert c.execute_command("AI.INFO", "m{1}", "RESETSTAT") == b"OK"
    assert c.execute_command("AI.INFO", "m{1}")[13] == 0
    assert [b"m{1}", b"v1"] in c.execute_command("AI._MODELSCAN")
    assert c.info("ai_backends_info")["ai_Torch_version"] == torch.__version__

    assert c.execute_command("AI.MODELDEL", "m{1}") == b"OK"
    assert error_of(c, "AI.MODELGET", "m{1}") == "model key is empty"
    assert error_of(c, "AI.INFO", "m{1}") == "cannot find run info for key"


@pytest.mark.torch
def test_chunked_blob_and_two_outputs(ai_client: redis.Redis) -> None:
    blob = samples.torch_two_outputs_bytes()
    c = ai_client
    chunks = [blob[i : i + 1000] for i in range(0, len(blob), 1000)]
    assert c.execute_command("AI.MODELSTORE", "two", "TORCH", "CPU", "BLOB", *chunks) == b"OK"
    assert c.execute_command("AI.MODELGET", "two", "BLOB") == blob
    meta = c.execute_command("AI.MODELGET", "two", "META")
    assert meta[11] == [b"a", b"b"] and meta[13] == [b"", b""]
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensorset(c, "a", a)
    tensorset(c, "b", a + 1)
    c.execute_command("AI.MODELEXECUTE", "two", "INPUTS", 2, "a", "b", "OUTPUTS", 2, "s", "p")
    np.testing.assert_array_equal(tensorget(c, "s"), a + a + 1)
    np.testing.assert_array_equal(tensorget(c, "p"), a * (a + 1))


@pytest.mark.torch
def test_execute_validation_errors_reply_at_once(ai_client: redis.Redis, linear) -> None:
    c = ai_client
    blob, _ = linear
    c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    tensorset(c, "x", np.zeros((1, 10), np.float32))
    c.set("str", "v")
    cases = [
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1), "wrong number of arguments for 'AI.MODELEXECUTE' command"),
        (("AI.MODELEXECUTE", "nokey", "INPUTS", 1, "x", "OUTPUTS", 1, "y"), "model key is empty"),
        (("AI.MODELEXECUTE", "str", "INPUTS", 1, "x", "OUTPUTS", 1, "y"), "WRONGTYPE Operation against a key holding the wrong kind of value"),
        (("AI.MODELEXECUTE", "m", "INPUT", 1, "x", "OUTPUTS", 1, "y"), "INPUTS not specified"),
        (("AI.MODELEXECUTE", "m", "INPUTS", "a", "x", "OUTPUTS", 1, "y"), "Invalid argument for input_count"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 0, "x", "OUTPUTS", 1, "y"), "Input count must be a positive integer"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 2, "x", "x", "OUTPUTS", 1, "y"), "Number of keys given as INPUTS here does not match model definition"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUT", 1, "y"), "OUTPUTS not specified"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 2, "y", "z"), "Number of keys given as OUTPUTS here does not match model definition"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "BAD"), "Invalid argument: BAD"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT"), "No value provided for TIMEOUT"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", -4), "Invalid value for TIMEOUT"),
        (("AI.MODELEXECUTE", "m", "INPUTS", 1, "missing", "OUTPUTS", 1, "y"), "tensor key is empty or in a different shard"),
        (("AI.MODELRUN", "m", "INPUTS", "x", "x", "OUTPUTS", "y"), "Number of keys given as INPUTS here does not match model definition"),
        (("AI.MODELSTORE", "m2", "PYTORCH", "CPU", "BLOB", blob), "unsupported backend"),
        (("AI.MODELSTORE", "m2", "TORCH", "CPU:a", "BLOB", blob), "Invalid DEVICE"),
        (("AI.MODELSTORE", "m2", "TORCH", "CPU", "BATCHSIZE", -1, "BLOB", blob), "Invalid argument for BATCHSIZE"),
        (("AI.MODELSTORE", "m2", "TORCH", "CPU", "MINBATCHSIZE", 2, "BLOB", blob), "MINBATCHSIZE specified without BATCHSIZE"),
        (("AI.MODELSTORE", "m2", "TORCH", "CPU", "BLOB"), "wrong number of arguments for 'AI.MODELSTORE' command"),
        (("AI.MODELSTORE", "m2", "TORCH", "CPU", "TAG", "t", "BLOB"), "Insufficient arguments, missing model BLOB"),
        (("AI.MODELSTORE", "m2", "TORCH", "CPU", "INPUTS", 1, "a", "BLOB", blob), "INPUTS argument should not be specified for this backend"),
        (("AI.MODELSTORE", "m2", "TF", "CPU", "BLOB", blob), "INPUTS not specified for TF"),
    ]  # fmt: skip
    for args, expected in cases:
        assert error_of(c, *args) == expected, args
    assert c.exists("y") == 0
    assert c.execute_command("AI.INFO", "m")[15] == 0  # parse errors are not counted


@pytest.mark.torch
def test_backend_errors_are_one_line_replies(ai_client: redis.Redis, linear) -> None:
    c = ai_client
    message = error_of(c, "AI.MODELSTORE", "bad", "TORCH", "CPU", "BLOB", b"not a model")
    assert "\n" not in message and message
    assert c.exists("bad") == 0
    blob, _ = linear
    c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    tensorset(c, "wrong", np.zeros((2, 3), np.float32))
    message = error_of(c, "AI.MODELEXECUTE", "m", "INPUTS", 1, "wrong", "OUTPUTS", 1, "y")
    assert "\n" not in message and "shapes" in message
    info = c.execute_command("AI.INFO", "m")
    assert info[15] == 1 and info[17] == 1  # calls, errors
    # an output key of another type: WRONGTYPE after the run, nothing written
    c.set("taken", "v")
    tensorset(c, "x", np.zeros((1, 10), np.float32))
    assert error_of(c, "AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "taken").startswith(
        "WRONGTYPE"
    )
    assert c.get("taken") == b"v"


@pytest.mark.torch
def test_store_over_other_type_and_inside_multi(ai_client: redis.Redis, linear) -> None:
    c = ai_client
    blob, _ = linear
    c.set("k", "v")
    assert error_of(c, "AI.MODELSTORE", "k", "TORCH", "CPU", "BLOB", blob).startswith("WRONGTYPE")
    c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    tensorset(c, "x", np.zeros((1, 10), np.float32))
    pipe = c.pipeline(transaction=True)
    pipe.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    (result,) = pipe.execute(raise_on_error=False)
    assert "Cannot run RedisAI command within a transaction or a LUA script" in str(result)


@pytest.mark.onnx
def test_onnx_ml_models(ai_client: redis.Redis) -> None:
    c = ai_client
    blob, reg = samples.onnx_linear_regression()
    assert c.execute_command("AI.MODELSTORE", "lin", "ONNX", "CPU", "BLOB", blob) == b"OK"
    x = np.random.default_rng(5).random((6, 3), dtype=np.float32)
    tensorset(c, "x", x)
    c.execute_command("AI.MODELEXECUTE", "lin", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    np.testing.assert_allclose(tensorget(c, "y").reshape(-1), reg.predict(x), rtol=1e-5)

    blob, clf = samples.onnx_logistic_regression()
    c.execute_command("AI.MODELSTORE", "clf", "ONNX", "CPU", "BLOB", blob)
    x4 = np.random.default_rng(6).random((5, 4), dtype=np.float32)
    tensorset(c, "x4", x4)
    c.execute_command("AI.MODELEXECUTE", "clf", "INPUTS", 1, "x4", "OUTPUTS", 2, "label", "probs")
    np.testing.assert_array_equal(tensorget(c, "label"), clf.predict(x4))
    assert c.exists("probs") == 0  # ZipMap output is not a tensor: skipped
    assert error_of(c, "AI.MODELSTORE", "bad", "ONNX", "CPU", "BLOB", b"garbage")


@pytest.mark.tf
def test_tf_frozen_graph(valkey_ai_client: redis.Redis) -> None:
    import tensorflow as tf

    c = valkey_ai_client
    blob, inp, out, frozen = samples.tf_frozen_graph()
    reply = c.execute_command(
        "AI.MODELSTORE", "tf", "TF", "CPU", "INPUTS", 1, inp, "OUTPUTS", 1, out, "BLOB", blob
    )
    assert reply == b"OK"
    meta = c.execute_command("AI.MODELGET", "tf", "META")
    assert meta[11] == [inp.encode()] and meta[13] == [out.encode()]
    x = np.random.default_rng(7).random((3, 4), dtype=np.float32)
    tensorset(c, "x", x)
    c.execute_command("AI.MODELEXECUTE", "tf", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    np.testing.assert_allclose(tensorget(c, "y"), frozen(tf.constant(x))[0].numpy(), rtol=1e-5)
    # deprecated MODELSET with uncounted names
    reply = c.execute_command(
        "AI.MODELSET", "tf2", "TF", "CPU", "INPUTS", inp, "OUTPUTS", out, "BLOB", blob
    )
    assert reply == b"OK"
    bad = error_of(
        c, "AI.MODELSTORE", "tf3", "TF", "CPU", "INPUTS", 1, "nope", "OUTPUTS", 1, out, "BLOB", blob
    )
    assert bad == 'Input node named "nope" not found in TF graph.'
    assert (
        error_of(
            c,
            "AI.MODELSTORE",
            "tf3",
            "TF",
            "CPU",
            "INPUTS",
            1,
            inp,
            "OUTPUTS",
            1,
            "x",
            "BLOB",
            b"junk",
        )
        == "Invalid GraphDef"
    )


@pytest.mark.tf
def test_tflite_model(valkey_ai_client: redis.Redis) -> None:
    c = valkey_ai_client
    blob = samples.tflite_model()
    assert c.execute_command("AI.MODELSTORE", "lite", "TFLITE", "CPU", "BLOB", blob) == b"OK"
    x = np.arange(4, dtype=np.float32).reshape(1, 4)
    tensorset(c, "x", x)
    c.execute_command("AI.MODELEXECUTE", "lite", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    np.testing.assert_allclose(tensorget(c, "y"), 2 * x + 1)
    assert error_of(c, "AI.MODELSTORE", "bad", "TFLITE", "CPU", "BLOB", b"junk") == (
        "Failed to load model from buffer"
    )
    assert (
        error_of(c, "AI.MODELSET", "b2", "TFLITE", "CPU", "BATCHSIZE", 2, "BLOB", blob)
        == "Auto-batching not supported by the TFLITE backend"
    )


@pytest.mark.torch
def test_modelget_chunks_big_blobs(ai_client: redis.Redis, linear) -> None:
    c = ai_client
    blob, _ = linear
    c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    old = c.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")
    try:
        c.execute_command("AI.CONFIG", "MODEL_CHUNK_SIZE", 1000)
        chunks = c.execute_command("AI.MODELGET", "m", "BLOB")
        assert isinstance(chunks, list) and len(chunks) == len(blob) // 1000 + 1
        assert all(len(ch) == 1000 for ch in chunks[:-1]) and b"".join(chunks) == blob
    finally:
        c.execute_command("AI.CONFIG", "MODEL_CHUNK_SIZE", old)


@pytest.mark.torch
def test_gpu_device_without_cuda_is_a_clear_error(ai_client: redis.Redis, linear) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the GPU path is exercised by the other tests' devices")
    blob, _ = linear
    message = error_of(ai_client, "AI.MODELSTORE", "g", "TORCH", "GPU:0", "BLOB", blob)
    assert message == "GPU requested but Torch couldn't find CUDA"
    assert ai_client.exists("g") == 0
    # the CPU queue is unaffected
    assert ai_client.execute_command("AI.MODELSTORE", "c", "TORCH", "CPU", "BLOB", blob) == b"OK"


@pytest.mark.torch
def test_store_commands_work_inside_multi_and_lua(
    ai_server, ai_client: redis.Redis, linear
) -> None:
    # Inside MULTI or Lua a client cannot block, and the server's main thread must not wait
    # for a worker (its first model of a backend imports the backend: seconds): the stores
    # are answered at once and their objects loaded by a worker in the background.  So the
    # usual 5 s client timeout holds on a cold server (it did not while the main thread
    # waited, issue 19 section 2), and a blob that does not load fails its runs instead.
    c = redis.Redis(host=ai_server.host, port=ai_server.port, socket_timeout=5)
    blob, _ = linear
    pipe = c.pipeline(transaction=True)
    pipe.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    pipe.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    pipe.execute_command("AI.MODELSTORE", "bad", "TORCH", "CPU", "BLOB", b"junk")
    assert pipe.execute(raise_on_error=False) == [b"OK", b"OK", b"OK"]
    lua = "return redis.call('AI.SCRIPTSET', KEYS[1], 'CPU', 'SOURCE', ARGV[1])"
    assert c.eval(lua, 1, "s2", "def f(a):\n    return a\n") == b"OK"
    # runs (a long timeout: they wait for the background loads) behave as after a plain store
    c = redis.Redis(host=ai_server.host, port=ai_server.port, socket_timeout=300)
    tensorset(c, "x", np.ones((1, 10), np.float32))
    assert c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y") == b"OK"
    assert c.execute_command("AI.MODELGET", "m", "META")[11] == [b"x"]  # derived by the load
    load_error = error_of(c, "AI.MODELSTORE", "bad2", "TORCH", "CPU", "BLOB", b"junk")
    assert error_of(c, "AI.MODELEXECUTE", "bad", "INPUTS", 1, "x", "OUTPUTS", 1, "y") == load_error
    assert c.execute_command("AI.SCRIPTRUN", "s2", "f", "INPUTS", "x", "OUTPUTS", "z") == b"OK"
