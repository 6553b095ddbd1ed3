"""Models, scripts and DAGs in a 3-shard cluster: hash-tagged keys are routed by the client
through the module's key positions, and every shard runs its own workers."""

from __future__ import annotations

import numpy as np
import pytest

from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


def test_models_scripts_and_dags_on_every_shard(ai_cluster) -> None:
    from redis.cluster import ClusterNode, RedisCluster

    node = ai_cluster.nodes[0]
    c = RedisCluster(startup_nodes=[ClusterNode(node.host, node.port)])
    blob, module = samples.torch_linear_bytes()
    import torch

    # tags chosen to land on different shards
    tags = ["a", "b", "c", "d", "e", "f"]
    shards = {c.get_node_from_key(f"{{{t}}}").port for t in tags}
    assert len(shards) == 3
    x = np.random.default_rng(4).random((2, 10), dtype=np.float32)
    for t in tags:
        model, script, xin = f"{{{t}}}.m", f"{{{t}}}.s", f"{{{t}}}.x"
        assert c.execute_command("AI.MODELSTORE", model, "TORCH", "CPU", "BLOB", blob) == b"OK"
        assert c.execute_command("AI.SCRIPTSET", script, "CPU", "SOURCE", samples.SCRIPT) == b"OK"
        c.execute_command("AI.TENSORSET", xin, "FLOAT", 2, 10, "BLOB", x.tobytes())
        out = f"{{{t}}}.y"
        reply = c.execute_command("AI.MODELEXECUTE", model, "INPUTS", 1, xin, "OUTPUTS", 1, out)
        assert reply == b"OK"
        got = np.frombuffer(c.execute_command("AI.TENSORGET", out, "BLOB"), np.float32)
        np.testing.assert_allclose(
            got.reshape(2, 1), module(torch.from_numpy(x)).detach().numpy(), rtol=1e-6
        )
        reply = c.execute_command(
            "AI.SCRIPTRUN", script, "two_to_one", "INPUTS", xin, xin, "OUTPUTS", f"{{{t}}}.z"
        )
        assert reply == b"OK"
        reply = c.execute_command(
            "AI.DAGEXECUTE", "LOAD", 1, xin, "PERSIST", 1, f"{{{t}}}.w", "|>",
            "AI.MODELEXECUTE", model, "INPUTS", 1, xin, "OUTPUTS", 1, f"{{{t}}}.w",
        )  # fmt: skip
        assert reply == [b"OK"]
    c.close()
