"""Pure functions over PBS Professional's output: text in, job ids and states out.

Each parser is tested on captured output (``tests/test_pbs_parser.py``) with no PBS.
``qstat -f -F json`` (PBS Pro 14 and later) is read with :func:`parse_qstat_json`; older
servers get :func:`parse_qstat_full` over the ``Job Id:`` blocks of ``qstat -f``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from smartsim._core.launcher.batch import JobState
from smartsim._core.launcher.pbs.states import to_status
from smartsim.error import LauncherError
from smartsim.status import SmartSimStatus

_JOB_ID = re.compile(r"^(\d+(\[\d*\])?(\.[\w.-]+)?)$")
_UNKNOWN = re.compile(r"Unknown Job Id (\S+)")
_VERSION = re.compile(r"pbs_version\s*=\s*(\d+)(?:\.(\d+))?")

#: what negative ``Exit_status`` values mean (PBS Reference Guide, "Job Exit Status")
JOB_EXEC_CODES = {
    -1: "job exec failed, before files, no retry",
    -2: "job exec failed, after files, no retry",
    -3: "job exec failed, do retry",
    -4: "job aborted on MOM initialization",
    -5: "job aborted on MOM init, checkpoint, no migrate",
    -6: "job aborted on MOM init, checkpoint, ok migrate",
    -7: "job restart failed",
    -24: "killed: ncpus burst limit exceeded",
    -25: "killed: ncpus sum limit exceeded",
    -26: "killed: vmem limit exceeded",
    -27: "killed: mem limit exceeded",
    -28: "killed: cput limit exceeded",
    -29: "killed: walltime limit exceeded",
}


def parse_qsub_output(output: str) -> str:
    """The job id ``qsub`` printed (``123.server``)."""
    for line in output.splitlines():
        if _JOB_ID.match(line.strip()):
            return line.strip()
    raise LauncherError(f"qsub printed no job id: {output.strip()!r}")


def parse_version(output: str) -> tuple[int, int] | None:
    """``pbs_version = 19.1.3`` -> (19, 1); None when the text names no PBS version."""
    match = _VERSION.search(output)
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


def unknown_jobs(stderr: str) -> set[str]:
    """Job ids qstat/qdel answered ``Unknown Job Id`` for (the server does not know them)."""
    return set(_UNKNOWN.findall(stderr))


def job_state(fields: Mapping[str, object]) -> JobState:
    """One job's ``job_state``, ``substate`` and ``Exit_status`` as a JobState.

    ``F`` with ``Exit_status`` 0 is Completed; a positive status is Failed with that code;
    256 + n means PBS killed the job with signal n (returncode ``-n``; Cancelled when it was
    deleted, substate 91); a negative status is PBS failing to run the job (Failed, with
    its meaning as the reason); ``F`` with no status is a job deleted before it ran.
    """
    raw = str(fields.get("job_state", "")).strip()
    status = to_status(raw)
    if raw not in ("F", "X"):
        return JobState(status, raw, None, str(fields.get("comment", "") or ""))
    substate = str(fields.get("substate", ""))
    exit_raw = fields.get("Exit_status")
    if exit_raw is None or str(exit_raw).strip() == "":
        return JobState(SmartSimStatus.STATUS_CANCELLED, raw, None, "deleted before it ran")
    try:
        code = int(str(exit_raw).strip())
    except ValueError:
        return JobState(SmartSimStatus.STATUS_FAILED, raw, None, f"Exit_status {exit_raw!r}")
    if code == 0:
        return JobState(SmartSimStatus.STATUS_COMPLETED, raw, 0)
    if code >= 256:
        signal_number = code - 256
        if substate == "91":
            return JobState(SmartSimStatus.STATUS_CANCELLED, raw, -signal_number, "deleted")
        return JobState(
            SmartSimStatus.STATUS_FAILED, raw, -signal_number, f"killed by signal {signal_number}"
        )
    if code < 0:
        why = JOB_EXEC_CODES.get(code, "PBS could not run the job")
        return JobState(SmartSimStatus.STATUS_FAILED, raw, None, f"Exit_status {code}: {why}")
    return JobState(SmartSimStatus.STATUS_FAILED, raw, code)


def parse_qstat_json(output: str) -> dict[str, JobState]:
    """``qstat -f -F json -x`` to states by job id (no ``Jobs`` key: none of them known)."""
    try:
        data = json.loads(output)
    except ValueError as exc:
        raise LauncherError(
            f"qstat -F json printed something that is not JSON: {output[:200]!r}"
        ) from exc
    if not isinstance(data, dict):
        raise LauncherError(f"qstat -F json printed no object: {output[:200]!r}")
    jobs = data.get("Jobs", {})
    if not isinstance(jobs, dict):
        raise LauncherError(f"qstat -F json: 'Jobs' is not an object: {output[:200]!r}")
    return {
        job_id: job_state(fields) for job_id, fields in jobs.items() if isinstance(fields, dict)
    }


def parse_qstat_full(output: str) -> dict[str, JobState]:
    """``qstat -f -x`` text (``Job Id:`` blocks of ``name = value`` lines) to states."""
    jobs: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    key = ""
    for line in output.splitlines():
        if line.startswith("Job Id:"):
            current = jobs.setdefault(line.split(":", 1)[1].strip(), {})
        elif current is not None and line.startswith("\t") and key:
            current[key] += line.strip()  # a continuation of a long value
        elif current is not None and " = " in line:
            key, _, value = line.strip().partition(" = ")
            current[key] = value
    if output.strip() and not jobs:
        raise LauncherError(f"qstat -f printed no 'Job Id:' block: {output[:200]!r}")
    return {job_id: job_state(fields) for job_id, fields in jobs.items()}
