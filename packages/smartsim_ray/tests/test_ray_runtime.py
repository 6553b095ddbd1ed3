"""Ray itself starts and runs work on this machine (RayCluster arrives in a later issue)."""

import shutil
import tempfile

import pytest

import smartsim_ray

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def test_package_imports_with_version():
    assert smartsim_ray.__version__


def test_local_ray_runs_a_task():
    ray = pytest.importorskip("ray")
    temp_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # AF_UNIX paths: keep it short
    ray.init(
        num_cpus=1,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=temp_dir,
        configure_logging=False,
    )
    try:

        @ray.remote
        def square(x: int) -> int:
            return x * x

        assert ray.get([square.remote(i) for i in range(4)]) == [0, 1, 4, 9]
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
