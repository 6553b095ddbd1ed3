"""SmartRedis exception classes (the public module ``smartredis.error``).

The hierarchy and names are those of SmartRedis 0.6.1: every class derives from
``RuntimeError``; reply errors share the base ``RedisReplyError``.  The mapping from
server error text to these classes lives in :mod:`smartredis._transport.replies`.
"""

from __future__ import annotations

import os

from smartredis._wire.address import redact

__all__ = [
    "RedisBadAllocError",
    "RedisConnectionError",
    "RedisDatabaseError",
    "RedisInternalError",
    "RedisKeyError",
    "RedisReplyError",
    "RedisRuntimeError",
    "RedisTimeoutError",
]


class RedisConnectionError(RuntimeError):
    """The client could not connect to the database (raised by the constructor)."""

    def __init__(self, cpp_error: str = "") -> None:
        msg = f"{cpp_error}\n" if cpp_error else ""
        if "SSDB" in os.environ:
            msg += f"Could not connect to Orchestrator at {redact(os.environ['SSDB'])}"
        super().__init__(msg)


class RedisReplyError(RuntimeError):
    """Base class of the errors raised by client operations.

    ``method`` (e.g. ``Client.get_tensor``) is put in front of the message as
    ``"<method> execution failed"``, the format of the official client.
    """

    def __init__(self, cpp_error: str, method: str = "", key: str = "") -> None:
        self.detail = cpp_error
        self.method = method
        self.key = key
        super().__init__(self._check_error(cpp_error, method, key))

    @staticmethod
    def _check_error(cpp_error: str, method: str = "", key: str = "") -> str:
        msg = f"{method} execution failed\n" if method else ""
        return msg + cpp_error


class RedisRuntimeError(RedisReplyError):
    """A server error reply, or an operation that cannot be done as asked."""

    @staticmethod
    def _check_error(cpp_error: str, method: str = "", key: str = "") -> str:
        msg = f"{method} execution failed\n" if method else ""
        if "REDIS_REPLY_NIL" in cpp_error:
            return msg + f"No Dataset stored at key: {key}"
        return msg + cpp_error


class RedisBadAllocError(RedisReplyError):
    """Memory could not be allocated."""


class RedisDatabaseError(RedisReplyError):
    """The database could not be reached, or a reply was lost, after the configured retries."""


class RedisInternalError(RedisReplyError):
    """An unexpected reply or state inside the client (e.g. an unsupported tensor type)."""


class RedisTimeoutError(RedisReplyError):
    """The database did not answer in time."""


class RedisKeyError(RedisReplyError):
    """A dataset, a dataset tensor or a configuration option does not exist."""
