"""Looking up a workload manager's native state in its table (each WLM has its own table)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from smartsim.status import SmartSimStatus

logger = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()

#: what an unknown state becomes: still live, so nothing is reported finished by mistake
UNKNOWN_STATE_FALLBACK = SmartSimStatus.STATUS_RUNNING


def lookup_state(table: Mapping[str, SmartSimStatus], raw: str, wlm: str) -> SmartSimStatus:
    """The status of ``raw`` (first word, case-insensitive); unknown states log once."""
    key = (raw or "").strip().split(" ", 1)[0].rstrip("+").upper()
    status = table.get(key)
    if status is not None:
        return status
    if (wlm, key) not in _warned:
        _warned.add((wlm, key))
        logger.warning(
            "unknown %s state %r; treating it as %s", wlm, raw, UNKNOWN_STATE_FALLBACK.value
        )
    return UNKNOWN_STATE_FALLBACK
