"""Pure functions over LSF's output: text in, ids and states out.

Tested on the documented outputs in ``tests/test_lsf_cobalt_parsers.py`` with no LSF.
"""

from __future__ import annotations

import json
import re

from smartsim._core.launcher.batch import JobState
from smartsim._core.launcher.lsf.states import to_status
from smartsim.error import LauncherError

_BSUB_ID = re.compile(r"Job <(\d+)> is submitted")


def parse_bsub(output: str) -> str:
    """The id in ``Job <12345> is submitted to queue <debug>.``."""
    match = _BSUB_ID.search(output)
    if not match:
        raise LauncherError(f"bsub printed no job id: {output.strip()!r}")
    return match.group(1)


def parse_bsub_error(output: str) -> str:
    """The reasons an esub gives (lines starting ``**``), else the output as it is."""
    reasons = [
        ln.strip().lstrip("*").strip() for ln in output.splitlines() if ln.strip().startswith("**")
    ]
    return "\n".join(reasons) if reasons else output.strip()


def parse_exit_code(text: str) -> int | None:
    """bjobs' ``EXIT_CODE``: ``"3"`` -> 3, ``""`` or ``"-"`` -> None."""
    text = str(text).strip()
    try:
        return int(text)
    except ValueError:
        return None


def _job_state(stat: str, exit_code: str, reason: str = "") -> JobState:
    stat = stat.strip()
    rc = parse_exit_code(exit_code)
    if rc is None and stat == "DONE":
        rc = 0  # LSF leaves EXIT_CODE empty for a job that exited 0
    return JobState(to_status(stat), stat, rc, reason)


def parse_bjobs_json(output: str) -> tuple[dict[str, JobState], set[str]]:
    """``bjobs -o "jobid stat exit_code" -json ids`` to (states by id, ids LSF does not know).

    A job LSF does not know (never submitted, or cleaned after ``CLEAN_PERIOD``) comes as a
    record with ``ERROR`` (``Job <12> is not found``). Output that is not bjobs' JSON raises
    LauncherError quoting it.
    """
    try:
        data = json.loads(output)
        records = data["RECORDS"]
    except (ValueError, KeyError, TypeError) as exc:
        raise LauncherError(
            f"bjobs printed something that is not its -json output: {output.strip()[:300]!r}"
        ) from exc
    states: dict[str, JobState] = {}
    unknown: set[str] = set()
    for record in records:
        job_id = str(record.get("JOBID", "")).strip()
        if not job_id:
            continue
        if record.get("ERROR"):
            unknown.add(job_id)
            continue
        states[job_id] = _job_state(str(record.get("STAT", "")), record.get("EXIT_CODE", ""))
    return states, unknown


def parse_bjobs_delimited(output: str, delimiter: str = "|") -> dict[str, str]:
    """``bjobs -noheader -o "jobid stat delimiter='|'"`` lines to ``{id: STAT}``.

    Lines of jobs bjobs does not know (``Job <12> is not found``) are skipped.
    """
    states: dict[str, str] = {}
    for line in output.splitlines():
        parts = line.strip().split(delimiter)
        if len(parts) >= 2 and parts[0].strip().isdigit():
            states[parts[0].strip()] = parts[1].strip()
    return states


def parse_jslist(output: str) -> dict[str, tuple[str, int | None]]:
    """``jslist`` to ``{step id: (status, exit status)}``.

    Rows are ``ID parentID nrs cpus/RS gpus/RS exit-status status`` under a ``===`` rule;
    ``various`` may stand for the per-RS counts.
    """
    steps: dict[str, tuple[str, int | None]] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 7 and fields[0].isdigit():
            steps[fields[0]] = (fields[6], parse_exit_code(fields[5]))
    return steps


def max_step_id(output: str) -> int:
    """The highest jsrun step id ``jslist`` shows (0 when it lists none)."""
    return max((int(s) for s in parse_jslist(output)), default=0)
