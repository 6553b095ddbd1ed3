"""The real services the test suite relies on work on this machine: Open MPI (Slurm: test_slurm_cluster.py)."""

import os
import shutil
import subprocess

import pytest


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
