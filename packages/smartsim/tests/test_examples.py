"""The examples in examples/ run as they are (in a temporary working directory)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[3] / "examples"


def run_example(
    name: str, cwd: pathlib.Path, timeout: float = 300, args: tuple[str, ...] = ()
) -> str:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # SIGTERM, not SIGKILL: the example's driver then stops what it started (its database)
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise AssertionError(f"{name} did not finish within {timeout} s:\n{err}") from None
    assert proc.returncode == 0, err
    return out


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


def _number_after(out: str, label: str) -> float:
    line = next(ln for ln in out.splitlines() if label in ln)
    return float(line.split(label, 1)[1].split(";")[0].strip().rstrip(".").split()[0])


@pytest.mark.slow
def test_lattice_online_analysis_plots_the_vorticity_while_it_runs(tmp_path):
    import matplotlib.image

    out = run_example("lattice_online_analysis.py", tmp_path)
    steps = [ln for ln in out.splitlines() if ln.startswith("step ")]
    assert len(steps) == 12 and all("max |vorticity|" in ln for ln in steps)
    # the driver read fields while the simulation ran
    assert "status Running" in steps[0]
    image = matplotlib.image.imread(tmp_path / "lattice_vorticity.png")
    red = (image[..., 0] > 0.8) & (image[..., 2] < 0.5)
    blue = (image[..., 2] > 0.8) & (image[..., 0] < 0.5)
    # the wake: positive vorticity above the cylinder, negative below, in both panels
    rows_red, rows_blue = red.nonzero()[0], blue.nonzero()[0]
    assert red.sum() > 500 and blue.sum() > 500
    half = image.shape[0] // 2
    for lo, hi in ((0, half), (half, image.shape[0])):
        r = rows_red[(rows_red >= lo) & (rows_red < hi)]
        b = rows_blue[(rows_blue >= lo) & (rows_blue < hi)]
        assert r.mean() < b.mean()


@pytest.mark.torch
def test_svd_online(tmp_path):
    out = run_example("svd_online.py", tmp_path)
    assert "U (64, 32), S (32,), V (32, 32)" in out
    assert _number_after(out, "max |U S V - field| =") < 1e-4
    assert _number_after(out, "max |S - numpy's S| =") < 1e-4


@pytest.mark.torch
def test_cnn_inference(tmp_path):
    out = run_example("cnn_inference.py", tmp_path)
    assert "scores (16, 10)" in out
    assert _number_after(out, "max difference to the local model:") < 1e-5


@pytest.mark.onnx
def test_sklearn_onnx(tmp_path):
    out = run_example("sklearn_onnx.py", tmp_path)
    assert _number_after(out, "max difference:") < 1e-3


@pytest.mark.tf
def test_keras_tf(tmp_path):
    out = run_example("keras_tf.py", tmp_path)
    assert "graph inputs ['input_0'], outputs ['Identity']" in out
    assert _number_after(out, "max difference to Keras:") < 1e-5


@pytest.mark.ray
@pytest.mark.slow
@pytest.mark.xdist_group("ray_local")  # one Ray cluster at a time on this machine
def test_ray_cluster(tmp_path):
    import psutil

    from smartsim_ai.testing.servers import free_port
    from smartsim_ray.ports import find_free_ray_port

    ray_port = find_free_ray_port(2)
    args = ("--db-port", str(free_port()), "--ray-port", str(ray_port))
    out = run_example("ray_cluster.py", tmp_path, timeout=400, args=args)
    assert f"ports {ray_port}-" in out
    nodes = [ln for ln in out.splitlines() if ln.startswith("node ")]
    # one task pinned to each of the two Ray nodes, each read the simulation's field
    assert len(nodes) == 2 and len({ln.split()[1] for ln in nodes}) == 2, out
    assert all(ln.endswith("field mean 0.500, max 1.000") for ln in nodes), out
    assert "actor total: 10.0" in out
    rows = {ln.split("|")[2].strip(): ln for ln in out.splitlines() if ln.startswith("|  ")}
    assert "Completed" in rows["simulation"]
    assert all("Cancelled" in rows[n] for n in ("orchestrator", "ray_head", "ray_worker_0"))
    # nothing of the Ray cluster is left: no process, no temp dir
    marker = f"ssray{ray_port}_"
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if marker in " ".join(proc.info["cmdline"] or []):
                left.append(proc.pid)
        except psutil.Error:
            continue
    assert not left, f"Ray processes left behind: {left}"
    assert not list(pathlib.Path("/tmp").glob(f"{marker}*"))
