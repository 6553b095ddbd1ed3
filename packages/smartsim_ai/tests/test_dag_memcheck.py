"""A DAG's names under valgrind memcheck: an op's input and output names outlive its parse.

A DAG binds its ops' names once every op has parsed.  AI.SCRIPTRUN's parser collects its
inputs and outputs in a list of its own (they may sit around a "$" or a TIMEOUT), which it
freed once the op was built: the binding then read freed memory (it happened to hold the
names still).  Only memcheck shows such a read.  Real servers.
"""

from __future__ import annotations

import shutil

import pytest
import redis

from smartsim_ai.testing.memcheck import memcheck_client
from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.worker import samples

pytestmark = [
    pytest.mark.slow,
    pytest.mark.torch,
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed"),
]


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_scriptrun_names_are_read_after_the_parse(tmp_path, engine):
    with memcheck_client(
        engine_binary(engine), tmp_path, start_timeout=120, socket_timeout=300
    ) as c:
        c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
        c.execute_command("AI.TENSORSET", "a", "FLOAT", 2, "VALUES", 1, 2)
        # "b" is neither LOADed nor made by an earlier op: the binding reads both names
        dag = ["AI.DAGRUN", "LOAD", 1, "a", "PERSIST", 1, "y", "|>"]
        op = ["AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "a", "$", "b", "OUTPUTS", "y"]
        with pytest.raises(redis.ResponseError, match="INPUT key cannot be found in DAG"):
            c.execute_command(*dag, *op)
