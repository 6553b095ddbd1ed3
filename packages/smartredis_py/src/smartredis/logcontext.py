"""LogContext: a named context for the logging API."""

from __future__ import annotations

from smartredis.srobject import SRObject

__all__ = ["LogContext"]


class LogContext(SRObject):
    """A logging context: ``LogContext("sim").log_data(LLInfo, "text")``."""

    def get_context(self) -> str:
        """The context name."""
        return self._context
