"""The SmartRedis logging API: ``log_data``, ``log_warning``, ``log_error`` and the levels.

Lines are written as ``<context>@HH-MM-SS:<text>`` (warnings add ``WARNING: ``, errors
``ERROR: ``) to ``SR_LOG_FILE`` (append) or stdout, when the message's level is at most
``SR_LOG_LEVEL`` (QUIET, INFO, DEBUG or DEVELOPER; default INFO).  Output goes through the
standard :mod:`logging` logger ``smartredis.log``.
"""

from __future__ import annotations

import enum
import logging
import os
import sys
import threading
import time

from smartredis.error import RedisRuntimeError

#: The official module's public names: its functions (the levels are exported by the package).
__all__ = ["log_data", "log_error", "log_warning"]


class SRLoggingLevel(enum.IntEnum):
    """Logging levels, from least to most verbose."""

    LLQuiet = 1
    LLInfo = 2
    LLDebug = 3
    LLDeveloper = 4


LLQuiet = SRLoggingLevel.LLQuiet
LLInfo = SRLoggingLevel.LLInfo
LLDebug = SRLoggingLevel.LLDebug
LLDeveloper = SRLoggingLevel.LLDeveloper

_LEVELS = {
    "QUIET": SRLoggingLevel.LLQuiet,
    "INFO": SRLoggingLevel.LLInfo,
    "DEBUG": SRLoggingLevel.LLDebug,
    "DEVELOPER": SRLoggingLevel.LLDeveloper,
}
_logger = logging.getLogger("smartredis.log")
_lock = threading.Lock()
_state: dict[str, object] = {}


def _configure() -> SRLoggingLevel:
    """Set up the output once per process, as the official library does on its first object.

    Without ``SR_LOG_FILE`` / ``SR_LOG_LEVEL`` it logs, at INFO, the same two warnings
    (word for word) as SmartRedis 0.6.1.
    """
    with _lock:
        if "level" in _state:
            return _state["level"]  # type: ignore[return-value]
        level_name = os.environ.get("SR_LOG_LEVEL")
        path = os.environ.get("SR_LOG_FILE")
        level = SRLoggingLevel.LLInfo
        if level_name:
            try:
                level = _LEVELS[level_name.upper()]
            except KeyError:
                raise RedisRuntimeError(
                    f"Unrecognized logging level: {level_name.lower()} "
                    f"(SR_LOG_LEVEL must be one of {', '.join(_LEVELS)})"
                ) from None
        handler: logging.Handler = (
            logging.FileHandler(path, mode="a") if path else logging.StreamHandler(sys.stdout)
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
        _logger.addHandler(handler)
        _logger.setLevel(logging.INFO)
        _logger.propagate = False
        _state["level"] = level
        if level != SRLoggingLevel.LLQuiet:
            for name, value, default in (
                ("SR_LOG_FILE", path, "stdout"),
                ("SR_LOG_LEVEL", level_name, "INFO"),
            ):
                if not value:
                    _logger.info(
                        _line(
                            "SmartRedis Library",
                            "WARNING: ",
                            f"Environment variable {name} is not set. Defaulting to {default}",
                        )
                    )
    return level


def _line(context: str, kind: str, data: str) -> str:
    return f"{context}@{time.strftime('%H-%M-%S')}:{kind}{data}"


def _emit(context: str, level: SRLoggingLevel, data: str, kind: str) -> None:
    for value, name, expected in (
        (context, "context", str),
        (level, "level", SRLoggingLevel),
        (data, "data", str),
    ):
        if not isinstance(value, expected):
            raise TypeError(f"Argument {name} is of type {type(value)}, not {expected}")
    configured = _configure()
    if configured == SRLoggingLevel.LLQuiet or level > configured:
        return
    _logger.info(_line(context, kind, data))


def log_data(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log ``data`` under ``context`` if ``level`` is enabled."""
    _emit(context, level, data, "")


def log_warning(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log a warning (prefixed ``WARNING: ``) if ``level`` is enabled."""
    _emit(context, level, data, "WARNING: ")


def log_error(context: str, level: SRLoggingLevel, data: str) -> None:
    """Log an error (prefixed ``ERROR: ``) if ``level`` is enabled."""
    _emit(context, level, data, "ERROR: ")
