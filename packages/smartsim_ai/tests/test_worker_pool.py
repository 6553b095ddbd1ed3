"""Several workers per device (THREADS_PER_QUEUE) serve concurrent clients correctly."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import redis

from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


def test_concurrent_clients_on_two_workers(ai_server_factory) -> None:
    import torch

    server = ai_server_factory(
        "valkey", module_args=["THREADS_PER_QUEUE", "2", "INTRA_OP_PARALLELISM", "1"]
    )
    c = redis.Redis(port=server.port)
    blob, module = samples.torch_linear_bytes()
    c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    rng = np.random.default_rng(9)
    inputs = [rng.random((i % 5 + 1, 10), dtype=np.float32) for i in range(40)]

    def one(i: int) -> np.ndarray:
        client = redis.Redis(port=server.port, socket_timeout=60)
        x = inputs[i]
        client.execute_command("AI.TENSORSET", f"x{i}", "FLOAT", *x.shape, "BLOB", x.tobytes())
        client.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, f"x{i}", "OUTPUTS", 1, f"y{i}")
        meta = client.execute_command("AI.TENSORGET", f"y{i}", "META", "BLOB")
        client.close()
        return np.frombuffer(meta[5], np.float32).reshape(meta[3])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(len(inputs))))
    for x, got in zip(inputs, results, strict=True):
        # atol: the worker (INTRA_OP_PARALLELISM 1) and this process (torch's default thread
        # count) may sum in another order; outputs near 0 then differ by float32 rounding.
        np.testing.assert_allclose(
            got, module(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
        )
    info = c.execute_command("AI.INFO", "m")
    assert info[15] == len(inputs)  # calls
    cpu = c.info("ai_cpu")
    assert "ai_queue_CPU_bthread_n1_used_cpu_total" in cpu
    assert "ai_queue_CPU_bthread_n2_used_cpu_total" in cpu
    config = c.info("ai_load_time_configs")
    assert config["ai_threads_per_queue"] == 2
