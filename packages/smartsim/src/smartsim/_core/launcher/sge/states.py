"""Grid Engine job states (``qstat`` ``state``: letters combined, e.g. ``hqw``, ``dr``).

``E`` (error, e.g. ``Eqw``) is Failed: the job stays in the queue until deleted; ``d``
(being deleted) still runs; ``h`` (held), ``s``/``S``/``T`` (suspended) are Paused; ``qw``
is Queued; ``r``/``t``/``R`` are Running. Finished jobs leave qstat: their end comes from
``qacct``.
"""

from __future__ import annotations

from smartsim.status import SmartSimStatus


def to_status(raw: str) -> SmartSimStatus:
    """A Grid Engine state string to a status (checked in order of precedence)."""
    letters = (raw or "").strip()
    if "E" in letters:
        return SmartSimStatus.STATUS_FAILED
    if "d" in letters:
        return SmartSimStatus.STATUS_RUNNING
    if "h" in letters or any(c in letters for c in "sST"):
        return SmartSimStatus.STATUS_PAUSED
    if any(c in letters for c in "rtR"):
        return SmartSimStatus.STATUS_RUNNING
    return SmartSimStatus.STATUS_QUEUED
