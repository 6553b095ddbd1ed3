"""How the client is layered (see the README, "How the client is layered"): the mixins choose
commands built in ``_commands`` and never ask which executor they have; the transport owns
its sockets (no redis-py); both readers return one error-reply type."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import smartredis
from smartredis import _commands as cmd
from smartredis._transport.base import buffer_reader, hiredis_reader
from smartredis._transport.replies import ReplyError, raise_for_reply
from smartredis.error import RedisRuntimeError

CLIENT_DIR = Path(smartredis.__file__).parent / "_client"


def _mixin_trees() -> list[tuple[Path, ast.AST]]:
    files = sorted(CLIENT_DIR.glob("*.py"))
    assert len(files) >= 7, files  # the mixins are where this test thinks they are
    return [(f, ast.parse(f.read_text(), str(f))) for f in files]


def test_mixins_build_no_command_inline() -> None:
    """A list literal starting with an upper-case verb (``["DEL", key]``) is a command built
    outside ``_commands``."""
    found = []
    for path, tree in _mixin_trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.List) and node.elts:
                first = node.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    if first.value.isupper() and first.value.replace(".", "").isalpha():
                        found.append(f"{path.name}:{node.lineno} {first.value}")
    assert found == []


def test_mixins_do_not_ask_which_executor_they_have() -> None:
    """No ``isinstance(..., ClusterExecutor/StandaloneExecutor)`` and no import of either."""
    found = []
    for path, tree in _mixin_trees():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Name)
                and node.id.endswith("Executor")
                and node.id != "Executor"
            ):
                found.append(f"{path.name}:{node.lineno} {node.id}")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in ("ClusterExecutor", "StandaloneExecutor", "Node", "Shard"):
                        found.append(f"{path.name}:{node.lineno} imports {alias.name}")
    assert found == []


def test_importing_the_client_does_not_import_redis_py() -> None:
    """The transport has its own connections: redis-py is a test dependency only."""
    code = "import sys, smartredis; print('redis' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize("reader", [hiredis_reader, buffer_reader], ids=["hiredis", "in-place"])
def test_both_readers_return_the_one_error_type(client, reader) -> None:
    node = client._executor.nodes[0]
    client.put_tensor("t", np.arange(3, dtype=np.float32))
    replies = node.pipeline([["NOSUCHCOMMAND", "x"], cmd.tensorget("t"), cmd.exists("t")], reader)
    error = replies[0]
    assert type(error) is ReplyError
    assert str(error).startswith("ERR unknown command 'NOSUCHCOMMAND'")
    assert replies[2] == 1  # the replies after an error are read in step
    with pytest.raises(RedisRuntimeError, match="Redis error when executing command: ERR unknown"):
        raise_for_reply(error)


def test_cluster_plans_runs_through_temporaries_on_the_first_inputs_shard(cluster_client) -> None:
    ex = cluster_client._executor
    plan = ex.run_plan("m", ["a", "b"], ["y"])
    shard = ex.shard_for_key("a")
    assert plan.key == shard.tag("m")
    assert plan.inputs == [shard.tag("a.TMP"), shard.tag("b.TMP")]
    assert plan.copy_in == [("a", shard.tag("a.TMP")), ("b", shard.tag("b.TMP"))]
    assert plan.copy_out == [(shard.tag("y.TMP"), "y")]
    assert plan.temporary == [shard.tag("y.TMP"), shard.tag("a.TMP"), shard.tag("b.TMP")]
    assert ex.model_copies("m") == [s.tag("m") for s in ex.shards]
    assert ex.delete_verb == "UNLINK"


def test_standalone_runs_in_place(client) -> None:
    ex = client._executor
    plan = ex.run_plan("m", ["a"], ["y"])
    assert (plan.key, plan.inputs, plan.outputs, plan.temporary) == ("m", ["a"], ["y"], [])
    assert ex.model_copies("m") == ["m"] and ex.delete_verb == "DEL"
