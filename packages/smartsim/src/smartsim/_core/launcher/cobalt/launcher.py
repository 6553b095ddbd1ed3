"""The Cobalt launcher.

* Batch models, ensembles and Orchestrators become one executable script each
  (``templates/qsub.sh``: ``#COBALT --jobname/-o/-e/--cwd/--debuglog`` then the settings'
  ``--nodecount``, ``--time``, ``--queue``, ``--project``...), submitted in script mode.
* Steps from the driver inside an allocation (``COBALT_JOBID`` set): ``aprun``, ``mpirun`` or
  a plain command, each a process of the driver.
* Status: one ``qstat -u <user> --header JobID:State`` per poll for every job. Cobalt drops
  an ended job from qstat; its exit code is then read from the job's cobaltlog
  (``<name>.cobaltlog``, Cobalt's ``--debuglog``). A job gone from qstat whose cobaltlog has
  no exit code for 3 polls in a row is reported Failed (see ``missing.py``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import ClassVar

from smartsim._core.launcher.batch import BatchLauncher, JobState
from smartsim._core.launcher.cobalt import commands, parser
from smartsim._core.launcher.cobalt.states import to_status
from smartsim._core.launcher.missing import MissingJobs
from smartsim._core.launcher.step import BatchStep, Step, StepContext
from smartsim.error import LauncherError, ShellError
from smartsim.settings.base import BatchSettings
from smartsim.status import SmartSimStatus

logger = logging.getLogger(__name__)

#: qdel's answer for a job that already left the queue (not an error when cancelling)
_GONE = ("not found",)


def _cobaltlog(step: BatchStep) -> str:
    return os.path.join(step.context.cwd, f"{step.entity_name}.cobaltlog")


class CobaltLauncher(BatchLauncher):
    """Launches Cobalt script-mode jobs and aprun/mpirun steps inside Cobalt allocations."""

    name: ClassVar[str] = "cobalt"
    submit_program: ClassVar[str] = "qsub"
    required_commands: ClassVar[tuple[str, ...]] = ("qsub", "qstat", "qdel")
    directive_prefix: ClassVar[str] = "#COBALT"
    template: ClassVar[Path] = Path(__file__).parent / "templates" / "qsub.sh"
    job_name_limit: ClassVar[int] = 64
    cancel_accept: ClassVar[tuple[str, ...]] = _GONE
    allocation_commands: ClassVar[tuple[str, ...]] = ("aprun",)
    allocation_env: ClassVar[str] = "COBALT_JOBID"
    allocation_what: ClassVar[str] = "a Cobalt allocation"
    allocation_hint: ClassVar[str] = (
        "Run the driver in a job (qsub -I, or a batch script), or give the entity batch_settings"
    )

    def __init__(self) -> None:
        super().__init__()
        self._missing = MissingJobs()
        self._logs: dict[str, str] = {}  # step name -> cobaltlog path

    @classmethod
    def detect(cls) -> bool:
        """qsub, qstat and qdel are present and ``qsub --version`` says cobalt."""
        from smartsim._core.launcher._qsub_detect import qsub_flavour

        return super().detect() and qsub_flavour() == "cobalt"

    # ---- steps ---------------------------------------------------------------------------
    # ---- batch hooks ---------------------------------------------------------------------
    def create_batch_step(
        self,
        name: str,
        batch_settings: BatchSettings,
        members: list[Step],
        context: StepContext,
    ) -> BatchStep:
        """The script of the base, made executable (Cobalt's script mode requires it)."""
        step = super().create_batch_step(name, batch_settings, members, context)
        os.chmod(step.script, 0o755)
        self._logs[step.name] = _cobaltlog(step)
        return step

    def job_directives(self, name: str, step: BatchStep) -> list[str]:
        """Job name, output files, working directory and the cobaltlog of the batch job."""
        ctx = step.context
        return [
            f"--jobname {name}",
            f"-o {ctx.output_file}",
            f"-e {ctx.error_file}",
            f"--cwd {ctx.cwd}",
            f"--debuglog {_cobaltlog(step)}",
        ]

    def submit_command(self, step: BatchStep) -> list[str]:
        """``qsub <script>``."""
        return commands.qsub(step.script, self.batch_command(step))

    def job_id_from_submit_output(self, output: str) -> str:
        """The job id on qsub's last line."""
        return parser.parse_qsub(output)

    def cancel_command(self, job_ids: list[str]) -> list[str]:
        """``qdel`` every job in one call."""
        return commands.qdel(job_ids)

    def _listed(self) -> dict[str, str]:
        """``{job id: state}`` of every job qstat lists (ShellError if it answers garbage)."""
        argv = commands.qstat_user()
        out = self.runner.run(argv, "asking qstat for job states")
        try:
            return parser.parse_qstat(out.stdout)
        except LauncherError as exc:
            raise ShellError(f"asking qstat for job states: {exc}", command_list=argv) from exc

    def _ended(self, job_id: str) -> JobState | None:
        """The job's end from its cobaltlog (None while it has no exit code)."""
        with self._batch_lock:
            path = self._logs.get(self._by_job.get(job_id, ""), "")
        try:
            with open(path) as fh:
                rc = parser.parse_cobaltlog_exit(fh.read())
        except OSError:
            return None
        if rc is None:
            return None
        status = SmartSimStatus.STATUS_COMPLETED if rc == 0 else SmartSimStatus.STATUS_FAILED
        return JobState(status, "done", rc, "")

    def query_jobs(self, job_ids: list[str]) -> dict[str, JobState]:
        """One qstat call for every job; ended jobs from their cobaltlog."""
        listed = self._listed()
        states: dict[str, JobState] = {}
        for job_id in job_ids:
            if job_id in listed:
                self._missing.seen(job_id)
                raw = listed[job_id]
                states[job_id] = JobState(to_status(raw), raw)
                continue
            ended = self._ended(job_id)
            if ended is not None:
                states[job_id] = ended
                continue
            if self._missing.missed(job_id):
                reason = (
                    f"qstat no longer lists job {job_id} ({self._missing.limit} polls in a row) "
                    "and its cobaltlog has no exit code: Cobalt lost it or it ended without "
                    "writing one; its output files may say how it ended"
                )
                self._on_give_up([job_id], LauncherError(reason))
        return states

    def queued_jobs(self, job_ids: list[str]) -> set[str]:
        """Which of ``job_ids`` qstat still lists."""
        return set(job_ids) & set(self._listed())
