"""The Orchestrator on Slurm: shards across nodes, MPMD, batch, the legacy class.

The first tests only build objects (no Slurm needed). Those marked ``slurm`` run on the
multi-node test cluster (network namespaces n1..n4, ``eth0`` on each) from this host, as
a driver on a login node would: shards on three nodes, clients on another one.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from smartsim.database import Orchestrator, SlurmOrchestrator
from smartsim.error import SmartSimError, SSUnsupportedError
from smartsim.settings import SbatchSettings, SrunSettings


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
