"""Job status values: the SmartSim 0.4 string constants and the later ``SmartSimStatus`` enum.

``SmartSimStatus`` is a ``str`` enum, so ``SmartSimStatus.STATUS_COMPLETED == "Completed"``
and the plain constants compare equal to the enum members.
"""

from __future__ import annotations

from enum import Enum


class SmartSimStatus(str, Enum):
    """The status of a launched entity."""

    STATUS_RUNNING = "Running"
    STATUS_COMPLETED = "Completed"
    STATUS_CANCELLED = "Cancelled"
    STATUS_FAILED = "Failed"
    STATUS_NEW = "New"
    STATUS_PAUSED = "Paused"
    STATUS_NEVER_STARTED = "NeverStarted"
    STATUS_QUEUED = "Queued"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True for Completed, Cancelled, Failed and NeverStarted."""
        return self in TERMINAL_STATUSES or self is SmartSimStatus.STATUS_NEVER_STARTED


STATUS_RUNNING = SmartSimStatus.STATUS_RUNNING.value
STATUS_COMPLETED = SmartSimStatus.STATUS_COMPLETED.value
STATUS_CANCELLED = SmartSimStatus.STATUS_CANCELLED.value
STATUS_FAILED = SmartSimStatus.STATUS_FAILED.value
STATUS_NEW = SmartSimStatus.STATUS_NEW.value
STATUS_PAUSED = SmartSimStatus.STATUS_PAUSED.value
STATUS_NEVER_STARTED = SmartSimStatus.STATUS_NEVER_STARTED.value
STATUS_QUEUED = SmartSimStatus.STATUS_QUEUED.value

SMARTSIM_STATUS = {
    "Running": STATUS_RUNNING,
    "Paused": STATUS_PAUSED,
    "Completed": STATUS_COMPLETED,
    "Cancelled": STATUS_CANCELLED,
    "Failed": STATUS_FAILED,
    "New": STATUS_NEW,
}

TERMINAL_STATUSES = frozenset(
    {SmartSimStatus.STATUS_CANCELLED, SmartSimStatus.STATUS_COMPLETED, SmartSimStatus.STATUS_FAILED}
)
LIVE_STATUSES = frozenset(
    {
        SmartSimStatus.STATUS_RUNNING,
        SmartSimStatus.STATUS_PAUSED,
        SmartSimStatus.STATUS_NEW,
        SmartSimStatus.STATUS_QUEUED,
    }
)
