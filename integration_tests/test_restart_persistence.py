"""Data, models and scripts survive a database restart (RDB and AOF), end to end.

Our Orchestrator (local launcher) with persistence on; the smartredis client stores tensors of
every dtype, a dataset with metadata (also in an aggregation list), a TorchScript CNN, an ONNX
model (scikit-learn through skl2onnx), a TF model (Keras through ``smartsim.ml.tf``) and a
TorchScript script, and runs each once. The database then goes down and comes back, and every
value must read back the same and every model and script must run and give the same outputs.

Ways down: a clean ``exp.stop(db)`` (RDB written by the shutdown save that
``db.enable_checkpoints`` turns on; AOF flushed on shutdown), and ``kill -9`` of the server after
the client's ``save`` (RDB) or after ``appendfsync always`` / ``everysec`` (AOF: everysec's data
is on disk about a second after the write, so the kill comes 2.5 s later).

``SMARTSIM_TEST_SERVER_ADDRESS`` names a server this run cannot restart: there the data is
reloaded in place (``DEBUG RELOAD`` reads back the RDB it writes, ``DEBUG LOADAOF`` the AOF,
exercising the same save and load code) and the ``kill -9`` variants skip.
(``packages/smartsim_ai/tests/test_*persistence.py`` cover the engine alone, with redis-py.)
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
import pytest
import redis

from smartredis import Client, Dataset
from smartsim import Experiment
from smartsim.database import Orchestrator
from smartsim_ai.testing.pytest_plugin import external_server
from smartsim_ai.testing.servers import free_port

# about 15 s a case; a loaded machine compiles the models on load many times slower
pytestmark = [
    pytest.mark.torch,
    pytest.mark.onnx,
    pytest.mark.tf,
    pytest.mark.slow,
    pytest.mark.timeout(900),
]

SCRIPT = (
    "def svd(field):\n"
    "    u, s, vh = torch.linalg.svd(field, full_matrices=False)\n"
    "    return u, s, vh\n"
    "\n"
    "def scale(x, k):\n"
    "    return x * k\n"
)

TENSOR_DTYPES = [
    np.float32,
    np.float64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
]


# ---- the models (built once; their local outputs are the reference) ------------------------
@dataclass
class Models:
    cnn: bytes
    images: np.ndarray
    cnn_local: np.ndarray
    onnx: bytes
    onnx_x: np.ndarray
    onnx_local: np.ndarray
    tf: bytes
    tf_inputs: list[str]
    tf_outputs: list[str]
    tf_x: np.ndarray
    tf_local: np.ndarray


def _torch_cnn() -> tuple[bytes, np.ndarray, np.ndarray]:
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 8, 3, 1)
            self.fc = nn.Linear(8 * 13 * 13, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.conv(x)), 2)
            return F.log_softmax(self.fc(torch.flatten(x, 1)), dim=1)

    torch.manual_seed(0)
    net = Net().eval()
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(net), buffer)
    images = np.random.default_rng(1).random((4, 1, 28, 28), dtype=np.float32)
    with torch.no_grad():
        local = net(torch.from_numpy(images)).numpy()
    return buffer.getvalue(), images, local


def _onnx_linreg() -> tuple[bytes, np.ndarray, np.ndarray]:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(2)
    x = rng.standard_normal((50, 5)).astype(np.float32)
    y = x @ np.arange(1, 6, dtype=np.float32) + 0.5
    model = LinearRegression().fit(x, y)
    blob = to_onnx(model, x[:1], target_opset=15).SerializeToString()
    return blob, x[:7], model.predict(x[:7]).astype(np.float32)


def _tf_dense() -> tuple[bytes, list[str], list[str], np.ndarray, np.ndarray]:
    import tensorflow as tf

    from smartsim.ml.tf import serialize_model

    tf.random.set_seed(0)
    model = tf.keras.Sequential(
        [
            tf.keras.Input((6,)),
            tf.keras.layers.Dense(8, activation="relu"),
            tf.keras.layers.Dense(3, activation="softmax"),
        ]
    )
    blob, inputs, outputs = serialize_model(model)
    x = np.random.default_rng(3).random((5, 6), dtype=np.float32)
    return blob, inputs, outputs, x, model(x, training=False).numpy()


@pytest.fixture(scope="module")
def models() -> Models:
    cnn, images, cnn_local = _torch_cnn()
    onnx, onnx_x, onnx_local = _onnx_linreg()
    tf_blob, tf_in, tf_out, tf_x, tf_local = _tf_dense()
    return Models(
        cnn, images, cnn_local, onnx, onnx_x, onnx_local, tf_blob, tf_in, tf_out, tf_x, tf_local
    )


# ---- what is stored, and the check after the restart ----------------------------------------
@dataclass
class Stored:
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # model/script outputs


def _dataset(name: str, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    ds = Dataset(name)
    ds.add_tensor("field", rng.standard_normal((6, 7)))
    ds.add_tensor("ids", np.arange(seed, seed + 5, dtype=np.int32))
    ds.add_meta_scalar("step", seed)
    ds.add_meta_scalar("time", seed * 0.25)
    ds.add_meta_string("member", f"sim_{seed}")
    ds.add_meta_string("member", "again")
    return ds


def _check_dataset(got: Dataset, name: str, seed: int) -> None:
    want = _dataset(name, seed)
    assert got.get_name() == name
    assert sorted(got.get_tensor_names()) == ["field", "ids"]
    for t in ("field", "ids"):
        np.testing.assert_array_equal(got.get_tensor(t), want.get_tensor(t))
        assert got.get_tensor(t).dtype == want.get_tensor(t).dtype
    assert list(got.get_meta_scalars("step")) == [seed]
    assert list(got.get_meta_scalars("time")) == [seed * 0.25]
    assert got.get_meta_strings("member") == [f"sim_{seed}", "again"]


def fill(client: Client, m: Models) -> Stored:
    """Store everything through the client and run every model and script once."""
    stored = Stored()
    rng = np.random.default_rng(7)
    for dtype in TENSOR_DTYPES:
        if np.issubdtype(dtype, np.floating):
            value = rng.standard_normal((3, 4, 5)).astype(dtype)
        else:
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, size=(3, 4, 5), dtype=dtype)
        stored.tensors[f"t_{np.dtype(dtype).name}"] = value
    stored.tensors["t_big"] = rng.standard_normal((1024, 1024)).astype(np.float32)  # 4 MiB
    for name, value in stored.tensors.items():
        client.put_tensor(name, value)

    client.put_dataset(_dataset("ds_single", 1))
    for seed in (2, 3, 4):
        ds = _dataset(f"ds_list_{seed}", seed)
        client.put_dataset(ds)
        client.append_to_list("batches", ds)

    client.set_model("cnn", m.cnn, "TORCH", "CPU", tag="v1")
    client.set_model("linreg", m.onnx, "ONNX", "CPU")
    client.set_model("keras", m.tf, "TF", "CPU", inputs=m.tf_inputs, outputs=m.tf_outputs)
    client.set_script("svd", SCRIPT, "CPU")

    client.put_tensor("images", m.images)
    client.put_tensor("onnx_x", m.onnx_x)
    client.put_tensor("tf_x", m.tf_x)
    field_in = np.random.default_rng(8).standard_normal((12, 6)).astype(np.float32)
    client.put_tensor("field_in", field_in)
    stored.tensors.update(images=m.images, onnx_x=m.onnx_x, tf_x=m.tf_x, field_in=field_in)
    for key, value in run_everything(client, "before").items():
        stored.outputs[key] = value
    # the reference: what the frameworks compute locally
    np.testing.assert_allclose(stored.outputs["before_cnn"], m.cnn_local, atol=1e-5)
    np.testing.assert_allclose(
        stored.outputs["before_linreg"].reshape(-1), m.onnx_local, rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(stored.outputs["before_keras"], m.tf_local, atol=1e-5)
    u, s, v = (stored.outputs[f"before_{k}"] for k in ("u", "s", "v"))
    np.testing.assert_allclose(u @ np.diag(s) @ v, field_in, atol=1e-4)
    return stored


def run_everything(client: Client, prefix: str) -> dict[str, np.ndarray]:
    """Run each model and script from the stored inputs; their outputs, read back."""
    client.run_model("cnn", ["images"], [f"{prefix}_cnn"])
    client.run_model("linreg", ["onnx_x"], [f"{prefix}_linreg"])
    client.run_model("keras", ["tf_x"], [f"{prefix}_keras"])
    client.run_script("svd", "svd", ["field_in"], [f"{prefix}_u", f"{prefix}_s", f"{prefix}_v"])
    names = ["cnn", "linreg", "keras", "u", "s", "v"]
    return {f"{prefix}_{n}": client.get_tensor(f"{prefix}_{n}") for n in names}


def check_after_restart(client: Client, m: Models, stored: Stored) -> None:
    for name, value in {**stored.tensors, **stored.outputs}.items():
        got = client.get_tensor(name)
        assert got.dtype == value.dtype and got.shape == value.shape, name
        np.testing.assert_array_equal(got, value, err_msg=name)
    _check_dataset(client.get_dataset("ds_single"), "ds_single", 1)
    assert client.get_list_length("batches") == 3
    for seed, ds in zip((2, 3, 4), client.get_datasets_from_list("batches")):
        _check_dataset(ds, f"ds_list_{seed}", seed)
    assert client.get_model("cnn") == m.cnn
    assert client.get_model("linreg") == m.onnx
    assert client.get_model("keras") == m.tf
    assert client.get_script("svd") == SCRIPT
    again = run_everything(client, "after")
    for key, value in again.items():
        before = stored.outputs[key.replace("after_", "before_")]
        np.testing.assert_allclose(value, before, rtol=1e-6, atol=1e-6, err_msg=key)
    # the stored script's other entry point, never run before the restart
    client.run_script("svd", "scale", ["tf_x", "tf_x"], ["scaled"])
    np.testing.assert_allclose(client.get_tensor("scaled"), m.tf_x * m.tf_x, rtol=1e-6)


# ---- the databases --------------------------------------------------------------------------
MODES = ["rdb-stop", "rdb-save-kill9", "aof-stop", "aof-always-kill9", "aof-everysec-kill9"]

DB_CONF = {
    "rdb-stop": {},  # checkpoints are turned on through db.enable_checkpoints
    "rdb-save-kill9": {},
    "aof-stop": {"appendonly": "yes", "appendfsync": "everysec"},
    "aof-always-kill9": {"appendonly": "yes", "appendfsync": "always"},
    "aof-everysec-kill9": {"appendonly": "yes", "appendfsync": "everysec"},
}


class OurDatabase:
    """Our Orchestrator, launched locally with the persistence settings of ``mode``."""

    def __init__(self, tmp_path: Path, mode: str) -> None:
        self.mode = mode
        self.exp = Experiment("persist", exp_path=str(tmp_path), launcher="local")
        self.db: Orchestrator = self.exp.create_database(
            port=free_port(), interface="lo", db_conf=DB_CONF[mode], path=str(tmp_path / "db")
        )
        self.exp.start(self.db)
        if mode == "rdb-stop":
            self.db.enable_checkpoints(3600)  # a save point: the shutdown then saves

    @property
    def address(self) -> str:
        return self.db.get_address()[0]

    def server_pid(self) -> int:
        info = self.db.entities[0].shard_states()[0].info
        assert info is not None
        return int(str(info["pid"]))

    def log(self) -> str:
        return self.db.entities[0].log_files[0].read_text(errors="replace")

    def restart(self, client: Client) -> str:
        """Take the database down the way ``mode`` says and start it again; returns the log of
        the run that went down."""
        pid = self.server_pid()
        if self.mode == "rdb-save-kill9":
            client.save([self.address])
        if self.mode == "aof-everysec-kill9":
            time.sleep(2.5)  # everysec: fsync'ed about a second after the write
        if self.mode.endswith("kill9"):
            os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).wait(timeout=30)
        self.exp.stop(self.db)
        old_log = self.log()
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
        self.exp.start(self.db)
        assert self.server_pid() != pid, "the database did not restart"
        return old_log

    def close(self) -> None:
        self.exp.stop(self.db)


class TheExternalDatabase:
    """The server named by ``SMARTSIM_TEST_SERVER_ADDRESS``: reloaded in place."""

    def __init__(self, mode: str) -> None:
        if mode.endswith("kill9"):
            pytest.skip("kill -9 needs a server this run started, not the external one")
        server = external_server()
        assert server is not None
        self.mode = mode
        self.address = server.address
        # a reload compiles every model again (the TF backend alone takes seconds)
        self.conn = redis.Redis(host=server.host, port=server.port, socket_timeout=300)
        self.conn.flushall()
        self.saved_appendonly = self.conn.config_get("appendonly")["appendonly"]
        if mode.startswith("aof"):
            self.conn.config_set("appendonly", "yes")
            self._wait_rewrite()

    def _wait_rewrite(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = self.conn.info("persistence")
            if info.get("aof_enabled") and not info.get("aof_rewrite_in_progress"):
                if not info.get("aof_rewrite_scheduled"):
                    return
            time.sleep(0.05)
        raise AssertionError(f"the AOF of {self.address} was not ready within 60 s")

    def restart(self, client: Client) -> str:
        command = "LOADAOF" if self.mode.startswith("aof") else "RELOAD"
        try:
            self.conn.execute_command("DEBUG", command)
        except redis.ResponseError as exc:
            pytest.skip(
                f"the external server refuses DEBUG {command} ({exc}); start it with "
                "enable-debug-command yes to run this test against it"
            )
        return ""

    def close(self) -> None:
        self.conn.config_set("appendonly", self.saved_appendonly)
        self.conn.close()


@pytest.fixture(params=MODES)
def database(request, tmp_path, monkeypatch) -> Iterator[OurDatabase | TheExternalDatabase]:
    monkeypatch.chdir(tmp_path)
    # the restart loads (and compiles) every model before the shard answers PING
    monkeypatch.setenv("SMARTSIM_DB_START_TIMEOUT", "300")
    for var in list(os.environ):
        if var.startswith(("SSKEY", "SR_DB_TYPE")):
            monkeypatch.delenv(var)
    db = (
        TheExternalDatabase(request.param)
        if external_server() is not None
        else OurDatabase(tmp_path, request.param)
    )
    try:
        yield db
    finally:
        db.close()


def test_everything_stored_survives_the_restart_and_runs_the_same(database, models):
    client = Client(address=database.address, cluster=False)
    stored = fill(client, models)
    old_log = database.restart(client)
    client = Client(address=database.address, cluster=False)  # a fresh connection
    check_after_restart(client, models, stored)
    if isinstance(database, OurDatabase):
        log = database.log()
        if database.mode == "rdb-stop":
            assert "DB saved on disk" in old_log, "the shutdown did not save"
        if database.mode.startswith("rdb"):
            assert "DB loaded from disk" in log, log[-2000:]
        else:
            assert "DB loaded from append only file" in log, log[-2000:]
