"""AI.SCRIPTSTORE/SCRIPTSET/SCRIPTGET/SCRIPTDEL/SCRIPTEXECUTE/SCRIPTRUN with TorchScript, both engines."""

from __future__ import annotations

import pytest
import redis

from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


def values(c: redis.Redis, key: str) -> list[float]:
    return [float(v) for v in c.execute_command("AI.TENSORGET", key, "VALUES")]


def error_of(c: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command(*args)
    return str(info.value)


def test_scriptset_and_scriptrun_as_smartredis_sends_them(ai_client: redis.Redis) -> None:
    c = ai_client
    assert (
        c.execute_command("AI.SCRIPTSET", "s", "CPU", "TAG", "t", "SOURCE", samples.SCRIPT) == b"OK"
    )
    assert c.execute_command("AI.SCRIPTGET", "s", "SOURCE") == samples.SCRIPT.encode()
    assert c.execute_command("AI.SCRIPTGET", "s", "META") == [
        b"device",
        b"CPU",
        b"tag",
        b"t",
        b"Entry Points",
        [],
    ]
    full = c.execute_command("AI.SCRIPTGET", "s")
    assert len(full) == 8 and full[7] == samples.SCRIPT.encode()
    c.execute_command("AI.TENSORSET", "m", "FLOAT", 2, 3, "VALUES", 1, 5, 2, 7, 0, 3)
    assert (
        c.execute_command("AI.SCRIPTRUN", "s", "one_to_one", "INPUTS", "m", "OUTPUTS", "o") == b"OK"
    )
    assert values(c, "o") == [5.0, 7.0]
    c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "m", "m", "OUTPUTS", "sum")
    assert values(c, "sum") == [2.0, 10.0, 4.0, 14.0, 0.0, 6.0]
    # List[Tensor] swallows the rest; `$` is only a marker
    c.execute_command(
        "AI.SCRIPTRUN", "s", "concat_all", "INPUTS", "$", "m", "m", "m", "OUTPUTS", "cat"
    )
    assert c.execute_command("AI.TENSORGET", "cat", "META")[3] == [6, 3]
    c.execute_command(
        "AI.SCRIPTRUN", "s", "first_and_rest", "INPUTS", "m", "m", "m", "OUTPUTS", "fr"
    )
    assert values(c, "fr") == [2 * v for v in values(c, "m")]
    info = c.execute_command("AI.INFO", "s")
    assert info[3] == b"SCRIPT" and info[13] == -1 and info[15] == 4
    assert [b"s", b"t"] in c.execute_command("AI._SCRIPTSCAN")
    assert (
        error_of(c, "AI.SCRIPTRUN", "s", "nope", "INPUTS", "m", "OUTPUTS", "o")
        == "Function does not exist: nope"
    )
    assert c.execute_command("AI.SCRIPTDEL", "s") == b"OK"
    assert error_of(c, "AI.SCRIPTGET", "s") == "script key is empty"


def test_scriptstore_entry_points_and_scriptexecute(ai_client: redis.Redis) -> None:
    c = ai_client
    reply = c.execute_command(
        "AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "ep", "SOURCE", samples.SCRIPT
    )
    assert reply == b"OK"
    assert c.execute_command("AI.SCRIPTGET", "s", "META")[5] == [b"ep"]
    c.execute_command("AI.TENSORSET", "a", "FLOAT", 2, "VALUES", 1, 2)
    c.execute_command("AI.TENSORSET", "b", "FLOAT", 1, "VALUES", 9)
    reply = c.execute_command(
        "AI.SCRIPTEXECUTE", "s", "ep", "KEYS", 1, "a", "INPUTS", 2, "a", "b", "ARGS", 1, "3",
        "OUTPUTS", 2, "x", "y", "TIMEOUT", 1000,
    )  # fmt: skip
    assert reply == b"OK"
    assert values(c, "x") == [3.0, 6.0] and values(c, "y") == [9.0]
    bad = error_of(
        c, "AI.SCRIPTSTORE", "s2", "CPU", "ENTRY_POINTS", 1, "two_to_one", "SOURCE", samples.SCRIPT
    )
    assert bad == "Wrong number of inputs in function two_to_one. Expected 3 but was 2"
    assert (
        error_of(
            c, "AI.SCRIPTSTORE", "s2", "CPU", "ENTRY_POINTS", 1, "missing", "SOURCE", samples.SCRIPT
        )
        == "Function missing does not exist in the given script."
    )
    assert c.exists("s2") == 0


def test_script_parse_errors_reply_at_once(ai_client: redis.Redis) -> None:
    c = ai_client
    c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    c.execute_command("AI.TENSORSET", "a", "FLOAT", 1, "VALUES", 1)
    cases = [
        (("AI.SCRIPTEXECUTE", "s"), "wrong number of arguments for 'AI.SCRIPTEXECUTE' command"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "ARGS", 1, "3"), "KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "INPUTS", 1, "a"), "Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 2, "a"), "number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", "x", "a"), "Invalid argument for inputs count in AI.SCRIPTEXECUTE"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "KEYS", 0, "a"), "Invalid or negative value found in number of KEYS"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "FOO"), "Invalid AI.SCRIPTEXECUTE command. Unexpected argument: FOO"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT"), "No value provided for TIMEOUT in AI.SCRIPTEXECUTE"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "a", "TIMEOUT", 5, "x"), "Encountered problem parsing AI.SCRIPTEXECUTE"),
        (("AI.SCRIPTEXECUTE", "s", "ep", "INPUTS", 1, "missing"), "tensor key is empty or in a different shard"),
        (("AI.SCRIPTRUN", "s", "f", "a", "INPUTS", "a"), "Unrecongnized parameter to SCRIPTRUN"),
        (("AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "INPUTS", "a"), "Already encountered an INPUTS keyword in SCRIPTRUN"),
        (("AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "OUTPUTS", "b", "INPUTS"), "Already encountered an INPUTS section in SCRIPTRUN"),
        (("AI.SCRIPTRUN", "s", "f", "INPUTS", "a", "OUTPUTS", "$"), "Encountered a variable size list of tensors outside of input section"),
        (("AI.SCRIPTRUN", "nokey", "f", "INPUTS", "a"), "script key is empty"),
        (("AI.SCRIPTSET", "s2", "CPU", "SOURCE"), "wrong number of arguments for 'AI.SCRIPTSET' command"),
        (("AI.SCRIPTSTORE", "s2", "CPU", "TAG", "t", "SOURCE", "x", "y"), "Insufficient arguments, missing script entry points"),
        (("AI.SCRIPTSTORE", "s2", "CPU", "ENTRY_POINTS", "x", "f", "SOURCE", "src"), "Non numeric entry points number provided to AI.SCRIPTSTORE command"),
    ]  # fmt: skip
    for args, expected in cases:
        assert error_of(c, *args) == expected, args


def test_compile_error_is_one_line_and_stores_nothing(ai_client: redis.Redis) -> None:
    c = ai_client
    message = error_of(c, "AI.SCRIPTSET", "bad", "CPU", "SOURCE", "def f(a):\n    return a +\n")
    assert message and "\n" not in message
    assert c.exists("bad") == 0


CALLBACKS = """
def store(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])
    v = redis.execute("GET", [keys[0]])
    redis.execute("RPUSH", keys[1], "a", "b")
    items = redis.asList(redis.execute("LRANGE", keys[1], "0", "-1"))
    return tensors[0] * int(str(v)) + len(items)

def incr(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("INCR", keys[0])
    return tensors[0]

def run_model(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], tensors, 1)[0]

def nested(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("AI.MODELEXECUTE", keys[0], "INPUTS", "1", keys[1], "OUTPUTS", "1", keys[2])
    return tensors[0]
"""


def test_scripts_call_back_into_the_server(ai_client: redis.Redis) -> None:
    c = ai_client
    eps = ["store", "incr", "run_model", "nested"]
    c.execute_command("AI.SCRIPTSTORE", "s{t}", "CPU", "ENTRY_POINTS", 4, *eps, "SOURCE", CALLBACKS)
    c.execute_command("AI.TENSORSET", "x{t}", "FLOAT", 1, 10, "VALUES", *range(10))
    reply = c.execute_command(
        "AI.SCRIPTEXECUTE", "s{t}", "store", "KEYS", 2, "k{t}", "l{t}", "INPUTS", 1, "x{t}",
        "ARGS", 1, "3", "OUTPUTS", 1, "y{t}",
    )  # fmt: skip
    assert reply == b"OK"
    assert c.get("k{t}") == b"3" and c.lrange("l{t}", 0, -1) == [b"a", b"b"]
    assert values(c, "y{t}") == [3.0 * i + 2 for i in range(10)]
    c.set("k{t}", "not a number")
    message = error_of(
        c,
        "AI.SCRIPTEXECUTE",
        "s{t}",
        "incr",
        "KEYS",
        1,
        "k{t}",
        "INPUTS",
        1,
        "x{t}",
        "OUTPUTS",
        1,
        "y{t}",
    )
    assert message == "Redis command returned an error: ERR value is not an integer or out of range"

    blob, _ = samples.torch_linear_bytes()
    c.execute_command("AI.MODELSTORE", "m{t}", "TORCH", "CPU", "BLOB", blob)
    reply = c.execute_command(
        "AI.SCRIPTEXECUTE",
        "s{t}",
        "run_model",
        "KEYS",
        1,
        "m{t}",
        "INPUTS",
        1,
        "x{t}",
        "OUTPUTS",
        1,
        "z{t}",
    )
    assert reply == b"OK"
    c.execute_command("AI.MODELEXECUTE", "m{t}", "INPUTS", 1, "x{t}", "OUTPUTS", 1, "direct{t}")
    assert values(c, "z{t}") == values(c, "direct{t}")
    message = error_of(
        c,
        "AI.SCRIPTEXECUTE",
        "s{t}",
        "run_model",
        "KEYS",
        1,
        "nope{t}",
        "INPUTS",
        1,
        "x{t}",
        "OUTPUTS",
        1,
        "z{t}",
    )
    assert message == "model key is empty"
    # a run command from inside a script cannot block: refused (Redis 7.0 would abort)
    message = error_of(
        c, "AI.SCRIPTEXECUTE", "s{t}", "nested", "KEYS", 3, "m{t}", "x{t}", "o{t}",
        "INPUTS", 1, "x{t}", "OUTPUTS", 1, "z{t}",
    )  # fmt: skip
    assert message == (
        "Redis command returned an error: "
        "ERR Cannot run RedisAI command within a transaction or a LUA script"
    )
    assert c.ping() and c.exists("o{t}") == 0
