"""The Orchestrator on Slurm: shards across nodes, MPMD, batch, the legacy class.

The first tests only build objects (no Slurm needed). Those marked ``slurm`` run on the
multi-node test cluster (network namespaces n1..n4, ``eth0`` on each) from this host, as
a driver on a login node would: shards on three nodes, clients on another one.
"""

from __future__ import annotations

import json
import re
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


def test_mpmd_step_is_cancelled_by_its_step_id() -> None:
    """squeue lists an MPMD srun once per component; scancel takes the step id."""
    from smartsim._core.launcher.slurm import parser

    listed = "17.0+0|orchestrator-1a2b\n17.0+1|orchestrator-1a2b\n17.1|client-3c4d\n"
    assert parser.parse_step_names(listed) == {
        "orchestrator-1a2b": "17.0",
        "client-3c4d": "17.1",
    }


def test_no_shard_log_at_the_timeout_points_at_a_shared_directory(tmp_path: Path) -> None:
    from smartsim.database.readiness import wait_for_shards

    log = tmp_path / "orchestrator_0.log"
    with pytest.raises(SmartSimError, match=r"wrote no .*orchestrator_0.log.*does not share"):
        wait_for_shards([("orchestrator_0", log)], timeout=0.2)


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


def _left_on_nodes(cluster, marker: str, timeout: float = 30) -> list[str]:  # type: ignore[no-untyped-def]
    """What still runs on the cluster's nodes (any process but slurmd) or mentions
    ``marker`` anywhere, after waiting up to ``timeout`` s for it to end."""

    def left() -> list[str]:
        found = _our_processes(marker)
        for node in cluster.nodes:
            for pid in cluster.user_pids(node):
                try:
                    proc = psutil.Process(pid)
                    if proc.status() != psutil.STATUS_ZOMBIE:
                        found.append(f"{node} {pid}: {' '.join(proc.cmdline())[:200]}")
                except psutil.Error:
                    continue
        return found

    deadline = time.monotonic() + timeout
    found = left()
    while found and time.monotonic() < deadline:
        time.sleep(0.2)
        found = left()
    return found


@pytest.fixture
def allocation(slurm_cluster, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Every node of the cluster (3 shards + a client: 4) allocated with salloc; the driver
    runs "inside" it (SLURM_JOB_ID)."""
    from smartsim.wlm import slurm

    if len(slurm_cluster.nodes) < 4:
        pytest.fail(
            f"the Orchestrator's cluster tests need 4 nodes (3 shards and a client), the test "
            f"cluster has {len(slurm_cluster.nodes)}: start it with "
            "`scripts/slurm-cluster.sh start --nodes 4`"
        )
    alloc = slurm.get_allocation(nodes=len(slurm_cluster.nodes), time="00:10:00")
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
    slurm_cluster, allocation: str, tmp_path: Path
) -> None:
    exp = Experiment("slurm-db", exp_path=str(tmp_path), launcher="slurm")
    db = exp.create_database(
        port=free_port(), db_nodes=3, interface="eth0", single_cmd=False, path=str(tmp_path / "db")
    )
    exp.start(db)
    try:
        infos = _shard_infos(db)
        assert sorted(str(i["hostname"]) for i in infos) == ["n1", "n2", "n3"]
        marker = str(tmp_path / "db")
        assert len(_left_on_nodes(slurm_cluster, marker, timeout=0)) >= 6  # the probe sees them
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
        (tmp_path / "client").mkdir()
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
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"
    pids = [int(str(i[k])) for i in infos for k in ("pid", "supervisor_pid")]
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]


def _assert_client_from_here(db: Orchestrator) -> None:
    """A Redis Cluster client on this host (the login node) stores and reads keys."""
    import redis
    from redis.cluster import ClusterNode, RedisCluster

    nodes = [ClusterNode(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in db.get_address()]
    conn = RedisCluster(startup_nodes=nodes, password=db.password)
    try:
        for i in range(30):
            conn.set(f"k{i}", i)
        assert [int(conn.get(f"k{i}")) for i in range(30)] == list(range(30))
        owners = {conn.keyslot(f"k{i}") * 3 // 16384 for i in range(30)}
        assert len(owners) == 3  # the keys went to every shard
    except redis.RedisError as exc:  # pragma: no cover - the message is the point
        pytest.fail(f"cluster client from the login node failed: {exc}")
    finally:
        conn.close()


@pytest.mark.slurm
def test_single_cmd_database_is_one_mpmd_srun(
    slurm_cluster,
    allocation: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smartsim_log: list[str],
) -> None:
    monkeypatch.delenv("SLURM_JOB_ID")  # the allocation is named instead: alloc=
    exp = Experiment("slurm-mpmd", exp_path=str(tmp_path), launcher="slurm")
    db = Orchestrator(
        port=free_port(),
        launcher="slurm",
        db_nodes=3,
        interface="eth0",
        alloc=allocation,
        single_cmd=True,
        path=str(tmp_path / "db"),
    )
    exp.start(db)
    try:
        assert len(db) == 1 and exp.get_status(db) == ["Running"]
        infos = _shard_infos(db)
        assert sorted(str(i["hostname"]) for i in infos) == ["n1", "n2", "n3"]
        assert db.hosts == [str(i["host"]) for i in infos]
        _assert_client_from_here(db)
    finally:
        exp.stop(db)
    assert exp.get_status(db) == ["Cancelled"]
    assert not [m for m in smartsim_log if "scancel" in m], smartsim_log  # by its step id
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"
    exp.start(db)  # the same database again, on the same port of the same nodes
    try:
        _assert_client_from_here(db)
    finally:
        exp.stop(db)
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"


@pytest.mark.slurm
@pytest.mark.parametrize("how", ["legacy", "mpmd"])
def test_batch_database_runs_as_one_sbatch_job(slurm_cluster, tmp_path: Path, how: str) -> None:
    """``SlurmOrchestrator(db_nodes=3, db_port=..., batch=True, ...)`` (one srun per shard in
    the job) and ``exp.create_database(batch=True)`` (one MPMD srun in it): one sbatch job."""
    import subprocess

    exp = Experiment("slurm-batch-db", exp_path=str(tmp_path), launcher="slurm")
    if how == "legacy":
        with pytest.warns(DeprecationWarning):
            db = SlurmOrchestrator(
                db_nodes=3,
                db_port=free_port(),
                batch=True,
                time="00:05:00",
                interface="eth0",
                path=str(tmp_path / "db"),
            )
    else:
        db = exp.create_database(
            port=free_port(),
            db_nodes=3,
            batch=True,
            time="00:05:00",
            interface="eth0",
            path=str(tmp_path / "db"),
        )
        assert len(db) == 1

    def our_jobs() -> list[str]:
        """This test's jobs (other tests may run jobs on the cluster at the same time)."""
        out = subprocess.run(
            ["squeue", "-h", "-o", "%i %j %Z"], capture_output=True, text=True, check=True
        ).stdout
        lines = [line.split() for line in out.splitlines() if line.strip()]
        return [f"{f[0]} {f[1]}" for f in lines if len(f) > 2 and f[2].startswith(str(tmp_path))]

    assert our_jobs() == []
    exp.start(db)
    try:
        jobs = our_jobs()
        assert len(jobs) == 1 and "orchestrator" in jobs[0], jobs
        infos = _shard_infos(db)
        assert sorted(str(i["hostname"]) for i in infos) == ["n1", "n2", "n3"]
        _assert_client_from_here(db)
    finally:
        exp.stop(db)
    assert our_jobs() == []
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"


@pytest.mark.slurm
def test_interface_a_node_lacks_names_the_node_and_its_interfaces(
    slurm_cluster, allocation: str, tmp_path: Path
) -> None:
    exp = Experiment("slurm-bad-nic", exp_path=str(tmp_path), launcher="slurm")
    db = exp.create_database(
        port=free_port(), db_nodes=3, interface="ib0", single_cmd=False, path=str(tmp_path / "db")
    )
    with pytest.raises(SmartSimError) as info:
        exp.start(db)
    message = str(info.value)
    match = re.search(r"'ib0' has no IPv4 address on host (n\d); interfaces here: (.*)", message)
    assert match, message
    node = match.group(1)
    assert f"eth0 ({slurm_cluster.addresses[node]})" in match.group(2)
    assert "lo (127.0.0.1)" in match.group(2)
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"


@pytest.mark.slurm
def test_allocation_smaller_than_the_database_fails_with_sruns_message(
    slurm_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smartsim.wlm import slurm

    alloc = slurm.get_allocation(nodes=2, time="00:05:00")
    monkeypatch.setenv("SLURM_JOB_ID", alloc)
    try:
        exp = Experiment("slurm-small", exp_path=str(tmp_path), launcher="slurm")
        db = exp.create_database(
            port=free_port(),
            db_nodes=3,
            interface="eth0",
            single_cmd=False,
            path=str(tmp_path / "db"),
        )
        with pytest.raises(SmartSimError, match=r"orchestrator_2 did not start(.|\n)*srun: error"):
            exp.start(db)
        assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"
    finally:
        slurm.release_allocation(alloc)


COLOCATED_APP = """\
import json, os, socket, sys, time
import numpy as np
from smartredis import Client

host = socket.gethostname()
client = Client(cluster=False)  # SSDB: this node's colocated database
client.put_tensor(f"from_{host}", np.ones(3))
time.sleep(1)  # every node has written by now
keys = sorted(k for k in ("from_n1", "from_n2", "from_n3") if client.tensor_exists(k))
out = {"host": host, "ssdb": os.environ["SSDB"], "keys": keys}
open(os.path.join(sys.argv[1], host + ".json"), "w").write(json.dumps(out))
"""


@pytest.mark.slurm
def test_colocated_database_on_every_node_of_an_srun_step(
    slurm_cluster, allocation: str, tmp_path: Path
) -> None:
    script = tmp_path / "app.py"
    script.write_text(COLOCATED_APP)
    exp = Experiment("slurm-colo", exp_path=str(tmp_path), launcher="slurm")
    settings = exp.create_run_settings(
        sys.executable, [str(script), str(tmp_path)], run_command="srun"
    )
    settings.set_nodes(3)
    settings.set_tasks(3)
    settings.set_tasks_per_node(1)
    settings.set_hostlist(["n1", "n2", "n3"])
    model = exp.create_model("colo", settings, path=str(tmp_path))
    port = free_port()
    model.colocate_db_tcp(port=port, ifname="lo")
    exp.start(model, block=True)
    assert exp.get_status(model) == ["Completed"], (tmp_path / "colo.err").read_text()
    results = [json.loads((tmp_path / f"n{i}.json").read_text()) for i in (1, 2, 3)]
    for i, out in enumerate(results, start=1):
        assert out["ssdb"] == f"127.0.0.1:{port}"
        assert out["keys"] == [f"from_n{i}"]  # its own node's database only
    assert not _left_on_nodes(slurm_cluster, str(tmp_path)), "left on a node"


DRIVER = """\
import sys, time
from smartsim import Experiment
from smartsim.database import Orchestrator

exp = Experiment("interrupted", exp_path=sys.argv[1], launcher="slurm")
db = Orchestrator(port=int(sys.argv[2]), launcher="slurm", db_nodes=3, interface="eth0",
                  single_cmd=sys.argv[3] == "mpmd", path=sys.argv[1] + "/db")
exp.start(db)
print("READY", ",".join(db.get_address()), flush=True)
time.sleep(600)
"""


@pytest.mark.slurm
@pytest.mark.parametrize("shape", ["per-shard", "mpmd"])
def test_interrupted_driver_leaves_no_shard_on_any_node(
    slurm_cluster, allocation: str, tmp_path: Path, shape: str
) -> None:
    import os
    import signal
    import subprocess

    from smartsim.database import readiness

    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), str(free_port()), shape],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(os.environ),  # SLURM_CONF and SLURM_JOB_ID: a driver inside the allocation
    )
    try:
        assert driver.stdout is not None
        line = driver.stdout.readline()
        while line and not line.startswith("READY"):
            line = driver.stdout.readline()
        assert line.startswith("READY"), driver.communicate(timeout=60)[0]
        addresses = line.split()[1].split(",")
        assert len(_left_on_nodes(slurm_cluster, str(tmp_path / "db"), timeout=0)) >= 6
        driver.send_signal(signal.SIGINT)  # Ctrl-C
        driver.wait(timeout=120)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"
    for address in addresses:
        host, port = address.rsplit(":", 1)
        assert not readiness.ping(host, int(port))


PASSWORD_CLIENT = """\
import json, os, socket, sys
import numpy as np
from smartredis import Client

client = Client(cluster=True)  # SSDB and SR_DB_PASSWORD from the launch
client.put_tensor("p", np.arange(5.0))
out = {"host": socket.gethostname(), "same": client.get_tensor("p").tolist()}
out["password_given"] = bool(os.environ.get("SR_DB_PASSWORD"))
json.dump(out, open(sys.argv[1], "w"))
"""


@pytest.mark.slurm
def test_password_protected_database_across_nodes(
    slurm_cluster, allocation: str, tmp_path: Path
) -> None:
    """The security options hold across nodes: every shard of the MPMD launch requires the
    password, the driver builds the cluster with it, a model on another node gets it."""
    import redis

    exp = Experiment("slurm-auth", exp_path=str(tmp_path), launcher="slurm")
    db = exp.create_database(
        port=free_port(), db_nodes=3, interface="eth0", password=True, path=str(tmp_path / "db")
    )
    assert len(db) == 1  # one MPMD srun (create_database's single_cmd=True)
    exp.start(db)
    try:
        _assert_client_from_here(db)
        host, port = db.get_address()[1].rsplit(":", 1)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host=host, port=int(port)).get("k")  # no password: refused
        script = tmp_path / "client.py"
        script.write_text(PASSWORD_CLIENT)
        result = tmp_path / "client.json"
        settings = exp.create_run_settings(
            sys.executable, [str(script), str(result)], run_command="srun"
        )
        settings.set_tasks(1)
        settings.set_hostlist(slurm_cluster.nodes[3])
        client = exp.create_model("client", settings, path=str(tmp_path))
        exp.start(client, block=True)
        assert exp.get_status(client) == ["Completed"], (tmp_path / "client.err").read_text()
        out = json.loads(result.read_text())
        assert out == {"host": "n4", "same": [0.0, 1.0, 2.0, 3.0, 4.0], "password_given": True}
    finally:
        exp.stop(db)
    assert not _left_on_nodes(slurm_cluster, str(tmp_path / "db")), "left on a node"
    assert not list((tmp_path / "db").glob("*.secret.conf"))  # no password left on disk
