"""RESP2 packing that never copies large buffers, and a reader that receives large bulk
strings straight into their final buffer.

redis-py's packers turn a memoryview into ``bytes`` (hiredis) or join everything into one
string; here large arguments go to ``sendall`` as they are.  On the way back, hiredis would
keep the whole reply in its own buffer and then copy it into a ``bytes``; the reader below
allocates the destination once and ``recv_into``s it, so a tensor costs its own size.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Sequence

import numpy as np

from smartredis._transport.replies import ReplyError

#: Arguments at least this long are sent as their own piece, never copied.
LARGE = 1 << 16
_CRLF = b"\r\n"


def _encode(arg: object) -> bytes | memoryview:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode()
    if isinstance(arg, int):
        return str(arg).encode()
    if isinstance(arg, memoryview):
        return arg if arg.format == "B" and arg.ndim == 1 else arg.cast("B")
    if isinstance(arg, (bytearray, np.ndarray)):
        return memoryview(arg).cast("B")
    if isinstance(arg, float):
        return repr(arg).encode()
    raise TypeError(f"cannot send an argument of type {type(arg).__name__}")


def pack(commands: Iterable[Sequence[object]]) -> list[bytes | memoryview]:
    """RESP2-encode ``commands``; small parts are joined, large ones kept as separate views."""
    pieces: list[bytes | memoryview] = []
    buf = bytearray()
    for args in commands:
        buf += b"*%d\r\n" % len(args)
        for arg in args:
            data = _encode(arg)
            size = len(data) if isinstance(data, bytes) else data.nbytes
            buf += b"$%d\r\n" % size
            if size >= LARGE:
                pieces.append(bytes(buf))
                pieces.append(data)
                buf = bytearray(_CRLF)
            else:
                buf += data
                buf += _CRLF
    if buf:
        pieces.append(bytes(buf))
    return pieces


_IOV_MAX = 512


def send_all(sock: socket.socket, pieces: list[bytes | memoryview]) -> None:
    """Send every piece with as few system calls as possible (scatter-gather ``sendmsg``)."""
    if not hasattr(sock, "sendmsg") or isinstance(sock, ssl.SSLSocket):  # no sendmsg on TLS
        for piece in pieces:
            sock.sendall(piece)
        return
    views = [p if isinstance(p, memoryview) else memoryview(p) for p in pieces]
    while views:
        sent = sock.sendmsg(views[:_IOV_MAX])
        while sent:
            first = views[0]
            if sent >= first.nbytes:
                sent -= first.nbytes
                views.pop(0)
            else:
                views[0] = first[sent:]
                sent = 0
        while views and not views[0].nbytes:
            views.pop(0)


class SocketReader:
    """A RESP2 reader over a connected socket; bulk strings of ``LARGE`` bytes or more are
    returned as writable ``numpy.uint8`` arrays received in place, smaller ones as bytes."""

    def __init__(self, sock: socket.socket, scratch: int = 1 << 16) -> None:
        self.sock = sock
        self.buf = bytearray(scratch)
        self.start = 0
        self.end = 0

    def _fill(self) -> None:
        if self.start == self.end:
            self.start = self.end = 0
        elif self.end == len(self.buf):
            if self.start > 0:
                remaining = self.end - self.start
                self.buf[:remaining] = self.buf[self.start : self.end]
                self.start, self.end = 0, remaining
            else:
                self.buf.extend(bytes(len(self.buf)))
        n = self.sock.recv_into(memoryview(self.buf)[self.end :])
        if n == 0:
            raise ConnectionError("the server closed the connection")
        self.end += n

    def _line(self) -> bytes:
        while True:
            idx = self.buf.find(_CRLF, self.start, self.end)
            if idx >= 0:
                line = bytes(self.buf[self.start : idx])
                self.start = idx + 2
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while self.end - self.start < n:
            self._fill()
        data = bytes(self.buf[self.start : self.start + n])
        self.start += n
        return data

    def _into(self, dest: memoryview) -> None:
        have = min(self.end - self.start, len(dest))
        dest[:have] = self.buf[self.start : self.start + have]
        self.start += have
        offset, size = have, len(dest)
        while offset < size:
            n = self.sock.recv_into(dest[offset:])
            if n == 0:
                raise ConnectionError("the server closed the connection")
            offset += n

    def read(self) -> object:
        """Read one reply; an error reply is returned as a :class:`ReplyError`."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            if size < LARGE:
                data = self._exact(size + 2)
                return data[:-2]
            out = np.empty(size, dtype=np.uint8)
            self._into(memoryview(out))
            self._exact(2)
            return out
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self.read() for _ in range(count)]
        if kind == b":":
            return int(rest)
        if kind == b"+":
            return rest
        if kind == b"-":
            return ReplyError(rest.decode("utf-8", "replace"))
        raise ConnectionError(f"protocol error: unexpected reply line {line[:40]!r}")

    def leftover(self) -> int:
        """Bytes received beyond the replies read so far (0 unless the stream is out of step)."""
        return self.end - self.start
