"""Pure functions over Cobalt's output: text in, ids, states and exit codes out.

Tested on the documented outputs in ``tests/test_lsf_cobalt_parsers.py`` with no Cobalt.
"""

from __future__ import annotations

import re

from smartsim.error import LauncherError

_EXIT = re.compile(r"exit code of (-?\d+)")


def parse_qsub(output: str) -> str:
    """The job id Cobalt's qsub prints on its last line (earlier lines may be notices)."""
    for line in reversed(output.strip().splitlines()):
        if line.strip().isdigit():
            return line.strip()
    raise LauncherError(f"qsub printed no job id: {output.strip()!r}")


def parse_qstat(output: str) -> dict[str, str]:
    """``qstat --header JobID:State`` (a header, a ``===`` rule, rows) to ``{id: state}``.

    Output without the header and its rule is not qstat's table: LauncherError quoting it.
    """
    lines = output.splitlines()
    if len(lines) < 2 or "JobID" not in lines[0] or not lines[1].startswith("="):
        raise LauncherError(
            f"qstat printed something that is not its job table: {output.strip()[:300]!r}"
        )
    states: dict[str, str] = {}
    for line in lines[2:]:
        fields = line.split()
        if len(fields) >= 2 and fields[0].isdigit():
            states[fields[0]] = fields[1]
    return states


def parse_cobaltlog_exit(text: str) -> int | None:
    """The exit code in a job's cobaltlog (``... task completed normally with an exit code
    of 0; initiating job cleanup and removal``), None until the job has ended."""
    found = _EXIT.findall(text)
    return int(found[-1]) if found else None
