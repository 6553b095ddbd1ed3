"""AI.DAGEXECUTE / _RO and the deprecated AI.DAGRUN / _RO, both engines."""

from __future__ import annotations

import pytest
import redis

from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


def error_of(c: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command(*args)
    return str(info.value)


@pytest.fixture
def loaded(ai_client: redis.Redis) -> redis.Redis:
    c = ai_client
    c.execute_command(
        "AI.MODELSTORE", "two{d}", "TORCH", "CPU", "BLOB", samples.torch_two_outputs_bytes()
    )
    c.execute_command(
        "AI.SCRIPTSTORE", "s{d}", "CPU", "ENTRY_POINTS", 1, "ep", "SOURCE", samples.SCRIPT
    )
    c.execute_command("AI.TENSORSET", "a{d}", "FLOAT", 2, "VALUES", 1, 2)
    return c


def test_dag_chains_ops_with_local_names_and_persists(loaded: redis.Redis) -> None:
    c = loaded
    reply = c.execute_command(
        "AI.DAGEXECUTE", "LOAD", 1, "a{d}", "PERSIST", 1, "out{d}", "|>",
        "AI.TENSORSET", "b", "FLOAT", 2, "VALUES", 10, 20, "|>",
        "AI.MODELEXECUTE", "two{d}", "INPUTS", 2, "a{d}", "b", "OUTPUTS", 2, "s", "p", "|>",
        "AI.SCRIPTEXECUTE", "s{d}", "ep", "INPUTS", 2, "s", "p", "ARGS", 1, "2", "OUTPUTS", 2, "out{d}", "q", "|>",
        "AI.TENSORGET", "out{d}", "VALUES",
    )  # fmt: skip
    assert reply[:3] == [b"OK", b"OK", b"OK"]
    assert [float(v) for v in reply[3]] == [22.0, 44.0]
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "out{d}", "VALUES")] == [22.0, 44.0]
    assert c.exists("b", "s", "p", "q") == 0  # DAG-local names are never written
    # SSA: a name redefined later is seen in its new version by later ops only
    reply = c.execute_command(
        "AI.DAGEXECUTE_RO", "LOAD", 1, "a{d}", "|>",
        "AI.TENSORGET", "a{d}", "VALUES", "|>",
        "AI.TENSORSET", "a{d}", "FLOAT", 1, "VALUES", 7, "|>",
        "AI.TENSORGET", "a{d}", "VALUES",
    )  # fmt: skip
    assert [float(v) for v in reply[0]] == [1.0, 2.0] and [float(v) for v in reply[2]] == [7.0]


def test_dag_op_error_becomes_an_element_and_nothing_persists(loaded: redis.Redis) -> None:
    c = loaded
    reply = c.execute_command(
        "AI.DAGEXECUTE", "LOAD", 1, "a{d}", "PERSIST", 1, "r{d}", "|>",
        "AI.SCRIPTEXECUTE", "s{d}", "nope", "INPUTS", 1, "a{d}", "OUTPUTS", 1, "r{d}", "|>",
        "AI.TENSORGET", "r{d}", "VALUES",
    )  # fmt: skip
    assert isinstance(reply[0], redis.ResponseError) and "nope" in str(reply[0])
    assert reply[1] == b"NA"
    assert c.exists("r{d}") == 0


def test_dag_parse_errors(loaded: redis.Redis) -> None:
    c = loaded
    cases = [
        (("AI.DAGEXECUTE", "LOAD", 1, "a{d}", "|>"), "missing arguments for 'AI.DAGEXECUTE' command"),
        (("AI.DAGEXECUTE", "|>", "AI.TENSORGET", "a{d}", "VALUES", "x"), "AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords"),
        (("AI.DAGEXECUTE", "LOAD", 1, "a{d}", "FOO", "|>", "AI.TENSORGET", "a{d}"), "Invalid DAG command. Unexpected argument:  FOO"),
        (("AI.DAGEXECUTE", "LOAD", 1, "a{d}", "|>", "AI.MODELRUN", "two{d}", "INPUTS", "a{d}"), "Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command"),
        (("AI.DAGEXECUTE", "LOAD", 1, "a{d}", "|>", "AI.SET", "two{d}", "INPUTS", "a{d}"), "Unsupported command within DAG"),
        (("AI.DAGEXECUTE", "LOAD", 1, "a{d}", "|>", "AI.TENSORGET", "zz", "VALUES"), "INPUT key cannot be found in DAG"),
        (("AI.DAGEXECUTE", "LOAD", 1, "a{d}", "PERSIST", 1, "zz", "|>", "AI.TENSORGET", "a{d}"), "PERSIST key cannot be found in DAG"),
        (("AI.DAGEXECUTE_RO", "LOAD", 1, "a{d}", "|>", "AI.SCRIPTEXECUTE", "s{d}", "ep", "INPUTS", 1, "a{d}"), "AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG"),
        (("AI.DAGEXECUTE_RO", "PERSIST", 1, "a{d}", "|>", "AI.TENSORGET", "a{d}", "x"), "PERSIST cannot be specified in a read-only DAG"),
        (("AI.DAGEXECUTE", "LOAD", 1, "nokey", "|>", "AI.TENSORGET", "a{d}", "x"), "tensor key is empty or in a different shard"),
        (("AI.DAGRUN", "LOAD", 1, "a{d}", "|>", "AI.MODELEXECUTE", "two{d}"), "AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command"),
    ]  # fmt: skip
    for args, expected in cases:
        assert error_of(c, *args) == expected, args


def test_deprecated_dagrun_with_modelrun(loaded: redis.Redis) -> None:
    c = loaded
    reply = c.execute_command(
        "AI.DAGRUN", "LOAD", 1, "a{d}", "PERSIST", 1, "p{d}", "|>",
        "AI.MODELRUN", "two{d}", "INPUTS", "a{d}", "a{d}", "OUTPUTS", "s", "p{d}",
    )  # fmt: skip
    assert reply == [b"OK"]
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "p{d}", "VALUES")] == [1.0, 4.0]
