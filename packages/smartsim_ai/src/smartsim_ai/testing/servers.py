"""Start and stop real Valkey/Redis servers with the ``ai`` module for tests.

These helpers are for tests and benchmarks only; the Orchestrator in
``smartsim`` launches production databases through its launchers.
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from smartsim_ai.locate import ServerBinary, find_server, module_path

logger = logging.getLogger(__name__)

CLUSTER_BUS_OFFSET = 10000
_LIVE: weakref.WeakSet[ServerProcess] = weakref.WeakSet()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(with_cluster_bus: bool = True) -> int:
    """A port that is free now (and, by default, whose cluster bus port is free too)."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        port = rng.randint(20000, 50000)
        if _port_is_free(port) and (
            not with_cluster_bus or _port_is_free(port + CLUSTER_BUS_OFFSET)
        ):
            return port
    raise RuntimeError("no free TCP port found between 20000 and 50000")


class ServerStartError(RuntimeError):
    """The server exited or did not answer; the message carries its log."""


class ServerProcess:
    """One server process with the ``ai`` module loaded, on 127.0.0.1.

    ``module_args`` are passed after the module path (RedisAI-style KEY VALUE
    pairs).  ``config`` adds ``--name value`` server options.  ``load_module=False``
    starts a plain server (for comparisons in benchmarks).
    """

    def __init__(
        self,
        binary: ServerBinary | None = None,
        *,
        port: int | None = None,
        module_args: Sequence[str] = (),
        config: dict[str, str] | None = None,
        cluster: bool = False,
        workdir: str | os.PathLike[str] | None = None,
        load_module: bool = True,
    ) -> None:
        self.binary = binary or find_server()
        self.port = port
        self.module_args = list(module_args)
        self.config = dict(config or {})
        self.cluster = cluster
        self.load_module = load_module
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="ai-server-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.port}.log"

    def command(self) -> list[str]:
        cmd = [str(self.binary.path), "--port", str(self.port), "--bind", self.host]
        cmd += ["--dir", str(self.workdir), "--logfile", str(self.log_path)]
        cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        if self.cluster:
            cmd += [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{self.port}.conf",
                "--cluster-node-timeout",
                "5000",
            ]
        for name, value in self.config.items():
            cmd += [f"--{name}", value]
        if self.load_module:
            cmd += ["--loadmodule", str(module_path()), *self.module_args]
        return cmd

    def start(self, timeout: float = 20.0) -> ServerProcess:
        """Start the server and wait until it answers PING; retries on a taken port."""
        fixed_port = self.port is not None
        for attempt in range(5):
            if not fixed_port:
                self.port = free_port(with_cluster_bus=self.cluster)
            try:
                self._start_once(timeout)
                return self
            except ServerStartError as exc:
                if fixed_port or "Address already in use" not in str(exc) or attempt == 4:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> None:
        self.proc = subprocess.Popen(
            self.command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        _LIVE.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    self._failure_text(f"exited with code {self.proc.returncode}")
                )
            if self._answers_ping():
                return
            time.sleep(0.02)
        self.stop()
        raise ServerStartError(self._failure_text(f"did not answer PING within {timeout}s"))

    def _failure_text(self, what: str) -> str:
        log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        err = (
            self.proc.stderr.read().decode(errors="replace")
            if self.proc and self.proc.stderr and self.proc.poll() is not None
            else ""
        )
        return f"server {self.binary} on port {self.port} {what}.\n--- log ---\n{log}{err}"

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server and everything it started (its whole session)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                logger.warning("server on port %s ignored SIGTERM; killing it", self.port)
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        _signal_group(self.proc.pid, signal.SIGKILL)  # any worker left in the session
        if self.proc.stderr:
            self.proc.stderr.close()
        _LIVE.discard(self)
        self.proc = None

    def cleanup(self) -> None:
        """Stop the server and remove its working directory if this object made it."""
        self.stop()
        if self._own_dir:
            import shutil

            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ServerProcess:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class LocalCluster:
    """A Redis Cluster of ``shards`` primaries on 127.0.0.1, slots split evenly."""

    def __init__(
        self,
        shards: int = 3,
        binary: ServerBinary | None = None,
        module_args: Sequence[str] = (),
        config: dict[str, str] | None = None,
    ) -> None:
        if shards < 3:
            raise ValueError("a Redis Cluster needs at least 3 shards")
        self.nodes = [
            ServerProcess(binary, module_args=module_args, config=config, cluster=True)
            for _ in range(shards)
        ]

    @property
    def addresses(self) -> list[str]:
        return [node.address for node in self.nodes]

    def start(self, timeout: float = 30.0) -> LocalCluster:
        import redis

        try:
            for node in self.nodes:
                node.start()
            clients = [redis.Redis(host=n.host, port=n.port) for n in self.nodes]
            per_shard = 16384 // len(self.nodes)
            for i, client in enumerate(clients):
                first = i * per_shard
                last = 16383 if i == len(clients) - 1 else first + per_shard - 1
                client.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
            for node in self.nodes[1:]:
                clients[0].execute_command("CLUSTER", "MEET", node.host, node.port)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                infos = [c.execute_command("CLUSTER", "INFO") for c in clients]
                if all(b"cluster_state:ok" in _as_bytes(i) for i in infos) and all(
                    len(c.execute_command("CLUSTER", "NODES").splitlines()) == len(clients)
                    for c in clients
                ):
                    break
                time.sleep(0.05)
            else:
                raise ServerStartError(
                    f"cluster {self.addresses} did not reach state ok in {timeout}s"
                )
            for c in clients:
                c.close()
        except BaseException:
            self.cleanup()
            raise
        return self

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_LIVE):
        server.stop()
