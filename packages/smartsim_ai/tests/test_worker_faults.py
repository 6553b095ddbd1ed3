"""Worker processes under faults: killed mid-run, runaway scripts, memory hogs, server death."""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil
import pytest
import redis

from smartsim_ai.testing.processes import wait_for, worker_processes
from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch


def setup_script(c: redis.Redis) -> None:
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT) == b"OK"
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)


def run_in_thread(port: int, *args: object) -> tuple[threading.Thread, list]:
    result: list = []

    def target() -> None:
        client = redis.Redis(port=port, socket_timeout=60)
        try:
            result.append(client.execute_command(*args))
        except redis.ResponseError as exc:
            result.append(exc)
        finally:
            client.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def busy_worker(server) -> psutil.Process:  # type: ignore[no-untyped-def]
    """The worker running a request: runnable at three looks in a row (an idle one sleeps in its
    read).  Its state, not its CPU share, which a loaded machine starves."""

    def running(proc: psutil.Process) -> bool:
        try:
            return proc.status() == psutil.STATUS_RUNNING
        except psutil.Error:
            return False

    def find() -> psutil.Process | None:
        for proc in worker_processes(server.proc.pid, zombies=True):
            looks = []
            for _ in range(3):
                looks.append(running(proc))
                time.sleep(0.05)
            if all(looks):
                return proc
        return None

    return wait_for(find)


def test_killed_worker_fails_the_waiting_client_and_is_restarted(ai_server_factory) -> None:
    server = ai_server_factory("valkey")
    c = redis.Redis(port=server.port, socket_timeout=60)
    setup_script(c)
    thread, result = run_in_thread(
        server.port, "AI.SCRIPTRUN", "s", "spin", "INPUTS", "x", "OUTPUTS", "y"
    )
    victim = busy_worker(server)
    os.kill(victim.pid, signal.SIGKILL)
    thread.join(30)
    assert not thread.is_alive()
    (error,) = result
    assert isinstance(error, redis.ResponseError)
    assert "died (killed by signal 9)" in str(error) and "restarted" in str(error)
    # a fresh worker replaced it, the data is intact, the next run works
    assert wait_for(
        lambda: [p for p in worker_processes(server.proc.pid, zombies=True) if p.pid != victim.pid]
    )
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "x", "VALUES")] == [1.0, 2.0]
    reply = c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "x", "x", "OUTPUTS", "y")
    assert reply == b"OK"
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "y", "VALUES")] == [2.0, 4.0]
    assert c.exists("y") == 1
    log = server.log_text()
    assert f"worker process {victim.pid} for device CPU killed by signal 9" in log
    assert "backend TORCHSCRIPT loaded in" in log  # workers log into the server's log


def test_execution_timeout_bounds_a_runaway_script(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["MODEL_EXECUTION_TIMEOUT", "1000"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    setup_script(c)
    with pytest.raises(redis.ResponseError, match="MODEL_EXECUTION_TIMEOUT"):
        c.execute_command("AI.SCRIPTRUN", "s", "spin", "INPUTS", "x", "OUTPUTS", "y")
    assert (
        c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "x", "x", "OUTPUTS", "y")
        == b"OK"
    )
    assert c.execute_command("AI.INFO", "s")[17] == 1  # one error recorded


def test_load_timeout_bounds_a_slow_model_load(ai_server_factory) -> None:
    # a fresh worker imports torch on its first TORCH load: far longer than 50 ms
    server = ai_server_factory("valkey", module_args=["MODEL_LOAD_TIMEOUT", "50"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    blob, _ = samples.torch_linear_bytes()
    with pytest.raises(redis.ResponseError, match="longer than MODEL_LOAD_TIMEOUT \\(50 ms\\)"):
        c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    assert c.exists("m") == 0  # nothing half-stored
    assert c.ping()
    assert "ran past its time limit and was killed" in server.log_text()
    assert wait_for(lambda: len(worker_processes(server.proc.pid, zombies=True)) == 1)  # restarted


def test_memory_limit_bounds_a_memory_hog(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["BACKEND_MEMORY_LIMIT", "256"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    setup_script(c)
    # the hog needs 800 MB: more than the limit, less than this machine has
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command("AI.SCRIPTRUN", "s", "hog", "INPUTS", "x", "OUTPUTS", "y")
    assert "alloc" in str(info.value).lower() or "memory" in str(info.value).lower()
    assert server.is_running()
    assert (
        c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "x", "x", "OUTPUTS", "y")
        == b"OK"
    )


def test_workers_start_at_load_and_die_with_the_server(ai_server_factory) -> None:
    server = ai_server_factory("redis", module_args=["THREADS_PER_QUEUE", "2"])
    workers = wait_for(
        lambda: (
            len(worker_processes(server.proc.pid, zombies=True)) == 2
            and worker_processes(server.proc.pid, zombies=True)
        )
    )
    pids = [p.pid for p in workers]
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)

    def all_gone() -> bool:
        return not any(
            psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids
        )

    assert wait_for(all_gone)


def test_bad_python_is_reported_not_hung(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["WORKER_PYTHON", "/nonexistent/python"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    with pytest.raises(redis.ResponseError, match="cannot start the worker /nonexistent/python"):
        c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    assert c.ping()


def test_worker_that_cannot_start_is_explained(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["WORKER_PYTHON", "/bin/false"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    with pytest.raises(redis.ResponseError, match="exited before answering") as info:
        c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    assert "/bin/false can import smartsim_ai" in str(info.value)
    assert c.ping()


def test_client_disconnecting_mid_run_is_harmless(ai_server_factory) -> None:
    server = ai_server_factory("redis", module_args=["MODEL_EXECUTION_TIMEOUT", "1000"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    setup_script(c)
    import socket

    raw = socket.create_connection((server.host, server.port))
    args = [b"AI.SCRIPTRUN", b"s", b"spin", b"INPUTS", b"x", b"OUTPUTS", b"gone"]
    raw.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
    busy_worker(server)
    raw.close()  # the client leaves while its script runs; the run is then cut by the timeout
    wait_for(lambda: int(c.info("clients")["blocked_clients"]) == 0)
    assert c.exists("gone") == 0
    assert (
        c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "x", "x", "OUTPUTS", "y")
        == b"OK"
    )


@pytest.mark.onnx
def test_onnx_run_past_the_memory_limit_fails_with_redisai_text(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["BACKEND_MEMORY_LIMIT", "256"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    c.execute_command("AI.MODELSTORE", "small", "ONNX", "CPU", "BLOB", samples.onnx_expand_model(4))
    # 800 MB output: more than the limit, less than this machine has
    c.execute_command(
        "AI.MODELSTORE", "big", "ONNX", "CPU", "BLOB", samples.onnx_expand_model(200_000_000)
    )
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 3)
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command("AI.MODELEXECUTE", "big", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    assert str(info.value) == "Onnxruntime memory limit exceeded, memory allocation failed."
    assert (
        c.execute_command("AI.MODELEXECUTE", "small", "INPUTS", 1, "x", "OUTPUTS", 1, "y") == b"OK"
    )
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "y", "VALUES")] == [3.0] * 4
