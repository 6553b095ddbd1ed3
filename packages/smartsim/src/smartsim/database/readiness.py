"""Is the database up?  Shard log parsing, PING, cluster creation and a real round trip.

Everything here runs in the driver against the shards' addresses and log files;
nothing starts or stops a shard.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry

from smartsim._core.config.config import progress_interval
from smartsim._core.entrypoints.dbnode import EXIT_TAG, INFO_TAG
from smartsim.database.security import AuthError, DBSecurity, describe_auth_reply
from smartsim.error import SmartSimError

logger = logging.getLogger(__name__)

CLUSTER_SLOTS = 16384
READY_KEY = "__smartsim_ready__"
_LOG_TAIL_LINES = 12
_OPEN = DBSecurity()


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


def client(host: str, port: int, timeout: float = 5.0, security: DBSecurity = _OPEN) -> redis.Redis:
    """A client that fails at once on a dead server (redis-py would retry for seconds)."""
    return redis.Redis(
        host=host,
        port=port,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        **security.redis_kwargs(),  # type: ignore[arg-type]
    )


def _raw(host: str, port: int, command: bytes, timeout: float, security: DBSecurity) -> list[bytes]:
    """Send ``AUTH`` (when there is a password) and ``command``; return the reply lines read.

    Raises OSError (ssl.SSLError included) when the server cannot be reached.
    """
    auth = security.auth_command()
    expected = 2 if auth else 1
    with security.open_socket(host, port, timeout) as sock:
        sock.sendall(auth + command)
        data = b""
        while data.count(b"\r\n") < expected:
            chunk = sock.recv(512)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n")[:expected]


def probe(host: str, port: int, timeout: float = 0.5, security: DBSecurity = _OPEN) -> bytes:
    """The reply line to PING (after AUTH when there is a password); b"" when unreachable.

    An authentication error reply (``-NOAUTH``, ``-WRONGPASS``) is returned as it is, a
    failed TLS handshake as ``-TLSERROR <reason>``.
    """
    try:
        lines = _raw(host, port, b"*1\r\n$4\r\nPING\r\n", timeout, security)
    except ssl.SSLError as exc:  # a TLS server that we do not trust, or not a TLS server
        return f"-TLSERROR {exc}".encode()
    except OSError:
        return b""
    for line in lines:
        if describe_auth_reply(line, f"{host}:{port}", security):
            return line
    return lines[-1] if lines else b""


def ping(host: str, port: int, timeout: float = 0.5, security: DBSecurity = _OPEN) -> bool:
    """One raw PING (after AUTH when there is a password); True on +PONG."""
    return probe(host, port, timeout, security).startswith(b"+PONG")


def shutdown(
    host: str, port: int, timeout: float = 10.0, security: DBSecurity = _OPEN
) -> str | None:
    """Send ``SHUTDOWN NOSAVE``; None once the server closed the connection, else its reply.

    A raw socket, because a client library would retry against the server it just stopped.
    """
    try:
        lines = _raw(host, port, b"*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n", timeout, security)
    except ConnectionRefusedError:
        return None  # already gone
    except OSError as exc:
        return str(exc)
    for line in lines:
        if line.startswith(b"-"):
            return line.decode(errors="replace").strip()
    return None


def wait_for_shards(
    shards: Sequence[tuple[str, Path]],
    timeout: float,
    launch_failure: Callable[[], str | None] | None = None,
    interval: float = 0.01,
    security: DBSecurity = _OPEN,
) -> list[ShardState]:
    """Wait until every shard (name, log file) has reported its address and answers PING.

    Fails fast, with the server's own log lines, as soon as a shard has exited, and with
    the text ``launch_failure()`` returns as soon as it returns one (a shard's job ended
    before the shard wrote anything: a refused or cancelled job, a bad run command), and
    with :class:`AuthError` as soon as a shard refuses our password (or wants one).
    """
    start = time.monotonic()
    deadline = start + timeout
    every = progress_interval()
    next_report = start + every
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
            if state.info:
                host, port = str(state.info["host"]), int(str(state.info["port"]))
                reply = probe(host, port, security=security)
                problem = describe_auth_reply(reply, f"{host}:{port}", security)
                if problem:
                    raise AuthError(f"database shard {name}: {problem}")
                if reply.startswith(b"+PONG"):
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
            what = f"did not answer PING within {timeout:.0f} s"
            if not log_file.exists():
                what += (
                    f" and wrote no {log_file} (still queued, or a directory its node "
                    "does not share with this driver?)"
                )
            raise SmartSimError(describe_failure(name, read_shard_state(log_file), what))
        if time.monotonic() > next_report:
            next_report = time.monotonic() + every
            waiting = list(pending)
            logger.info(
                "waiting for database shard(s) %s (%d of %d up; %.0f s so far, limit %.0f s)",
                ", ".join(waiting[:5]) + (" ..." if len(waiting) > 5 else ""),
                len(shards) - len(waiting),
                len(shards),
                time.monotonic() - start,
                timeout,
            )
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)
    return [ready[name] for name, _ in shards]


def check_module(host: str, port: int, security: DBSecurity = _OPEN) -> None:
    """The ``ai`` module is loaded and answers a command."""
    with client(host, port, security=security) as conn:
        names = {
            (m.get(b"name") or m.get("name") or b"") for m in conn.execute_command("MODULE", "LIST")
        }
        names = {n.decode() if isinstance(n, bytes) else n for n in names}
        if "ai" not in names:
            raise SmartSimError(f"database at {host}:{port} runs without the ai module")
        conn.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")


def round_trip(
    addresses: Sequence[str], cluster: bool, timeout: float = 5.0, security: DBSecurity = _OPEN
) -> None:
    """SET, GET and DEL a key: the database really stores and returns data."""
    value = f"ready-{time.time_ns()}"
    conn: redis.Redis | RedisCluster
    if cluster:
        nodes = [ClusterNode(*_split(a)) for a in addresses]
        conn = RedisCluster(
            startup_nodes=nodes,
            socket_timeout=timeout,
            **security.redis_kwargs(),  # type: ignore[arg-type]
        )
    else:
        conn = client(*_split(addresses[0]), timeout=timeout, security=security)
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
    addresses: Sequence[str],
    cli: Path | None,
    timeout: float = 60.0,
    method: str = "cli",
    security: DBSecurity = _OPEN,
) -> None:
    """Join the shards into one Redis Cluster (no replicas) and wait for ``cluster_state:ok``.

    ``method="cli"`` runs ``<cli> --cluster create ... --cluster-replicas 0 --cluster-yes``;
    ``"python"`` (used when no CLI exists, and with TLS) assigns slot ranges and MEETs the
    nodes itself.  The CLI gets the password through ``REDISCLI_AUTH``, never its arguments.
    """
    if method == "cli" and cli is not None and not security.tls:
        env = dict(os.environ)
        if security.password:
            env["REDISCLI_AUTH"] = security.password
        cmd = [str(cli), "--cluster", "create", *addresses]
        cmd += ["--cluster-replicas", "0", "--cluster-yes"]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env
            )
        except subprocess.TimeoutExpired as exc:
            raise SmartSimError(f"cluster creation timed out after {timeout} s: {cmd}") from exc
        if done.returncode != 0 or "[ERR]" in done.stdout:
            raise SmartSimError(
                f"cluster creation failed ({' '.join(cmd)}):\n{done.stdout}{done.stderr}"
            )
    else:
        _create_cluster_python(addresses, security)
    wait_cluster_ok(addresses, timeout, security)


def _create_cluster_python(addresses: Sequence[str], security: DBSecurity = _OPEN) -> None:
    clients = [client(*_split(a), security=security) for a in addresses]
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


def wait_cluster_ok(addresses: Sequence[str], timeout: float, security: DBSecurity = _OPEN) -> None:
    """Every node says ``cluster_state:ok`` and knows all the others."""
    start = time.monotonic()
    deadline = start + timeout
    every = progress_interval()
    next_report = start + every
    last = ""
    while time.monotonic() < deadline:
        try:
            if all(_node_ok(a, len(addresses), security) for a in addresses):
                return
        except redis.RedisError as exc:
            last = str(exc)
        if time.monotonic() > next_report:
            next_report = time.monotonic() + every
            logger.info(
                "waiting for the %d shards to agree on the cluster (%.0f s so far, limit %.0f s)",
                len(addresses),
                time.monotonic() - start,
                timeout,
            )
        time.sleep(0.05)
    raise SmartSimError(
        f"cluster {', '.join(addresses)} did not reach cluster_state:ok in {timeout} s {last}"
    )


def _node_ok(address: str, count: int, security: DBSecurity = _OPEN) -> bool:
    with client(*_split(address), timeout=2, security=security) as conn:
        info = conn.execute_command("CLUSTER", "INFO")
        info = info.decode() if isinstance(info, bytes) else str(info)
        if "cluster_state:ok" not in info:
            return False
        nodes = conn.execute_command("CLUSTER", "NODES")
        nodes = nodes.decode() if isinstance(nodes, bytes) else str(nodes)
        return len([ln for ln in nodes.splitlines() if ln.strip()]) == count


def cluster_state(address: str, security: DBSecurity = _OPEN) -> str:
    """``ok`` / ``fail`` from CLUSTER INFO, or ``unreachable``."""
    try:
        with client(*_split(address), timeout=1, security=security) as conn:
            info = conn.execute_command("CLUSTER", "INFO")
    except redis.RedisError:
        return "unreachable"
    info = info.decode() if isinstance(info, bytes) else str(info)
    for line in info.splitlines():
        if line.startswith("cluster_state:"):
            return line.split(":", 1)[1].strip()
    return "unknown"
