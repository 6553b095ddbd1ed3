"""PBS Professional command lines (argv lists only; the launcher runs them)."""

from __future__ import annotations


def qsub(script: str, batch_cmd: str = "qsub") -> list[str]:
    """Submit ``script`` (its ``#PBS`` directives carry every option); prints the job id."""
    return [batch_cmd, script]


def qsub_version() -> list[str]:
    """``pbs_version = 2022.1.3``."""
    return ["qsub", "--version"]


def qstat_jobs(ids: list[str], json: bool = True) -> list[str]:
    """Every field of these jobs, finished ones included (``-x``), in one call."""
    return ["qstat", "-f", *(["-F", "json"] if json else []), "-x", *ids]


def qdel(ids: list[str]) -> list[str]:
    """Delete jobs in one call (PBS sends SIGTERM, then SIGKILL after ``kill_delay``)."""
    return ["qdel", *ids]
