"""The examples in examples/ run as they are (in a temporary working directory)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"


def run_example(name: str, cwd: pathlib.Path) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_hello_world(tmp_path):
    out = run_example("hello_world.py", tmp_path)
    assert "Completed" in out
    assert (tmp_path / "hello_world.out").read_text() == "Hello World\n"


@pytest.mark.mpi
def test_hello_world_mpi(tmp_path):
    out = run_example("hello_world_mpi.py", tmp_path)
    assert "Completed" in out
    assert (tmp_path / "hello_world.out").read_text().splitlines() == ["Hello World!"] * 4


def test_ensemble_config(tmp_path):
    out = run_example("ensemble_config.py", tmp_path)
    assert out.count("Completed") == 4
    cfg = (tmp_path / "ensemble_exp" / "sim" / "sim_3" / "run.cfg").read_text()
    assert cfg == "steps = 20\nviscosity = 0.01\n"


@pytest.mark.torch
@pytest.mark.slow
def test_online_training(tmp_path):
    out = run_example("online_training.py", tmp_path)
    losses = [float(line.rsplit(" ", 1)[1]) for line in out.splitlines() if "loss" in line]
    assert len(losses) == 5 and losses[-1] < losses[0] / 4, out
    assert "learned weights" in out
