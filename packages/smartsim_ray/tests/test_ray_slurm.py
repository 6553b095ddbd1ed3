"""RayCluster on the multi-node Slurm test cluster: one Ray node per Slurm node.

In an allocation (each node an ``srun`` step) and as one batch job. A driver on this machine
connects through Ray Client, runs a task pinned to every Ray node and reads the hostnames;
``exp.stop`` must leave no process on any node.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from smartsim import Experiment
from smartsim.status import SmartSimStatus
from smartsim.wlm import slurm
from smartsim_ray import RayCluster
from smartsim_ray.ports import find_free_ray_port

pytestmark = [pytest.mark.slurm, pytest.mark.ray, pytest.mark.slow]

RAY_ARGS = {"num-cpus": 1, "object-store-memory": 80 * 1024 * 1024}

DRIVER = textwrap.dedent(
    """
    import json, socket, sys, ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy as Pin
    from smartsim_ray import connect_client
    connect_client(sys.argv[1], log_to_driver=False)
    @ray.remote(num_cpus=1)
    def where():
        return ray.get_runtime_context().get_node_id(), socket.gethostname()
    ids = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    pinned = [where.options(scheduling_strategy=Pin(i, soft=False)).remote() for i in ids]
    print(json.dumps({"nodes": ids, "ran": ray.get(pinned, timeout=120)}))
    """
)


def run_driver(cluster: RayCluster) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", DRIVER, cluster.get_client_address()],
        env=dict(os.environ, **cluster.ray_env()),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def jobs_under(path) -> set[str]:
    """Ids of the queued or running Slurm jobs whose working directory is under ``path``."""
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i %Z"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return {
        f[0]
        for f in (line.split() for line in out.splitlines())
        if f[1:] and f[1].startswith(str(path))
    }


def assert_nodes_clean(
    slurm_cluster,
    cluster: RayCluster,
    job_ids: set[str],
    temp_dirs: bool = True,
    timeout: float = 60,
) -> None:
    """No process of the cluster's jobs on any node (other tests' jobs may share the nodes);
    with ``temp_dirs``, no temp dir of the cluster either (the test nodes share this
    machine's /tmp)."""
    assert job_ids
    deadline = time.monotonic() + timeout
    left: dict[str, list[int]] = {}
    temps: list[str] = []
    while time.monotonic() < deadline:
        left = {n: slurm_cluster.job_pids(n, job_ids) for n in slurm_cluster.nodes}
        temps = glob.glob(f"/tmp/ssray{cluster.plan.ray_port}_*") if temp_dirs else []
        if not any(left.values()) and not temps:
            return
        time.sleep(1)
    tails = {n.name: n.state().tail(8) for n in cluster}
    raise AssertionError(f"left on the nodes: {left}; temp dirs {temps}; node output {tails}")


@pytest.fixture
def alloc(slurm_cluster) -> Iterator[str]:
    job = slurm.get_allocation(nodes=3, time="00:20:00")
    try:
        yield job
    finally:
        slurm.release_allocation(job)


def test_cluster_in_an_allocation_one_ray_node_per_slurm_node(slurm_cluster, alloc, tmp_path):
    exp = Experiment("ray-alloc", exp_path=str(tmp_path), launcher="slurm")
    cluster = RayCluster(
        "rc",
        ray_port=find_free_ray_port(3, 24),
        num_nodes=3,
        launcher="slurm",
        alloc=alloc,
        interface="eth0",
        ray_args=RAY_ARGS,
        worker_ports=24,
    )
    exp.generate(cluster)
    try:
        exp.start(cluster, block=False)
        assert cluster.get_head_address() == slurm_cluster.addresses["n1"]
        report = cluster.node_report()
        assert [r.split(" (")[1].rstrip(")") for r in report.values()] == ["n1", "n2", "n3"]
        seen = run_driver(cluster)
        assert len(seen["nodes"]) == 3
        assert {node for node, _ in seen["ran"]} == set(seen["nodes"])
        assert sorted(host for _, host in seen["ran"]) == ["n1", "n2", "n3"]
    finally:
        exp.stop(cluster)
    assert exp.get_status(cluster) == [SmartSimStatus.STATUS_CANCELLED] * 3
    # `scancel <step>` SIGKILLs a step's tasks (no SIGTERM first, unlike a job), so the nodes
    # cannot remove their temp dirs; the next start of the same node removes them.
    assert_nodes_clean(slurm_cluster, cluster, {alloc}, temp_dirs=False)
    for temp in glob.glob(f"/tmp/ssray{cluster.plan.ray_port}_*"):
        shutil.rmtree(temp, ignore_errors=True)


def test_cluster_as_one_batch_job(slurm_cluster, tmp_path):
    exp = Experiment("ray-batch", exp_path=str(tmp_path), launcher="slurm")
    cluster = RayCluster(
        "rcb",
        ray_port=find_free_ray_port(2, 24),
        num_nodes=2,
        launcher="slurm",
        batch=True,
        time="00:10:00",
        interface="eth0",
        ray_args=RAY_ARGS,
        worker_ports=24,
    )
    assert cluster.batch
    exp.generate(cluster)
    jobs: set[str] = set()
    try:
        exp.start(cluster, block=False)
        jobs = jobs_under(tmp_path)
        seen = run_driver(cluster)
        assert sorted(host for _, host in seen["ran"]) == sorted(
            cluster.node_report()[n.name].split(" (")[1].rstrip(")") for n in cluster
        )
        assert len({host for _, host in seen["ran"]}) == 2
    finally:
        exp.stop(cluster)
    assert_nodes_clean(slurm_cluster, cluster, jobs)
