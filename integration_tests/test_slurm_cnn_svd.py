"""The CNN inference and SVD flows on the multi-node Slurm test cluster.

A database on Slurm nodes (one shard on n1, or a 3-shard cluster on n1..n3), simulations
launched with ``srun`` on the other nodes: each stores the CNN (TorchScript, from a file the
driver wrote) and the SVD (``set_function``), puts its own images and field, runs both in the
database and writes what it got back. The driver checks every output against torch and numpy
run here, and reads the results the simulations left in the database with its own client from
the "login node" (this host). Nothing may be left running on any node afterwards.

The database runs on the Slurm nodes, so ``SMARTSIM_TEST_SERVER_ADDRESS`` does not apply: with
it set, these tests skip (an external server on this host is not reachable from the nodes).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from smartredis import Client
from smartsim import Experiment
from smartsim_ai.testing.pytest_plugin import external_server
from smartsim_ai.testing.servers import free_port

pytestmark = [pytest.mark.slurm, pytest.mark.torch, pytest.mark.slow, pytest.mark.timeout(600)]

SIMULATION = """\
import json, socket, sys
import numpy as np
import torch
from smartredis import Client

def svd(field: torch.Tensor):
    u, s, vh = torch.linalg.svd(field, full_matrices=False)
    return u, s, vh

model_file, seed, cluster, out = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
rng = np.random.default_rng(seed)
images = rng.random((8, 1, 28, 28), dtype=np.float32)
field = rng.standard_normal((40, 16)).astype(np.float32)
client = Client(cluster=cluster)  # SSDB (and SSKEYOUT) come from SmartSim
client.set_model_from_file("cnn", model_file, "TORCH", "CPU")
client.set_function("svd", svd, "CPU")
client.put_tensor("images", images)
client.run_model("cnn", ["images"], ["scores"])
client.put_tensor("field", field)
client.run_script("svd", "svd", ["field"], ["U", "S", "V"])
np.savez(out, scores=client.get_tensor("scores"),
         **{k: client.get_tensor(k) for k in ("U", "S", "V")})
json.dump({"hostname": socket.gethostname()}, open(out + ".json", "w"))
"""


def cnn(path: Path):  # type: ignore[no-untyped-def]
    """SmartSim's MNIST CNN, scripted and saved to ``path``; returns the module."""
    from smartsim_ai.worker import samples

    net = samples.torch_mnist_module()
    path.write_bytes(samples.torch_script_bytes(net))
    return net


def expected(net, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """What the simulation with ``seed`` must get: scores, the field, its singular values."""
    import torch

    rng = np.random.default_rng(seed)
    images = rng.random((8, 1, 28, 28), dtype=np.float32)
    field = rng.standard_normal((40, 16)).astype(np.float32)
    with torch.no_grad():
        scores = net(torch.from_numpy(images)).numpy()
    return scores, field, np.linalg.svd(field, compute_uv=False)


def _left_on_nodes(cluster, marker: str, timeout: float = 30) -> list[str]:  # type: ignore[no-untyped-def]
    """Processes (on any node, or mentioning ``marker``) still alive after ``timeout`` s."""

    def left() -> list[str]:
        found = []
        for proc in psutil.process_iter(["cmdline", "status"]):
            try:
                cmd = " ".join(proc.info["cmdline"] or [])
            except psutil.Error:
                continue
            if marker in cmd and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(f"{proc.pid}: {cmd[:160]}")
        return found

    deadline = time.monotonic() + timeout
    found = left()
    while found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = left()
    return found


@pytest.fixture
def allocation(slurm_cluster, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Every node of the test cluster, allocated; the driver runs "inside" it."""
    from smartsim.wlm import slurm

    if external_server() is not None:
        pytest.skip(
            "SMARTSIM_TEST_SERVER_ADDRESS names a server on this host; here the database runs "
            "on the Slurm nodes, which cannot reach it"
        )
    if len(slurm_cluster.nodes) < 4:
        pytest.fail(
            f"these tests need 4 nodes, the test cluster has {len(slurm_cluster.nodes)}: "
            "start it with `scripts/slurm-cluster.sh start --nodes 4`"
        )
    for var in list(os.environ):
        if var.startswith(("SSKEY", "SSDB", "SR_DB_TYPE")):
            monkeypatch.delenv(var)
    alloc = slurm.get_allocation(nodes=4, time="00:10:00")
    monkeypatch.setenv("SLURM_JOB_ID", alloc)
    try:
        yield alloc
    finally:
        slurm.release_allocation(alloc)


@pytest.mark.parametrize("db_nodes", [1, 3], ids=["one-shard", "three-shards"])
def test_cnn_and_svd_from_simulations_on_other_nodes(
    slurm_cluster, allocation, tmp_path, monkeypatch, db_nodes
):
    monkeypatch.chdir(tmp_path)
    cluster = db_nodes > 1
    db_hosts = list(slurm_cluster.nodes[:db_nodes])
    sim_hosts = list(slurm_cluster.nodes[db_nodes:])  # n2..n4, or n4
    net = cnn(tmp_path / "cnn.pt")
    (tmp_path / "simulation.py").write_text(SIMULATION)

    exp = Experiment("slurm-cnn-svd", exp_path=str(tmp_path), launcher="slurm")
    db = exp.create_database(
        port=free_port(), db_nodes=db_nodes, interface="eth0", path=str(tmp_path / "db")
    )
    db.set_hosts(db_hosts)
    settings = exp.create_run_settings(sys.executable, run_command="srun")
    settings.set_nodes(1)
    settings.set_tasks(1)
    sims = exp.create_ensemble("sim", run_settings=settings, replicas=len(sim_hosts))
    results = {}
    for i, (member, host) in enumerate(zip(sims, sim_hosts)):
        results[member.name] = (i, tmp_path / f"{member.name}.npz")
        member.run_settings.set_hostlist(host)
        member.run_settings.exe_args = [
            str(tmp_path / "simulation.py"),
            str(tmp_path / "cnn.pt"),
            str(i),
            "1" if cluster else "0",
            str(results[member.name][1]),
        ]
    sims.enable_key_prefixing()
    for member in sims:  # a member reads its own keys back (SSKEYIN's first entry is the
        member.register_incoming_entity(member)  # prefix reads use, as in SmartRedis)
    exp.generate(sims)
    exp.start(db)
    try:
        addresses = db.get_address()
        assert all(a.startswith("10.231.") for a in addresses)  # the nodes' eth0
        exp.start(sims, block=True)
        statuses = exp.get_status(sims)
        assert statuses == ["Completed"] * len(sim_hosts), [
            Path(m.path, f"{m.name}.err").read_text() for m in sims
        ]
        driver = Client(address=addresses[0], cluster=cluster)
        for member, host in zip(sims, sim_hosts):
            seed, npz = results[member.name]
            assert json.loads(Path(f"{npz}.json").read_text())["hostname"] == host
            scores, field, singular = expected(net, seed)
            got = np.load(npz)
            np.testing.assert_allclose(got["scores"], scores, atol=1e-5)
            np.testing.assert_allclose(got["S"], singular, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(got["U"] @ np.diag(got["S"]) @ got["V"], field, atol=1e-4)
            # what the simulation left in the database, under its prefix, read from here
            np.testing.assert_array_equal(driver.get_tensor(f"{member.name}.scores"), got["scores"])
            np.testing.assert_array_equal(driver.get_tensor(f"{member.name}.S"), got["S"])
        assert driver.model_exists("cnn") and driver.model_exists("svd")
        # the driver runs the stored CNN itself on a member's images
        scores0, _, _ = expected(net, 0)
        images0 = np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32)
        driver.put_tensor("driver_images", images0)
        driver.run_model("cnn", ["driver_images"], ["driver_scores"])
        np.testing.assert_allclose(driver.get_tensor("driver_scores"), scores0, atol=1e-5)
    finally:
        exp.stop(db)
    assert not _left_on_nodes(slurm_cluster, str(tmp_path)), "left running"
