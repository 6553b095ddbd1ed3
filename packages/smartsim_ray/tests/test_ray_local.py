"""A real Ray cluster of three nodes on this machine, launched by an Experiment.

One cluster serves the module (Ray starts slowly on a small shared machine): a driver
connects through Ray Client, runs tasks pinned to every node, an actor and a small Ray Tune
search, and a Ray task reads with ``smartredis`` a tensor that a simulation model put in the
Orchestrator. A second cluster runs side by side; a third never gets its head up in time.
Every cluster must leave no Ray process and no temp dir once stopped.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest

from smartsim import Experiment
from smartsim.error import SmartSimError
from smartsim.status import SmartSimStatus
from smartsim_ai.testing.servers import free_port
from smartsim_ray import RayCluster
from smartsim_ray.ports import find_free_ray_port

# one cluster serves the module: keep its tests on one xdist worker (with --dist loadgroup)
pytestmark = [pytest.mark.ray, pytest.mark.slow, pytest.mark.xdist_group("ray_local")]

RAY_ARGS = {"num-cpus": 1, "object-store-memory": 80 * 1024 * 1024}
WORKER_PORTS = 24
FIELD = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5


def node_pids(exp: Experiment, cluster: RayCluster) -> set[int]:
    """Every process of the cluster's nodes now: the entrypoints and all they started."""
    pids: set[int] = set()
    for node in cluster:
        job = exp._control.jobs.get_job(node.name)
        if job is None:
            continue
        pid = int(job.runs[-1].job_id)
        pids.add(pid)
        try:
            pids |= {p.pid for p in psutil.Process(pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            pass
    return pids


def temp_dirs(cluster: RayCluster) -> list[str]:
    return glob.glob(f"/tmp/ssray{cluster.plan.ray_port}_*")


def assert_all_gone(pids: set[int], cluster: RayCluster, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    alive = pids
    while time.monotonic() < deadline:
        alive = {p for p in pids if psutil.pid_exists(p) and _not_zombie(p)}
        if not alive and not temp_dirs(cluster):
            return
        time.sleep(0.2)
    names = {p: _name(p) for p in alive}
    for pid in alive:  # do not leave them behind when the assertion fails
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
    raise AssertionError(f"left running: {names}; temp dirs left: {temp_dirs(cluster)}")


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _name(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())[:120]
    except psutil.Error:
        return "?"


SIMULATION = textwrap.dedent(
    """
    import numpy as np
    from smartredis import Client
    field = np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5
    Client(cluster=False).put_tensor("sim_field", field)
    """
)


@dataclass
class Setup:
    exp: Experiment
    cluster: RayCluster
    path: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    ray = pytest.importorskip("ray")
    path = tmp_path_factory.mktemp("ray")
    exp = Experiment("ray-local", exp_path=str(path), launcher="local")
    db = exp.create_database(port=free_port(), interface="lo", path=str(path / "db"))
    cluster = RayCluster(
        "rc",
        ray_port=find_free_ray_port(3, WORKER_PORTS),
        num_nodes=3,
        ray_args=RAY_ARGS,
        worker_ports=WORKER_PORTS,
    )
    sim = exp.create_model(
        "sim", exp.create_run_settings(sys.executable, exe_args=["-c", SIMULATION])
    )
    exp.generate(cluster, sim)
    pids: set[int] = set()
    try:
        exp.start(db)
        exp.start(sim, block=True)
        assert exp.get_status(sim) == [SmartSimStatus.STATUS_COMPLETED], Path(
            sim.path, "sim.err"
        ).read_text()
        exp.start(cluster, block=False)
        pids = node_pids(exp, cluster)
        cluster.connect(log_to_driver=False)
        yield Setup(exp, cluster, path)
    finally:
        ray.shutdown()
        pids |= node_pids(exp, cluster)
        exp.stop(cluster)
        exp.stop(db)
        assert_all_gone(pids, cluster)


def test_every_node_joined_with_its_planned_ports(setup: Setup) -> None:
    import ray

    cluster = setup.cluster
    report = cluster.node_report()
    assert all(line.startswith("joined at") for line in report.values()), report
    assert setup.exp.get_status(cluster) == [SmartSimStatus.STATUS_RUNNING] * 3
    alive = [n for n in ray.nodes() if n["Alive"]]
    assert len(alive) == 3
    planned = {cluster.plan.node_options(i)["node-manager-port"] for i in range(3)}
    assert {n["NodeManagerPort"] for n in alive} == planned
    head_ip = cluster.get_head_address()
    assert {n["NodeManagerAddress"] for n in alive} == {head_ip}
    assert cluster.get_client_address() == f"ray://{head_ip}:{cluster.plan.client}"
    summary = setup.exp.summary()
    assert "ray_head" in summary and "ray_worker_1" in summary


def test_remote_tasks_run_on_every_node(setup: Setup) -> None:
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=1)
    def where() -> tuple[str, int]:
        return ray.get_runtime_context().get_node_id(), os.getpid()

    node_ids = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    refs = [
        where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote()
        for n in sorted(node_ids)
    ]
    ran_on = ray.get(refs, timeout=120)
    assert {node for node, _ in ran_on} == node_ids
    cluster_pids = node_pids(setup.exp, setup.cluster)
    assert {pid for _, pid in ran_on} <= cluster_pids, "a task ran outside the cluster's nodes"


def test_actor_keeps_state(setup: Setup) -> None:
    import ray

    @ray.remote(num_cpus=0)
    class Counter:
        def __init__(self) -> None:
            self.value = 0

        def add(self, n: int) -> int:
            self.value += n
            return self.value

    counter = Counter.remote()
    assert ray.get([counter.add.remote(i) for i in range(1, 5)], timeout=120) == [1, 3, 6, 10]
    ray.kill(counter)


def test_ray_tune_search_runs_to_completion(setup: Setup) -> None:
    import ray

    storage = str(setup.path / "tune")

    @ray.remote(num_cpus=0)
    def search(storage: str) -> tuple[int, int, list[str]]:
        from ray import tune

        def objective(config: dict) -> dict:
            return {"score": (config["x"] - 2) ** 2}

        tuner = tune.Tuner(
            objective,
            param_space={"x": tune.grid_search([0, 1, 2, 3])},
            tune_config=tune.TuneConfig(metric="score", mode="min"),
            run_config=tune.RunConfig(storage_path=storage, name="grid", verbose=0),
        )
        results = tuner.fit()
        errors = [str(r.error) for r in results if r.error]
        return results.get_best_result().config["x"], len(results), errors

    best, trials, errors = ray.get(search.remote(storage), timeout=240)
    assert errors == []
    assert (best, trials) == (2, 4)
    assert Path(storage, "grid").is_dir()


def test_ray_task_reads_the_simulation_tensor_from_the_orchestrator(setup: Setup) -> None:
    import ray

    @ray.remote(num_cpus=1)
    def read_field() -> tuple[np.ndarray, str]:
        from smartredis import Client

        return Client(cluster=False).get_tensor("sim_field"), os.environ["SSDB"]

    field, ssdb = ray.get(read_field.remote(), timeout=120)
    np.testing.assert_array_equal(field, FIELD)
    assert ssdb.endswith(f":{setup.exp._control._db.ports[0]}")


def _client_server_logs(cluster: RayCluster) -> str:
    temp = cluster.head.state().temp
    files = glob.glob(f"{temp}/session_latest/logs/ray_client_server*")
    return "".join(f"\n--- {f} ---\n" + Path(f).read_text()[-1500:] for f in files)


SECOND_DRIVER = textwrap.dedent(
    """
    import json, sys, ray
    from smartsim_ray import connect_client
    connect_client(sys.argv[1], log_to_driver=False)
    @ray.remote(num_cpus=1)
    def node():
        return ray.get_runtime_context().get_node_id()
    alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    print(json.dumps({"nodes": alive, "task": ray.get(node.remote(), timeout=120)}))
    """
)


def test_second_cluster_side_by_side(setup: Setup, tmp_path: Path) -> None:
    import ray

    first = setup.cluster
    port = find_free_ray_port(1, WORKER_PORTS, avoid=(first.plan,))
    second = RayCluster(
        "rc2",
        ray_port=port,
        num_nodes=1,
        ray_args=RAY_ARGS,
        worker_ports=WORKER_PORTS,
    )
    assert not second.plan.overlaps(first.plan)
    # member names are SmartSim 0.4's (ray_head, ...): one cluster per experiment
    exp = Experiment("second", exp_path=str(tmp_path), launcher="local")
    exp.generate(second)
    pids: set[int] = set()
    try:
        exp.start(second, block=False)
        pids = node_pids(exp, second)
        env = dict(os.environ, **second.ray_env())
        out = subprocess.run(
            [sys.executable, "-c", SECOND_DRIVER, second.get_client_address()],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert out.returncode == 0, out.stderr[-2000:] + _client_server_logs(second)
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        first_nodes = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
        assert len(seen["nodes"]) == 1 and seen["task"] in seen["nodes"]
        assert not set(seen["nodes"]) & first_nodes
        assert len(first_nodes) == 3, "the first cluster lost nodes"
        pids |= node_pids(exp, second)
    finally:
        exp.stop(second)
    assert exp.get_status(second) == [SmartSimStatus.STATUS_CANCELLED]
    assert_all_gone(pids, second)
    assert not second.head_info_file.exists() and not second.token_file.exists()


def test_head_not_up_in_time_reports_its_log_and_stops_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTSIM_RAY_START_TIMEOUT", "2")
    exp = Experiment("slow-head", exp_path=str(tmp_path), launcher="local")
    cluster = RayCluster(
        "late",
        ray_port=find_free_ray_port(2, WORKER_PORTS),
        num_nodes=2,
        ray_args=RAY_ARGS,
        worker_ports=WORKER_PORTS,
    )
    exp.generate(cluster)
    with pytest.raises(SmartSimError, match=r"did not come up within 2 s") as info:
        exp.start(cluster, block=False)
    message = str(info.value)
    assert "last log lines" in message and "SMARTSIM_RAY_TEMP" in message
    assert exp.get_status(cluster) == [SmartSimStatus.STATUS_CANCELLED] * 2
    assert_all_gone(set(), cluster)
