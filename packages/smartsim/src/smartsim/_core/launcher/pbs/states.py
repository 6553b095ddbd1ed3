"""PBS Pro job states (``qstat -f -F json`` ``job_state``) to SmartSimStatus.

``F`` (finished) and ``X`` (finished subjob) map to Completed; the launcher turns them into
Failed from ``Exit_status`` when it is not 0.
"""

from __future__ import annotations

from smartsim._core.launcher.state_table import lookup_state
from smartsim.status import SmartSimStatus

STATE_TABLE: dict[str, SmartSimStatus] = {
    "Q": SmartSimStatus.STATUS_QUEUED,
    "W": SmartSimStatus.STATUS_QUEUED,
    "T": SmartSimStatus.STATUS_QUEUED,
    "M": SmartSimStatus.STATUS_QUEUED,
    "H": SmartSimStatus.STATUS_PAUSED,
    "S": SmartSimStatus.STATUS_PAUSED,
    "U": SmartSimStatus.STATUS_PAUSED,
    "R": SmartSimStatus.STATUS_RUNNING,
    "B": SmartSimStatus.STATUS_RUNNING,
    "E": SmartSimStatus.STATUS_RUNNING,
    "F": SmartSimStatus.STATUS_COMPLETED,
    "X": SmartSimStatus.STATUS_COMPLETED,
}


def to_status(raw: str) -> SmartSimStatus:
    """A PBS state letter to a status (unknown -> logged fallback)."""
    return lookup_state(STATE_TABLE, raw, "pbs")
