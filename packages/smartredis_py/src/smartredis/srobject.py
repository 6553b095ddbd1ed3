"""SRObject: the base of every SmartRedis object that can log under its own context."""

from __future__ import annotations

from smartredis.logger import SRLoggingLevel, _configure, log_data, log_error, log_warning

__all__ = ["SRObject"]


class SRObject:
    """An object with a logging context (its name in log lines)."""

    def __init__(self, context: str) -> None:
        if not isinstance(context, str):
            raise TypeError(f"Argument context is of type {type(context)}, not {str}")
        self._context = context
        _configure()  # as upstream: the log output is set up (and announced) by the first object

    def log_data(self, level: SRLoggingLevel, data: str) -> None:
        """Log ``data`` under this object's context."""
        log_data(self._context, level, data)

    def log_warning(self, level: SRLoggingLevel, data: str) -> None:
        """Log a warning under this object's context."""
        log_warning(self._context, level, data)

    def log_error(self, level: SRLoggingLevel, data: str) -> None:
        """Log an error under this object's context."""
        log_error(self._context, level, data)
