"""LSF command lines (argv lists only; the launcher runs them through its CommandRunner)."""

from __future__ import annotations

#: the ``bjobs -o`` fields of the status call (``-json`` output, see :func:`parser.parse_bjobs_json`)
BJOBS_FIELDS = "jobid stat exit_code"
#: the ``bjobs -o`` format of the "which jobs remain" call (``-noheader``, ``|``-separated)
BJOBS_REMAIN_FORMAT = "jobid stat delimiter='|'"


def bsub(script: str, batch_cmd: str = "bsub") -> list[str]:
    """Submit ``script``; LSF 10.1 reads the ``#BSUB`` lines of a script given as argument."""
    return [batch_cmd, script]


def bjobs_json(ids: list[str]) -> list[str]:
    """One bjobs call for every job, finished ones included (``-a``), as JSON."""
    return ["bjobs", "-a", "-o", BJOBS_FIELDS, "-json", *ids]


def bjobs_remaining(ids: list[str]) -> list[str]:
    """Id and state of each job, one ``id|STAT`` line per job, no header."""
    return ["bjobs", "-a", "-noheader", "-o", BJOBS_REMAIN_FORMAT, *ids]


def bkill(ids: list[str]) -> list[str]:
    """Kill jobs in one call."""
    return ["bkill", *ids]


def jslist() -> list[str]:
    """The jsrun steps of the current allocation."""
    return ["jslist"]


def jskill(ids: list[str]) -> list[str]:
    """Kill jsrun steps of the current allocation."""
    return ["jskill", *ids]
