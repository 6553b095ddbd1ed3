"""Error replies: the one type a reader returns for them, and the one table that turns
them into SmartRedis exceptions (like redis-py's ``EXCEPTION_CLASSES``).

Both readers (hiredis for small replies, :class:`~smartredis._transport.resp.SocketReader`
for tensors and models) return an error reply as a :class:`ReplyError` holding the server's
whole text (``MOVED 3999 127.0.0.1:7001``, ``ERR ...``), in place, so that a pipeline keeps
each error next to its command.  :func:`raise_for_reply` raises the exception class of
:mod:`smartredis.error` for it.

The official client turns every server error reply into ``RedisRuntimeError`` with the text
``Redis error when executing command: <server message>``; so do we, except for the replies
that mean the database is not able to serve right now, which become ``RedisDatabaseError``.
"""

from __future__ import annotations

from smartredis.error import RedisDatabaseError, RedisReplyError, RedisRuntimeError


class ReplyError(Exception):
    """An error reply of the server (``str()`` is its text after the ``-``)."""

    def startswith(self, prefix: str | tuple[str, ...]) -> bool:
        """Whether the server's text starts with ``prefix`` (an error code such as MOVED)."""
        return str(self).startswith(prefix)


#: Leading word of a server error reply -> exception class.
EXCEPTION_CLASSES: dict[str, type[RedisReplyError]] = {
    "LOADING": RedisDatabaseError,
    "BUSY": RedisDatabaseError,
    "MASTERDOWN": RedisDatabaseError,
    "CLUSTERDOWN": RedisDatabaseError,
    "TRYAGAIN": RedisDatabaseError,
    "READONLY": RedisDatabaseError,
}
DEFAULT_CLASS: type[RedisReplyError] = RedisRuntimeError
PREFIX = "Redis error when executing command: "


def error_from_reply(message: str) -> RedisReplyError:
    """The exception for a server error reply with text ``message``."""
    first = message.split(" ", 1)[0]
    cls = EXCEPTION_CLASSES.get(first, DEFAULT_CLASS)
    return cls(PREFIX + message)


def is_error(reply: object) -> bool:
    """Whether ``reply`` is an error reply."""
    return isinstance(reply, ReplyError)


def raise_for_reply(reply: object) -> object:
    """Raise the SmartRedis exception for an error reply, else return the reply."""
    if isinstance(reply, ReplyError):
        raise error_from_reply(str(reply))
    return reply


def first_error(replies: list[object]) -> None:
    """Raise for the first error reply among ``replies`` (a pipeline's), if any."""
    for reply in replies:
        if isinstance(reply, ReplyError):
            raise error_from_reply(str(reply))
