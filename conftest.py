"""Fixtures for every test of the repository.

The real servers with the ai module come from ``smartsim_ai.testing.pytest_plugin``. The Slurm
test cluster (``scripts/slurm-cluster.sh``: nodes n1..nN as network namespaces on this machine)
is defined here, because it is test infrastructure of the repository, not of a package:

``slurm_cluster``  session-scoped :class:`SlurmCluster` of the running test cluster, found
                   through ``SLURM_CONF`` (``scripts/test.sh`` exports it) or
                   ``.slurm/c$SMARTSIM_SLURM_INDEX``. Every test marked ``slurm`` gets it.

A test marked ``slurm`` skips when no cluster answers, except under CI as root
(``CI`` set), where a cluster that should be up but is not fails the test instead of hiding it.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ("smartsim_ai.testing.pytest_plugin",)

ROOT = Path(__file__).resolve().parent
CLUSTER_SCRIPT = ROOT / "scripts" / "slurm-cluster.sh"


@dataclass(frozen=True)
class SlurmCluster:
    """The running multi-node test cluster."""

    index: int
    conf: Path  # the slurm.conf that SLURM_CONF names
    nodes: tuple[str, ...]  # n1, n2, ...
    addresses: dict[str, str]  # node -> its eth0 address
    accounting: bool  # slurmdbd runs, so sacct works
    host_address: str  # this machine's address on the cluster's bridge

    @property
    def directory(self) -> Path:
        return self.conf.parent.parent

    def env(self) -> dict[str, str]:
        """This process's environment with SLURM_CONF set for this cluster."""
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def namespace(self, node: str) -> str:
        return f"ss{self.index}n{node.lstrip('n')}"

    def node_pids(self, node: str) -> list[int]:
        """Pids of every process running on ``node`` (its network namespace)."""
        out = subprocess.run(
            ["ip", "netns", "pids", self.namespace(node)],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return [int(p) for p in out.stdout.split()]

    def user_pids(self, node: str) -> list[int]:
        """Pids on ``node`` other than its slurmd (what jobs left running there)."""
        slurmd = self.directory / f"slurmd-{node}.pid"
        daemon = int(slurmd.read_text()) if slurmd.exists() else -1
        return [p for p in self.node_pids(node) if p != daemon]

    def job_pids(self, node: str, job_ids: set[str]) -> list[int]:
        """Pids on ``node`` of the jobs ``job_ids`` (their ``SLURM_JOB_ID``): under xdist
        other tests' jobs may share the node."""
        found = []
        for pid in self.user_pids(node):
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    env = fh.read().split(b"\0")
            except OSError:
                continue
            if any(f"SLURM_JOB_ID={job}".encode() in env for job in job_ids):
                found.append(pid)
        return found


def _find_conf() -> Path | None:
    if os.environ.get("SLURM_CONF"):
        return Path(os.environ["SLURM_CONF"])
    index = os.environ.get("SMARTSIM_SLURM_INDEX", "0")
    base = Path(os.environ.get("SMARTSIM_SLURM_DIR", ROOT / ".slurm"))
    conf = base / f"c{index}" / "etc" / "slurm.conf"
    return conf if conf.exists() else None


def _load_cluster() -> tuple[SlurmCluster | None, str]:
    conf = _find_conf()
    if conf is None or not conf.exists():
        return None, "no test cluster: start one with `bash scripts/slurm-cluster.sh start`"
    directory = conf.parent.parent
    index = int(directory.name.lstrip("c") or 0)
    count = int((directory / "nodes").read_text())
    nodes = tuple(f"n{k}" for k in range(1, count + 1))
    try:
        out = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%N %T"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env=dict(os.environ, SLURM_CONF=str(conf)),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"sinfo failed for the test cluster at {conf}: {exc}"
    states = dict(line.split() for line in out.stdout.splitlines() if line.strip())
    up = {
        n for n, s in states.items() if s.rstrip("*~#") in {"idle", "mixed", "allocated", "planned"}
    }
    if not set(nodes) <= up:
        return None, f"the test cluster at {conf} is not up (sinfo: {out.stdout or out.stderr!r})"
    net = f"10.231.{index}"
    return (
        SlurmCluster(
            index=index,
            conf=conf,
            nodes=nodes,
            addresses={n: f"{net}.{10 + k}" for k, n in enumerate(nodes, start=1)},
            accounting=(directory / "accounting").read_text().strip() == "1",
            host_address=f"{net}.1",
        ),
        "",
    )


_cluster_cache: list[tuple[SlurmCluster | None, str]] = []


def _cluster_or_reason() -> tuple[SlurmCluster | None, str]:
    if not _cluster_cache:
        _cluster_cache.append(_load_cluster())
    return _cluster_cache[0]


def _must_have_slurm() -> bool:
    return bool(os.environ.get("CI")) and os.geteuid() == 0


@pytest.fixture(scope="session")
def slurm_cluster() -> SlurmCluster:
    """The running Slurm test cluster (tests marked ``slurm`` run with its SLURM_CONF set)."""
    cluster, reason = _cluster_or_reason()
    if cluster is None:
        if _must_have_slurm():
            pytest.fail(f"CI as root must run the Slurm tests: {reason}")
        pytest.skip(reason)
    return cluster


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the fixtures (the environment-restoring one included) see the environment.
    cluster, _ = _cluster_or_reason()
    if cluster is not None and item.get_closest_marker("slurm"):
        os.environ["SLURM_CONF"] = str(cluster.conf)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slurm") and "slurm_cluster" not in getattr(
            item, "fixturenames", ["slurm_cluster"]
        ):
            item.fixturenames.insert(0, "slurm_cluster")
