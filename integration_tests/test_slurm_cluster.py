"""The multi-node Slurm test cluster (scripts/slurm-cluster.sh) does what real clusters do.

The session's cluster (``slurm_cluster``) must behave like separate machines: a host name and an
address per node, steps and batch jobs across nodes, MPI ranks on every node, accounting when
started with it. A second, small cluster started here checks the script itself: side by side
with the session's, without accounting, and gone without a trace after ``stop``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "slurm-cluster.sh"


def run(cmd: list[str], env: dict[str, str], timeout: float = 120) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    assert out.returncode == 0, f"{cmd} failed ({out.returncode}): {out.stderr}"
    return out.stdout


@pytest.mark.slurm
def test_every_node_has_its_own_hostname_and_address(slurm_cluster):
    env = slurm_cluster.env()
    n = len(slurm_cluster.nodes)
    out = run(["srun", f"-N{n}", "sh", "-c", "echo $(hostname) $(hostname -i)"], env)
    seen = dict(line.split() for line in out.splitlines())
    assert seen == slurm_cluster.addresses


@pytest.mark.slurm
def test_a_server_on_one_node_is_reached_from_another(slurm_cluster, tmp_path):
    env = slurm_cluster.env()
    first, second = slurm_cluster.nodes[:2]
    address = slurm_cluster.addresses[first]
    serve = (
        "import socket; s = socket.create_server(('0.0.0.0', 17999)); c, _ = s.accept(); "
        "c.sendall(socket.gethostname().encode()); c.close()"
    )
    server = subprocess.Popen(
        ["srun", "-N1", "-w", first, "python3", "-c", serve],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        client = (
            "import socket, time\n"
            "for _ in range(200):\n"
            "    try:\n"
            f"        s = socket.create_connection(('{address}', 17999), timeout=2); break\n"
            "    except OSError: time.sleep(0.1)\n"
            "print(s.recv(100).decode())\n"
        )
        out = run(["srun", "-N1", "-w", second, "python3", "-c", client], env)
        assert out.strip() == first
    finally:
        server.kill()
        server.communicate(timeout=30)


@pytest.mark.slurm
def test_batch_job_runs_steps_on_two_nodes(slurm_cluster, tmp_path):
    env = slurm_cluster.env()
    out = tmp_path / "job.out"
    run(["sbatch", "--wait", "-N2", "-o", str(out), "--wrap", "srun -l hostname"], env)
    lines = sorted(out.read_text().split("\n")[:-1])
    # which two nodes depends on what other tests (under xdist) hold at the time
    assert [line.split(": ")[0] for line in lines] == ["0", "1"]
    hosts = [line.split(": ")[1] for line in lines]
    assert len(set(hosts)) == 2 and set(hosts) <= set(slurm_cluster.nodes)


@pytest.mark.slurm
@pytest.mark.mpi
def test_mpirun_inside_an_allocation_spans_every_node(slurm_cluster):
    env = dict(slurm_cluster.env(), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    n = len(slurm_cluster.nodes)
    out = run(
        [
            "salloc",
            f"-N{n}",
            f"-n{2 * n}",
            "mpirun",
            "--oversubscribe",
            "-np",
            str(2 * n),
            "hostname",
        ],
        env,
    )
    hosts = [h for h in out.split() if h.startswith("n")]
    assert sorted(hosts) == sorted(list(slurm_cluster.nodes) * 2)


@pytest.mark.slurm
def test_accounting_records_exit_codes(slurm_cluster):
    if not slurm_cluster.accounting:
        pytest.skip("this session's cluster runs without accounting")
    env = slurm_cluster.env()
    job = run(["sbatch", "--parsable", "-o", "/dev/null", "--wrap", "exit 3"], env).strip()
    for _ in range(100):
        rows = run(["sacct", "-n", "-P", "-j", job, "-o", "JobID,State,ExitCode"], env)
        if f"{job}|FAILED|3:0" in rows:
            break
        time.sleep(0.2)
    assert f"{job}|FAILED|3:0" in rows


def _leftovers(index: int) -> list[str]:
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    found = [ln.split(":")[1].strip() for ln in links.splitlines() if f"ss{index}" in ln]
    netns = Path("/run/netns")
    if netns.exists():
        found += [p.name for p in netns.iterdir() if p.name.startswith(f"ss{index}n")]
    return found


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the test cluster needs root")
@pytest.mark.skipif(shutil.which("slurmctld") is None, reason="slurm-wlm is not installed")
def test_second_cluster_without_accounting_side_by_side_then_gone(tmp_path):
    index = 9
    env = dict(os.environ, SMARTSIM_SLURM_DIR=str(tmp_path / "slurm"))
    env.pop("SLURM_CONF", None)
    assert not _leftovers(index), "a cluster with index 9 is already running"
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", "--index", str(index), "--nodes", "2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    conf = tmp_path / "slurm" / f"c{index}" / "etc" / "slurm.conf"
    try:
        assert started.returncode == 0, started.stderr
        cluster_env = dict(env, SLURM_CONF=str(conf))
        assert run(["srun", "-N2", "hostname"], cluster_env).split() != []
        sacct = subprocess.run(
            ["sacct", "-n"], capture_output=True, text=True, env=cluster_env, timeout=60
        )
        assert "accounting storage is disabled" in (sacct.stdout + sacct.stderr).lower()
        pidfiles = list(conf.parent.parent.glob("*.pid"))
        pids = [int(p.read_text()) for p in pidfiles]
        assert len(pids) == 4  # munged, slurmctld, two slurmd
    finally:
        stopped = subprocess.run(
            ["bash", str(SCRIPT), "stop", "--index", str(index)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert stopped.returncode == 0, stopped.stderr
    assert not _leftovers(index)
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().split()[2] == "Z", f"pid {pid} still runs"
