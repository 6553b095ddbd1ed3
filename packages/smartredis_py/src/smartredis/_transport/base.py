"""One database node (a pool of :class:`~smartredis._transport.connection.Connection`) and
the executor interface.

Retry rule: a command is resent only when it never reached the server (the connection
could not be made or the send failed) or when it is idempotent (``_commands.IDEMPOTENT``).
A lost reply of any other command (RPUSH, AI.MODELEXECUTE, RENAME, ...) raises
``RedisDatabaseError`` at once instead of running it twice.  So that a server restart
does not cost such a command, a pooled connection is checked before each send (one
``poll`` with no wait, ~1.6 us): one the server has closed is replaced by a new connection.

A password (``AUTH``) and TLS are optional (:class:`Security`); a refused password or
certificate fails at once instead of being retried.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from smartredis._commands import IDEMPOTENT, Key, ping
from smartredis._transport.connection import AuthError, Connection, Security, refused
from smartredis._transport.replies import ReplyError, raise_for_reply
from smartredis._transport.resp import pack
from smartredis._wire.address import Address, parse_address
from smartredis.error import RedisConnectionError, RedisDatabaseError, RedisRuntimeError

__all__ = [
    "Executor",
    "Node",
    "Reader",
    "RunPlan",
    "Security",
    "Timeouts",
    "buffer_reader",
    "canonical_address",
    "hiredis_reader",
]

logger = logging.getLogger("smartredis.transport")

#: Reads ``n`` replies from a connection (error replies returned as ReplyError, not raised).
Reader = Callable[[Connection, int], list]
#: hiredis: small replies, bulk strings as bytes.
hiredis_reader: Reader = Connection.read
#: Large bulk strings (tensors, models) received in place, as writable uint8 arrays.
buffer_reader: Reader = Connection.read_in_place
_IO_ERRORS = (OSError,)  # ConnectionError, TimeoutError, ssl.SSLError, ProtocolError


REFUSED_GRACE = 5.0


@dataclass(frozen=True)
class Timeouts:
    """Connection and command timing, in seconds (from the SR_* settings)."""

    connect: float = 100.0
    connect_interval: float = 1.0
    command: float = 100.0
    command_interval: float = 1.0
    socket: float = 0.25
    #: how long connections refused outright (nothing listens) are retried: a few seconds,
    #: unless SR_CONN_TIMEOUT was set, which then applies to refusals as well
    refused: float = REFUSED_GRACE


@dataclass(frozen=True)
class RunPlan:
    """Where and how a model or script runs (``Executor.run_plan``).

    Standalone: on ``key`` with the tensors themselves.  Cluster: the inputs are first
    copied to temporary keys on one shard (``copy_in``: source, temporary), the run uses
    that shard's copy of the model and the temporaries, the outputs are copied back
    (``copy_out``: temporary, destination), then ``temporary`` is deleted.
    """

    key: Key
    inputs: list[Key]
    outputs: list[Key]
    copy_in: list[tuple[Key, Key]]
    copy_out: list[tuple[Key, Key]]
    temporary: list[Key]

    @classmethod
    def direct(cls, key: Key, inputs: Sequence[Key], outputs: Sequence[Key]) -> RunPlan:
        return cls(key, list(inputs), list(outputs), [], [], [])


def _ssl_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` (certificate refused, not a TLS server...), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _auth_failure(address: Address, text: str) -> RedisDatabaseError:
    if "NOAUTH" in text or "Authentication required" in text:
        hint = (
            "The database requires a password: set SR_DB_PASSWORD (SmartSim sets it for "
            "launched applications when the Orchestrator has a password)."
        )
    else:
        hint = "The password (SR_DB_PASSWORD) or user name (SR_DB_USERNAME) is not the server's."
    return RedisDatabaseError(f"The database at {address} refused the connection: {text}. {hint}")


def _noauth(reply: object) -> bool:
    """Whether ``reply`` says the server wants a password (it answers every command so)."""
    return isinstance(reply, ReplyError) and reply.startswith("NOAUTH")


def canonical_address(address: str) -> str:
    """``address`` as ``str(Address)`` (to compare with a node's); ``RedisRuntimeError`` if it
    is not an address."""
    try:
        return str(parse_address(address))
    except ValueError as exc:
        raise RedisRuntimeError(str(exc)) from None


class Node:
    """A database node at ``address`` with its pool of connections."""

    def __init__(
        self, address: Address, timeouts: Timeouts, security: Security | None = None
    ) -> None:
        self.address = address
        self.timeouts = timeouts
        self.security = security or Security()
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Node({self.address})"

    def _new_connection(self) -> Connection:
        connect_timeout = max(self.timeouts.socket, 0.05)
        return Connection(self.address, connect_timeout, self.timeouts.command, self.security)

    def _acquire(self, deadline: float) -> Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or not conn.connected:
                break
            if conn.is_alive():
                return conn
            logger.debug("a pooled connection to %s was closed by the server", self.address)
            conn.disconnect()
        conn = conn or self._new_connection()
        refused_since: float | None = None
        while True:
            try:
                conn.connect()
                return conn
            except AuthError as exc:
                conn.disconnect()
                raise _auth_failure(self.address, str(exc)) from None
            except _IO_ERRORS as exc:
                conn.disconnect()
                tls_error = _ssl_failure(exc)
                if tls_error is not None:
                    raise RedisConnectionError(
                        f"TLS to the database at {self.address} failed: {tls_error}. Check "
                        "SR_DB_TLS_CA (the CA that signed the server's certificate) and that "
                        "the server speaks TLS on this port."
                    ) from None
                if refused(exc):
                    refused_since = refused_since or time.monotonic()
                    if time.monotonic() - refused_since >= self.timeouts.refused:
                        raise RedisDatabaseError(
                            f"Could not connect to the database at {self.address}: nothing "
                            f"listens there (connection refused for {self.timeouts.refused:g} "
                            "s). Check that the database is running and that SSDB (or the "
                            "address given) names it; set SR_CONN_TIMEOUT to wait longer for "
                            "a database that is still starting."
                        ) from None
                if time.monotonic() + self.timeouts.connect_interval > deadline:
                    raise RedisDatabaseError(
                        f"Could not connect to the database at {self.address} within "
                        f"{self.timeouts.connect:g} s: {exc}. Check that the server is "
                        "running and the address (SSDB) is right; SR_CONN_TIMEOUT sets the wait."
                    ) from None
                logger.debug("connect to %s failed (%s); retrying", self.address, exc)
                time.sleep(self.timeouts.connect_interval)

    def _release(self, conn: Connection) -> None:
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.disconnect()

    def ping(self) -> None:
        """Connect (retrying up to the connect timeout) and check that PING answers PONG."""
        reply = self.call(ping())
        if reply != b"PONG":
            raise RedisDatabaseError(f"The server at {self.address} answered {reply!r} to PING.")

    def call(
        self, args: Sequence[object], reader: Reader = hiredis_reader, read_timeout: float = 0
    ) -> object:
        """Send one command and return its reply (an error reply raises)."""
        return raise_for_reply(self.pipeline([args], reader, read_timeout)[0])

    def pipeline(
        self,
        commands: Sequence[Sequence[object]],
        reader: Reader = hiredis_reader,
        read_timeout: float = 0,
    ) -> list[object]:
        """Send ``commands`` back to back on one connection and read every reply.

        Error replies are returned in place (as exceptions, not raised).  ``read_timeout``
        (seconds) replaces the command timeout while waiting for the replies.
        """
        if not commands:
            return []
        packed = pack(commands)
        names = {str(c[0]).upper() for c in commands}
        resendable = names <= IDEMPOTENT
        start = time.monotonic()
        connect_deadline = start + self.timeouts.connect
        attempt_deadline = start + self.timeouts.command
        while True:
            conn = self._acquire(connect_deadline)
            sent = False
            try:
                conn.send(packed)
                sent = True
                if read_timeout:
                    conn.set_timeout(read_timeout)
                replies = reader(conn, len(commands))
                if read_timeout:
                    conn.set_timeout(self.timeouts.command)
            except _IO_ERRORS as exc:
                conn.disconnect()
                what = ", ".join(sorted(names))
                if sent and not resendable:
                    raise RedisDatabaseError(
                        f"The reply to {what} from {self.address} was lost ({exc}). The "
                        "command may have run, so it was not sent again."
                    ) from None
                if time.monotonic() + self.timeouts.command_interval > attempt_deadline:
                    raise RedisDatabaseError(
                        f"{what} to {self.address} failed after retrying for "
                        f"{self.timeouts.command:g} s: {exc}"
                    ) from None
                logger.debug("%s to %s failed (%s); resending", what, self.address, exc)
                time.sleep(self.timeouts.command_interval)
                continue
            except BaseException:
                conn.disconnect()
                raise
            self._release(conn)
            if type(replies[0]) is ReplyError and _noauth(replies[0]):
                raise _auth_failure(self.address, str(replies[0]))  # the server wants a password
            return replies


class Executor(Protocol):
    """What the client needs from a transport: sending commands, and every difference
    between a standalone database and a Redis Cluster (the client never asks which it has,
    except to refuse ``get_db_cluster_info`` on a standalone one, as upstream)."""

    is_cluster: bool
    timeouts: Timeouts
    nodes: list[Node]
    #: How a tensor is deleted: ``DEL`` standalone, ``UNLINK`` in a cluster (as upstream).
    delete_verb: str

    def call(
        self,
        args: Sequence[object],
        key: Key | None = None,
        reader: Reader = ...,
        read_timeout: float = 0,
    ) -> object:
        """Send one command to the node of ``key``; return its reply or raise."""

    def pipeline(
        self,
        commands: Sequence[Sequence[object]],
        key: Key | None = None,
        reader: Reader = ...,
        read_timeout: float = 0,
    ) -> list[object]:
        """Send ``commands`` together to the node of ``key``; error replies in place."""

    def scatter(
        self, commands: Sequence[tuple[Sequence[object], Key]], reader: Reader, threads: int
    ) -> list[object]:
        """Send each command to the node of its key (one pipeline per node, in parallel up to
        ``threads``); the replies in the commands' order, error replies in place."""

    def call_at(self, address: str, args: Sequence[object]) -> object:
        """Send one command to the node at ``address`` (``RedisRuntimeError`` if none)."""

    def same_slot(self, a: Key, b: Key) -> bool:
        """Whether one command may name both keys (always, standalone)."""

    def model_copies(self, key: Key) -> list[Key]:
        """Every key a model or script is stored under: ``key``, or ``{P}.key`` per shard."""

    def model_copy(self, key: Key) -> Key:
        """The copy that is read (get_model, get_script, model_exists): the first shard's."""

    def model_copy_at(self, address: str, key: Key) -> Key:
        """The copy on the node at ``address`` (AI.INFO)."""

    def run_plan(self, key: Key, inputs: Sequence[Key], outputs: Sequence[Key]) -> RunPlan:
        """Where a run of model or script ``key`` goes and which keys it uses."""

    def close(self) -> None:
        """Close every connection."""
