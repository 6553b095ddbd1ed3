"""State table of the local launcher: a process's exit code to a SmartSimStatus."""

from __future__ import annotations

import signal

from smartsim.status import SmartSimStatus


def status_from_returncode(returncode: int | None, stopped: bool) -> SmartSimStatus:
    """Running while there is no exit code; Cancelled when we stopped it; else by exit code."""
    if returncode is None:
        return SmartSimStatus.STATUS_RUNNING
    if stopped:
        return SmartSimStatus.STATUS_CANCELLED
    return SmartSimStatus.STATUS_COMPLETED if returncode == 0 else SmartSimStatus.STATUS_FAILED


def describe_returncode(returncode: int | None) -> str:
    """``exit 3`` or ``killed by SIGKILL`` (Popen gives -N for signal N)."""
    if returncode is None:
        return "running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"
