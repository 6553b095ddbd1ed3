"""Runtime configuration of a running database (``CONFIG SET`` on every shard)."""

from __future__ import annotations

import logging
from dataclasses import replace

import redis

from smartsim.database import readiness
from smartsim.database.security import DBSecurity
from smartsim.error import SmartSimError

logger = logging.getLogger(__name__)


class DBConfigMixin:
    """The ``set_*`` / ``enable_checkpoints`` methods of the Orchestrator.

    They need a running database (``SmartSimError`` otherwise) and apply the setting to
    every shard; a setting the server refuses becomes a ``SmartSimError`` with its reply.
    """

    _security: DBSecurity

    def get_address(self) -> list[str]:  # pragma: no cover - provided by Orchestrator
        raise NotImplementedError

    def is_active(self) -> bool:  # pragma: no cover - provided by Orchestrator
        raise NotImplementedError

    def set_db_conf(self, key: str, value: str) -> None:
        """Set a server configuration value (``CONFIG SET key value``) on every shard."""
        if not isinstance(key, str):
            raise TypeError(f"the configuration key must be a str, got {type(key).__name__}")
        if not isinstance(value, str):
            raise TypeError(
                f"the value of {key} must be a str, got {type(value).__name__} ({value!r})"
            )
        if not self.is_active():
            raise SmartSimError(
                f"cannot set {key}: the database is not running; start it first "
                "(exp.start(db)) and set its configuration afterwards"
            )
        shown = "***" if key.lower() in ("requirepass", "masterauth") else repr(value)
        for address in self.get_address():
            host, _, port = address.rpartition(":")
            try:
                with readiness.client(host, int(port), 10, self._security) as conn:
                    conn.config_set(key, value)
            except redis.ResponseError as exc:
                raise SmartSimError(
                    f"the database at {address} refused {key}={shown}: {exc}"
                ) from exc
            except redis.RedisError as exc:
                raise SmartSimError(f"could not set {key} on {address}: {exc}") from exc
        if key.lower() == "requirepass":  # our own connections need the new password
            self._security = replace(self._security, password=value or None)
        logger.debug("set %s on every shard", key)

    def enable_checkpoints(self, frequency: int) -> None:
        """Save the data every ``frequency`` seconds if at least one key changed."""
        _check_int(frequency, "frequency")
        self.set_db_conf("save", f"{frequency} 1")

    def set_max_memory(self, mem: str) -> None:
        """Memory limit of each shard (``maxmemory``), e.g. ``"3gb"``; 0 means no limit."""
        if not isinstance(mem, str):
            raise TypeError(f"mem must be a str such as '3gb', got {type(mem).__name__}")
        self.set_db_conf("maxmemory", mem)

    def set_eviction_strategy(self, strategy: str) -> None:
        """What to drop when ``maxmemory`` is reached (``maxmemory-policy``)."""
        if not isinstance(strategy, str):
            raise TypeError(f"strategy must be a str, got {type(strategy).__name__}")
        self.set_db_conf("maxmemory-policy", strategy)

    def set_max_clients(self, clients: int = 50_000) -> None:
        """Maximum number of connected clients per shard (``maxclients``)."""
        _check_int(clients, "clients")
        self.set_db_conf("maxclients", str(clients))

    def set_max_message_size(self, size: int = 1_073_741_824) -> None:
        """Largest request a client may send, in bytes (``proto-max-bulk-len``)."""
        _check_int(size, "size")
        self.set_db_conf("proto-max-bulk-len", str(size))


def _check_int(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {type(value).__name__} ({value!r})")
    if value < 0:
        raise SmartSimError(f"{what} must not be negative, got {value}")
