"""Auto-batching: BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT with RedisAI's rules."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import redis
import torch

from smartsim_ai.testing.processes import wait_for
from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


def blocked_clients(c: redis.Redis) -> int:
    return int(c.info("clients")["blocked_clients"])


def run_async(port: int, *args: object) -> tuple[threading.Thread, list]:
    out: list = []

    def target() -> None:
        client = redis.Redis(port=port, socket_timeout=60)
        try:
            out.append(client.execute_command(*args))
        except redis.ResponseError as exc:
            out.append(exc)
        finally:
            client.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def test_minbatchsize_holds_requests_until_the_batch_is_full(ai_server, ai_client) -> None:
    c = ai_client
    blob, module = samples.torch_linear_bytes()
    c.execute_command(
        "AI.MODELSTORE", "m", "TORCH", "CPU", "BATCHSIZE", 4, "MINBATCHSIZE", 3, "BLOB", blob
    )
    rng = np.random.default_rng(3)
    xs = [rng.random((n, 10), dtype=np.float32) for n in (1, 2)]
    for i, x in enumerate(xs):
        c.execute_command("AI.TENSORSET", f"x{i}", "FLOAT", *x.shape, "BLOB", x.tobytes())
    first, out0 = run_async(
        ai_server.port, "AI.MODELEXECUTE", "m", "INPUTS", 1, "x0", "OUTPUTS", 1, "y0"
    )
    wait_for(lambda: blocked_clients(c) == 1)
    time.sleep(0.3)
    assert out0 == [] and c.exists("y0") == 0  # 1 sample < MINBATCHSIZE 3: still waiting
    second, out1 = run_async(
        ai_server.port, "AI.MODELEXECUTE", "m", "INPUTS", 1, "x1", "OUTPUTS", 1, "y1"
    )
    first.join(30)
    second.join(30)
    assert out0 == [b"OK"] and out1 == [b"OK"]
    for i, x in enumerate(xs):
        meta = c.execute_command("AI.TENSORGET", f"y{i}", "META", "BLOB")
        got = np.frombuffer(meta[5], np.float32).reshape(meta[3])
        np.testing.assert_allclose(got, module(torch.from_numpy(x)).detach().numpy(), rtol=1e-5)
    info = c.execute_command("AI.INFO", "m")
    assert info[13] == 3 and info[15] == 2  # samples, calls


def test_minbatchtimeout_releases_a_lonely_request(ai_client) -> None:
    c = ai_client
    blob, _ = samples.torch_linear_bytes()
    c.execute_command(
        "AI.MODELSTORE", "m", "TORCH", "CPU", "BATCHSIZE", 8, "MINBATCHSIZE", 4,
        "MINBATCHTIMEOUT", 200, "BLOB", blob,
    )  # fmt: skip
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 10)
    assert c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y") == b"OK"
    assert c.execute_command("AI.TENSORGET", "y", "META")[3] == [1, 1]
    meta = c.execute_command("AI.MODELGET", "m", "META")
    assert meta[7] == 8 and meta[9] == 4 and meta[15] == 200


def test_request_at_least_batchsize_bypasses_batching(ai_client) -> None:
    c = ai_client
    blob, _ = samples.torch_linear_bytes()
    c.execute_command(
        "AI.MODELSTORE", "m", "TORCH", "CPU", "BATCHSIZE", 2, "MINBATCHSIZE", 2, "BLOB", blob
    )
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 5, 10)
    assert c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y") == b"OK"
    assert c.execute_command("AI.TENSORGET", "y", "META")[3] == [5, 1]


def test_timeout_applies_while_waiting_for_a_batch(ai_client) -> None:
    c = ai_client
    blob, _ = samples.torch_linear_bytes()
    c.execute_command(
        "AI.MODELSTORE", "m", "TORCH", "CPU", "BATCHSIZE", 4, "MINBATCHSIZE", 4, "BLOB", blob
    )
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 10)
    reply = c.execute_command(
        "AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", 100
    )
    assert reply == b"TIMEDOUT"
    assert c.exists("y") == 0


def test_dag_model_ops_join_batches(ai_server, ai_client) -> None:
    c = ai_client
    blob, module = samples.torch_linear_bytes()
    c.execute_command(
        "AI.MODELSTORE", "m", "TORCH", "CPU", "BATCHSIZE", 4, "MINBATCHSIZE", 2, "BLOB", blob
    )
    x = np.random.default_rng(8).random((1, 10), dtype=np.float32)
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 10, "BLOB", x.tobytes())
    dag = (
        "AI.DAGEXECUTE", "LOAD", 1, "x", "|>",
        "AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "|>",
        "AI.TENSORGET", "y", "BLOB",
    )  # fmt: skip
    first, out0 = run_async(ai_server.port, *dag)
    wait_for(lambda: blocked_clients(c) == 1)
    time.sleep(0.3)
    assert out0 == []  # held: 1 sample < MINBATCHSIZE 2
    second, out1 = run_async(ai_server.port, *dag)  # completes the MINBATCHSIZE 2 batch
    first.join(30)
    second.join(30)
    expected = module(torch.from_numpy(x)).detach().numpy().tobytes()
    assert out0 == [[b"OK", expected]] and out1 == [[b"OK", expected]]
    assert c.execute_command("AI.INFO", "m")[13] == 2  # samples
