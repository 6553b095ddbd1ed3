"""Logging for smartsim: one ``smartsim`` logger tree, level from ``SMARTSIM_LOG_LEVEL``.

Levels: ``quiet`` (warnings and errors only), ``info`` (default), ``debug``, ``developer``.
Nothing is configured until the first :func:`get_logger` call, and only the ``smartsim``
logger gets a handler, so applications keep control of their own logging.
"""

from __future__ import annotations

import logging
import os
import sys

_LEVELS = {
    "quiet": logging.WARNING,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "developer": logging.DEBUG,
}
_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"
_configured = False


def _level_from_env() -> int:
    value = os.environ.get("SMARTSIM_LOG_LEVEL", "info").strip().lower()
    if value not in _LEVELS:
        sys.stderr.write(
            f"smartsim: SMARTSIM_LOG_LEVEL={value!r} is not one of "
            f"{', '.join(sorted(_LEVELS))}; using info\n"
        )
        return logging.INFO
    return _LEVELS[value]


def _configure() -> None:
    global _configured
    if _configured:
        return
    _configured = True
    root = logging.getLogger("smartsim")
    root.setLevel(_level_from_env())
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
        root.addHandler(handler)
    root.propagate = False


def get_logger(
    name: str, log_level: str | int | None = None, fmt: str | None = None
) -> logging.Logger:
    """A logger under ``smartsim`` (names outside the tree are nested under it).

    ``log_level`` (``"debug"``, ``"info"``, ... or a ``logging`` level) sets this logger's level
    and ``fmt`` gives it its own stderr handler with that format, as SmartSim 0.4's did.
    """
    _configure()
    if name != "smartsim" and not name.startswith("smartsim."):
        name = f"smartsim.{name}"
    logger = logging.getLogger(name)
    if log_level is not None:
        if isinstance(log_level, str):
            if log_level.lower() not in _LEVELS:
                raise ValueError(
                    f"log_level {log_level!r} is not one of {', '.join(sorted(_LEVELS))}"
                )
            log_level = _LEVELS[log_level.lower()]
        logger.setLevel(log_level)
    if fmt is not None and not any(
        getattr(h, "_smartsim_fmt", None) == fmt for h in logger.handlers
    ):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(fmt))
        handler._smartsim_fmt = fmt  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False
    return logger


def log_to_file(filename: str, log_level: str = "debug") -> None:
    """Also write smartsim's log records to ``filename``."""
    _configure()
    handler = logging.FileHandler(filename)
    handler.setLevel(_LEVELS.get(log_level.lower(), logging.DEBUG))
    handler.setFormatter(logging.Formatter(_FORMAT))
    logging.getLogger("smartsim").addHandler(handler)
