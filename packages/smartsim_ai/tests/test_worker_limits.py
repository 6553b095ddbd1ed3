"""Limits that hold: device strings, the worker cap, idle reclaim, TIMEOUT at its deadline,
runaway runs, BACKEND_MEMORY_LIMIT across backends, thread defaults (issue 14)."""

from __future__ import annotations

import os
import threading
import time

import psutil
import pytest
import redis

from smartsim_ai.testing.processes import wait_for, worker_processes
from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch

ENDLESS = """
def endless(x):
    y = x
    while True:
        y = y + 1
    return y

def double(x):
    return x * 2
"""


def devices_of(server) -> list[str]:  # type: ignore[no-untyped-def]
    """The --device argument of every live worker, sorted."""
    out = []
    for p in worker_processes(server.proc.pid):
        try:
            cmd = p.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "--device" in cmd:  # not a child that is still being spawned (or already reaped)
            out.append(cmd[cmd.index("--device") + 1])
    return sorted(out)


def run_in_thread(port: int, *args: object) -> tuple[threading.Thread, list]:
    result: list = []

    def target() -> None:
        client = redis.Redis(port=port, socket_timeout=120)
        try:
            result.append(client.execute_command(*args))
        except redis.ResponseError as exc:
            result.append(exc)
        finally:
            client.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def busy_devices(server) -> list[str]:  # type: ignore[no-untyped-def]
    """Devices whose worker is running or runnable (the endless script), three looks in a row;
    an idle worker sleeps in its read.  (State, not CPU share: a loaded machine starves both.)"""
    seen: list[set[str]] = []
    for _ in range(3):
        now = set()
        for p in worker_processes(server.proc.pid):
            try:
                if p.status() == psutil.STATUS_RUNNING:
                    cmd = p.cmdline()
                    now.add(cmd[cmd.index("--device") + 1])
            except psutil.NoSuchProcess:
                pass
        seen.append(now)
        time.sleep(0.1)
    return sorted(set.intersection(*seen))


# ---------------------------------------------------------------- devices


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_bad_device_strings_are_refused_and_start_no_worker(ai_server_factory, engine) -> None:
    server = ai_server_factory(engine)
    c = redis.Redis(port=server.port, socket_timeout=60)
    wait_for(lambda: devices_of(server) == ["CPU"])
    blob, _ = samples.torch_linear_bytes()
    for device in ["X1", "TPU", "GPU1", "GPU:x", "CPU:-1", "GPU:1:2", "CPUfoo", "CPU:12345678"]:
        with pytest.raises(redis.ResponseError, match=r"^unsupported device"):
            c.execute_command("AI.SCRIPTSET", "s", device, "SOURCE", samples.SCRIPT)
        with pytest.raises(redis.ResponseError, match=r"^unsupported device"):
            c.execute_command(
                "AI.SCRIPTSTORE", "s", device, "ENTRY_POINTS", 1, "double", "SOURCE", ENDLESS
            )
        # MODELSET refuses strings over 10 characters while parsing, as RedisAI does
        with pytest.raises(redis.ResponseError, match=r"^(unsupported device|Invalid DEVICE)$"):
            c.execute_command("AI.MODELSET", "m", "TORCH", device, "BLOB", blob)
        with pytest.raises(redis.ResponseError, match=r"^Invalid DEVICE"):
            c.execute_command("AI.MODELSTORE", "m", "TORCH", device, "BLOB", blob)
    assert c.exists("s", "m") == 0
    # the valid spellings, any case, are accepted
    for device in ["cpu", "Cpu:1", "CPU:0"]:
        assert c.execute_command("AI.SCRIPTSET", "s", device, "SOURCE", samples.SCRIPT) == b"OK"
    assert c.execute_command("AI.MODELSET", "m", "TORCH", "cpu:2", "BLOB", blob) == b"OK"
    assert set(devices_of(server)) <= {"CPU", "CPU:0", "CPU:1", "CPU:2"}


def test_failed_store_leaves_no_new_worker(ai_server_factory) -> None:
    server = ai_server_factory("valkey")
    c = redis.Redis(port=server.port, socket_timeout=60)
    wait_for(lambda: devices_of(server) == ["CPU"])
    with pytest.raises(redis.ResponseError):
        c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU:3", "BLOB", b"not a model")
    with pytest.raises(redis.ResponseError):
        c.execute_command("AI.SCRIPTSET", "s", "CPU:4", "SOURCE", "def f(x):\n  return y\n")
    assert c.exists("m", "s") == 0
    wait_for(lambda: devices_of(server) == ["CPU"])
    # a store that works keeps its worker; deleting the last object of the device reclaims it
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU:4", "SOURCE", samples.SCRIPT) == b"OK"
    assert devices_of(server) == ["CPU", "CPU:4"]
    assert c.execute_command("AI.SCRIPTDEL", "s") == b"OK"
    wait_for(lambda: devices_of(server) == ["CPU"])


def test_a_store_sent_again_meets_the_same_worker(ai_server_factory) -> None:
    """The official SmartRedis clients re-send a command whose reply takes longer than 250 ms
    (SR_SOCKET_TIMEOUT), 1 s later; a failed store on a new device takes about a second (its
    worker's first import).  The second attempt must find that worker still running and get the
    error at once, not start another worker and time out again."""
    server = ai_server_factory("valkey")
    c = redis.Redis(port=server.port, socket_timeout=60)
    wait_for(lambda: devices_of(server) == ["CPU"])
    store = ["AI.MODELSTORE", "m", "TORCH", "CPU:3", "BLOB", b"not a model"]
    with pytest.raises(redis.ResponseError) as first:
        c.execute_command(*store)
    workers = {p.pid for p in worker_processes(server.proc.pid)}
    assert devices_of(server) == ["CPU", "CPU:3"]  # the device has no object, its worker stays
    time.sleep(1.0)  # SR_CMD_INTERVAL
    with pytest.raises(redis.ResponseError) as second:
        c.execute_command(*store)
    assert str(second.value) == str(first.value)
    assert {p.pid for p in worker_processes(server.proc.pid)} == workers
    wait_for(lambda: devices_of(server) == ["CPU"])  # and goes once the grace is over


def _queues(c: redis.Redis) -> list[str]:
    return sorted(str(k).split("_bthread")[0] for k in c.info("modules") if "_bthread_n" in str(k))


def test_many_device_strings_do_not_pile_up_queues(ai_server_factory) -> None:
    server = ai_server_factory("valkey")
    c = redis.Redis(port=server.port, socket_timeout=60)
    for n in range(4):  # each fails to compile; its queue is reused by the next device
        with pytest.raises(redis.ResponseError):
            c.execute_command("AI.SCRIPTSET", "s", f"CPU:{n}", "SOURCE", "def f(x):\n  return y\n")
        # the failed device's worker goes away asynchronously; its queue is free once it has
        wait_for(lambda: devices_of(server) == ["CPU"])
    assert len(_queues(c)) <= 2, _queues(c)


def test_workers_max_reclaims_idle_workers_then_refuses_clearly(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["WORKERS_MAX", "2", "RUN_TIMEOUT", "0"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
    for device in ["CPU", "CPU:1", "CPU:2"]:
        key = f"s{device}"
        assert c.execute_command("AI.SCRIPTSET", key, device, "SOURCE", ENDLESS) == b"OK"
        assert len(worker_processes(server.proc.pid)) <= 2
    # every device still runs: at the cap an idle worker of another device makes room
    for device in ["CPU", "CPU:1", "CPU:2", "CPU:1"]:
        reply = c.execute_command(
            "AI.SCRIPTRUN", f"s{device}", "double", "INPUTS", "x", "OUTPUTS", "y"
        )
        assert reply == b"OK"
        assert len(worker_processes(server.proc.pid)) <= 2
    # two endless runs hold both workers: a third device cannot get one and says why
    runs = [
        run_in_thread(
            server.port, "AI.SCRIPTRUN", f"s{d}", "endless", "INPUTS", "x", "OUTPUTS", "z"
        )
        for d in ["CPU", "CPU:1"]
    ]
    wait_for(lambda: busy_devices(server) == ["CPU", "CPU:1"])
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command("AI.SCRIPTRUN", "sCPU:2", "double", "INPUTS", "x", "OUTPUTS", "y")
    assert "WORKERS_MAX (2)" in str(info.value)
    assert len(worker_processes(server.proc.pid)) == 2
    for thread, _ in runs:
        assert thread.is_alive()


def test_idle_workers_are_reclaimed_and_restarted_on_demand(ai_server_factory) -> None:
    server = ai_server_factory("redis", module_args=["WORKER_IDLE_TIMEOUT", "1000"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT) == b"OK"
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
    wait_for(lambda: worker_processes(server.proc.pid) == [])
    wait_for(lambda: "idle for" in server.log_text())  # the line follows the kill
    reply = c.execute_command("AI.SCRIPTRUN", "s", "two_to_one", "INPUTS", "x", "x", "OUTPUTS", "y")
    assert reply == b"OK"
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "y", "VALUES")] == [2.0, 4.0]


# ---------------------------------------------------------------- TIMEOUT and runaway runs


@pytest.mark.parametrize("engine", ["valkey", "redis"])
def test_timeout_answers_at_its_deadline_behind_an_endless_script(
    ai_server_factory, engine
) -> None:
    server = ai_server_factory(engine, module_args=["RUN_TIMEOUT", "0"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", ENDLESS) == b"OK"
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
    thread, _ = run_in_thread(
        server.port, "AI.SCRIPTEXECUTE", "s", "endless", "INPUTS", 1, "x", "OUTPUTS", 1, "z"
    )
    wait_for(lambda: busy_devices(server) == ["CPU"])
    reply = c.execute_command(
        "AI.SCRIPTEXECUTE", "s", "double", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "TIMEOUT", 300
    )
    assert reply == b"TIMEDOUT"
    assert thread.is_alive()  # the endless run is still going: the reply did not wait for it
    assert c.exists("y") == 0
    assert c.execute_command("AI.INFO", "s")[11] == 0  # the timed-out request ran nothing


def test_runaway_script_is_cut_by_run_timeout_and_the_device_recovers(ai_server_factory) -> None:
    server = ai_server_factory("valkey", module_args=["RUN_TIMEOUT", "1500"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", ENDLESS) == b"OK"
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
    blob, _ = samples.torch_linear_bytes(2, 1)
    assert c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob) == b"OK"
    thread, result = run_in_thread(
        server.port, "AI.SCRIPTEXECUTE", "s", "endless", "INPUTS", 1, "x", "OUTPUTS", 1, "z"
    )
    # a model queued behind the runaway script runs once the script is cut
    reply = c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    assert reply == b"OK"
    thread.join(60)
    (error,) = result
    assert isinstance(error, redis.ResponseError)
    assert "RUN_TIMEOUT (1500 ms)" in str(error) and "restarted" in str(error)
    assert "ran past its time limit and was killed" in server.log_text()
    assert c.execute_command("AI.SCRIPTRUN", "s", "double", "INPUTS", "x", "OUTPUTS", "y") == b"OK"
    assert [float(v) for v in c.execute_command("AI.TENSORGET", "y", "VALUES")] == [2.0, 4.0]


def test_run_timeout_counts_the_whole_run_not_each_callback(ai_server_factory) -> None:
    # a script that keeps calling the server must still be cut at its deadline
    source = """
def chatty(x):
    y = x
    while True:
        redis.execute("EXISTS", ["k"])
        y = y + 1
    return y
"""
    server = ai_server_factory("valkey", module_args=["RUN_TIMEOUT", "1500"])
    c = redis.Redis(port=server.port, socket_timeout=60)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", source) == b"OK"
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 2, "VALUES", 1, 2)
    with pytest.raises(redis.ResponseError, match="RUN_TIMEOUT"):
        c.execute_command("AI.SCRIPTRUN", "s", "chatty", "INPUTS", "x", "OUTPUTS", "y")


# ---------------------------------------------------------------- memory limit, threads


@pytest.mark.onnx
def test_memory_limit_lets_every_backend_load_the_first_time(ai_server_factory) -> None:
    # redis: its workers inherit the test's PYTHONPATH (Valkey 8 hands them an empty environment)
    server = ai_server_factory("redis", module_args=["BACKEND_MEMORY_LIMIT", "512"])
    c = redis.Redis(port=server.port, socket_timeout=120)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT) == b"OK"
    blob, _ = samples.torch_linear_bytes(2, 1)
    assert c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob) == b"OK"
    onnx = samples.onnx_expand_model(4)
    assert c.execute_command("AI.MODELSTORE", "o", "ONNX", "CPU", "BLOB", onnx) == b"OK"
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 2, "VALUES", 1, 2)
    assert c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y") == b"OK"
    # the limit still holds after the last backend came in
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command("AI.SCRIPTRUN", "s", "hog", "INPUTS", "x", "OUTPUTS", "y")
    assert "memory" in str(info.value).lower() or "alloc" in str(info.value).lower()


def _intra_op_of(server) -> list[int]:  # type: ignore[no-untyped-def]
    out = []
    for p in worker_processes(server.proc.pid):
        cmd = p.cmdline()
        out.append(int(cmd[cmd.index("--intra-op") + 1]))
    return out


def test_thread_counts_default_from_cores_and_workers(ai_server_factory) -> None:
    cores = len(os.sched_getaffinity(0))
    server = ai_server_factory("valkey", module_args=["THREADS_PER_QUEUE", "2"])
    assert wait_for(lambda: len(worker_processes(server.proc.pid)) == 2)
    assert _intra_op_of(server) == [max(1, (cores - 1) // 2)] * 2
    # one worker: every core but the server's
    server1 = ai_server_factory("valkey")
    assert wait_for(lambda: len(worker_processes(server1.proc.pid)) == 1)
    assert _intra_op_of(server1) == [max(1, cores - 1)]
    # an explicit value is kept
    server2 = ai_server_factory(
        "valkey", module_args=["THREADS_PER_QUEUE", "2", "INTRA_OP_PARALLELISM", "3"]
    )
    assert wait_for(lambda: len(worker_processes(server2.proc.pid)) == 2)
    assert _intra_op_of(server2) == [3, 3]
