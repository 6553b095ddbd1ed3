"""RayCluster's API and argument checks (SmartSim 0.4's), and the smartsim.exp.ray seam.

No Ray process is started here.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import textwrap

import pytest

from smartsim import Experiment
from smartsim.error import SmartSimError, SSUnsupportedError
from smartsim_ray import RayCluster, RayHead, RayWorker
from smartsim_ray.ports import PortPlan

pytestmark = pytest.mark.ray  # RayCluster refuses to build without Ray installed


def test_package_has_a_version():
    import smartsim_ray

    assert smartsim_ray.__version__


def test_members_are_head_and_numbered_workers(tmp_path):
    cluster = RayCluster("rc", path=str(tmp_path), num_nodes=3)
    assert [n.name for n in cluster] == ["ray_head", "ray_worker_0", "ray_worker_1"]
    assert isinstance(cluster.entities[0], RayHead)
    assert all(isinstance(w, RayWorker) for w in cluster.entities[1:])
    assert cluster.type == "RayCluster" and not cluster.batch
    assert cluster.plan == PortPlan(6789, 3)


def test_num_nodes_below_one_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="larger than 0"):
        RayCluster("rc", path=str(tmp_path), num_nodes=0)


@pytest.mark.parametrize("launcher", ["pbs", "cobalt", "lsf", "nope"])
def test_unsupported_launchers(tmp_path, launcher):
    with pytest.raises(SSUnsupportedError, match="local, slurm"):
        RayCluster("rc", path=str(tmp_path), launcher=launcher)


def test_batch_needs_a_workload_manager(tmp_path):
    with pytest.raises(SmartSimError, match="batch=True"):
        RayCluster("rc", path=str(tmp_path), batch=True)


@pytest.mark.parametrize("key", ["port", "head", "--temp-dir", "node_manager_port", "address"])
def test_ray_args_may_not_set_what_the_cluster_sets(tmp_path, key):
    with pytest.raises(SmartSimError, match="RayCluster sets it"):
        RayCluster("rc", path=str(tmp_path), ray_args={key: 1})


def test_ray_args_pass_through_and_override_two_ports(tmp_path):
    cluster = RayCluster(
        "rc",
        path=str(tmp_path),
        num_nodes=2,
        ray_args={"num-cpus": 1, "dashboard-port": 9999, "ray-client-server-port": 10001},
    )
    assert cluster.client_port == 10001 and cluster.dashboard_port == 9999
    worker_args = cluster.entities[1].run_settings.exe_args
    assert "--ray-arg=num-cpus=1" in worker_args
    assert "--client-port=10001" in worker_args
    assert "--role=worker" in worker_args and "--index=1" in worker_args


def test_password_auto_string_and_none(tmp_path):
    auto_a = RayCluster("a", path=str(tmp_path)).password
    auto_b = RayCluster("b", path=str(tmp_path)).password
    assert auto_a and auto_b and auto_a != auto_b and len(auto_a) == 32
    given = RayCluster("c", path=str(tmp_path), password="s3cret")
    assert given.password == "s3cret"
    assert given.ray_env()["RAY_AUTH_MODE"] == "token"
    assert given.entities[0].run_settings.env_vars["RAY_AUTH_TOKEN_PATH"] == str(given.token_file)
    none = RayCluster("d", path=str(tmp_path), password=None)
    assert none.password is None and none.token_file is None
    assert none.entities[0].run_settings.env_vars["RAY_AUTH_MODE"] == "disabled"
    with pytest.raises(TypeError):
        RayCluster("e", path=str(tmp_path), password=5)


def test_token_file_is_private(tmp_path):
    cluster = RayCluster("rc", path=str(tmp_path), ray_port=_free_range(1), password="tok")
    cluster.prepare_launch()
    try:
        assert cluster.token_file.read_text() == "tok"
        assert stat.S_IMODE(os.stat(cluster.token_file).st_mode) == 0o600
    finally:
        cluster.after_stop()
    assert not cluster.token_file.exists()


def test_unexpected_keyword_refused(tmp_path):
    with pytest.raises(TypeError, match="bogus"):
        RayCluster("rc", path=str(tmp_path), bogus=1)


def test_addresses_before_start_are_errors(tmp_path):
    cluster = RayCluster("rc", path=str(tmp_path))
    for getter in (cluster.get_head_address, cluster.get_client_address):
        with pytest.raises(SmartSimError, match="not running"):
            getter()
    with pytest.raises(SmartSimError, match="dashboard is off"):
        cluster.get_dashboard_address()


def test_set_hosts_local_only_this_host(tmp_path):
    cluster = RayCluster("rc", path=str(tmp_path), num_nodes=2)
    cluster.set_hosts(["localhost", socket.gethostname()], "local")
    with pytest.raises(SmartSimError, match="every Ray node on this host"):
        cluster.set_hosts(["localhost", "elsewhere"], "local")
    with pytest.raises(ValueError, match="1 host"):
        cluster.set_hosts(["localhost"], "local")
    with pytest.raises(TypeError):
        cluster.set_hosts([1, 2], "local")


def test_busy_port_in_range_refused_before_anything_starts(tmp_path):
    port = _free_range(2)
    cluster = RayCluster("rc", path=str(tmp_path), ray_port=port, num_nodes=2)
    with socket.socket() as sock:
        sock.bind(("", cluster.plan.node_options(1)["min-worker-port"]))
        sock.listen()
        with pytest.raises(SmartSimError, match="in use"):
            cluster.prepare_launch()


def test_generate_moves_nodes_and_their_files(tmp_path):
    exp = Experiment("e", exp_path=str(tmp_path), launcher="local")
    cluster = RayCluster("rc", num_nodes=2)
    exp.generate(cluster)
    head_dir = tmp_path / "rc" / "ray_head"
    assert head_dir.is_dir() and (tmp_path / "rc" / "ray_worker_0").is_dir()
    assert f"--head-info={head_dir / 'ray_head_address.json'}" in (
        cluster.entities[1].run_settings.exe_args
    )
    assert cluster.token_file == head_dir / "ray_auth_token"


def _free_range(num_nodes: int) -> int:
    from smartsim_ray.ports import find_free_ray_port

    return find_free_ray_port(num_nodes)


SEAM = textwrap.dedent(
    """
    import sys
    import smartsim, smartsim.exp.ray as seam
    assert "smartsim_ray" not in sys.modules and "ray" not in sys.modules, "eager import"
    from smartsim.exp.ray import RayCluster
    import smartsim_ray
    assert RayCluster is smartsim_ray.RayCluster
    assert "ray" not in sys.modules, "smartsim_ray imported ray"
    print("ok")
    """
)


def test_seam_resolves_lazily_without_importing_ray():
    out = subprocess.run([sys.executable, "-c", SEAM], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


HIDDEN = textwrap.dedent(
    """
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "smartsim_ray" or name.startswith("smartsim_ray."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Block())
    import smartsim.exp.ray
    try:
        from smartsim.exp.ray import RayCluster
    except ImportError as exc:
        print(exc)
    """
)


def test_seam_without_the_plugin_says_what_to_install():
    out = subprocess.run([sys.executable, "-c", HIDDEN], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "pip install smartsim_ray" in out.stdout
