"""Grid Engine command lines (argv lists only; the launcher runs them)."""

from __future__ import annotations

import getpass
import time


def user() -> str:
    """The user whose jobs qstat and qacct list."""
    return getpass.getuser()


def qsub(script: str, batch_cmd: str = "qsub") -> list[str]:
    """Submit ``script``; ``-terse`` prints just the job id."""
    return [batch_cmd, "-terse", script]


def qstat_all() -> list[str]:
    """Every pending and running job of this user, as XML, in one call."""
    return ["qstat", "-xml", "-u", user()]


def qacct_since(start: float) -> list[str]:
    """The accounting records of this user's jobs started since ``start``, in one call."""
    return ["qacct", "-o", user(), "-b", time.strftime("%Y%m%d%H%M", time.localtime(start)), "-j"]


def qdel(ids: list[str]) -> list[str]:
    """Delete jobs in one call."""
    return ["qdel", *ids]
