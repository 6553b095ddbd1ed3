"""ConfigOptions: client settings read from the environment, optionally per database.

``ConfigOptions.create_from_environment("db2")`` makes every option ``NAME`` read from
``NAME_db2`` (SmartSim sets ``SSDB_<name>`` and ``SR_DB_TYPE_<name>`` for each database).
Overrides set on an instance take precedence over the environment.
"""

from __future__ import annotations

import os
import re

from smartredis.error import RedisKeyError, RedisRuntimeError
from smartredis.util import _handle_exceptions

__all__ = ["ConfigOptions"]

_INTEGER = re.compile(r"^-?[0-9]+$")


def _typecheck(value: object, name: str, expected: type | tuple[type, ...]) -> None:
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise TypeError(f"Argument {name} is of type {type(value)}, not {expected}")


def parse_integer(name: str, text: str) -> int:
    """An integer option's value: digits with an optional leading ``-``; ``ValueError`` else."""
    if not _INTEGER.match(text.strip()):
        raise ValueError(f"The value {text!r} of option {name} is not an integer.")
    return int(text)


@_handle_exceptions
class ConfigOptions:
    """Configuration of a client; build it with :meth:`create_from_environment`."""

    def __init__(self) -> None:
        self._suffix: str | None = None
        self._overrides: dict[str, str | int] = {}
        self._cache: dict[str, str] = {}

    @classmethod
    def create_from_environment(cls, db_suffix: str) -> ConfigOptions:
        """Options read from environment variables ``NAME`` or, with a suffix, ``NAME_<suffix>``.

        :param db_suffix: the database's name ("" for the default database)
        """
        _typecheck(db_suffix, "db_suffix", str)
        instance = cls()
        instance._suffix = db_suffix
        return instance

    def _check(self) -> None:
        if self._suffix is None:
            raise RedisRuntimeError(
                "ConfigOptions must be built with ConfigOptions.create_from_environment()."
            )

    def _key(self, name: str) -> str:
        return f"{name}_{self._suffix}" if self._suffix else name

    def _lookup(self, name: str) -> str | int | None:
        self._check()
        key = self._key(name)
        if key in self._overrides:
            return self._overrides[key]
        if key not in self._cache:
            value = os.environ.get(key)
            if value is None:
                return None
            self._cache[key] = value
        return self._cache[key]

    def get_integer_option(self, option_name: str) -> int:
        """The integer value of ``option_name``; ``RedisKeyError`` if it is not set."""
        _typecheck(option_name, "option_name", str)
        value = self._lookup(option_name)
        if value is None:
            raise RedisKeyError(f"Configuration option {self._key(option_name)} is not set.")
        return value if isinstance(value, int) else parse_integer(self._key(option_name), value)

    def get_string_option(self, option_name: str) -> str:
        """The string value of ``option_name``; ``RedisKeyError`` if it is not set."""
        _typecheck(option_name, "option_name", str)
        value = self._lookup(option_name)
        if value is None:
            raise RedisKeyError(f"Configuration option {self._key(option_name)} is not set.")
        return str(value)

    def is_configured(self, option_name: str) -> bool:
        """Whether ``option_name`` has a value (override or environment)."""
        _typecheck(option_name, "option_name", str)
        return self._lookup(option_name) is not None

    def override_integer_option(self, option_name: str, value: int) -> None:
        """Use ``value`` for ``option_name`` in this instance, whatever the environment says."""
        _typecheck(option_name, "option_name", str)
        _typecheck(value, "value", int)
        self._check()
        self._overrides[self._key(option_name)] = value

    def override_string_option(self, option_name: str, value: str) -> None:
        """Use ``value`` for ``option_name`` in this instance, whatever the environment says."""
        _typecheck(option_name, "option_name", str)
        _typecheck(value, "value", str)
        self._check()
        self._overrides[self._key(option_name)] = value

    # Internal helpers for the client.
    def _string(self, name: str, default: str) -> str:
        value = self._lookup(name)
        return default if value is None else str(value)

    def _integer(self, name: str, default: int) -> int:
        value = self._lookup(name)
        if value is None:
            return default
        return value if isinstance(value, int) else parse_integer(self._key(name), value)

    def _clone(self) -> ConfigOptions:
        clone = ConfigOptions()
        clone._suffix = self._suffix
        clone._overrides = dict(self._overrides)
        clone._cache = dict(self._cache)
        return clone

    def __repr__(self) -> str:
        return f"ConfigOptions(db_suffix={self._suffix!r})"
