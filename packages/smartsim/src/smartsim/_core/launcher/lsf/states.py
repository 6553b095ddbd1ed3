"""LSF job states (``bjobs -o stat -json``) to SmartSimStatus."""

from __future__ import annotations

from smartsim._core.launcher.state_table import lookup_state
from smartsim.status import SmartSimStatus

STATE_TABLE: dict[str, SmartSimStatus] = {
    "PEND": SmartSimStatus.STATUS_QUEUED,
    "WAIT": SmartSimStatus.STATUS_QUEUED,
    "PROV": SmartSimStatus.STATUS_QUEUED,
    "RUN": SmartSimStatus.STATUS_RUNNING,
    "PSUSP": SmartSimStatus.STATUS_PAUSED,
    "USUSP": SmartSimStatus.STATUS_PAUSED,
    "SSUSP": SmartSimStatus.STATUS_PAUSED,
    "DONE": SmartSimStatus.STATUS_COMPLETED,
    "EXIT": SmartSimStatus.STATUS_FAILED,
    "ZOMBI": SmartSimStatus.STATUS_FAILED,
}


def to_status(raw: str) -> SmartSimStatus:
    """An LSF state to a status (unknown, e.g. UNKWN -> logged fallback)."""
    return lookup_state(STATE_TABLE, raw, "lsf")
