"""One database node (a pool of redis-py connections) and the executor interface.

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
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import redis

from smartredis._commands import IDEMPOTENT
from smartredis._transport.resp import ReplyError, SocketReader, pack, send_all
from smartredis._wire.address import Address, parse_address
from smartredis.error import RedisConnectionError, RedisDatabaseError, RedisRuntimeError
from smartredis.errors import error_from_reply

logger = logging.getLogger("smartredis.transport")

#: Reads ``n`` replies from a connection (error replies returned, not raised).
Reader = Callable[[redis.Connection, int], list]
_IO_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError, ConnectionError)


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
class Security:
    """Credentials and TLS settings of the connections (empty: an open database)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    def connection_kwargs(self, unix: bool = False) -> dict[str, object]:
        """Keyword arguments of ``redis.Connection`` / ``redis.SSLConnection`` (a Unix
        socket has no TLS)."""
        kwargs: dict[str, object] = {}
        if self.password is not None:
            kwargs["password"] = self.password
            if self.username:
                kwargs["username"] = self.username
        if self.tls and not unix:
            kwargs.update(
                ssl_ca_certs=self.tls_ca,
                ssl_certfile=self.tls_cert,
                ssl_keyfile=self.tls_key,
                ssl_cert_reqs="required",
                ssl_check_hostname=False,  # the chain is verified; nodes are reached by IP
            )
        return kwargs


def _ssl_failure(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` (certificate refused, not a TLS server...), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _auth_failure(address: Address, exc: BaseException) -> RedisDatabaseError:
    text = str(exc)
    if "NOAUTH" in text or "Authentication required" in text:
        hint = (
            "The database requires a password: set SR_DB_PASSWORD (SmartSim sets it for "
            "launched applications when the Orchestrator has a password)."
        )
    else:
        hint = "The password (SR_DB_PASSWORD) or user name (SR_DB_USERNAME) is not the server's."
    return RedisDatabaseError(f"The database at {address} refused the connection: {text}. {hint}")


def _poller(conn: redis.Connection, sock: socket.socket) -> select.poll:
    """A ``poll`` object for the connection's socket, made once per socket (~1 us a use)."""
    cached = getattr(conn, "_smartredis_poll", None)
    if cached is None or cached[0] is not sock:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
        cached = (sock, poller)
        conn._smartredis_poll = cached  # type: ignore[attr-defined]
    return cached[1]


def is_alive(sock: socket.socket, poller: select.poll | None = None) -> bool:
    """False when the server has closed this idle connection (or sent something unasked).

    One ``poll`` with no wait: an idle connection has nothing to read unless the server
    closed it (EOF) or the stream is out of step.  A TLS socket may also hold TLS
    housekeeping records (session tickets); those are read and the socket kept.
    """
    if poller is None:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
    readable = bool(poller.poll(0))
    if not isinstance(sock, ssl.SSLSocket):
        return not readable
    if not readable and not sock.pending():
        return True
    timeout = sock.gettimeout()
    try:
        sock.settimeout(0)
        sock.recv(1)
        return False  # b"": closed; data: out of step
    except (ssl.SSLWantReadError, BlockingIOError):
        return True
    except OSError:
        return False
    finally:
        try:
            sock.settimeout(timeout)
        except OSError:
            pass


def hiredis_reader(conn: redis.Connection, n: int) -> list:
    """Read ``n`` replies with redis-py's parser (hiredis)."""
    replies: list = []
    for _ in range(n):
        try:
            replies.append(conn.read_response(disconnect_on_error=True))
        except redis.ResponseError as exc:
            replies.append(exc)
    return replies


def buffer_reader(conn: redis.Connection, n: int) -> list:
    """Read ``n`` replies, receiving large bulk strings in place (tensors, models)."""
    sock = conn._sock
    assert sock is not None
    reader = getattr(conn, "_smartredis_reader", None)
    if reader is None or reader.sock is not sock:
        reader = SocketReader(sock)  # one scratch buffer per connection, reused
        conn._smartredis_reader = reader  # type: ignore[attr-defined]
    replies = [reader.read() for _ in range(n)]
    if reader.leftover():
        raise ConnectionError("unexpected bytes after the replies; the connection is out of step")
    return replies


def reply_text(error: BaseException) -> str:
    """The full server text of an error reply (redis-py strips the leading code)."""
    code = getattr(error, "status_code", None)
    return f"{code} {error}" if code else str(error)


def is_error(reply: object) -> bool:
    return isinstance(reply, (redis.ResponseError, ReplyError))


def raise_for_reply(reply: object) -> object:
    """Raise the SmartRedis exception for an error reply, else return the reply."""
    if is_error(reply):
        raise error_from_reply(reply_text(reply))  # type: ignore[arg-type]
    return reply


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
        self._idle: list[redis.Connection] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Node({self.address})"

    def _new_connection(self) -> redis.Connection:
        common = {
            "socket_timeout": self.timeouts.command,
            "socket_connect_timeout": max(self.timeouts.socket, 0.05),
            "protocol": 2,  # plain RESP2, as the official clients (redis-py 8 defaults to 3)
        }
        common.update(self.security.connection_kwargs(unix=self.address.is_unix))
        if self.address.is_unix:
            return redis.UnixDomainSocketConnection(path=self.address.path, **common)
        cls = redis.SSLConnection if self.security.tls else redis.Connection
        return cls(host=self.address.host, port=self.address.port, socket_keepalive=True, **common)

    def _acquire(self, deadline: float) -> redis.Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn._sock is None:
                break
            if is_alive(conn._sock, _poller(conn, conn._sock)):
                return conn
            logger.debug("a pooled connection to %s was closed by the server", self.address)
            conn.disconnect()
        conn = conn or self._new_connection()
        refused_since: float | None = None
        while True:
            try:
                conn.connect()
                return conn
            except redis.AuthenticationError as exc:
                conn.disconnect()
                raise _auth_failure(self.address, exc) from None
            except _IO_ERRORS as exc:
                conn.disconnect()
                tls_error = _ssl_failure(exc)
                if tls_error is not None:
                    raise RedisConnectionError(
                        f"TLS to the database at {self.address} failed: {tls_error}. Check "
                        "SR_DB_TLS_CA (the CA that signed the server's certificate) and that "
                        "the server speaks TLS on this port."
                    ) from None
                if _refused(exc):
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

    def _release(self, conn: redis.Connection) -> None:
        with self._lock:
            self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.disconnect()

    def ping(self) -> None:
        """Connect (retrying up to the connect timeout) and check that PING answers PONG."""
        reply = self.call(["PING"])
        if reply not in (b"PONG", "PONG", True):
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
                send_all(conn._sock, packed)  # type: ignore[arg-type]
                sent = True
                if read_timeout:
                    conn._sock.settimeout(read_timeout)  # type: ignore[union-attr]
                replies = reader(conn, len(commands))
                if read_timeout and conn._sock is not None:
                    conn._sock.settimeout(self.timeouts.command)
            except redis.AuthenticationError as exc:  # NOAUTH: the server wants a password
                conn.disconnect()
                raise _auth_failure(self.address, exc) from None
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
            return replies


class Executor(Protocol):
    """What the client needs from a transport."""

    is_cluster: bool
    nodes: list[Node]

    def node_for_key(self, key: str | bytes | None) -> Node: ...

    def node_for_address(self, address: str) -> Node: ...

    def call(
        self,
        args: Sequence[object],
        key: str | bytes | None = None,
        reader: Reader = ...,
        read_timeout: float = 0,
    ) -> object: ...

    def pipeline(
        self,
        commands: Sequence[Sequence[object]],
        key: str | bytes | None = None,
        reader: Reader = ...,
    ) -> list[object]: ...

    def close(self) -> None: ...


def _refused(exc: BaseException) -> bool:
    """Whether a connect failed because nothing listens (refused, or no such Unix socket)."""
    text = str(exc)
    return any(
        marker in text
        for marker in ("Connection refused", "Error 111 ", "No such file or directory", "Error 2 ")
    )
