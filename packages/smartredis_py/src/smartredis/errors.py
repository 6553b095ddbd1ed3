"""One table from server error replies to SmartRedis exceptions (like redis-py's
``EXCEPTION_CLASSES``).  The exception classes themselves are in :mod:`smartredis.error`.

The official client turns every server error reply into ``RedisRuntimeError`` with the text
``Redis error when executing command: <server message>``; so do we, except for the replies
that mean the database is not able to serve right now, which become ``RedisDatabaseError``.
"""

from __future__ import annotations

from smartredis.error import RedisDatabaseError, RedisReplyError, RedisRuntimeError

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


def is_unknown_command(exc: BaseException) -> bool:
    """True when ``exc`` is the server saying it does not know the command."""
    text = str(exc).lower()
    return "unknown command" in text
