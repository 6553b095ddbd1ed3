"""Models and scripts get no power over the machine (issue 14, docs/security.md): file ops are
refused at load, and the worker processes run under Landlock as the backstop."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
import redis

from smartsim_ai.worker import sandbox

landlock = pytest.mark.skipif(
    sandbox.abi_version()[0] == 0, reason=sandbox.abi_version()[1] or "no Landlock"
)


def error_of(c: redis.Redis, *args: object) -> str:
    with pytest.raises(redis.ResponseError) as info:
        c.execute_command(*args)
    return str(info.value)


READ_PASSWD = """
def read(x):
    return torch.from_file("/etc/passwd", False, 64, dtype=torch.uint8)
"""
# the write: shared=True maps the file, copy_ writes through (and creates it)
WRITE_FILE = """
def write(x):
    t = torch.from_file(PATH, True, 8, dtype=torch.uint8)
    t.copy_(torch.ones(8, dtype=torch.uint8))
    return x + t.float().sum()
"""
SAVE = """
def save(x):
    torch.save(x, PATH)
    return x
"""
HIDDEN = """
def helper(n: int):
    return torch.ops.aten.from_file("/etc/passwd", False, n, dtype=torch.uint8)

def f(x):
    if bool(x.sum() > 0):
        return helper(16)
    return x
"""


@pytest.mark.torch
def test_torchscript_file_access_is_refused(ai_client: redis.Redis, tmp_path: Path) -> None:
    c = ai_client
    target = tmp_path / "written"
    cases = [
        (READ_PASSWD, "aten::from_file"),
        (WRITE_FILE.replace("PATH", repr(str(target))), "aten::from_file"),
        (SAVE.replace("PATH", repr(str(target))), "aten::save"),
        (HIDDEN, "aten::from_file"),
    ]
    for source, op in cases:
        message = error_of(c, "AI.SCRIPTSET", "s", "CPU", "SOURCE", source)
        assert message == (
            f"the script uses {op}, which reads or writes files: refused; models and "
            "scripts get no file access on the server (docs/security.md)"
        ), source
        assert c.exists("s") == 0
    assert not target.exists()


@pytest.mark.torch
def test_torch_model_with_file_access_is_refused(ai_client: redis.Redis) -> None:
    import torch

    class Reader(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            data = torch.from_file("/etc/passwd", False, 16, dtype=torch.uint8)
            return x + data.float().sum()

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = Reader()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x) * 2

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Model()), buf)
    message = error_of(ai_client, "AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", buf.getvalue())
    assert message.startswith("the model uses aten::from_file, which reads or writes files")


@pytest.mark.tf
def test_tf_graph_with_file_ops_is_refused(ai_client: redis.Redis, tmp_path: Path) -> None:
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1], name="x")
        content = tf.io.read_file("/etc/passwd", name="read")
        written = tf.io.write_file(str(tmp_path / "pwned"), content, name="write")
        with tf.control_dependencies([written]):
            tf.add(x, tf.cast(tf.strings.length(content), tf.float32), name="y")
    blob = graph.as_graph_def().SerializeToString()
    c = ai_client
    message = error_of(
        c, "AI.MODELSTORE", "m", "TF", "CPU", "INPUTS", 1, "x", "OUTPUTS", 1, "y", "BLOB", blob
    )
    assert message == (
        "the graph has nodes that read or write files (ReadFile 'read', WriteFile 'write'): "
        "refused; models and scripts get no file access on the server (docs/security.md)"
    )
    assert c.exists("m") == 0 and not (tmp_path / "pwned").exists()


@pytest.mark.onnx
def test_onnx_model_with_external_data_is_refused(ai_client: redis.Redis) -> None:
    from onnx import TensorProto, helper

    weights = TensorProto(name="w", data_type=TensorProto.UINT8, dims=[64])
    weights.data_location = TensorProto.EXTERNAL
    for key, value in [("location", "/etc/passwd"), ("offset", "0"), ("length", "64")]:
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("Identity", ["w"], ["y"])],
        "exfiltrate",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.UINT8, [64])],
        initializer=[weights],
    )
    blob = helper.make_model(graph).SerializeToString()
    message = error_of(ai_client, "AI.MODELSTORE", "m", "ONNX", "CPU", "BLOB", blob)
    assert message.startswith(
        "the ONNX model keeps tensors in external files ('w' in '/etc/passwd'): refused"
    )


# Run in a fresh process: the sandbox is for good.
SANDBOXED = """
import json, os, socket, sys
import numpy as np
from smartsim_ai.worker import sandbox, backends
from smartsim_ai.worker.backends import Options

blobs = {name: open(f"{sys.argv[1]}/{name}", "rb").read() for name in ["TORCH", "ONNX", "TF"]}
result = sandbox.restrict()  # torch, onnxruntime and TF are imported after: lazily, as in a worker
out = {"abi": result.abi, "reason": result.reason}

def attempt(name, fn):
    try:
        fn()
        out[name] = "allowed"
    except Exception as exc:
        out[name] = type(exc).__name__ + ": " + str(exc)

attempt("read_passwd", lambda: open("/etc/passwd").read())
attempt("read_parent_environ", lambda: open(f"/proc/{os.getppid()}/environ").read())
attempt("read_own_status", lambda: open("/proc/self/status").read())
attempt("read_cwd", lambda: open(sys.argv[1] + "/secret").read())
attempt("write", lambda: open(sys.argv[1] + "/new", "w").write("x"))
attempt("connect", lambda: socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5))
import torch
# what a script missed by the load-time check would do
unit = torch.jit.CompilationUnit(
    "def f(n: int):\\n    return torch.from_file('/etc/passwd', False, n, dtype=torch.uint8)\\n"
)
attempt("torch_from_file", lambda: unit.f(16))
options = Options()
x = np.ones((1, 10), np.float32)
out["torch"] = backends.get("TORCH").load(blobs["TORCH"], "CPU", [], [], options).run([x])[0].shape
model = backends.get("ONNX").load(blobs["ONNX"], "CPU", [], [], options)
out["onnx"] = model.run([np.ones((1, 3), np.float32)])[0].shape
model = backends.get("TF").load(blobs["TF"], "CPU", [sys.argv[3]], ["y"], options)
out["tf"] = model.run([np.ones((1, 4), np.float32)])[0].shape
print("RESULT " + json.dumps(out))
"""


@landlock
@pytest.mark.torch
@pytest.mark.onnx
@pytest.mark.tf
@pytest.mark.timeout(900)  # three framework imports in a fresh process: slow on a busy machine
def test_sandbox_denies_files_and_network_and_keeps_every_backend(tmp_path: Path) -> None:
    from smartsim_ai.worker import samples

    listener = socket.create_server(("127.0.0.1", 0))  # what the sandbox must not reach

    (tmp_path / "secret").write_text("the server's data")
    (tmp_path / "TORCH").write_bytes(samples.torch_linear_bytes()[0])
    (tmp_path / "ONNX").write_bytes(samples.onnx_linear_regression()[0])
    graph, tf_input, _, _ = samples.tf_frozen_graph()
    (tmp_path / "TF").write_bytes(graph)
    proc = subprocess.run(
        [sys.executable, "-c", SANDBOXED, str(tmp_path), str(listener.getsockname()[1]), tf_input],
        cwd=tmp_path,  # the worker's working directory is the server's
        capture_output=True,
        text=True,
        timeout=800,
        check=False,
    )
    listener.close()
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[0][len("RESULT ") :])
    assert out["abi"] >= 1, out["reason"]
    assert out["read_own_status"] == "allowed"
    for name in ["read_passwd", "read_parent_environ", "read_cwd", "write"]:
        assert out[name].startswith("PermissionError"), (name, out[name])
    assert "Permission denied" in out["torch_from_file"]
    if out["abi"] >= 4:
        assert out["connect"].startswith("PermissionError"), out["connect"]
    assert not (tmp_path / "new").exists()
    assert out["torch"] == [1, 1] and out["onnx"][0] == 1 and out["tf"][0] == 1


@landlock
@pytest.mark.torch
def test_server_workers_run_sandboxed(ai_client: redis.Redis, ai_server) -> None:  # type: ignore[no-untyped-def]
    from smartsim_ai.worker import samples

    c = ai_client
    c.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", samples.SCRIPT)
    c.execute_command("AI.TENSORSET", "x", "FLOAT", 1, 2, "VALUES", 1, 2)
    c.execute_command("AI.SCRIPTRUN", "s", "one_to_one", "INPUTS", "x", "OUTPUTS", "y")
    workers = [
        p
        for p in psutil.Process(ai_server.proc.pid).children()
        if "smartsim_ai.worker" in " ".join(p.cmdline())
    ]
    assert workers
    for worker in workers:
        status = Path(f"/proc/{worker.pid}/status").read_text()
        assert "NoNewPrivs:\t1" in status
    assert "sandboxed with Landlock (ABI" in ai_server.log_text()


def test_sandbox_can_be_turned_off_and_says_so(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(stream=sys.stdout, level="WARNING", format="%(message)s")
        from smartsim_ai.worker import sandbox
        result = sandbox.apply_and_log()
        open("/etc/passwd").read()
        print("abi", result.abi)
        """
    )
    env = dict(os.environ, SMARTSIM_AI_WORKER_SANDBOX="0")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert "NOT sandboxed: turned off by SMARTSIM_AI_WORKER_SANDBOX=0" in proc.stdout
    assert "abi 0" in proc.stdout
