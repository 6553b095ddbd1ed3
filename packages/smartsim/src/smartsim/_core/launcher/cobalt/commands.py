"""Cobalt command lines (argv lists only; the launcher runs them through its CommandRunner)."""

from __future__ import annotations

import getpass

#: the qstat columns the launcher asks for (``--header``, ``:``-separated)
QSTAT_HEADER = "JobID:State"


def user() -> str:
    """The user whose jobs qstat lists."""
    return getpass.getuser()


def qsub(script: str, batch_cmd: str = "qsub") -> list[str]:
    """Submit an executable script (script mode; its ``#COBALT`` lines are the options)."""
    return [batch_cmd, script]


def qstat_user() -> list[str]:
    """Every job of this user with its state, in one call.

    Without job ids: ``qstat <ids>`` exits 1 when none of them is queued any more.
    """
    return ["qstat", "-u", user(), "--header", QSTAT_HEADER]


def qdel(ids: list[str]) -> list[str]:
    """Delete jobs in one call."""
    return ["qdel", *ids]
