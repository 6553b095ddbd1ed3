"""One connection to a database node: its socket (TCP, TLS or Unix), AUTH, sending packed
commands and reading replies.  The only code that touches a socket.

Replies are read by one of two readers over the same socket: :meth:`Connection.read`
(hiredis, for small replies) and :meth:`Connection.read_in_place` (our
:class:`~smartredis._transport.resp.SocketReader`, which receives large bulk strings straight
into their final buffer).  Either returns error replies as
:class:`~smartredis._transport.replies.ReplyError`, in place.  After a read neither may hold
bytes beyond the replies asked for: that would mean the stream is out of step, and the
connection is dropped.

Nothing is sent on connect except ``AUTH`` when a password is set: plain RESP2, as the
official clients (no HELLO, SELECT or CLIENT SETINFO).
"""

from __future__ import annotations

import errno
import select
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import hiredis

from smartredis._transport.replies import ReplyError
from smartredis._transport.resp import SocketReader, pack, send_all
from smartredis._wire.address import Address

#: Bytes asked of the socket per ``recv_into`` by the hiredis reader.
_RECV = 1 << 16


class ProtocolError(ConnectionError):
    """The bytes received are not RESP2: the connection is out of step."""


class AuthError(Exception):
    """The server refused the password (or the user name) sent with ``AUTH``."""


@dataclass(frozen=True)
class Security:
    """Credentials and TLS settings of the connections (empty: an open database)."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    def auth_command(self) -> list[str] | None:
        """``AUTH [username] password``, or None when no password is set."""
        if not self.password:
            return None
        if self.username:
            return ["AUTH", self.username, self.password]
        return ["AUTH", self.password]

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context: the system CAs plus ``tls_ca``, the chain verified, the host name
        not (nodes are reached by IP); ``tls_cert``/``tls_key`` for client authentication."""
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        if self.tls_cert or self.tls_key:
            context.load_cert_chain(self.tls_cert, self.tls_key)  # type: ignore[arg-type]
        if self.tls_ca:
            context.load_verify_locations(self.tls_ca)
        return context


def refused(exc: BaseException) -> bool:
    """Whether a connect failed because nothing listens (refused, or no such Unix socket)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ECONNREFUSED, errno.ENOENT)


class Connection:
    """A socket to ``address``, opened by :meth:`connect` and closed by :meth:`disconnect`.

    ``command_timeout`` bounds every send and every wait for a reply; ``connect_timeout``
    bounds opening the socket (and the TLS handshake).
    """

    def __init__(
        self,
        address: Address,
        connect_timeout: float,
        command_timeout: float,
        security: Security,
    ) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.security = security
        self._sock: socket.socket | None = None
        self._poller: select.poll | None = None
        self._parser: hiredis.Reader | None = None
        self._in_place: SocketReader | None = None
        self._buf = bytearray(_RECV)

    @property
    def connected(self) -> bool:
        return self._sock is not None

    # opening and closing
    def connect(self) -> None:
        """Open the socket and authenticate.

        :raises OSError: the socket could not be opened (``ssl.SSLError`` for TLS failures)
        :raises AuthError: the server refused the credentials
        """
        if self._sock is not None:
            return
        sock = self._open()
        self._sock = sock
        self._parser = hiredis.Reader(replyError=ReplyError, protocolError=ProtocolError)
        self._in_place = SocketReader(sock)
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN | select.POLLPRI)
        auth = self.security.auth_command()
        if auth is None:
            return
        try:
            self.send(pack([auth]))
            reply = self.read(1)[0]
        except BaseException:
            self.disconnect()
            raise
        if isinstance(reply, ReplyError):
            self.disconnect()
            raise AuthError(str(reply))

    def _open(self) -> socket.socket:
        address = self.address
        if address.is_unix:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.connect_timeout)
                sock.connect(address.path)
            except BaseException:
                sock.close()
                raise
            sock.settimeout(self.command_timeout)
            return sock
        error: OSError | None = None
        for family, kind, proto, _, sockaddr in socket.getaddrinfo(
            address.host, address.port, 0, socket.SOCK_STREAM
        ):
            sock = socket.socket(family, kind, proto)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                sock.settimeout(self.connect_timeout)
                sock.connect(sockaddr)
                if self.security.tls:
                    sock = self.security.ssl_context().wrap_socket(
                        sock, server_hostname=address.host
                    )
                sock.settimeout(self.command_timeout)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"no address found for {address.host}")

    def disconnect(self) -> None:
        """Close the socket (the connection may be opened again)."""
        sock, self._sock = self._sock, None
        self._parser = self._in_place = self._poller = None
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def __del__(self) -> None:  # a client dropped without close(): close quietly, as redis-py
        sock = getattr(self, "_sock", None)
        if sock is not None:
            try:
                sock.close()
            except Exception:
                pass

    def is_alive(self) -> bool:
        """False when the server has closed this idle connection (or sent something unasked).

        One ``poll`` with no wait (~1 us): an idle connection has nothing to read unless the
        server closed it (EOF) or the stream is out of step.  A TLS socket may also hold TLS
        housekeeping records (session tickets); those are read and the socket kept.
        """
        sock, poller = self._sock, self._poller
        if sock is None or poller is None:
            return False
        readable = bool(poller.poll(0))
        if not isinstance(sock, ssl.SSLSocket):
            return not readable
        if not readable and not sock.pending():
            return True
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
                sock.settimeout(self.command_timeout)
            except OSError:
                pass

    # I/O
    def set_timeout(self, seconds: float) -> None:
        """Wait up to ``seconds`` for each reply from now on."""
        if self._sock is not None:
            self._sock.settimeout(seconds)

    def send(self, pieces: Sequence[bytes | memoryview]) -> None:
        """Send packed commands (:func:`~smartredis._transport.resp.pack`)."""
        if self._sock is None:
            raise ConnectionError(f"the connection to {self.address} is closed")
        send_all(self._sock, pieces)  # type: ignore[arg-type]

    def read(self, n: int) -> list:
        """Read ``n`` replies with hiredis (small replies; bulk strings as ``bytes``)."""
        sock, parser, buf = self._sock, self._parser, self._buf
        if sock is None or parser is None:
            raise ConnectionError(f"the connection to {self.address} is closed")
        replies: list = []
        while len(replies) < n:
            reply = parser.gets()
            if reply is False:
                got = sock.recv_into(buf)
                if not got:
                    raise ConnectionError("the server closed the connection")
                parser.feed(buf, 0, got)
            else:
                replies.append(reply)
        if parser.has_data():
            raise ProtocolError("unexpected bytes after the replies; the connection is out of step")
        return replies

    def read_in_place(self, n: int) -> list:
        """Read ``n`` replies, receiving large bulk strings in place (tensors, models)."""
        reader = self._in_place
        if reader is None:
            raise ConnectionError(f"the connection to {self.address} is closed")
        replies = [reader.read() for _ in range(n)]
        if reader.leftover():
            raise ProtocolError("unexpected bytes after the replies; the connection is out of step")
        return replies
