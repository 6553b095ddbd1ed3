"""Worker processes inherit the server's environment, on every engine.

Valkey 8 loads modules with RTLD_DEEPBIND, under which the module's ``environ`` is libc's
unused copy (NULL): workers used to start with an empty environment there (no PATH, HOME,
CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS, SMARTSIM_AI_WORKER_SANDBOX ...).
"""

from __future__ import annotations

import os
import time

import psutil
import pytest

from smartsim_ai.testing.pytest_plugin import ENGINES


def _workers(server) -> list[psutil.Process]:  # type: ignore[no-untyped-def]
    found = []
    for proc in psutil.Process(server.proc.pid).children():
        try:
            if "smartsim_ai.worker" in " ".join(proc.cmdline()):
                found.append(proc)
        except psutil.Error:
            pass
    return found


def _wait_log(server, text: str, timeout: float = 60.0) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = server.log_text()
        if text in log:
            return log
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the server log:\n{server.log_text()[-3000:]}")


@pytest.mark.parametrize("engine", ENGINES)
def test_workers_see_the_servers_environment(ai_server_factory, engine: str) -> None:
    # the server inherits the test's environment (the autouse fixture restores it afterwards)
    os.environ["SMARTSIM_AI_ENV_PROBE"] = f"probe-{engine}"
    os.environ["SMARTSIM_AI_WORKER_SANDBOX"] = "0"
    server = ai_server_factory(engine)
    # the worker acts on a variable only the server's environment holds: its sandbox is off
    _wait_log(server, "NOT sandboxed: turned off by SMARTSIM_AI_WORKER_SANDBOX=0")
    workers = _workers(server)
    assert workers, "the CPU worker started at load is missing"
    for worker in workers:
        env = worker.environ()
        assert env.get("SMARTSIM_AI_ENV_PROBE") == f"probe-{engine}"
        assert env.get("PATH") == os.environ["PATH"]
