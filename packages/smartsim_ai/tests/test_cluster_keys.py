"""Key positions of every AI.* command, so cluster clients route them (3-shard Valkey cluster)."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import ClusterNode, RedisCluster


@pytest.fixture(scope="module")
def cluster_client(ai_cluster):
    node = ai_cluster.nodes[0]
    client = RedisCluster(startup_nodes=[ClusterNode(node.host, node.port)])
    yield client
    client.close()


@pytest.fixture(scope="module")
def node_client(ai_cluster):
    node = ai_cluster.nodes[0]
    client = redis.Redis(host=node.host, port=node.port)
    client.response_callbacks.pop("COMMAND", None)  # raw COMMAND INFO / GETKEYS replies
    yield client
    client.close()


def getkeys(client, *args) -> list[bytes]:
    return client.execute_command("COMMAND", "GETKEYS", *args)


def registered(client, name: str) -> bool:
    return client.execute_command("COMMAND", "INFO", name)[0] is not None


def test_command_info_flags_and_positions(node_client):
    info = {
        row[0]: row
        for row in node_client.execute_command(
            "COMMAND", "INFO", "ai.tensorset", "ai.tensorget", "ai.config"
        )
    }
    _name, _arity, flags, first, last, step = info[b"ai.tensorset"][:6]
    assert (first, last, step) == (1, 1, 1) and b"write" in flags and b"denyoom" in flags
    assert info[b"ai.tensorget"][3:6] == [1, 1, 1] and b"readonly" in info[b"ai.tensorget"][2]
    assert info[b"ai.config"][3:6] == [0, 0, 0]


def test_getkeys_tensor_commands(node_client):
    assert getkeys(node_client, "AI.TENSORSET", "t{a}", "FLOAT", 2, "VALUES", 1, 2) == [b"t{a}"]
    assert getkeys(node_client, "AI.TENSORGET", "t{a}", "META") == [b"t{a}"]
    with pytest.raises(redis.ResponseError):
        getkeys(node_client, "AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")


MOVING_KEYS = [
    (["AI.MODELEXECUTE", "m", "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c", "TIMEOUT", 5], [b"m", b"a", b"b", b"c"]),
    (["AI.MODELRUN", "m", "TIMEOUT", 5, "INPUTS", "a", "b", "OUTPUTS", "c"], [b"m", b"a", b"b", b"c"]),
    (["AI.SCRIPTEXECUTE", "s", "fn", "KEYS", 1, "k", "INPUTS", 2, "a", "b", "ARGS", 2, "x", "y",
      "OUTPUTS", 1, "o", "TIMEOUT", 9], [b"s", b"k", b"a", b"b", b"o"]),
    (["AI.SCRIPTRUN", "s", "fn", "INPUTS", "a", "$", "b", "OUTPUTS", "o"], [b"s", b"a", b"b", b"o"]),
    (["AI.DAGEXECUTE", "LOAD", 1, "a", "PERSIST", 1, "o", "ROUTING", "r", "TIMEOUT", 5, "|>",
      "AI.MODELEXECUTE", "m", "INPUTS", 1, "a", "OUTPUTS", 1, "o", "|>",
      "AI.SCRIPTEXECUTE", "s", "fn", "INPUTS", 1, "o", "OUTPUTS", 1, "p"], [b"a", b"o", b"r", b"m", b"s"]),
    (["AI.DAGEXECUTE_RO", "LOAD", 1, "a", "|>", "AI.TENSORGET", "a"], [b"a"]),
    (["AI.DAGRUN", "LOAD", 1, "a", "PERSIST", 1, "o", "|>", "AI.MODELRUN", "m", "INPUTS", "a",
      "OUTPUTS", "o"], [b"a", b"o", b"m"]),
    (["AI.DAGRUN_RO", "LOAD", 1, "a", "|>", "AI.SCRIPTRUN", "s", "fn", "INPUTS", "a", "OUTPUTS", "b"], [b"a", b"s"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "keys"), MOVING_KEYS, ids=[a[0][0] for a in MOVING_KEYS])
def test_getkeys_of_commands_with_moving_keys(node_client, args, keys):
    if not registered(node_client, args[0]):
        pytest.skip(f"{args[0]} is not registered (the execution layer is not linked in)")
    assert sorted(getkeys(node_client, *args)) == sorted(keys)


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (["AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", "x"], [b"m"]),
        (["AI.MODELGET", "m", "META"], [b"m"]),
        (["AI.MODELDEL", "m"], [b"m"]),
        (["AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "f", "SOURCE", "x"], [b"s"]),
        (["AI.SCRIPTGET", "s"], [b"s"]),
        (["AI.SCRIPTDEL", "s"], [b"s"]),
        (["AI.INFO", "m"], [b"m"]),
    ],
)
def test_getkeys_of_fixed_key_commands(node_client, args, keys):
    if not registered(node_client, args[0]):
        pytest.skip(f"{args[0]} is not registered (the execution layer is not linked in)")
    assert getkeys(node_client, *args) == keys


def test_cluster_client_routes_tensor_commands(cluster_client, ai_cluster):
    keys = [f"tensor-{i}" for i in range(30)]
    for i, key in enumerate(keys):
        assert cluster_client.execute_command("AI.TENSORSET", key, "INT32", 1, "VALUES", i) == b"OK"
    for i, key in enumerate(keys):
        assert cluster_client.execute_command("AI.TENSORGET", key, "VALUES") == [i]
    per_node = [redis.Redis(host=n.host, port=n.port).dbsize() for n in ai_cluster.nodes]
    assert sum(per_node) >= len(keys) and all(count > 0 for count in per_node)


def test_wrong_node_answers_moved(ai_cluster):
    clients = [redis.Redis(host=n.host, port=n.port) for n in ai_cluster.nodes]
    key = "moved-key"
    outcomes = []
    for c in clients:
        try:
            c.execute_command("AI.TENSORSET", key, "FLOAT", 1, "VALUES", 1)
            outcomes.append("ok")
        except redis.ResponseError as exc:
            outcomes.append(type(exc).__name__)  # redis-py maps "MOVED slot addr" to MovedError
        finally:
            c.close()
    assert sorted(outcomes) == ["MovedError", "MovedError", "ok"]


@pytest.mark.parametrize(
    "name",
    ["AI.MODELEXECUTE", "AI.MODELRUN", "AI.SCRIPTEXECUTE", "AI.SCRIPTRUN", "AI.DAGEXECUTE",
     "AI.DAGEXECUTE_RO", "AI.DAGRUN", "AI.DAGRUN_RO"],
)  # fmt: skip
def test_bare_command_on_a_cluster_node_is_an_error_not_a_crash(node_client, name):
    if not registered(node_client, name):
        pytest.skip(f"{name} is not registered (the execution layer is not linked in)")
    with pytest.raises(redis.ResponseError):
        node_client.execute_command(name)
    assert node_client.ping()
