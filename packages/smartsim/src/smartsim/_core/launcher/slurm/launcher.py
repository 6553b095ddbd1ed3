"""The Slurm launcher.

* Steps run from the driver inside an allocation (``SLURM_JOB_ID`` in the environment or
  ``SrunSettings(alloc=...)``): ``srun`` (MPMD with ``make_mpmd``), ``mpirun``, or a plain
  command. Each is a process of the driver, watched like a local one: its exit code is the
  step's; ``srun`` gets a unique ``--job-name`` so that stopping it can ``scancel`` the
  Slurm step before the process is ended.
* Batch models, ensembles and Orchestrators become one generated sbatch script each
  (``templates/sbatch.sh``), whose members are started in the background and waited for.
* Status of batch jobs: one ``sacct`` call per poll where accounting works, otherwise one
  ``squeue -t all`` call (plus ``sacct -c``, the job completion records, for a job that
  left slurmctld's memory). ``SMARTSIM_SLURM_STATUS=sacct|squeue`` forces one.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from smartsim._core.launcher.batch import BatchLauncher, JobState
from smartsim._core.launcher.local.steps import create_local_step
from smartsim._core.launcher.slurm import commands, parser
from smartsim._core.launcher.step import BatchStep, Step, StepContext, job_name
from smartsim.error import LauncherError, ShellError
from smartsim.settings.base import RunSettings
from smartsim.status import SmartSimStatus

logger = logging.getLogger(__name__)

STATUS_ENV = "SMARTSIM_SLURM_STATUS"
_GONE = ("already completing or completed", "Invalid job id specified")


def _is_srun(settings: RunSettings) -> bool:
    return os.path.basename(settings.run_command or "") == "srun"


class SlurmLauncher(BatchLauncher):
    """Launches steps with srun inside allocations and batch jobs with sbatch."""

    name: ClassVar[str] = "slurm"
    submit_program: ClassVar[str] = "sbatch"
    required_commands: ClassVar[tuple[str, ...]] = (
        "sacct",
        "srun",
        "salloc",
        "sbatch",
        "scancel",
        "sstat",
        "sinfo",
    )
    directive_prefix: ClassVar[str] = "#SBATCH"
    template: ClassVar[Path] = Path(__file__).parent / "templates" / "sbatch.sh"
    job_name_limit: ClassVar[int] = 64
    cancel_accept: ClassVar[tuple[str, ...]] = _GONE
    #: seconds a step's tasks get after SIGTERM before the step is cancelled (SIGKILL)
    step_term_grace: ClassVar[float] = 5.0
    #: seconds a cancelled srun step gets to end before its process is terminated
    step_grace: ClassVar[float] = 15.0

    def __init__(self) -> None:
        super().__init__()
        self._srun_steps: set[str] = set()
        self._mode = ""
        self._seen: set[str] = set()

    # ---- steps ---------------------------------------------------------------------------
    def create_step(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
    ) -> Step:
        """A step run from the driver (srun needs an allocation), or a batch job's member."""
        if context.in_batch:
            return self._batch_member(name, run_settings, context, wrap_command)
        srun = _is_srun(run_settings)
        alloc = getattr(run_settings, "alloc", None) if srun else None
        if srun:
            self._check_allocation(name, run_settings, alloc)
        step = create_local_step(name, run_settings, context, wrap_command)
        if srun:
            step.name = job_name(name, self.job_name_limit)
            extra = [f"--job-name={step.name}"]
            if alloc:
                extra.insert(0, f"--jobid={alloc}")
            step.command[1:1] = extra
        return step

    def _check_allocation(self, name: str, settings: RunSettings, alloc: str | None) -> None:
        env_alloc = os.environ.get("SLURM_JOB_ID")
        if not alloc and not env_alloc:
            raise LauncherError(
                f"srun needs an allocation to run {name}: the driver is not inside one "
                "(no SLURM_JOB_ID) and the settings name none. Get one with "
                "smartsim.wlm.slurm.get_allocation() and pass SrunSettings(alloc=...), run "
                "the driver under salloc/sbatch, or give the entity batch_settings"
            )
        groups = settings.run_args.get("het-group")
        if groups is not None and not alloc:
            size = os.environ.get("SLURM_HET_SIZE")
            if size is None:
                raise LauncherError(
                    f"{name} sets het-group, but allocation {env_alloc} is not heterogeneous "
                    "(no SLURM_HET_SIZE); allocate one with salloc ... : ... or drop het-group"
                )
            for group in str(groups).split(","):
                if not group.isdigit() or int(group) >= int(size):
                    raise LauncherError(
                        f"{name}: het-group {group} does not exist; allocation {env_alloc} "
                        f"has groups 0 to {int(size) - 1}"
                    )

    def _batch_member(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None,
    ) -> Step:
        if _is_srun(run_settings) and getattr(run_settings, "alloc", None):
            logger.warning(
                "%s runs in a batch job: its alloc=%s is ignored", name, run_settings.alloc
            )
        return self.member_step(name, run_settings, context, wrap_command)

    def run_process(self, step: Step) -> str:
        """Start a step from the driver; srun steps are remembered for scancel on stop."""
        step_id = super().run_process(step)
        if step.command and os.path.basename(step.command[0]) == "srun":
            self._srun_steps.add(step_id)
            jobid = next((a.split("=", 1)[1] for a in step.command if a.startswith("--jobid=")), "")
            step.launched_id = jobid or os.environ.get("SLURM_JOB_ID", step.launched_id)
        return step_id

    def stop_processes(self, step_ids: list[str]) -> None:
        """scancel srun steps first (one lookup, one scancel), then end the processes."""
        with self._lock:
            sruns = [
                s
                for s in step_ids
                if s in self._srun_steps and s in self._procs and s not in self._reported
            ]
            self._stopped.update(sruns)
        if sruns:
            self._scancel_steps(sruns)
        super().stop_processes(step_ids)

    def _scancel_steps(self, names: list[str]) -> None:
        try:
            listed = parser.parse_step_names(
                self.runner.run(commands.squeue_steps(), "listing running Slurm steps").stdout
            )
            found = [n for n in names if n in listed]
            ids = [listed[n] for n in found]
            if ids:
                # SIGTERM first, so that the tasks can clean up (a plain scancel of a step
                # sends SIGKILL); what is still there after the grace is cancelled for good
                self.runner.run(
                    commands.scancel(ids, signal="TERM"),
                    f"sending SIGTERM to steps {', '.join(ids)}",
                    accept=_GONE,
                )
                if not self._wait_reported(found, self.step_term_grace):
                    self.runner.run(
                        commands.scancel(ids), f"cancelling steps {', '.join(ids)}", accept=_GONE
                    )
        except ShellError as exc:
            logger.error("could not scancel the steps (their sruns are stopped instead): %s", exc)
            return
        # a step not listed yet (srun still waiting for resources) just has its srun stopped
        self._wait_reported(found, self.step_grace)

    def _wait_reported(self, names: list[str], timeout: float) -> bool:
        """Wait up to ``timeout`` s for the sruns of ``names`` to end; whether they all did."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if all(n in self._reported for n in names):
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    # ---- batch hooks ---------------------------------------------------------------------
    def job_directives(self, name: str, step: BatchStep) -> list[str]:
        """Job name, output files and working directory of the batch job."""
        ctx = step.context
        return [
            f"--job-name={name}",
            f"--output={ctx.output_file}",
            f"--error={ctx.error_file}",
            f"--chdir={ctx.cwd}",
        ]

    def submit_command(self, step: BatchStep) -> list[str]:
        """``sbatch --parsable <script>``."""
        return commands.sbatch(step.script, self.batch_command(step))

    def job_id_from_submit_output(self, output: str) -> str:
        """The id ``sbatch --parsable`` printed."""
        return parser.parse_sbatch_output(output)

    def cancel_command(self, job_ids: list[str]) -> list[str]:
        """``scancel`` every job in one call."""
        return commands.scancel(job_ids)

    def status_mode(self) -> str:
        """``sacct`` when accounting storage is configured, else ``squeue``."""
        if self._mode:
            return self._mode
        forced = os.environ.get(STATUS_ENV, "auto").strip().lower()
        if forced in ("sacct", "squeue"):
            self._mode = forced
            return forced
        config = parser.parse_scontrol_config(
            self.runner.run(commands.scontrol_config(), "reading Slurm's configuration").stdout
        )
        storage = config.get("AccountingStorageType", "accounting_storage/none")
        self._mode = "squeue" if storage.endswith("/none") else "sacct"
        logger.debug("Slurm status from %s (AccountingStorageType=%s)", self._mode, storage)
        return self._mode

    def query_jobs(self, job_ids: list[str]) -> dict[str, JobState]:
        """One sacct call (accounting) or one squeue call for every job."""
        if self.status_mode() == "sacct":
            out = self.runner.run(commands.sacct_jobs(job_ids), "asking sacct for job states")
            return parser.parse_sacct(out.stdout)
        out = self.runner.run(commands.squeue_all_states(), "asking squeue for job states")
        states = parser.parse_squeue(out.stdout)
        self._seen.update(j for j in job_ids if j in states)
        left = [j for j in job_ids if j not in states and j in self._seen]
        if left:
            states.update(self._left_queue(left))
        return {j: states[j] for j in job_ids if j in states}

    def _left_queue(self, job_ids: list[str]) -> dict[str, JobState]:
        """Jobs slurmctld forgot (older than MinJobAge): their job completion records
        (``sacct -c``, tried once: a site without them answers with an error)."""
        found: dict[str, JobState] = {}
        try:
            out = self.runner.run(
                commands.sacct_jobs(job_ids, completion=True),
                "reading Slurm's job completion records",
                policy=self.runner.policy.once(),
            )
            found = parser.parse_sacct(out.stdout)
        except ShellError as exc:
            logger.debug("no job completion records: %s", exc)
        for job_id in job_ids:
            if job_id not in found:
                found[job_id] = JobState(
                    SmartSimStatus.STATUS_COMPLETED,
                    "UNKNOWN",
                    None,
                    "left the queue; no accounting or completion record says how it ended",
                )
        return found

    def queued_jobs(self, job_ids: list[str]) -> set[str]:
        """Which of ``job_ids`` squeue still lists (pending, running, completing)."""
        out = self.runner.run(commands.squeue_queued(), "asking squeue which jobs remain")
        return parser.parse_squeue_ids(out.stdout) & set(job_ids)
