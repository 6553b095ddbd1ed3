"""Is the database up?  Shard log parsing, PING, cluster creation and a real round trip.

Everything here runs in the driver against the shards' addresses and log files;
nothing starts or stops a shard.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from smartsim._core.entrypoints.dbnode import EXIT_TAG, INFO_TAG
from smartsim.error import SmartSimError

logger = logging.getLogger(__name__)

CLUSTER_SLOTS = 16384
READY_KEY = "__smartsim_ready__"
_LOG_TAIL_LINES = 12


@dataclass
class ShardState:
    """What a shard's log file says about it."""

    log_file: Path
    info: dict[str, object] | None = None
    exit: dict[str, object] | None = None
    text: str = ""

    @property
    def address(self) -> str | None:
        if not self.info:
            return None
        return f"{self.info['host']}:{self.info['port']}"

    def tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        kept = [
            line
            for line in self.text.splitlines()
            if line.strip() and not line.startswith((INFO_TAG, EXIT_TAG))
        ]
        return "\n".join(f"    {line}" for line in kept[-lines:])


def read_shard_state(log_file: Path) -> ShardState:
    """Parse the ``SMARTSIM_SHARD_INFO`` / ``EXIT`` lines of a shard's log file."""
    state = ShardState(log_file)
    try:
        state.text = log_file.read_text(errors="replace")
    except FileNotFoundError:
        return state
    for line in state.text.splitlines():
        tag, _, payload = line.partition(" ")
        if tag in (INFO_TAG, EXIT_TAG):
            try:
                data = json.loads(payload)
            except json.JSONDecodeError:
                continue
            if tag == INFO_TAG:
                state.info = data
            else:
                state.exit = data
    return state


def describe_failure(name: str, state: ShardState, what: str) -> str:
    tail = state.tail()
    log = f"\n  last lines of {state.log_file}:\n{tail}" if tail else ""
    return f"database shard {name} {what}.{log}"


def client(host: str, port: int, timeout: float = 5.0) -> redis.Redis:
    """A client that fails at once on a dead server (redis-py would retry for seconds)."""
    return redis.Redis(host=host, port=port, socket_timeout=timeout, retry=Retry(NoBackoff(), 0))


def ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """One raw PING; True on +PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def shutdown(host: str, port: int, timeout: float = 10.0) -> str | None:
    """Send ``SHUTDOWN NOSAVE``; None once the server closed the connection, else its reply.

    A raw socket, because a client library would retry against the server it just stopped.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n")
            reply = sock.recv(512)
    except ConnectionRefusedError:
        return None  # already gone
    except OSError as exc:
        return str(exc)
    return reply.decode(errors="replace").strip() or None


def wait_for_shards(
    shards: Sequence[tuple[str, Path]],
    timeout: float,
    launch_failure: Callable[[], str | None] | None = None,
    interval: float = 0.01,
) -> list[ShardState]:
    """Wait until every shard (name, log file) has reported its address and answers PING.

    Fails fast, with the server's own log lines, as soon as a shard has exited, and with
    the text ``launch_failure()`` returns as soon as it returns one (a shard's job ended
    before the shard wrote anything: a refused or cancelled job, a bad run command).
    """
    start = time.monotonic()
    deadline = start + timeout
    next_report = start + 10
    pending = dict(shards)
    ready: dict[str, ShardState] = {}
    while pending:
        for name, log_file in list(pending.items()):
            state = read_shard_state(log_file)
            if state.exit is not None:
                reason = (
                    state.exit.get("error") or f"exited with status {state.exit.get('returncode')}"
                )
                raise SmartSimError(describe_failure(name, state, f"failed to start ({reason})"))
            if state.info and ping(str(state.info["host"]), int(str(state.info["port"]))):
                ready[name] = state
                del pending[name]
        if not pending:
            break
        failure = launch_failure() if launch_failure is not None else None
        if failure:  # the shard's own words come first, if it wrote any meanwhile
            for name, log_file in pending.items():
                state = read_shard_state(log_file)
                if state.exit is not None:
                    code = state.exit.get("returncode")
                    reason = state.exit.get("error") or f"exited with status {code}"
                    raise SmartSimError(
                        describe_failure(name, state, f"failed to start ({reason})")
                    )
            raise SmartSimError(failure)
        if time.monotonic() > deadline:
            name, log_file = next(iter(pending.items()))
            raise SmartSimError(
                describe_failure(
                    name, read_shard_state(log_file), f"did not answer PING within {timeout:.0f} s"
                )
            )
        if time.monotonic() > next_report:
            next_report += 10
            logger.info(
                "waiting for database shard(s) %s (%.0f s so far, limit %.0f s)",
                ", ".join(pending),
                time.monotonic() - start,
                timeout,
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)
    return [ready[name] for name, _ in shards]


def check_module(host: str, port: int) -> None:
    """The ``ai`` module is loaded and answers a command."""
    with client(host, port) as conn:
        names = {
            (m.get(b"name") or m.get("name") or b"") for m in conn.execute_command("MODULE", "LIST")
        }
        names = {n.decode() if isinstance(n, bytes) else n for n in names}
        if "ai" not in names:
            raise SmartSimError(f"database at {host}:{port} runs without the ai module")
        conn.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")


def round_trip(addresses: Sequence[str], cluster: bool, timeout: float = 5.0) -> None:
    """SET, GET and DEL a key: the database really stores and returns data."""
    value = f"ready-{time.time_ns()}"
    conn: redis.Redis | RedisCluster
    if cluster:
        nodes = [ClusterNode(*_split(a)) for a in addresses]
        conn = RedisCluster(startup_nodes=nodes, socket_timeout=timeout)
    else:
        conn = client(*_split(addresses[0]), timeout=timeout)
    try:
        conn.set(READY_KEY, value)
        got = conn.get(READY_KEY)
        conn.delete(READY_KEY)
    except redis.RedisError as exc:
        raise SmartSimError(
            f"database {', '.join(addresses)} failed a SET/GET check: {exc}"
        ) from exc
    finally:
        conn.close()
    if got is None or got.decode() != value:
        raise SmartSimError(f"database {', '.join(addresses)} returned {got!r} for a key just set")


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def create_cluster(
    addresses: Sequence[str], cli: Path | None, timeout: float = 60.0, method: str = "cli"
) -> None:
    """Join the shards into one Redis Cluster (no replicas) and wait for ``cluster_state:ok``.

    ``method="cli"`` runs ``<cli> --cluster create ... --cluster-replicas 0 --cluster-yes``;
    ``"python"`` (used when no CLI exists) assigns slot ranges and MEETs the nodes itself.
    """
    if method == "cli" and cli is not None:
        cmd = [str(cli), "--cluster", "create", *addresses]
        cmd += ["--cluster-replicas", "0", "--cluster-yes"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SmartSimError(f"cluster creation timed out after {timeout} s: {cmd}") from exc
        if done.returncode != 0 or "[ERR]" in done.stdout:
            raise SmartSimError(
                f"cluster creation failed ({' '.join(cmd)}):\n{done.stdout}{done.stderr}"
            )
    else:
        _create_cluster_python(addresses)
    wait_cluster_ok(addresses, timeout)


def _create_cluster_python(addresses: Sequence[str]) -> None:
    clients = [client(*_split(a)) for a in addresses]
    try:
        per_shard = CLUSTER_SLOTS // len(clients)
        for i, conn in enumerate(clients):
            first = i * per_shard
            last = CLUSTER_SLOTS - 1 if i == len(clients) - 1 else first + per_shard - 1
            conn.execute_command("CLUSTER", "ADDSLOTSRANGE", first, last)
        for i, conn in enumerate(clients):
            conn.execute_command("CLUSTER", "SET-CONFIG-EPOCH", i + 1)
        for i, conn in enumerate(clients):  # a full mesh: no waiting for gossip
            for address in addresses[i + 1 :]:
                conn.execute_command("CLUSTER", "MEET", *_split(address))
    except redis.RedisError as exc:
        raise SmartSimError(f"cluster creation on {', '.join(addresses)} failed: {exc}") from exc
    finally:
        for conn in clients:
            conn.close()


def wait_cluster_ok(addresses: Sequence[str], timeout: float) -> None:
    """Every node says ``cluster_state:ok`` and knows all the others."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if all(_node_ok(a, len(addresses)) for a in addresses):
                return
        except redis.RedisError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise SmartSimError(
        f"cluster {', '.join(addresses)} did not reach cluster_state:ok in {timeout} s {last}"
    )


def _node_ok(address: str, count: int) -> bool:
    with client(*_split(address), timeout=2) as conn:
        info = conn.execute_command("CLUSTER", "INFO")
        info = info.decode() if isinstance(info, bytes) else str(info)
        if "cluster_state:ok" not in info:
            return False
        nodes = conn.execute_command("CLUSTER", "NODES")
        nodes = nodes.decode() if isinstance(nodes, bytes) else str(nodes)
        return len([ln for ln in nodes.splitlines() if ln.strip()]) == count


def cluster_state(address: str) -> str:
    """``ok`` / ``fail`` from CLUSTER INFO, or ``unreachable``."""
    try:
        with client(*_split(address), timeout=1) as conn:
            info = conn.execute_command("CLUSTER", "INFO")
    except redis.RedisError:
        return "unreachable"
    info = info.decode() if isinstance(info, bytes) else str(info)
    for line in info.splitlines():
        if line.startswith("cluster_state:"):
            return line.split(":", 1)[1].strip()
    return "unknown"
