"""The PBS Professional launcher (and ``launcher="pals"``: PBS with PALS ``mpiexec``).

* Batch models, ensembles and Orchestrators become one generated qsub script each
  (``templates/qsub.sh``): ``#PBS -N/-o/-e/-V`` from the launcher, then the
  ``QsubBatchSettings`` directives (``-l select=N:ncpus=M``, ``-l place=scatter``,
  ``-l walltime``, ``-q``, ``-A``); the script ``cd``s to the entity's directory (PBS starts
  jobs in ``$HOME``), starts every member in the background and waits for them.
* Status of every job in ONE ``qstat -f -F json -x <ids>`` call per poll (``-x`` keeps
  finished jobs, so the exit code is read from ``Exit_status``; servers older than PBS Pro
  14 are read from the text of ``qstat -f -x``). A job the server answers
  ``Unknown Job Id`` for is reported Failed with that reason.
* Job names: unique, within the server's limit (15 characters before PBS Pro 13, read once
  from ``qsub --version``; 236 after).
* Steps from the driver inside an allocation (``PBS_JOBID`` set): ``aprun`` (Cray ALPS),
  PALS ``mpiexec`` (``launcher="pals"``), ``mpirun``, or a plain command.
"""

from __future__ import annotations

import itertools
import logging
import os
import shlex
import time
from pathlib import Path
from typing import ClassVar

from smartsim._core.launcher.batch import BatchLauncher, JobState
from smartsim._core.launcher.pbs import commands, parser
from smartsim._core.launcher.shell import RetryPolicy
from smartsim._core.launcher.step import BatchStep, base36, job_name
from smartsim.error import ShellError
from smartsim.status import SmartSimStatus

logger = logging.getLogger(__name__)

#: qstat/qdel exit codes that still carry answers: 153 Unknown Job Id, 35 Job has finished
_PARTIAL = (0, 35, 153)
_COUNTER = itertools.count()


def short_job_name(entity_name: str, limit: int) -> str:
    """A job name of at most ``limit`` (>= 11) characters that starts with a letter and
    stays unique: ``<entity cut>-<ms clock><pid><counter>`` in base 36 (the clock part
    wraps after 28 minutes; pid and a per-process counter keep one driver's names apart)."""
    if limit >= 40:
        name = job_name(entity_name, limit)
    else:
        unique = (
            base36(time.time_ns() // 1_000_000 % 36**4).rjust(4, "0")
            + base36(os.getpid() % 36**3).rjust(3, "0")
            + base36(next(_COUNTER) % 36**2).rjust(2, "0")
        )
        if limit < len(unique) + 2:
            raise ValueError(f"a job name limit of {limit} leaves no room for the unique part")
        entity = "".join(c if c.isalnum() or c in "_.-" else "_" for c in entity_name)
        name = f"{entity[: limit - len(unique) - 1] or 'j'}-{unique}"
    return name if name[0].isalpha() else "j" + name[: limit - 1]


class PBSLauncher(BatchLauncher):
    """Launches batch jobs with qsub and steps inside a PBS job from the driver."""

    name: ClassVar[str] = "pbs"
    submit_program: ClassVar[str] = "qsub"
    required_commands: ClassVar[tuple[str, ...]] = ("qsub", "qstat", "qdel")
    directive_prefix: ClassVar[str] = "#PBS"
    template: ClassVar[Path] = Path(__file__).parent / "templates" / "qsub.sh"
    job_name_limit: ClassVar[int] = 236
    cancel_accept: ClassVar[tuple[str, ...]] = ("Job has finished", "Unknown Job Id")
    allocation_commands: ClassVar[tuple[str, ...]] = ("aprun",)
    allocation_env: ClassVar[str] = "PBS_JOBID"
    allocation_what: ClassVar[str] = "a PBS job"
    allocation_hint: ClassVar[str] = (
        "Run the driver in a job (qsub -I, or a batch script), or give the entity "
        "batch_settings so it is submitted with qsub"
    )

    def __init__(self) -> None:
        super().__init__()
        self._version: tuple[int, int] | None = None
        self._version_read = False

    @classmethod
    def detect(cls) -> bool:
        """qsub, qstat and qdel are present and ``qsub --version`` says pbs."""
        from smartsim._core.launcher._qsub_detect import qsub_flavour

        return super().detect() and qsub_flavour() == "pbs"

    # ---- the server ----------------------------------------------------------------------
    def server_version(self) -> tuple[int, int] | None:
        """The server's (major, minor) from ``qsub --version`` (asked once; None if unknown)."""
        if not self._version_read:
            self._version_read = True
            try:
                out = self.runner.run(
                    commands.qsub_version(),
                    "asking qsub for the PBS version",
                    policy=RetryPolicy(timeout=self.runner.policy.timeout, tries=1),
                    ok_codes=range(-64, 256),
                )
                self._version = parser.parse_version(out.output)
            except ShellError as exc:
                logger.debug("no PBS version: %s", exc)
            if self._version is None:
                logger.warning(
                    "qsub --version named no PBS version; keeping job names to 15 characters"
                )
        return self._version

    def name_limit(self) -> int:
        """236 characters from PBS Pro 13 on, 15 before (and when the version is unknown)."""
        version = self.server_version()
        return self.job_name_limit if version and version[0] >= 13 else 15

    def make_job_name(self, entity_name: str) -> str:
        """A unique name within the server's limit."""
        return short_job_name(entity_name, self.name_limit())

    # ---- steps ---------------------------------------------------------------------------
    # ---- batch hooks ---------------------------------------------------------------------
    def job_directives(self, name: str, step: BatchStep) -> list[str]:
        """Job name, output files, and the driver's environment (``-V``)."""
        ctx = step.context
        return [f"-N {name}", f"-o {ctx.output_file}", f"-e {ctx.error_file}", "-V"]

    def batch_values(self, step: BatchStep) -> dict[str, str | list[str]]:
        """The directory the script changes to (PBS starts jobs in ``$HOME``)."""
        return {"workdir": shlex.quote(step.context.cwd)}

    def submit_command(self, step: BatchStep) -> list[str]:
        """``qsub <script>``."""
        return commands.qsub(step.script, self.batch_command(step))

    def job_id_from_submit_output(self, output: str) -> str:
        """The ``<seq>.<server>`` qsub printed."""
        return parser.parse_qsub_output(output)

    def cancel_command(self, job_ids: list[str]) -> list[str]:
        """``qdel`` every job in one call."""
        return commands.qdel(job_ids)

    def _qstat(self, job_ids: list[str], what: str) -> dict[str, JobState]:
        version = self.server_version()
        json_format = version is None or version[0] >= 14
        parse = parser.parse_qstat_json if json_format else parser.parse_qstat_full
        states, out = self.runner.run_parsed(
            commands.qstat_jobs(job_ids, json_format), what, parse, ok_codes=_PARTIAL
        )
        for job_id in parser.unknown_jobs(out.stderr) & set(job_ids):
            states[job_id] = JobState(
                SmartSimStatus.STATUS_FAILED,
                "unknown",
                None,
                "the PBS server no longer knows the job (qstat: Unknown Job Id): it was lost "
                "from the queue, or its history expired (job_history_duration)",
            )
        missing = [j for j in job_ids if j not in states]
        if missing and out.returncode == 0:
            logger.debug("qstat did not list %s", ", ".join(missing))
        return {j: states[j] for j in job_ids if j in states}

    def query_jobs(self, job_ids: list[str]) -> dict[str, JobState]:
        """One ``qstat -f -F json -x`` call for every job."""
        return self._qstat(job_ids, "asking qstat for job states")

    def queued_jobs(self, job_ids: list[str]) -> set[str]:
        """Those of ``job_ids`` not finished yet (queued, held, running or exiting)."""
        states = self._qstat(job_ids, "asking qstat which jobs remain")
        return {j for j, s in states.items() if s.raw not in ("F", "X", "unknown")}


class PalsLauncher(PBSLauncher):
    """``launcher="pals"`` (SmartSim 0.8): PBS batch jobs, steps with PALS ``mpiexec``."""

    name: ClassVar[str] = "pals"
    allocation_commands: ClassVar[tuple[str, ...]] = ("mpiexec", "aprun")

    @classmethod
    def detect(cls) -> bool:
        """Never auto-detected (``detect_launcher`` answers ``pbs`` on a PALS site)."""
        return False
