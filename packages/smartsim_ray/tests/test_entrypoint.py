"""The node entrypoint's failure reports, with real processes (no Ray node starts)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from smartsim_ray.entrypoint import (
    OBJECT_STORE_MINIMUM,
    UNIX_PATH_MAX,
    object_store_bytes,
    short_temp_dir,
)
from smartsim_ray.node import read_node_state
from smartsim_ray.raycluster import _describe


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "ray_worker_0.out"
    args = [
        sys.executable,
        "-m",
        "smartsim_ray.entrypoint",
        "--role=worker",
        "--index=1",
        "--num-nodes=2",
        "--ray-port=30000",
        "--client-port=30001",
        "--dashboard-port=30002",
        "--worker-ports=8",
        f"--head-info={tmp_path / 'head.json'}",
        *extra,
    ]
    with open(out, "w") as handle:
        code = subprocess.run(args, stdout=handle, stderr=subprocess.STDOUT, timeout=60).returncode
    return code, out


def test_worker_that_cannot_reach_the_head_says_so(tmp_path):
    port = _closed_port()
    (tmp_path / "head.json").write_text(json.dumps({"ip": "127.0.0.1", "gcs_port": port}))
    code, out = _worker(tmp_path, "--connect-timeout=2")
    assert code == 4
    state = read_node_state(out)
    assert state.exit == 4 and state.ready is None
    reason = state.error["reason"]
    assert f"cannot reach the Ray head at 127.0.0.1:{port}" in reason
    assert socket.gethostname() in reason
    assert "cannot reach the Ray head" in _describe(state)


def test_worker_whose_head_never_writes_its_address(tmp_path):
    code, out = _worker(tmp_path, "--head-timeout=1")
    assert code == 3
    state = read_node_state(out)
    assert "did not write its address" in state.error["reason"]


def test_short_temp_dir_fits_unix_socket_paths(tmp_path, monkeypatch):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    short = Path(tempfile.mkdtemp(prefix="sr", dir="/tmp"))
    monkeypatch.setenv("SMARTSIM_RAY_TMPDIR", str(deep))
    monkeypatch.setenv("TMPDIR", str(short))
    stale = short / "ssray30000_3_stale"
    stale.mkdir()
    try:
        temp = short_temp_dir(30000, 3)
        assert temp.parent == short, "the deep temp dir was not skipped"
        assert not stale.exists(), "a killed node's temp dir was left"
        socket_path = f"{temp}/session_2026-01-01_00-00-00_000000_4194304/sockets/plasma_store"
        assert len(socket_path) <= UNIX_PATH_MAX
        assert temp.name.startswith("ssray30000_3_")
    finally:
        shutil.rmtree(short)


def test_object_store_shrinks_to_fit_dev_shm():
    size, note = object_store_bytes(1 << 50, nodes_per_host=4)
    assert size < 1 << 50 and "does not fit /dev/shm" in note
    small, note = object_store_bytes(100 * 1024 * 1024, nodes_per_host=1)
    assert small == 100 * 1024 * 1024 and note == ""
    assert object_store_bytes(1, 1)[0] == OBJECT_STORE_MINIMUM


@pytest.mark.parametrize("items", [["num-cpus=1", "block"]])
def test_ray_arg_parsing(items):
    from smartsim_ray.entrypoint import parse_ray_args

    assert parse_ray_args(items) == {"num-cpus": "1", "block": None}
