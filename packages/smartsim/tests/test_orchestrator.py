"""Orchestrator construction, argument checks and shard command lines (no server needed)."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import pytest

from smartsim.database import (
    CobaltOrchestrator,
    LSFOrchestrator,
    Orchestrator,
    PBSOrchestrator,
    SlurmOrchestrator,
)
from smartsim.database.shard import ENTRYPOINT
from smartsim.entity.dbnode import DBNode
from smartsim.error import SmartSimError, SSUnsupportedError
from smartsim.settings import SbatchSettings, SrunSettings

needs_srun = pytest.mark.skipif(shutil.which("srun") is None, reason="srun is not installed")


def _server_args(node: DBNode) -> list[str]:
    args = node.run_settings.exe_args
    return args[args.index("--") + 1 :]


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_single_shard_entities(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, path=str(tmp_path))
    assert orc.name == "orchestrator"
    assert orc.num_shards == 1 and len(orc) == 1
    node = orc.entities[0]
    assert isinstance(node, DBNode) and node.name == "orchestrator"
    assert node.ports == [6780] and orc.ports == [6780]
    assert node.run_settings.exe == [sys.executable]
    assert node.run_settings.exe_args[0] == str(ENTRYPOINT)
    server = _server_args(node)
    assert server[0] == str(orc.server)
    assert _option(server, "--port") == "6780"
    assert _option(server, "--dir") == str(tmp_path)
    assert _option(server, "--logfile") == str(tmp_path / "orchestrator.log")
    assert "--cluster-enabled" not in server
    assert "--protected-mode" not in server  # added on the node, with --bind
    assert "--bind" not in server  # the node resolves the interface
    assert _option(node.run_settings.exe_args, "--ifname") == "lo"
    assert orc.provides_database is True
    assert orc.batch is False and orc.batch_settings is None


def test_module_arguments_follow_loadmodule(tmp_path: Path) -> None:
    orc = Orchestrator(
        port=6780,
        path=str(tmp_path),
        threads_per_queue=4,
        inter_op_threads=2,
        intra_op_parallelism=3,
        module_args={"workers": 2},
    )
    server = _server_args(orc.entities[0])
    tail = server[server.index("--loadmodule") + 2 :]
    pairs = dict(zip(tail[::2], tail[1::2]))
    assert pairs == {
        "THREADS_PER_QUEUE": "4",
        "INTER_OP_PARALLELISM": "2",
        "INTRA_OP_PARALLELISM": "3",
        "WORKERS": "2",
    }


@pytest.mark.parametrize("bad", [0, -1, "2", 1.5, True])
def test_module_thread_settings_must_be_positive_ints(bad: object) -> None:
    with pytest.raises(SmartSimError, match="threads_per_queue"):
        Orchestrator(port=6780, threads_per_queue=bad)


def test_local_cluster_uses_consecutive_ports_and_per_node_config(tmp_path: Path) -> None:
    orc = Orchestrator(port=7000, db_nodes=3, path=str(tmp_path))
    assert orc.ports == [7000, 7001, 7002]
    assert [n.name for n in orc] == ["orchestrator_0", "orchestrator_1", "orchestrator_2"]
    for i, node in enumerate(orc):
        server = _server_args(node)
        assert _option(server, "--port") == str(7000 + i)
        assert _option(server, "--cluster-enabled") == "yes"
        conf = _option(server, "--cluster-config-file")
        assert conf == f"nodes-orchestrator_{i}-{7000 + i}.conf"
        assert node.cluster_config_file == tmp_path / conf


def test_db_conf_becomes_server_options(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, path=str(tmp_path), db_conf={"maxmemory": "1gb"})
    assert _option(_server_args(orc.entities[0]), "--maxmemory") == "1gb"


def test_two_shards_unsupported() -> None:
    with pytest.raises(SSUnsupportedError, match="2 shards"):
        Orchestrator(db_nodes=2)


@pytest.mark.parametrize("port", [0, 70000, "6379", None])
def test_bad_port(port: object) -> None:
    with pytest.raises(SmartSimError, match="port"):
        Orchestrator(port=port)  # type: ignore[arg-type]


def test_batch_needs_a_workload_manager() -> None:
    with pytest.raises(SmartSimError, match="batch"):
        Orchestrator(batch=True)


def test_unknown_launcher() -> None:
    with pytest.raises(SSUnsupportedError, match="launcher"):
        Orchestrator(launcher="kubernetes")


def test_run_command_not_allowed_for_launcher() -> None:
    with pytest.raises(SmartSimError, match="run command 'jsrun'"):
        Orchestrator(launcher="local", run_command="jsrun")
    with pytest.raises(SmartSimError, match="supported: srun, mpirun"):
        Orchestrator(launcher="slurm", run_command="aprun")


def test_mpirun_needs_hosts() -> None:
    with pytest.raises(SmartSimError, match="hosts"):
        Orchestrator(launcher="slurm", run_command="mpirun")


def test_unknown_keyword_rejected() -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        Orchestrator(no_such_option=1)


def test_unknown_interface_only_warns(smartsim_log: list[str]) -> None:
    orc = Orchestrator(port=6780, interface="nosuchnic0")
    assert any("nosuchnic0" in m and "not found" in m for m in smartsim_log)
    assert _option(orc.entities[0].run_settings.exe_args, "--ifname") == "nosuchnic0"


def test_interface_list(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, interface=["lo", "127.0.0.1"], path=str(tmp_path))
    assert _option(orc.entities[0].run_settings.exe_args, "--ifname") == "lo,127.0.0.1"


def test_not_running_database(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, path=str(tmp_path))
    assert orc.is_active() is False
    with pytest.raises(SmartSimError, match="address"):
        orc.get_address()
    with pytest.raises(SmartSimError, match="not running"):
        orc.set_max_memory("1gb")
    with pytest.raises(SmartSimError, match="not running"):
        orc.set_db_conf("maxclients", "10")


def test_config_setters_check_types(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, path=str(tmp_path))
    with pytest.raises(TypeError):
        orc.set_max_memory(100)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        orc.set_eviction_strategy(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        orc.set_max_clients("10")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        orc.set_max_message_size(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        orc.enable_checkpoints("60")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        orc.set_db_conf("maxmemory", 1)  # type: ignore[arg-type]


def test_batch_only_setters_refuse_local(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, path=str(tmp_path))
    with pytest.raises(SmartSimError, match="batch"):
        orc.set_walltime("00:10:00")
    with pytest.raises(SmartSimError, match="batch"):
        orc.set_batch_arg("exclusive")
    with pytest.raises(TypeError):
        orc.set_hosts(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="num_cpus"):
        orc.set_cpus(0)


@needs_srun
def test_slurm_batch_database(tmp_path: Path, smartsim_log: list[str]) -> None:
    orc = Orchestrator(
        port=6780,
        launcher="slurm",
        db_nodes=3,
        batch=True,
        time="00:10:00",
        account="A1",
        interface="eth0",
        path=str(tmp_path),
    )
    assert isinstance(orc.batch_settings, SbatchSettings)
    assert orc.batch_settings.batch_args["nodes"] == 3
    assert orc.ports == [6780]  # one shard per node, same port everywhere
    for node in orc:
        assert isinstance(node.run_settings, SrunSettings)
        assert node.run_settings.run_args["ntasks"] == 1
        assert _option(_server_args(node), "--port") == "6780"
        assert _option(node.run_settings.exe_args, "--ifname") == "eth0"
    orc.set_walltime("00:20:00")
    orc.set_batch_arg("exclusive", None)
    assert "exclusive" in orc.batch_settings.batch_args
    orc.set_batch_arg("nodes", "7")
    assert orc.batch_settings.batch_args["nodes"] == 3
    assert any("reserved" in m for m in smartsim_log)
    orc.set_run_arg("ntasks", "4")
    assert all(n.run_settings.run_args["ntasks"] == 1 for n in orc)
    orc.set_run_arg("mem", "1G")
    assert all(n.run_settings.run_args["mem"] == "1G" for n in orc)
    orc.set_cpus(4)
    assert all(n.run_settings.run_args["cpus-per-task"] == 4 for n in orc)
    orc.set_hosts(["n1", "n2", "n3"])
    assert [n.run_settings.run_args["nodelist"] for n in orc] == ["n1", "n2", "n3"]


def test_deprecated_aliases_warn_and_pick_their_launcher() -> None:
    with pytest.warns(DeprecationWarning, match="SlurmOrchestrator"):
        try:
            orc = SlurmOrchestrator(port=6780, db_nodes=1, batch=False, time=None)
        except SmartSimError:
            orc = None  # srun missing on this machine: the warning is what is checked
    if orc is not None:
        assert orc.launcher == "slurm"
    for cls, launcher in ((PBSOrchestrator, "pbs"), (CobaltOrchestrator, "cobalt")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            orc = cls(port=6780, batch=True, run_command="mpirun", hosts=["h1"])
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)
        assert orc.launcher == launcher and orc.batch
    with pytest.raises(SSUnsupportedError, match="single_cmd"):
        LSFOrchestrator(single_cmd=False)


def test_node_side_interface_error_is_reported(tmp_path: Path) -> None:
    from smartsim._core.entrypoints import dbnode
    from smartsim.database.readiness import wait_for_shards

    log = tmp_path / "shard.log"
    argv = ["--ifname", "nosuchnic0", "--name", "shard", "--port", "6780"]
    assert dbnode.main([*argv, "--log-file", str(log), "--", "/bin/true"]) == 2
    with pytest.raises(SmartSimError, match=r"shard failed to start.*nosuchnic0"):
        wait_for_shards([("shard", log)], timeout=5)


def test_bind_and_protected_mode() -> None:
    from smartsim._core.entrypoints.dbnode import bind_options, resolve_interfaces

    assert resolve_interfaces("lo") == ["127.0.0.1"]
    assert resolve_interfaces(["lo", "127.0.0.1", "10.1.2.3"]) == ["127.0.0.1", "10.1.2.3"]
    assert bind_options(["127.0.0.1"]) == ["--bind", "127.0.0.1", "--protected-mode", "yes"]
    assert bind_options(["10.1.2.3"])[-1] == "no"


def test_hosts_of_a_database_never_started(tmp_path: Path) -> None:
    orc = Orchestrator(port=6780, path=str(tmp_path))
    with pytest.raises(SmartSimError, match="Failed to obtain database hostname"):
        orc.hosts  # noqa: B018 - the property raises at once, no 5 s wait


@needs_srun
def test_loopback_on_a_workload_manager_warns(smartsim_log: list[str]) -> None:
    Orchestrator(port=6780, launcher="slurm", interface="lo")
    assert any("loopback only" in m for m in smartsim_log)
