"""Scripts get no power over the server: ``redis.execute`` runs as the calling client's ACL
user and reaches data commands only (issue 14, docs/security.md), on both engines."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch

# Any command, from ARGS: the attacker's script.
ANY_COMMAND = """
def call(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute(args[0], args[1:])
    return tensors[0]

def model(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(args[0], tensors, 1)[0]
"""

PASSWORD = "pw-of-a-test-user"


def store_script(c: redis.Redis, key: str) -> None:
    c.execute_command(
        "AI.SCRIPTSTORE", key, "CPU", "ENTRY_POINTS", 2, "call", "model", "SOURCE", ANY_COMMAND
    )
    c.execute_command("AI.TENSORSET", "sim:x", "FLOAT", 1, 10, "VALUES", *range(10))


def call_through_script(c: redis.Redis, *command: object, script: str = "sim:s") -> object:
    """Run ``command`` with ``redis.execute`` inside the script; the reply, or the error."""
    try:
        return c.execute_command(
            "AI.SCRIPTEXECUTE", script, "call", "INPUTS", 1, "sim:x",
            "ARGS", len(command), *command, "OUTPUTS", 1, "sim:y",
        )  # fmt: skip
    except redis.ResponseError as exc:
        return exc


def refused(reply: object, name: str) -> bool:
    return isinstance(reply, redis.ResponseError) and str(reply) == (
        "Redis command returned an error: ERR scripts may not call "
        f"'{name}': only data commands are allowed (see the engine's docs/security.md)"
    )


@pytest.fixture
def acl_users(ai_client: redis.Redis) -> Iterator[list[str]]:
    """Names of ACL users the test creates; deleted afterwards (the server is shared)."""
    made: list[str] = []
    yield made
    for name in [*made, "pwn"]:
        ai_client.execute_command("ACL", "DELUSER", name)


def user_client(c: redis.Redis, users: list[str], *rules: str) -> redis.Redis:
    name = "u" + uuid.uuid4().hex[:8]
    c.execute_command("ACL", "SETUSER", name, "reset", "on", ">" + PASSWORD, *rules)
    users.append(name)
    kwargs = c.connection_pool.connection_kwargs
    return redis.Redis(host=kwargs["host"], port=kwargs["port"], username=name, password=PASSWORD)


def test_scripts_cannot_run_admin_commands(ai_client: redis.Redis, acl_users: list[str]) -> None:
    c = ai_client
    store_script(c, "sim:s")
    c.set("keep", "1")
    cases = [
        ("ACL", "SETUSER", "pwn", "on", ">pw", "+@all", "~*", "&*"),
        ("FLUSHALL",),
        ("FLUSHDB",),
        ("MODULE", "LIST"),
        ("MODULE", "LOAD", "/nonexistent/x.so"),
        ("CONFIG", "SET", "dir", "/tmp"),
        ("CONFIG", "GET", "dir"),
        ("DEBUG", "SLEEP", "0"),
        ("EVAL", "return 1", "0"),
        ("FUNCTION", "LIST"),
        ("SAVE",),
        ("CLIENT", "LIST"),
        ("SELECT", "1"),
        ("SWAPDB", "0", "1"),
        ("KEYS", "*"),
        ("MIGRATE", "127.0.0.1", "1", "keep", "0", "1"),
        ("RESTORE", "k", "0", "x"),
        ("AI.CONFIG", "BACKENDSPATH", "/tmp"),
        ("AI.MODELSTORE", "sim:m", "TORCH", "CPU", "BLOB", "x"),
    ]
    for command in cases:
        reply = call_through_script(c, *command)
        assert refused(reply, command[0].upper()), (command, reply)
    # lower case names are the same commands
    assert refused(call_through_script(c, "flushall"), "FLUSHALL")
    assert c.get("keep") == b"1"
    assert c.execute_command("ACL", "GETUSER", "pwn") is None
    assert c.config_get("dir")["dir"] != "/tmp"


def test_scripts_run_as_the_calling_user(ai_client: redis.Redis, acl_users: list[str]) -> None:
    c = ai_client
    store_script(c, "sim:s")
    c.set("other", "secret")
    # the user: AI commands only, keys sim:*
    ai_only = user_client(
        c, acl_users, "~sim:*", "+ai.scriptset", "+ai.scriptrun", "+ai.scriptexecute",
        "+ai.tensorset", "+ai.tensorget",
    )  # fmt: skip
    for command in [("SET", "sim:a", "1"), ("GET", "other"), ("DEL", "other")]:
        reply = call_through_script(ai_only, *command)
        assert isinstance(reply, redis.ResponseError), command
        assert str(reply).startswith("Redis command returned an error: NOPERM"), reply
        assert "(called from a script" in str(reply)
    assert refused(call_through_script(ai_only, "FLUSHALL"), "FLUSHALL")
    assert refused(
        call_through_script(ai_only, "ACL", "SETUSER", "pwn", "on", ">pw", "+@all", "~*", "&*"),
        "ACL",
    )
    # every command, keys sim:* only: data commands on its keys work, no other key is reachable
    data_user = user_client(c, acl_users, "~sim:*", "+@all")
    assert call_through_script(data_user, "SET", "sim:a", "1") == b"OK"
    assert c.get("sim:a") == b"1"
    for command in [("SET", "other", "x"), ("GET", "other"), ("DEL", "other"),
                    ("MSET", "sim:b", "1", "other", "2"), ("RENAME", "sim:a", "other")]:  # fmt: skip
        reply = call_through_script(data_user, *command)
        assert isinstance(reply, redis.ResponseError), command
        assert str(reply).startswith("Redis command returned an error: NOPERM"), reply
    # the same from a script op inside a DAG
    try:
        reply = data_user.execute_command(
            "AI.DAGEXECUTE", "LOAD", 1, "sim:x", "|>", "AI.SCRIPTEXECUTE", "sim:s", "call",
            "INPUTS", 1, "sim:x", "ARGS", 3, "SET", "other", "dag", "OUTPUTS", 1, "t",
        )  # fmt: skip
    except redis.ResponseError as exc:
        reply = exc
    message = " ".join(map(str, reply)) if isinstance(reply, list) else str(reply)
    assert "NOPERM User u" in message and "'SET'" in message, message
    assert c.get("other") == b"secret" and c.exists("sim:b") == 0
    # a model outside the user's keys is not reachable through redisAI.model_execute (the
    # key name comes from ARGS: the server checks KEYS itself)
    blob, _ = samples.torch_linear_bytes()
    c.execute_command("AI.MODELSTORE", "secret:m", "TORCH", "CPU", "BLOB", blob)
    with pytest.raises(redis.exceptions.NoPermissionError) as info:  # a NOPERM error
        data_user.execute_command(
            "AI.SCRIPTEXECUTE", "sim:s", "model", "INPUTS", 1, "sim:x", "ARGS", 1, "secret:m",
            "OUTPUTS", 1, "sim:y",
        )  # fmt: skip
    assert str(info.value).startswith("User u") and "'secret:m'" in str(info.value)
    c.execute_command("AI.MODELSTORE", "sim:m", "TORCH", "CPU", "BLOB", blob)
    reply = data_user.execute_command(
        "AI.SCRIPTEXECUTE", "sim:s", "model", "INPUTS", 1, "sim:x", "ARGS", 1, "sim:m",
        "OUTPUTS", 1, "sim:y",
    )  # fmt: skip
    assert reply == b"OK"
    # the default user (no ACL set up) keeps every data command
    assert call_through_script(c, "SET", "other", "y") == b"OK" and c.get("other") == b"y"
    ai_only.close()
    data_user.close()


MODULE_WITH_CONSTRUCTOR = r"""
#include <stdio.h>
__attribute__((constructor)) static void pwn(void) {
    FILE *f = fopen(MARKER, "w");
    if (f) { fputs("constructor ran in the server", f); fclose(f); }
}
"""


def test_module_load_through_a_script_is_impossible(ai_client: redis.Redis, tmp_path: Path) -> None:
    """The issue's attack: a .so whose constructor runs inside the server once loaded."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the test module")
    marker = tmp_path / "marker"
    src = tmp_path / "pwn.c"
    src.write_text(MODULE_WITH_CONSTRUCTOR)
    so = tmp_path / "pwn.so"
    subprocess.run(
        [cc, "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", str(so), str(src)], check=True
    )
    c = ai_client
    store_script(c, "sim:s")
    reply = call_through_script(c, "MODULE", "LOAD", str(so))
    assert refused(reply, "MODULE"), reply
    assert not marker.exists()
    # the client itself is refused MODULE LOAD by the server (enable-module-command no)
    with pytest.raises(redis.ResponseError):
        c.execute_command("MODULE", "LOAD", str(so))
    assert not marker.exists()


def test_shutdown_through_a_script_is_refused(ai_server_factory) -> None:  # type: ignore[no-untyped-def]
    server = ai_server_factory("valkey")
    c = redis.Redis(host=server.host, port=server.port)
    store_script(c, "sim:s")
    for command in [("SHUTDOWN", "NOSAVE"), ("REPLICAOF", "127.0.0.1", "1"), ("BGSAVE",)]:
        assert refused(call_through_script(c, *command), command[0]), command
    assert c.ping() and c.info("replication")["role"] == "master"
    c.close()


def test_data_commands_keep_working(ai_client: redis.Redis) -> None:
    """The allow-list covers the data types a simulation stores next to its tensors."""
    c = ai_client
    store_script(c, "sim:s")
    c.execute_command("AI.TENSORSET", "sim:t", "FLOAT", 2, "VALUES", 1, 2)
    cases: list[tuple[tuple[object, ...], object]] = [
        (("SET", "sim:k", "v"), b"OK"),
        (("GET", "sim:k"), b"OK"),
        (("HSET", "sim:h", "f", "1"), b"OK"),
        (("RPUSH", "sim:l", "a", "b"), b"OK"),
        (("SADD", "sim:set", "a"), b"OK"),
        (("ZADD", "sim:z", "1", "a"), b"OK"),
        (("XADD", "sim:st", "*", "f", "v"), b"OK"),
        (("EXPIRE", "sim:k", "100"), b"OK"),
        (("EXISTS", "sim:k"), b"OK"),
        (("SCAN", "0"), b"OK"),
        (("AI.TENSORGET", "sim:t", "VALUES"), b"OK"),
        (("AI.TENSORSET", "sim:t2", "FLOAT", "1", "VALUES", "3"), b"OK"),
        (("DEL", "sim:k"), b"OK"),
    ]
    for command, expected in cases:
        assert call_through_script(c, *command) == expected, command
    assert c.hget("sim:h", "f") == b"1" and c.lrange("sim:l", 0, -1) == [b"a", b"b"]
    assert c.exists("sim:t2") == 1 and c.exists("sim:k") == 0
