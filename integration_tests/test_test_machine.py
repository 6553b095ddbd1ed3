"""The real services the test suite relies on work on this machine: Slurm and Open MPI."""

import os
import shutil
import subprocess

import pytest


@pytest.mark.slurm
def test_one_node_slurm_runs_a_step():
    out = subprocess.run(
        ["srun", "-N1", "-n2", "hostname"], capture_output=True, text=True, timeout=120, check=True
    )
    lines = out.stdout.split()
    assert len(lines) == 2 and len(set(lines)) == 1


@pytest.mark.slurm
def test_one_node_slurm_runs_a_batch_job(tmp_path):
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/bash\necho batch-ran-on $(hostname)\n")
    out = tmp_path / "job.out"
    subprocess.run(
        ["sbatch", "--wait", "-o", str(out), str(script)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert out.read_text().startswith("batch-ran-on ")


@pytest.mark.mpi
def test_open_mpi_runs_four_ranks(tmp_path):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    out = subprocess.run(
        [
            shutil.which("mpirun"),
            "--oversubscribe",
            "-np",
            "4",
            "sh",
            "-c",
            "echo rank $OMPI_COMM_WORLD_RANK",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    assert sorted(out.stdout.split("\n")[:-1]) == [f"rank {i}" for i in range(4)]
