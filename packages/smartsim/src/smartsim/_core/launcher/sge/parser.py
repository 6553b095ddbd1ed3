"""Pure functions over Grid Engine's output (``qsub -terse``, ``qstat -xml``, ``qacct``).

Each parser is tested on captured output (``tests/test_sge_launcher.py``) with no Grid
Engine.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from smartsim._core.launcher.batch import JobState
from smartsim._core.launcher.sge.states import to_status
from smartsim.error import LauncherError
from smartsim.status import SmartSimStatus

_SUBMITTED = re.compile(r"^(?:Your job(?:-array)? )?(\d+)")


def parse_qsub_output(output: str) -> str:
    """The job id of ``qsub -terse`` (``12``) or plain qsub (``Your job 12 ("x") ...``)."""
    for line in output.splitlines():
        match = _SUBMITTED.match(line.strip())
        if match:
            return match.group(1)
    raise LauncherError(f"qsub printed no job id: {output.strip()!r}")


def parse_qstat_xml(output: str) -> dict[str, JobState]:
    """``qstat -xml``: every listed (pending or running) job's state by job id."""
    try:
        root = ET.fromstring(output)
    except ET.ParseError as exc:
        raise LauncherError(
            f"qstat -xml printed something that is not XML: {output[:200]!r}"
        ) from exc
    if root.tag != "job_info":
        raise LauncherError(f"qstat -xml printed no <job_info>: {output[:200]!r}")
    states: dict[str, JobState] = {}
    for job in root.iter("job_list"):
        job_id = (job.findtext("JB_job_number") or "").strip()
        raw = (job.findtext("state") or "").strip()
        if job_id:
            reason = (
                "the job is in Grid Engine's error state (qstat -j shows why)" if "E" in raw else ""
            )
            states[job_id] = JobState(to_status(raw), raw, None, reason)
    return states


def parse_qacct(output: str) -> dict[str, JobState]:
    """``qacct -j`` records (blocks of ``key value`` lines) to final states by job id.

    ``failed 0``: the job ran; ``exit_status`` is its code (0 Completed, else Failed).
    ``failed 100 : assumedly after job``: killed (qdel or a limit): Cancelled, with
    ``-(exit_status - 128)`` as the code. Any other ``failed`` is Grid Engine failing to run
    the job (Failed, with its text as the reason). The last record of a job id wins.
    """
    states: dict[str, JobState] = {}
    for block in re.split(r"^=+\s*$", output, flags=re.M):
        fields: dict[str, str] = {}
        for line in block.strip().splitlines():
            key, _, value = line.strip().partition(" ")
            if key:
                fields[key] = value.strip()
        job_id = fields.get("jobnumber", "")
        if not job_id.isdigit():
            continue
        failed = fields.get("failed", "0")
        try:
            code = int(fields.get("exit_status", ""))
        except ValueError:
            code = None
        if failed.split(":")[0].strip() in ("0", ""):
            status = SmartSimStatus.STATUS_COMPLETED if code == 0 else SmartSimStatus.STATUS_FAILED
            states[job_id] = JobState(status, "qacct", code)
        elif failed.startswith("100"):
            rc = -(code - 128) if code is not None and code > 128 else code
            states[job_id] = JobState(
                SmartSimStatus.STATUS_CANCELLED, "qacct", rc, f"failed {failed}"
            )
        else:
            states[job_id] = JobState(
                SmartSimStatus.STATUS_FAILED, "qacct", code, f"failed {failed}"
            )
    return states
