"""RayCluster: a Ray head and workers launched, watched and stopped by an Experiment.

The cluster never starts a process itself. Each node is an entity whose run settings start
:mod:`smartsim_ray.entrypoint` through the experiment's launcher (local: several Ray nodes
on one machine; Slurm: one node per host); the controller launches them like any model and
then calls :meth:`RayCluster.after_launch`, which waits until every node has joined and
reports per node what went wrong otherwise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from smartsim._core.launcher import get_launcher_spec
from smartsim.entity.entity_list import EntityList
from smartsim.error import SmartSimError, SSUnsupportedError
from smartsim.settings.base import BatchSettings, RunSettings
from smartsim_ray.entrypoint import log_tails
from smartsim_ray.node import NodeState, RayHead, RayNode, RayWorker, read_node_state
from smartsim_ray.ports import (
    DEFAULT_WORKER_PORTS,
    NODE_PORT_OPTIONS,
    PortPlan,
    busy_ports,
    port_free,
)

logger = logging.getLogger(__name__)

SUPPORTED_LAUNCHERS = ("local", "slurm")
START_TIMEOUT_ENV = "SMARTSIM_RAY_START_TIMEOUT"
HEAD_INFO_FILE = "ray_head_address.json"
TOKEN_FILE = "ray_auth_token"
#: ray start options the cluster sets itself (ports come from the PortPlan)
RESERVED_RAY_ARGS = frozenset(
    {
        "head",
        "address",
        "port",
        "block",
        "temp-dir",
        "node-ip-address",
        "min-worker-port",
        "max-worker-port",
        "worker-port-list",
        "redis-password",
        *NODE_PORT_OPTIONS,
    }
)


def _check_ray_installed() -> None:
    if importlib.util.find_spec("ray") is None:
        raise SmartSimError(
            "Ray is not installed in this environment: pip install 'smartsim_ray[ray]' (the "
            "same Ray version must be installed on every node)"
        )


class RayCluster(EntityList):
    """A Ray cluster of ``num_nodes`` nodes: ``ray_head`` and ``ray_worker_<i>``.

    Arguments as in SmartSim 0.4 (``smartsim.exp.ray.RayCluster``):

    * ``ray_port``: the head's GCS port and the start of the cluster's port range (see
      :class:`~smartsim_ray.ports.PortPlan`; ``worker_ports`` per node);
    * ``ray_args``: more ``ray start`` options, e.g. ``{"num-cpus": 2}``; ``"dashboard-port"``
      and ``"ray-client-server-port"`` override those two ports;
    * ``launcher``: ``local`` or ``slurm``; ``batch=True`` submits the cluster as one batch
      job (``time``, ``batch_args``); ``alloc``/``run_args``/``run_command``/``host_list``
      place it;
    * ``interface``: the network interface whose address each node uses (default: ``lo`` on
      the local launcher, where every node is on this machine; else Ray's choice, the address
      that routes to the head);
    * ``password``: ``"auto"`` generates a token, a str is used as given, ``None`` disables
      Ray's token authentication.
    """

    def __init__(
        self,
        name: str,
        path: str | None = None,
        ray_port: int = 6789,
        ray_args: dict[str, Any] | None = None,
        num_nodes: int = 1,
        run_args: dict[str, Any] | None = None,
        batch_args: dict[str, Any] | None = None,
        launcher: str = "local",
        batch: bool = False,
        time: str = "01:00:00",
        interface: str | None = None,
        alloc: str | None = None,
        run_command: str | None = None,
        host_list: list[str] | str | None = None,
        password: str | None = "auto",
        *,
        worker_ports: int = DEFAULT_WORKER_PORTS,
        **kwargs: Any,
    ) -> None:
        if kwargs:
            raise TypeError(f"RayCluster got unexpected keyword arguments {sorted(kwargs)}")
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, int):
            raise TypeError(f"num_nodes must be an int, got {type(num_nodes).__name__}")
        if num_nodes < 1:
            raise ValueError("Number of nodes must be larger than 0.")
        if not isinstance(launcher, str) or launcher.lower() not in SUPPORTED_LAUNCHERS:
            raise SSUnsupportedError(
                f"launcher {launcher!r} is not supported by RayCluster; use one of "
                f"{', '.join(SUPPORTED_LAUNCHERS)}"
            )
        _check_ray_installed()
        self.spec = get_launcher_spec(launcher)
        self.launcher = self.spec.name
        if batch and self.spec.batch_settings is None:
            raise SmartSimError(
                f"batch=True needs a workload manager; the {self.launcher} launcher has none"
            )
        self.ray_args = self._check_ray_args(ray_args)
        self.plan = PortPlan(ray_port, num_nodes, worker_ports)
        self.ray_port = ray_port
        self.num_nodes = num_nodes
        # Every node of a local cluster is on this machine: loopback, not the host's network
        # address that Ray would pick (nothing outside the machine needs to reach it).
        self.interface = interface or ("lo" if self.launcher == "local" else None)
        self.alloc = alloc
        self.run_args = dict(run_args or {})
        self.run_command = run_command
        self._password = self._make_password(password)
        batch_settings = self._make_batch_settings(time, batch_args) if batch else None
        super().__init__(name, path, batch_settings=batch_settings)
        if host_list is not None:
            self.set_hosts(host_list, self.launcher)

    # ---- construction -----------------------------------------------------------------
    @staticmethod
    def _check_ray_args(ray_args: dict[str, Any] | None) -> dict[str, str | None]:
        if ray_args is None:
            return {}
        if not isinstance(ray_args, dict):
            raise TypeError(f"ray_args must be a dict, got {type(ray_args).__name__}")
        out: dict[str, str | None] = {}
        for key, value in ray_args.items():
            if not isinstance(key, str):
                raise TypeError(f"ray_args keys must be str, got {key!r}")
            name = key.lstrip("-").replace("_", "-")
            if name in RESERVED_RAY_ARGS:
                raise SmartSimError(
                    f"ray_args may not set {key!r}: RayCluster sets it (ports come from "
                    "ray_port and worker_ports; see smartsim_ray.ports)"
                )
            out[name] = None if value is None or value is True else str(value)
        return out

    @staticmethod
    def _make_password(password: str | None) -> str | None:
        if password == "auto":
            return uuid.uuid4().hex
        if password is None or isinstance(password, str):
            return password or None
        raise TypeError(f"password must be a str, 'auto' or None, got {type(password).__name__}")

    def _make_batch_settings(self, time: str, batch_args: dict[str, Any] | None) -> BatchSettings:
        if self.alloc:
            raise SmartSimError("batch=True and alloc cannot be used together")
        cls = self.spec.batch_settings_class()
        assert cls is not None
        settings = cls(time=time, batch_args=batch_args)
        settings.set_nodes(self.num_nodes)
        return settings

    def _initialize_entities(self, **kwargs: Any) -> None:
        self.entities = []
        for index in range(self.num_nodes):
            cls = RayHead if index == 0 else RayWorker
            name = "ray_head" if index == 0 else f"ray_worker_{index - 1}"
            node = cls(name, self.path, self._make_run_settings(index), self, index)
            self.entities.append(node)
        self._refresh_commands()

    def _make_run_settings(self, index: int) -> RunSettings:
        from smartsim.settings import create_run_settings

        settings = create_run_settings(
            self.launcher,
            sys.executable,
            exe_args=[],
            run_command=self.run_command or "auto",
            run_args=dict(self.run_args),
        )
        for setter, value in (("set_nodes", 1), ("set_tasks", 1), ("set_tasks_per_node", 1)):
            with contextlib.suppress(SSUnsupportedError, AttributeError):
                getattr(settings, setter)(value)
        if self.alloc:
            settings.alloc = self.alloc  # type: ignore[attr-defined]
        if self.launcher == "slurm" and not {"nodelist", "w", "relative", "r"} & set(
            settings.run_args
        ):
            # one Ray node per host: node i on the i-th node of the allocation or batch job
            settings.run_args["relative"] = index
        return settings

    # ---- files and commands ------------------------------------------------------------
    @property
    def head(self) -> RayHead:
        return self.entities[0]  # type: ignore[return-value]

    @property
    def workers(self) -> list[RayWorker]:
        return self.entities[1:]  # type: ignore[return-value]

    @property
    def head_info_file(self) -> Path:
        """Where the head writes its address (the workers wait for it; shared file system)."""
        return Path(self.head.path) / HEAD_INFO_FILE

    @property
    def token_file(self) -> Path | None:
        """The file holding the authentication token (mode 0600), None without password."""
        return Path(self.head.path) / TOKEN_FILE if self._password else None

    @property
    def password(self) -> str | None:
        """The cluster's authentication token (None: authentication off)."""
        return self._password

    @property
    def client_port(self) -> int:
        return int(self.ray_args.get("ray-client-server-port") or self.plan.client)

    @property
    def dashboard_port(self) -> int:
        return int(self.ray_args.get("dashboard-port") or self.plan.dashboard)

    @property
    def dashboard_enabled(self) -> bool:
        value = self.ray_args.get("include-dashboard", "false")
        return value is None or value.lower() in ("true", "1", "yes")

    def _nodes_per_host(self) -> int:
        return self.num_nodes if self.launcher == "local" else 1

    def _node_args(self, index: int) -> list[str]:
        args = [
            "-m",
            "smartsim_ray.entrypoint",
            f"--role={'head' if index == 0 else 'worker'}",
            f"--index={index}",
            f"--num-nodes={self.num_nodes}",
            f"--ray-port={self.plan.ray_port}",
            f"--client-port={self.client_port}",
            f"--dashboard-port={self.dashboard_port}",
            f"--worker-ports={self.plan.worker_ports}",
            f"--head-info={self.head_info_file}",
            f"--nodes-per-host={self._nodes_per_host()}",
            f"--head-timeout={self._start_timeout()}",
        ]
        if self.interface:
            args.append(f"--interface={self.interface}")
        for key, value in self.ray_args.items():
            if key in ("dashboard-port", "ray-client-server-port"):
                continue
            args.append(f"--ray-arg={key}" if value is None else f"--ray-arg={key}={value}")
        return args

    def ray_env(self) -> dict[str, str]:
        """Environment that selects the cluster's authentication (nodes and drivers)."""
        if self.token_file is None:
            return {"RAY_AUTH_MODE": "disabled"}
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(self.token_file)}

    def _refresh_commands(self) -> None:
        """Rebuild every node's arguments for the current paths (``generate`` moves them)."""
        for node in self.entities:
            settings = node.run_settings
            assert settings is not None
            settings.exe_args = self._node_args(node.index)  # type: ignore[attr-defined]
            settings.env_vars.update(self.ray_env())

    def set_path(self, path: str) -> None:
        """Run every node in ``path``."""
        super().set_path(path)
        self._refresh_commands()

    def set_hosts(self, host_list: list[str] | str, launcher: str = "slurm") -> None:
        """Place node ``i`` on ``host_list[i]`` (the head on the first host)."""
        hosts = [host_list] if isinstance(host_list, str) else host_list
        if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
            raise TypeError("host_list argument must be a list of strings")
        if len(hosts) < self.num_nodes:
            raise ValueError(f"host_list has {len(hosts)} host(s) for {self.num_nodes} Ray node(s)")
        if launcher.lower() != self.launcher:
            raise SmartSimError(f"set_hosts for {launcher!r}, but the cluster uses {self.launcher}")
        if self.launcher == "local":
            here = {"localhost", "127.0.0.1", socket.gethostname(), socket.getfqdn()}
            others = sorted(set(hosts[: self.num_nodes]) - here)
            if others:
                raise SmartSimError(
                    f"the local launcher runs every Ray node on this host; not on {others}"
                )
            return
        for node, host in zip(self.entities, hosts):
            assert node.run_settings is not None
            node.run_settings.run_args.pop("relative", None)
            node.run_settings.set_hostlist([host])
        if self.batch_settings is not None:
            self.batch_settings.set_hostlist(hosts[: self.num_nodes])  # type: ignore[attr-defined]

    # ---- addresses ----------------------------------------------------------------------
    def _head_ready(self) -> dict[str, Any]:
        state = self.head.state()
        if state.ready is None or state.exit is not None:
            raise SmartSimError(
                f"the Ray head of cluster {self.name} is not running; start it with exp.start"
            )
        return state.ready

    def get_head_address(self) -> str:
        """The head's IP address (``ray start --address=<it>:<ray_port>`` joins it)."""
        return str(self._head_ready()["ip"])

    def get_dashboard_address(self) -> str:
        """``<head ip>:<dashboard port>`` (the dashboard needs ``include-dashboard``)."""
        if not self.dashboard_enabled:
            raise SmartSimError(
                "the dashboard is off: pass ray_args={'include-dashboard': True} (it needs "
                "Ray's dashboard dependencies: pip install 'ray[default]')"
            )
        return f"{self.get_head_address()}:{self.dashboard_port}"

    def get_client_address(self) -> str:
        """``ray://<head ip>:<client port>``, for ``ray.init`` (see :meth:`connect`)."""
        return f"ray://{self.get_head_address()}:{self.client_port}"

    def get_gcs_address(self) -> str:
        """``<head ip>:<ray_port>`` (for ``ray status --address``, ``ray start``)."""
        return f"{self.get_head_address()}:{self.plan.gcs}"

    def connect(self, **init_kwargs: Any) -> Any:
        """``ray.init`` through Ray Client with this cluster's authentication.

        Sets ``RAY_AUTH_MODE``/``RAY_AUTH_TOKEN_PATH`` in this process first (Ray reads them
        once per process: one password-protected cluster per driver process).
        """
        address = self.get_client_address()
        os.environ.update(self.ray_env())
        return connect_client(address, **init_kwargs)

    # ---- launch hooks --------------------------------------------------------------------
    def _start_timeout(self) -> float:
        default = "3600" if self.batch else "300"
        return float(os.environ.get(START_TIMEOUT_ENV, default))

    def prepare_launch(self) -> None:
        """Refuse busy ports (local), clear the last run's head address, write the token."""
        for node in self.entities:
            Path(node.path).mkdir(parents=True, exist_ok=True)
        self._refresh_commands()
        if self.launcher == "local":
            self._check_ports_free()
        self.head_info_file.unlink(missing_ok=True)
        if self.token_file is not None:
            self.token_file.unlink(missing_ok=True)
            fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(self._password or "")

    def _check_ports_free(self) -> None:
        busy = busy_ports(self.plan)
        if self.client_port != self.plan.client and not port_free(self.client_port):
            busy.append(self.client_port)
        if busy:
            raise SmartSimError(
                f"cannot start Ray cluster {self.name}: port(s) {busy[:5]} of its range "
                f"{self.plan.first}-{self.plan.last} are in use (another cluster?); choose "
                "another ray_port (smartsim_ray.ports.find_free_ray_port finds one)"
            )

    def after_launch(self) -> None:
        """Wait until the head and every worker joined; SmartSimError naming what failed."""
        timeout = self._start_timeout()
        deadline = time.monotonic() + timeout
        head = self._wait_head(deadline, timeout)
        pending = {w.name: w for w in self.workers}
        failed: dict[str, str] = {}
        while pending:
            for name, worker in list(pending.items()):
                state = worker.state()
                if state.ready is not None and state.exit is None:
                    del pending[name]
                elif state.error is not None or state.exit is not None:
                    failed[name] = _describe(state)
                    del pending[name]
            if pending and time.monotonic() > deadline:
                for name, worker in pending.items():
                    failed[name] = f"not joined after {timeout:.0f} s; " + _describe(worker.state())
                break
            if pending:
                time.sleep(0.25)
        if failed:
            lines = "\n".join(f"  {name}: {why}" for name, why in failed.items())
            raise SmartSimError(
                f"Ray cluster {self.name}: {len(failed)} of {len(self.workers)} worker(s) did "
                f"not join the head at {head['ip']}:{self.plan.gcs}:\n{lines}"
            )
        logger.info(
            "Ray cluster %s is up: %d node(s), head %s, client %s",
            self.name,
            self.num_nodes,
            self.get_gcs_address(),
            self.get_client_address(),
        )

    def _wait_head(self, deadline: float, timeout: float) -> dict[str, Any]:
        while True:
            state = self.head.state()
            if state.ready is not None and state.exit is None:
                return state.ready
            if state.error is not None or state.exit is not None:
                raise SmartSimError(
                    f"the Ray head of cluster {self.name} failed to start: "
                    + _describe(state, with_session=True)
                )
            if time.monotonic() > deadline:
                raise SmartSimError(
                    f"the Ray head of cluster {self.name} did not come up within {timeout:.0f} "
                    f"s ({START_TIMEOUT_ENV}); its last log lines:\n"
                    + "\n".join(state.tail() + _session_tails(state))
                )
            time.sleep(0.25)

    def after_stop(self) -> None:
        """Remove the head address and the token file."""
        self.head_info_file.unlink(missing_ok=True)
        if self.token_file is not None:
            self.token_file.unlink(missing_ok=True)

    def node_report(self) -> dict[str, str]:
        """One line per node: joined (with its address), or why not."""
        report = {}
        for node in self.entities:
            state = node.state()
            if state.ready is not None and state.exit is None:
                report[node.name] = f"joined at {state.ready.get('ip')} ({state.ready.get('host')})"
            else:
                report[node.name] = _describe(state)
        return report

    def __str__(self) -> str:
        return (
            f"RayCluster {self.name}: {self.num_nodes} node(s), launcher {self.launcher}, "
            f"{self.plan}"
        )


def _describe(state: NodeState, with_session: bool = False) -> str:
    if state.error is not None:
        text = str(state.error.get("reason", "error"))
        log = state.error.get("log") or []
        return text + ("\n    " + "\n    ".join(log) if log else "")
    if state.exit is not None:
        return f"exited ({state.exit}); last lines:\n    " + "\n    ".join(state.tail(10))
    if not state.lines:
        return "no output yet (not started, or still queued)"
    lines = state.tail(5) + (_session_tails(state) if with_session else [])
    return "still starting; last lines:\n    " + "\n    ".join(lines)


def _session_tails(state: NodeState, count: int = 10) -> list[str]:
    """Tails of Ray's own logs of a node whose temp dir this host can read."""
    if not state.temp:
        return []
    return log_tails(Path(state.temp) / "session_latest" / "logs", count)


def connect_client(address: str, attempts: int = 3, **init_kwargs: Any) -> Any:
    """``ray.init(address)`` through Ray Client, tried ``attempts`` times.

    The head starts one Ray Client server process per driver; on a loaded host that start
    sometimes fails ("Starting Ray client server failed") and a second try succeeds.
    Authentication comes from ``RAY_AUTH_MODE``/``RAY_AUTH_TOKEN_PATH`` (see
    :meth:`RayCluster.ray_env`), read again before each try.
    """
    import ray

    for attempt in range(1, attempts + 1):
        _reload_ray_auth()
        try:
            return ray.init(address, **init_kwargs)
        except (ConnectionAbortedError, ConnectionError) as exc:
            if attempt == attempts:
                raise
            logger.warning("Ray Client connection to %s failed (%s); retrying", address, exc)
            with contextlib.suppress(Exception):
                ray.shutdown()
            time.sleep(2)
    raise AssertionError("unreachable")


def _reload_ray_auth() -> None:
    """Make Ray re-read RAY_AUTH_MODE and the token (it caches both per process)."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:  # pragma: no cover - a Ray without token authentication
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


__all__ = ["RayCluster", "RayHead", "RayNode", "RayWorker", "connect_client", "read_node_state"]
