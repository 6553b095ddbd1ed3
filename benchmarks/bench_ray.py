"""RayCluster against plain Ray usage on this machine, side by side in one run.

Measures, the two kinds alternating over ``--rounds`` rounds (medians):

  * start-to-ready of a head + 2 workers: ``Experiment.start(RayCluster(num_nodes=3))`` until
    every node joined, against ``ray start --head`` + 2 x ``ray start --address`` run by hand
    (``--block``, the same ports, temp dirs and object store, started together, until each
    prints "Ray runtime started."); ratio hand / ours (1.0: no overhead);
  * tasks/s of a trivial remote function (``--tasks`` of them, submitted at once), from a
    driver connected to our cluster through Ray Client against a plain ``ray.init()`` on
    this machine (one node, as many CPUs as the cluster has); ratio ours / plain.

Every Ray process is started by this script and stopped by pid (never ``ray stop``, which
ends every Ray process of the machine). Absolute times on a shared machine are noise; the
ratios are the figures.

With ``--slurm`` (a running Slurm, e.g. ``bash scripts/slurm-cluster.sh start --index 4``
then ``source .slurm/c4/env``), start-to-ready is measured in a 3-node allocation instead:
``RayCluster(launcher="slurm", interface=...)`` against ``srun --relative=<i> ray start``
typed by hand (the head first, then the workers at its printed address).

Usage: .venv/bin/python benchmarks/bench_ray.py [--rounds 2] [--tasks 500] [--cpus 1]
       .venv/bin/python benchmarks/bench_ray.py --slurm [--interface eth0] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

from smartsim import Experiment
from smartsim_ray import RayCluster
from smartsim_ray.ports import PortPlan, find_free_ray_port

NODES = 3
WORKER_PORTS = 24
OBJECT_STORE = 80 * 1024 * 1024

TASKS_DRIVER = textwrap.dedent(
    """
    import sys, time, ray
    from smartsim_ray import connect_client
    address, count, cpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if address == "local":
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                 object_store_memory=int(sys.argv[5]), _temp_dir=sys.argv[4])
    else:
        connect_client(address, log_to_driver=False)
    @ray.remote(num_cpus=0)
    def noop(i):
        return i
    ray.get([noop.remote(i) for i in range(50)])  # warm the worker pool
    start = time.perf_counter()
    assert ray.get([noop.remote(i) for i in range(count)]) == list(range(count))
    print(count / (time.perf_counter() - start))
    ray.shutdown()
    """
)


def ours_start(workdir: Path, cpus: int) -> tuple[float, Experiment, RayCluster]:
    exp = Experiment("bench", exp_path=str(workdir), launcher="local")
    cluster = RayCluster(
        "rc",
        ray_port=find_free_ray_port(NODES, WORKER_PORTS),
        num_nodes=NODES,
        ray_args={"num-cpus": cpus, "object-store-memory": OBJECT_STORE},
        worker_ports=WORKER_PORTS,
    )
    exp.generate(cluster, overwrite=True)
    start = time.perf_counter()
    exp.start(cluster, block=False)
    return time.perf_counter() - start, exp, cluster


def hand_start(workdir: Path, cpus: int) -> tuple[float, list[subprocess.Popen], list[str]]:
    """The same three nodes with ``ray start --block`` typed by hand (no SmartSim)."""
    plan = PortPlan(find_free_ray_port(NODES, WORKER_PORTS), NODES, WORKER_PORTS)
    ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    procs, temps, outs = [], [], []
    start = time.perf_counter()
    for i in range(NODES):
        temp = tempfile.mkdtemp(prefix=f"hand{i}_", dir="/tmp")
        temps.append(temp)
        argv = [ray, "start", "--block", f"--temp-dir={temp}", f"--num-cpus={cpus}"]
        argv.append(f"--object-store-memory={OBJECT_STORE}")
        if i == 0:
            argv += ["--head", f"--port={plan.gcs}", f"--ray-client-server-port={plan.client}"]
            argv.append("--include-dashboard=false")
        else:
            argv.append(f"--address=127.0.0.1:{plan.gcs}")
        argv += [f"--{k}={v}" for k, v in plan.node_options(i).items()]
        out = workdir / f"hand{i}.out"
        outs.append(out)
        with open(out, "w") as handle:
            procs.append(
                subprocess.Popen(
                    argv, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )
    while not all("Ray runtime started." in p.read_text() for p in outs):
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a hand-started ray node exited: " + outs[0].read_text()[-2000:])
        time.sleep(0.1)
    return time.perf_counter() - start, procs, temps


def ours_start_slurm(
    workdir: Path, cpus: int, alloc: str, interface: str
) -> tuple[float, Experiment, RayCluster]:
    exp = Experiment("bench", exp_path=str(workdir), launcher="slurm")
    cluster = RayCluster(
        "rc",
        ray_port=find_free_ray_port(NODES, WORKER_PORTS),
        num_nodes=NODES,
        launcher="slurm",
        alloc=alloc,
        interface=interface,
        ray_args={"num-cpus": cpus, "object-store-memory": OBJECT_STORE},
        worker_ports=WORKER_PORTS,
    )
    exp.generate(cluster, overwrite=True)
    start = time.perf_counter()
    exp.start(cluster, block=False)
    return time.perf_counter() - start, exp, cluster


def hand_start_slurm(workdir: Path, cpus: int, alloc: str, interface: str) -> float:
    """``srun ... ray start`` by hand: the head, then the workers at its address; seconds."""
    plan = PortPlan(find_free_ray_port(NODES, WORKER_PORTS), NODES, WORKER_PORTS)
    ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or "ray"
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    procs, temps, outs = [], [], []
    start = time.perf_counter()
    head_ip = ""
    for i in range(NODES):
        temp = tempfile.mkdtemp(prefix=f"hand{i}_", dir="/tmp")
        temps.append(temp)
        ip = f"$(ip -4 -o addr show {interface} | awk '{{print $4}}' | cut -d/ -f1)"
        cmd = f"{ray} start --block --temp-dir={temp} --num-cpus={cpus} "
        cmd += f"--object-store-memory={OBJECT_STORE} --node-ip-address={ip} "
        if i == 0:
            cmd += f"--head --port={plan.gcs} --ray-client-server-port={plan.client} "
            cmd += "--include-dashboard=false "
        else:
            cmd += f"--address={head_ip}:{plan.gcs} "
        cmd += " ".join(f"--{k}={v}" for k, v in plan.node_options(i).items())
        srun = ["srun", f"--jobid={alloc}", "-N1", "-n1", f"--relative={i}", "bash", "-c", cmd]
        out = workdir / f"hand{i}.out"
        outs.append(out)
        with open(out, "w") as handle:
            procs.append(
                subprocess.Popen(
                    srun, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            )
        if i == 0:
            while "Ray runtime started." not in out.read_text():
                if procs[0].poll() is not None:
                    raise RuntimeError("the hand-started head exited: " + out.read_text()[-2000:])
                time.sleep(0.1)
            head_ip = out.read_text().split("Local node IP:")[1].split()[0]
    while not all("Ray runtime started." in p.read_text() for p in outs):
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a hand-started node exited: " + outs[-1].read_text()[-2000:])
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    stop_tree(procs)
    subprocess.run(["scancel", "-s", "TERM", alloc], check=False)  # nothing else runs there
    time.sleep(2)
    for temp in temps:
        shutil.rmtree(temp, ignore_errors=True)
    return seconds


def stop_tree(procs: list[subprocess.Popen]) -> None:
    everything = []
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            everything += [proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(True))]
    for pid in everything:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).terminate()
    _, alive = psutil.wait_procs([p for p in map(_proc, everything) if p is not None], timeout=3)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def tasks_per_s(address: str, count: int, cpus: int, env: dict[str, str]) -> float:
    temp = tempfile.mkdtemp(prefix="plain_", dir="/tmp")
    try:
        out = subprocess.run(
            [sys.executable, "-c", TASKS_DRIVER, address, str(count), str(cpus), temp]
            + [str(OBJECT_STORE)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs per Ray node")
    parser.add_argument("--slurm", action="store_true", help="start-to-ready on Slurm")
    parser.add_argument("--interface", default="eth0", help="the Slurm nodes' interface")
    args = parser.parse_args()
    logging.getLogger("smartsim").setLevel(logging.WARNING)
    if args.slurm:
        slurm_main(args)
        return
    results: dict[str, list[float]] = {"ours_s": [], "hand_s": [], "ours_tps": [], "plain_tps": []}
    with tempfile.TemporaryDirectory(prefix="bench_ray_") as tmp:
        for r in range(args.rounds):
            workdir = Path(tmp) / f"r{r}"
            workdir.mkdir()
            seconds, procs, temps = hand_start(workdir, args.cpus)
            results["hand_s"].append(seconds)
            stop_tree(procs)
            for temp in temps:
                shutil.rmtree(temp, ignore_errors=True)
            seconds, exp, cluster = ours_start(workdir, args.cpus)
            results["ours_s"].append(seconds)
            try:
                env = dict(os.environ, **cluster.ray_env())
                tps = tasks_per_s(cluster.get_client_address(), args.tasks, args.cpus, env)
                results["ours_tps"].append(tps)
            finally:
                exp.stop(cluster)
            env = dict(os.environ, RAY_AUTH_MODE="disabled")
            plain = tasks_per_s("local", args.tasks, NODES * args.cpus, env)
            results["plain_tps"].append(plain)
            print(
                f"round {r}: start hand {results['hand_s'][-1]:.1f} s, ours {results['ours_s'][-1]:.1f}"
                f" s; tasks/s ours {results['ours_tps'][-1]:.0f}, plain {plain:.0f}",
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"\nstart-to-ready, head + {NODES - 1} workers (median of {args.rounds}):")
    print(f"  ray start by hand  {med['hand_s']:6.1f} s")
    print(f"  RayCluster         {med['ours_s']:6.1f} s")
    print(f"  ratio hand/ours    {med['hand_s'] / med['ours_s']:6.2f}")
    print(f"trivial tasks/s ({args.tasks} at once):")
    print(f"  plain ray.init()           {med['plain_tps']:8.0f}")
    print(f"  RayCluster via Ray Client  {med['ours_tps']:8.0f}")
    print(f"  ratio ours/plain           {med['ours_tps'] / med['plain_tps']:8.2f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_ray.json").write_text(json.dumps({"rounds": results, "median": med}, indent=1))


def slurm_main(args: argparse.Namespace) -> None:
    from smartsim.wlm import slurm

    hand, ours = [], []
    with tempfile.TemporaryDirectory(prefix="bench_ray_", dir=os.getcwd()) as tmp:
        for r in range(args.rounds):
            workdir = Path(tmp) / f"r{r}"
            workdir.mkdir()
            alloc = slurm.get_allocation(nodes=NODES, time="00:10:00")
            try:
                hand.append(hand_start_slurm(workdir, args.cpus, alloc, args.interface))
            finally:
                slurm.release_allocation(alloc)
            alloc = slurm.get_allocation(nodes=NODES, time="00:10:00")
            try:
                seconds, exp, cluster = ours_start_slurm(workdir, args.cpus, alloc, args.interface)
                ours.append(seconds)
                exp.stop(cluster)
                for temp in glob.glob(f"/tmp/ssray{cluster.plan.ray_port}_*"):
                    shutil.rmtree(temp, ignore_errors=True)
            finally:
                slurm.release_allocation(alloc)
            print(f"round {r}: hand {hand[-1]:.1f} s, ours {ours[-1]:.1f} s", flush=True)
    h, o = statistics.median(hand), statistics.median(ours)
    print(f"\nSlurm start-to-ready, head + {NODES - 1} workers (median of {args.rounds}):")
    print(f"  srun ray start by hand  {h:6.1f} s")
    print(f"  RayCluster              {o:6.1f} s")
    print(f"  ratio hand/ours         {h / o:6.2f}")


if __name__ == "__main__":
    main()
