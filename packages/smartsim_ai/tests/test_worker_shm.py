"""Big tensors through shared memory (SHM_THRESHOLD), against real servers on both engines.

Tensors of SHM_THRESHOLD bytes (256 KB by default) and more travel between the module and its
worker through two memfd regions per worker instead of the socket.  These tests check that the
bytes are the same as the socket path gives at, below and above the threshold, that a worker
killed mid-run leaves no half-written output, and that nothing leaks (fds, mappings, pages).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import psutil
import pytest
import redis

from smartsim_ai.testing.processes import wait_for, worker_processes
from smartsim_ai.testing.pytest_plugin import ENGINES
from smartsim_ai.worker import samples

pytestmark = pytest.mark.torch

IDENTITY = """
def ident(x):
    return x

def spin(x):
    y = x
    for i in range(2000000000):
        y = y + 1
    return y
"""

# RedisAI type, numpy dtype: every type a TorchScript function hands back (torch refuses
# UINT16 tensors, STRING is no torch type: both are covered in test_worker_protocol.py)
DTYPES = [
    ("FLOAT", "<f4"),
    ("DOUBLE", "<f8"),
    ("INT8", "i1"),
    ("INT16", "<i2"),
    ("INT32", "<i4"),
    ("INT64", "<i8"),
    ("UINT8", "u1"),
    ("BOOL", "?"),
]
THRESHOLD = 256 * 1024  # the default


def server_memfds(pid: int) -> list[str]:
    """The server's fds that are worker regions (memfd:ai-worker-in / -out)."""
    found = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("/memfd:ai-worker-"):
            found.append(name)
    return found


def region_mappings(pid: int) -> list[str]:
    with open(f"/proc/{pid}/maps") as fh:
        return [line for line in fh if "/memfd:ai-worker-" in line]


def tensor(rng: np.random.Generator, dtype: str, n: int) -> np.ndarray:
    if dtype == "?":
        return rng.random(n) < 0.5
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is not None:
        return rng.integers(info.min, info.max, n, dtype=np.dtype(dtype), endpoint=True)
    return (rng.standard_normal(n) * 1e3).astype(dtype)


def run_ident(c: redis.Redis, name: str, arr: np.ndarray) -> tuple[list, bytes]:
    c.execute_command("AI.TENSORSET", "x", name, arr.size, "BLOB", arr.tobytes())
    c.execute_command("AI.SCRIPTEXECUTE", "s", "ident", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
    meta = c.execute_command("AI.TENSORGET", "y", "META")
    return meta, c.execute_command("AI.TENSORGET", "y", "BLOB")


@pytest.mark.parametrize("engine", ENGINES)
def test_outputs_identical_below_at_and_above_the_threshold(ai_server_factory, engine) -> None:
    """Every dtype, byte sizes one element below, at and above the threshold, and 3 MB; the
    same runs on a server that never uses shared memory (SHM_THRESHOLD 0) give the same bytes."""
    shm = ai_server_factory(engine)
    plain = ai_server_factory(engine, module_args=["SHM_THRESHOLD", "0"])
    clients = [redis.Redis(port=s.port, socket_timeout=120) for s in (shm, plain)]
    for c in clients:
        assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", IDENTITY) == b"OK"
    rng = np.random.default_rng(1)
    for name, dtype in DTYPES:
        itemsize = np.dtype(dtype).itemsize
        for n in (
            THRESHOLD // itemsize - 1,
            THRESHOLD // itemsize,
            THRESHOLD // itemsize + 1,
            3 << 20 // itemsize,
        ):
            arr = tensor(rng, dtype, n)
            results = [run_ident(c, name, arr) for c in clients]
            for meta, blob in results:
                assert meta == [b"dtype", name.encode(), b"shape", [n]], (name, n)
                assert blob == arr.tobytes(), (name, n)
    # a model too (computed outputs, not views of the input region)
    x = rng.standard_normal(1 << 20).astype(np.float32)
    for c in clients:
        c.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", samples.torch_scale_bytes())
        c.execute_command("AI.TENSORSET", "x", "FLOAT", x.size, "BLOB", x.tobytes())
        c.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
        y = np.frombuffer(c.execute_command("AI.TENSORGET", "y", "BLOB"), np.float32)
        np.testing.assert_array_equal(y, x * 2)
    # the regions were in use on the first server only
    assert region_mappings(shm.proc.pid) and len(server_memfds(shm.proc.pid)) == 2
    assert not region_mappings(plain.proc.pid) and not server_memfds(plain.proc.pid)
    for c in clients:
        c.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_killed_worker_leaves_no_half_written_tensor(ai_server_factory, engine) -> None:
    server = ai_server_factory(engine)
    c = redis.Redis(port=server.port, socket_timeout=120)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", IDENTITY) == b"OK"
    big = np.arange(1 << 20, dtype=np.float32)
    # a completed big run first: the out region holds a whole (stale) result
    c.execute_command("AI.TENSORSET", "x", "FLOAT", big.size, "BLOB", big.tobytes())
    c.execute_command("AI.SCRIPTEXECUTE", "s", "ident", "INPUTS", 1, "x", "OUTPUTS", 1, "prev")
    before = np.full(7, 3, np.int32)
    c.execute_command("AI.TENSORSET", "kept", "INT32", 7, "BLOB", before.tobytes())

    for out_key in ("kept", "absent"):
        errors: list = []

        def run(out_key: str = out_key, errors: list = errors) -> None:
            client = redis.Redis(port=server.port, socket_timeout=120)
            try:
                client.execute_command(
                    "AI.SCRIPTEXECUTE", "s", "spin", "INPUTS", 1, "x", "OUTPUTS", 1, out_key
                )
            except redis.ResponseError as exc:
                errors.append(str(exc))
            finally:
                client.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def busy() -> psutil.Process | None:
            for proc in worker_processes(server.proc.pid):
                if proc.cpu_times().user > 0.5 and proc.status() == psutil.STATUS_RUNNING:
                    return proc
            return None

        time.sleep(1.0)  # the run is under way (the worker spins on the big input)
        victim = wait_for(busy, 60)
        os.kill(victim.pid, signal.SIGKILL)
        thread.join(60)
        assert errors and "died" in errors[0], errors
        assert c.ping()
        # the output key is as it was: unchanged or still absent
        if out_key == "kept":
            assert c.execute_command("AI.TENSORGET", "kept", "BLOB") == before.tobytes()
        else:
            assert c.exists("absent") == 0
    # the dead workers' regions are gone: two per live worker, and the next big run is right
    _meta, blob = run_ident(c, "FLOAT", big + 1)
    assert blob == (big + 1).tobytes()
    live = worker_processes(server.proc.pid)
    assert len(server_memfds(server.proc.pid)) == 2 * len(live)
    c.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_many_runs_leak_no_fds_mappings_or_pages(ai_server_factory, engine) -> None:
    server = ai_server_factory(engine)
    pid = server.proc.pid
    c = redis.Redis(port=server.port, socket_timeout=120)
    assert c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", IDENTITY) == b"OK"
    rng = np.random.default_rng(2)
    sizes = [1000, THRESHOLD // 4, THRESHOLD // 4 + 1, 1 << 20]  # float32 elements

    def one(n: int) -> None:
        arr = rng.standard_normal(n).astype(np.float32)
        assert run_ident(c, "FLOAT", arr)[1] == arr.tobytes()

    for n in sizes:
        one(n)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    maps = len(region_mappings(pid))
    for i in range(200):
        one(sizes[i % len(sizes)])
    assert len(os.listdir(f"/proc/{pid}/fd")) == fds
    assert len(region_mappings(pid)) == maps
    assert len(server_memfds(pid)) == 2

    # a 80 MB tensor: the regions grow, then give back the pages beyond what they keep warm
    one(20 << 20)
    for name in server_memfds(pid):
        st = os.stat(f"/proc/{pid}/fd/{name}")
        assert st.st_size >= 80 << 20  # grown (the size stays: mappings stay valid)
        assert st.st_blocks * 512 <= (64 << 20) + (1 << 20), name  # but no more pages held
    assert len(os.listdir(f"/proc/{pid}/fd")) == fds
    c.close()
