"""Slurm job states (``sacct -p`` State column) to SmartSimStatus."""

from __future__ import annotations

from smartsim._core.launcher.state_table import lookup_state
from smartsim.status import SmartSimStatus

_Q, _R, _P = (
    SmartSimStatus.STATUS_QUEUED,
    SmartSimStatus.STATUS_RUNNING,
    SmartSimStatus.STATUS_PAUSED,
)
_C, _X, _F = (
    SmartSimStatus.STATUS_COMPLETED,
    SmartSimStatus.STATUS_CANCELLED,
    SmartSimStatus.STATUS_FAILED,
)

STATE_TABLE: dict[str, SmartSimStatus] = {
    "PENDING": _Q, "CONFIGURING": _Q, "REQUEUED": _Q, "REQUEUE_FED": _Q, "REQUEUE_HOLD": _Q,
    "RESIZING": _Q, "RESV_DEL_HOLD": _Q,
    "RUNNING": _R, "COMPLETING": _R, "STAGE_OUT": _R, "SIGNALING": _R,
    "SUSPENDED": _P, "STOPPED": _P,
    "COMPLETED": _C,
    "CANCELLED": _X,
    "FAILED": _F, "TIMEOUT": _F, "NODE_FAIL": _F, "PREEMPTED": _F, "OUT_OF_MEMORY": _F,
    "BOOT_FAIL": _F, "DEADLINE": _F, "REVOKED": _F, "SPECIAL_EXIT": _F,
}  # fmt: skip


def to_status(raw: str) -> SmartSimStatus:
    """``"CANCELLED by 0"`` -> Cancelled, ``"RUNNING"`` -> Running, unknown -> logged fallback."""
    return lookup_state(STATE_TABLE, raw, "slurm")
