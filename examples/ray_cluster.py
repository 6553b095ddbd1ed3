"""Ray next to a simulation: a RayCluster launched, used and stopped by an Experiment.

1. start the database (an Orchestrator) and a toy "simulation" that puts its field there;
2. launch a Ray cluster of a head and one worker (local launcher: both Ray nodes on this
   machine; ``--slurm`` puts each on its own node of a new allocation). Launched after the
   database, every Ray node has ``SSDB``, so Ray tasks reach the database;
3. connect through Ray Client, run one task pinned to each Ray node that reads the field with
   the smartredis client, and an actor;
4. stop everything: no Ray process is left behind.

Usage: python examples/ray_cluster.py [--slurm --interface eth0] [--db-port P] [--ray-port P]
"""

import argparse
import sys

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from smartsim import Experiment
from smartsim.exp.ray import RayCluster

SIMULATION = """
import numpy as np
from smartredis import Client
Client(cluster=False).put_tensor("field", np.linspace(0.0, 1.0, 1000).reshape(10, 100))
"""


@ray.remote(num_cpus=1)
def field_stats() -> tuple[str, float, float]:
    """A Ray task: read the simulation's field from the database (SSDB comes from SmartSim)."""
    from smartredis import Client

    field = Client(cluster=False).get_tensor("field")
    return ray.get_runtime_context().get_node_id()[:8], float(field.mean()), float(field.max())


@ray.remote(num_cpus=0)
class Accumulator:
    """A Ray actor that keeps a running total."""

    def __init__(self) -> None:
        self.total = 0.0

    def add(self, value: float) -> float:
        self.total += value
        return self.total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slurm", action="store_true", help="one Ray node per Slurm node")
    parser.add_argument("--interface", default=None, help="the nodes' network interface")
    parser.add_argument("--db-port", type=int, default=6780, help="the database's port")
    parser.add_argument(
        "--ray-port", type=int, default=6789, help="the first of the Ray cluster's ports"
    )
    args = parser.parse_args()

    alloc = None
    if args.slurm:
        from smartsim.wlm import slurm

        alloc = slurm.get_allocation(nodes=2, time="00:10:00")
    launcher = "slurm" if args.slurm else "local"
    exp = Experiment("ray_cluster", launcher=launcher)
    db = exp.create_database(port=args.db_port, interface=args.interface or "lo")
    sim = exp.create_model(
        "simulation", exp.create_run_settings(sys.executable, exe_args=["-c", SIMULATION])
    )
    cluster = RayCluster(
        "ray",
        ray_port=args.ray_port,  # the cluster uses ports ray_port to cluster.plan.last
        num_nodes=2,
        launcher=launcher,
        alloc=alloc,
        interface=args.interface,
        ray_args={"num-cpus": 1, "object-store-memory": 100 * 1024**2},
    )
    exp.generate(db, sim, cluster, overwrite=True)
    try:
        exp.start(db)
        exp.start(sim, block=True)
        exp.start(cluster, block=False)
        print(f"Ray head at {cluster.get_head_address()}; {cluster.plan}")
        cluster.connect(log_to_driver=False)
        nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
        pinned = [
            field_stats.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
            ).remote()
            for node in nodes
        ]
        for node, mean, high in ray.get(pinned):
            print(f"node {node}: field mean {mean:.3f}, max {high:.3f}")
        acc = Accumulator.remote()
        print("actor total:", ray.get([acc.add.remote(float(i)) for i in range(5)])[-1])
        ray.shutdown()
    finally:
        exp.stop(cluster)
        exp.stop(db)
        if alloc is not None:
            slurm.release_allocation(alloc)
    print(exp.summary())


if __name__ == "__main__":
    main()
