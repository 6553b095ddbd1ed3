"""Cobalt job states (``qstat`` State column) to SmartSimStatus.

Cobalt drops finished jobs from ``qstat``; the launcher then reads the exit status from the
job's log, so ``done`` is rarely seen here.
"""

from __future__ import annotations

from smartsim._core.launcher.state_table import lookup_state
from smartsim.status import SmartSimStatus

STATE_TABLE: dict[str, SmartSimStatus] = {
    "QUEUED": SmartSimStatus.STATUS_QUEUED,
    "STARTING": SmartSimStatus.STATUS_QUEUED,
    "USER_HOLD": SmartSimStatus.STATUS_PAUSED,
    "ADMIN_HOLD": SmartSimStatus.STATUS_PAUSED,
    "DEP_HOLD": SmartSimStatus.STATUS_PAUSED,
    "MAXRUN_HOLD": SmartSimStatus.STATUS_PAUSED,
    "RUNNING": SmartSimStatus.STATUS_RUNNING,
    "EXITING": SmartSimStatus.STATUS_RUNNING,
    "KILLING": SmartSimStatus.STATUS_RUNNING,
    "TERMINATING": SmartSimStatus.STATUS_RUNNING,
    "DEP_FAIL": SmartSimStatus.STATUS_FAILED,
    "DONE": SmartSimStatus.STATUS_COMPLETED,
}


def to_status(raw: str) -> SmartSimStatus:
    """A Cobalt state to a status (unknown -> logged fallback)."""
    return lookup_state(STATE_TABLE, raw, "cobalt")
