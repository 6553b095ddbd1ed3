"""The Orchestrator on Slurm: shards across nodes, MPMD, batch, the legacy class.

The first tests only build objects (no Slurm needed). Those marked ``slurm`` run on the
multi-node test cluster (network namespaces n1..n4, ``eth0`` on each) from this host, as
a driver on a login node would: shards on three nodes, clients on another one.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import psutil
import pytest

from smartsim import Experiment
from smartsim.database import Orchestrator, SlurmOrchestrator
from smartsim.error import SmartSimError, SSUnsupportedError
from smartsim.settings import SbatchSettings, SrunSettings
from smartsim_ai.testing.servers import free_port


def _shard_name(settings: SrunSettings) -> str:
    args = settings.exe_args
    return args[args.index("--name") + 1]


# ---- construction (no Slurm needed) -------------------------------------------------------
def test_one_shard_per_node_of_the_allocation(tmp_path: Path, smartsim_log: list[str]) -> None:
    orc = Orchestrator(
        launcher="slurm", db_nodes=3, interface="eth0", port=6780, path=str(tmp_path)
    )
    assert [n.name for n in orc] == ["orchestrator_0", "orchestrator_1", "orchestrator_2"]
    for i, node in enumerate(orc):
        rs = node.run_settings
        assert isinstance(rs, SrunSettings)
        assert (rs.run_args["nodes"], rs.run_args["ntasks"], rs.run_args["relative"]) == (1, 1, i)
        assert f"--relative={i}" in rs.launch_command()
    orc.set_run_arg("relative", 5)  # the Orchestrator places its shards itself
    assert [n.run_settings.run_args["relative"] for n in orc] == [0, 1, 2]
    assert any("relative" in m and "reserved" in m for m in smartsim_log)
    orc.set_hosts(["n2", "n3", "n4"])  # explicit hosts replace the relative placement
    for node, host in zip(orc, ["n2", "n3", "n4"]):
        assert node.run_settings.run_args["nodelist"] == host
        assert "relative" not in node.run_settings.run_args


def test_single_cmd_is_one_mpmd_srun(tmp_path: Path) -> None:
    orc = Orchestrator(
        launcher="slurm",
        db_nodes=3,
        interface="eth0",
        port=6780,
        single_cmd=True,
        path=str(tmp_path),
    )
    assert len(orc) == 1 and orc.num_shards == 3
    node = orc.entities[0]
    assert node.name == "orchestrator" and node.is_mpmd
    parts = [node.run_settings, *node.run_settings.mpmd]
    assert [_shard_name(p) for p in parts] == [f"orchestrator_{i}" for i in range(3)]
    assert [p.run_args["relative"] for p in parts] == [0, 1, 2]
    command = node.run_settings.launch_command()
    assert command[0] == "srun" and command.count(":") == 2
    assert node.log_files == [tmp_path / f"orchestrator_{i}.log" for i in range(3)]
    orc.set_cpus(2)
    assert all(p.run_args["cpus-per-task"] == 2 for p in parts)
    orc.set_hosts(["n1", "n2", "n3"])
    assert [p.run_args["nodelist"] for p in parts] == ["n1", "n2", "n3"]
    moved = tmp_path / "database"
    orc.set_path(str(moved))  # what Experiment.generate does
    logs = [p.exe_args[p.exe_args.index("--log-file") + 1] for p in parts]
    assert logs == [str(moved / f"orchestrator_{i}.log") for i in range(3)]


def test_single_cmd_without_a_run_command_starts_shards_one_by_one(tmp_path: Path) -> None:
    orc = Orchestrator(db_nodes=3, port=6780, single_cmd=True, path=str(tmp_path))
    assert [n.name for n in orc] == ["orchestrator_0", "orchestrator_1", "orchestrator_2"]


def test_batch_database_is_one_sbatch_job(tmp_path: Path) -> None:
    orc = Orchestrator(
        launcher="slurm",
        db_nodes=3,
        batch=True,
        interface="eth0",
        time="00:05:00",
        path=str(tmp_path),
    )
    assert isinstance(orc.batch_settings, SbatchSettings)
    assert orc.batch_settings.batch_args["nodes"] == 3
    assert [n.run_settings.run_args["relative"] for n in orc] == [0, 1, 2]


def test_alloc_goes_to_every_shard(tmp_path: Path) -> None:
    orc = Orchestrator(
        launcher="slurm", db_nodes=3, interface="eth0", alloc="4242", path=str(tmp_path)
    )
    assert [n.run_settings.alloc for n in orc] == ["4242"] * 3
    assert orc.batch_settings is None
    with pytest.raises(SmartSimError, match="alloc"):
        Orchestrator(
            launcher="slurm",
            run_command="mpirun",
            hosts=["n1"],
            alloc="4242",
            path=str(tmp_path),
        )


def test_legacy_slurm_orchestrator_with_db_port(tmp_path: Path) -> None:
    """SmartSim 0.3's examples: ``SlurmOrchestrator(db_nodes=3, db_port=6780, batch=True, ...)``."""
    with pytest.warns(DeprecationWarning, match="SlurmOrchestrator"):
        orc = SlurmOrchestrator(
            db_nodes=3,
            db_port=6780,
            batch=True,
            time="00:10:00",
            interface="ib0",
            path=str(tmp_path),
        )
    assert orc.launcher == "slurm" and orc.ports == [6780]
    assert orc.batch_settings is not None and orc.batch_settings.batch_args["nodes"] == 3
    for node in orc:
        server = node.run_settings.exe_args
        assert server[server.index("--port") + 1] == "6780"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        same = SlurmOrchestrator(port=6780, db_port=6780, batch=False, path=str(tmp_path))
        assert same.ports == [6780]
        with pytest.raises(TypeError, match="db_port"):
            SlurmOrchestrator(port=6781, db_port=6780, path=str(tmp_path))
        with pytest.raises(SSUnsupportedError, match="db_per_host"):
            SlurmOrchestrator(db_nodes=3, db_per_host=2, path=str(tmp_path))


# ---- on the multi-node cluster ------------------------------------------------------------
CLIENT = """\
import json, socket, sys
import numpy as np
from smartredis import Client

out = {"hostname": socket.gethostname()}
client = Client(cluster=True)  # SSDB: every shard's address
data = np.arange(12, dtype=np.float32).reshape(3, 4)
for i in range(20):  # keys hash to every shard
    client.put_tensor(f"t{i}", data + i)
out["tensors"] = all(np.array_equal(client.get_tensor(f"t{i}"), data + i) for i in range(20))
client.set_model("lin", open(sys.argv[1], "rb").read(), "TORCH", "CPU")
client.put_tensor("x", data)
client.run_model("lin", ["x"], ["y"])
out["model"] = client.get_tensor("y").tolist()
client.set_script("s", "def twice(x):\\n    return x * 2\\n")
client.run_script("s", "twice", ["x"], ["z"])
out["script"] = client.get_tensor("z").tolist()
json.dump(out, open(sys.argv[2], "w"))
"""


def _cluster_nodes(count: int) -> list[str]:
    return [f"n{i}" for i in range(1, count + 1)]


def _shard_infos(db: Orchestrator) -> list[dict[str, object]]:
    infos = [state.info for node in db for state in node.shard_states()]
    assert all(infos), "every shard wrote its address line"
    return infos  # type: ignore[return-value]


def _our_processes(marker: str) -> list[str]:
    """Command lines of live processes (any node: the nodes share this PID namespace) that
    mention ``marker`` (the test's directory)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
        except psutil.Error:
            continue
        if marker in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(f"{proc.pid}: {cmdline[:200]}")
    return found


def _wait_gone(marker: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    left = _our_processes(marker)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _our_processes(marker)
    return left


@pytest.fixture
def allocation(slurm_cluster, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Four nodes allocated with salloc; the driver runs "inside" it (SLURM_JOB_ID)."""
    from smartsim.wlm import slurm

    alloc = slurm.get_allocation(nodes=4, time="00:10:00")
    monkeypatch.setenv("SLURM_JOB_ID", alloc)
    try:
        yield alloc
    finally:
        slurm.release_allocation(alloc)


def _torch_model(path: Path) -> Path:
    torch = pytest.importorskip("torch")

    class Lin(torch.nn.Module):
        def forward(self, x):  # type: ignore[no-untyped-def]
            return x * 3 + 1

    target = path / "lin.pt"
    torch.jit.save(torch.jit.script(Lin()), str(target))
    return target


@pytest.mark.slurm
@pytest.mark.torch
def test_three_shards_on_three_nodes_serve_a_client_on_a_fourth(
    allocation: str, tmp_path: Path
) -> None:
    exp = Experiment("slurm-db", exp_path=str(tmp_path), launcher="slurm")
    db = exp.create_database(
        port=free_port(), db_nodes=3, interface="eth0", single_cmd=False, path=str(tmp_path / "db")
    )
    exp.start(db)
    try:
        infos = _shard_infos(db)
        assert sorted(str(i["hostname"]) for i in infos) == ["n1", "n2", "n3"]
        addresses = db.get_address()
        assert [a.rsplit(":", 1)[0] for a in addresses] == [str(i["host"]) for i in infos]
        assert all(a.startswith("10.231.") for a in addresses)  # eth0, not loopback
        script = tmp_path / "client.py"
        script.write_text(CLIENT)
        result = tmp_path / "client.json"
        model_file = _torch_model(tmp_path)
        settings = exp.create_run_settings(
            sys.executable, [str(script), str(model_file), str(result)], run_command="srun"
        )
        settings.set_nodes(1)
        settings.set_tasks(1)
        settings.set_hostlist("n4")
        client = exp.create_model("client", settings, path=str(tmp_path / "client"))
        exp.start(client, block=True)
        assert exp.get_status(client)[0] == "Completed", (
            tmp_path / "client" / "client.err"
        ).read_text()
        out = json.loads(result.read_text())
        assert out["hostname"] == "n4" and out["tensors"] is True
        x = np.arange(12, dtype=np.float32).reshape(3, 4)
        assert np.array_equal(np.array(out["model"]), x * 3 + 1)
        assert np.array_equal(np.array(out["script"]), x * 2)
    finally:
        exp.stop(db)
    assert not _wait_gone(str(tmp_path / "db")), "a shard process is left on a node"
    pids = [int(str(i[k])) for i in infos for k in ("pid", "supervisor_pid")]
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
