"""The (Son of) Grid Engine launcher (``launcher="sge"``, as in SmartSim 0.8).

* Batch models, ensembles and Orchestrators become one generated qsub script each
  (``templates/qsub.sh``, directives ``#$``): ``-N/-o/-e/-V/-S /bin/bash`` from the launcher,
  then the ``SgeQsubBatchSettings`` ones (``-pe <pe> <slots>``, ``-l h_rt=...``, ``-q``,
  ``-A``, ``-P``).
* Status: ONE ``qstat -xml -u <user>`` call per poll lists every pending and running job;
  jobs that left it are finished, and their exit codes come from ONE
  ``qacct -o <user> -b <start> -j`` call for all of them (only in polls where some left).
  A job found in neither after ``SMARTSIM_SGE_ACCOUNTING_WAIT`` seconds (default 60: the
  accounting file is written a little after the job ends) is reported Failed.
* Steps inside a job run from the driver (``mpirun`` or a plain command).
"""

from __future__ import annotations

import logging
import os
import shlex
import time
from pathlib import Path
from typing import ClassVar

from smartsim._core.launcher.batch import BatchLauncher, JobState
from smartsim._core.launcher.sge import commands, parser
from smartsim._core.launcher.step import BatchStep
from smartsim.status import SmartSimStatus

logger = logging.getLogger(__name__)

ACCOUNTING_WAIT_ENV = "SMARTSIM_SGE_ACCOUNTING_WAIT"


def accounting_wait() -> float:
    """Seconds a job may be in neither qstat nor qacct before it is reported lost."""
    try:
        return max(0.0, float(os.environ.get(ACCOUNTING_WAIT_ENV, "60")))
    except ValueError:
        return 60.0


class SGELauncher(BatchLauncher):
    """Launches batch jobs with Grid Engine's qsub; steps inside a job from the driver."""

    name: ClassVar[str] = "sge"
    submit_program: ClassVar[str] = "qsub"
    required_commands: ClassVar[tuple[str, ...]] = ("qsub", "qstat", "qdel", "qacct")
    directive_prefix: ClassVar[str] = "#$"
    template: ClassVar[Path] = Path(__file__).parent / "templates" / "qsub.sh"
    job_name_limit: ClassVar[int] = 64
    cancel_accept: ClassVar[tuple[str, ...]] = ("does not exist",)

    def __init__(self) -> None:
        super().__init__()
        self._since = time.time() - 120  # qacct -b has minute resolution: start well before
        self._missing: dict[str, float] = {}  # job id -> when it was first in neither answer

    @classmethod
    def detect(cls) -> bool:
        """qsub, qstat, qdel and qacct are present and ``qsub -help`` names Grid Engine."""
        from smartsim._core.launcher._qsub_detect import qsub_flavour

        return super().detect() and qsub_flavour() == "sge"

    # ---- batch hooks ---------------------------------------------------------------------
    def job_directives(self, name: str, step: BatchStep) -> list[str]:
        """Job name, output files, bash (sites default to csh), the driver's environment."""
        ctx = step.context
        return [f"-N {name}", f"-o {ctx.output_file}", f"-e {ctx.error_file}", "-S /bin/bash", "-V"]

    def batch_values(self, step: BatchStep) -> dict[str, str | list[str]]:
        """The directory the script changes to (Grid Engine starts jobs in ``$HOME``)."""
        return {"workdir": shlex.quote(step.context.cwd)}

    def submit_command(self, step: BatchStep) -> list[str]:
        """``qsub -terse <script>``."""
        return commands.qsub(step.script, self.batch_command(step))

    def job_id_from_submit_output(self, output: str) -> str:
        """The job number qsub printed."""
        return parser.parse_qsub_output(output)

    def cancel_command(self, job_ids: list[str]) -> list[str]:
        """``qdel`` every job in one call."""
        return commands.qdel(job_ids)

    def _listed(self, what: str) -> dict[str, JobState]:
        states, _ = self.runner.run_parsed(commands.qstat_all(), what, parser.parse_qstat_xml)
        return states

    def query_jobs(self, job_ids: list[str]) -> dict[str, JobState]:
        """One ``qstat -xml``; one ``qacct`` for the jobs that left it (if any did)."""
        states = self._listed("asking qstat for job states")
        gone = [j for j in job_ids if j not in states]
        if not gone:
            return {j: states[j] for j in job_ids}
        out = self.runner.run(
            commands.qacct_since(self._since),
            "reading Grid Engine's accounting (qacct) for finished jobs",
            ok_codes=(0, 1),  # 1: no record matches yet
        )
        records = parser.parse_qacct(out.stdout)
        now = time.monotonic()
        for job_id in gone:
            if job_id in records:
                states[job_id] = records[job_id]
                self._missing.pop(job_id, None)
                continue
            first = self._missing.setdefault(job_id, now)
            if now - first >= accounting_wait():
                self._missing.pop(job_id, None)
                states[job_id] = JobState(
                    SmartSimStatus.STATUS_FAILED,
                    "unknown",
                    None,
                    f"the job left Grid Engine's queue and qacct has no record of it after "
                    f"{accounting_wait():g} s (deleted before it ran, or lost by the qmaster; "
                    f"{ACCOUNTING_WAIT_ENV} sets the wait)",
                )
        return {j: states[j] for j in job_ids if j in states}

    def queued_jobs(self, job_ids: list[str]) -> set[str]:
        """Those of ``job_ids`` qstat still lists (pending, running or being deleted)."""
        return set(self._listed("asking qstat which jobs remain")) & set(job_ids)
