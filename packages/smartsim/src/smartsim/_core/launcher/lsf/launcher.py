"""The LSF launcher.

* Batch models, ensembles and Orchestrators become one generated bsub script each
  (``templates/bsub.sh``: ``#BSUB -J/-o/-e/-cwd`` then the settings' ``-nnodes``, ``-W``,
  ``-P``, ``-q``, ``-alloc_flags``...), whose members start in the background and are waited for.
* Steps from the driver inside an allocation (``LSB_JOBID`` set, e.g. an interactive
  ``bsub -Is`` or a batch script running the driver): ``jsrun`` (MPMD through an ERF file
  written next to the step), ``mpirun`` or a plain command, each a process of the driver.
  A jsrun step's id is read from ``jslist`` once it starts, so ``stop`` can ``jskill`` it.
* Status: one ``bjobs -a -o "jobid stat exit_code" -json <ids>`` per poll for every job.
  A job bjobs no longer knows for 3 polls in a row is reported Failed (see ``missing.py``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from smartsim._core.launcher.batch import BatchLauncher, JobState
from smartsim._core.launcher.local.steps import create_local_step, resolve_program
from smartsim._core.launcher.lsf import commands, parser
from smartsim._core.launcher.missing import MissingJobs
from smartsim._core.launcher.step import BatchStep, Step, StepContext, step_name
from smartsim.error import LauncherError, ShellError
from smartsim.settings.base import RunSettings
from smartsim.settings.lsf import JsrunSettings

logger = logging.getLogger(__name__)

#: bkill's answer for a job that already ended or that LSF forgot (not an error when cancelling)
_GONE = ("Job has already finished", "No matching job found")
#: bjobs' answer for an id it does not know (the other ids are still printed)
_NOT_FOUND = ("is not found",)


def _is_jsrun(command: list[str]) -> bool:
    return bool(command) and os.path.basename(command[0]) == "jsrun"


class LSFLauncher(BatchLauncher):
    """Launches bsub batch jobs and jsrun/mpirun steps inside LSF allocations."""

    name: ClassVar[str] = "lsf"
    submit_program: ClassVar[str] = "bsub"
    required_commands: ClassVar[tuple[str, ...]] = ("bsub", "jsrun", "jslist", "bjobs", "bkill")
    directive_prefix: ClassVar[str] = "#BSUB"
    template: ClassVar[Path] = Path(__file__).parent / "templates" / "bsub.sh"
    #: LSF keeps job names up to 4094 characters
    job_name_limit: ClassVar[int] = 4094
    cancel_accept: ClassVar[tuple[str, ...]] = _GONE
    allocation_commands: ClassVar[tuple[str, ...]] = ("jsrun",)
    allocation_env: ClassVar[str] = "LSB_JOBID"
    allocation_what: ClassVar[str] = "an LSF allocation"
    allocation_hint: ClassVar[str] = (
        "Run the driver in a job (bsub -Is, or a batch script), or give the entity batch_settings"
    )
    #: seconds a jskilled step gets to end before its jsrun process is terminated
    step_grace: ClassVar[float] = 10.0
    #: seconds to wait for a new jsrun step to appear in jslist
    step_id_timeout: ClassVar[float] = 10.0

    def __init__(self) -> None:
        super().__init__()
        self._missing = MissingJobs()
        self._js_steps: dict[str, str] = {}  # step name -> jsrun step id

    # ---- steps ---------------------------------------------------------------------------
    def create_step(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
    ) -> Step:
        """A batch member, or a step run from the driver (jsrun needs an allocation)."""
        jsrun = os.path.basename(run_settings.run_command or "") == "jsrun"
        if context.in_batch:
            return self._member(name, run_settings, context, wrap_command)
        self.require_allocation(name, run_settings)
        if not (jsrun and run_settings.mpmd):
            return create_local_step(name, run_settings, context, wrap_command)
        step = self._member(name, run_settings, context, wrap_command)
        step.command[0] = resolve_program(step.command[0])
        step.name = step_name(name)
        return step

    def _member(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None,
    ) -> Step:
        """The step's command as written (a batch script resolves it on the compute node);
        a jsrun MPMD launch gets its ERF file written to ``<cwd>/<name>.mpmd`` first."""
        if not os.path.isdir(context.cwd):
            raise LauncherError(
                f"the directory of {name} does not exist: {context.cwd} (create it, or call "
                "Experiment.generate first)"
            )
        if run_settings.mpmd and isinstance(run_settings, JsrunSettings):
            erf = os.path.join(context.cwd, f"{name}.mpmd")
            with open(erf, "w") as fh:
                fh.write(run_settings.erf_text())
            command = run_settings.mpmd_launch_command(erf, context.env.keys())
            return self.member_step(name, run_settings, context, wrap_command, command)
        return self.member_step(name, run_settings, context, wrap_command)

    def run_process(self, step: Step) -> str:
        """Start a step from the driver; a jsrun step's id is read from jslist."""
        if not _is_jsrun(step.command):
            return super().run_process(step)
        before = self._jslist_max()
        step_id = super().run_process(step)
        found = self._new_js_step(before, step_id)
        if found:
            self._js_steps[step_id] = found
            step.launched_id = f"{os.environ.get('LSB_JOBID', '')}.{found}"
        elif step_id not in self._reported:
            logger.warning(
                "jslist did not show the jsrun step of %s within %g s; stopping it will "
                "signal its jsrun instead of jskill",
                step.entity_name,
                self.step_id_timeout,
            )
        return step_id

    def _jslist_max(self) -> int:
        try:
            return parser.max_step_id(
                self.runner.run(commands.jslist(), "listing jsrun steps").stdout
            )
        except ShellError as exc:
            logger.warning("jslist failed: %s", exc)
            return -1

    def _new_js_step(self, before: int, step_id: str) -> str:
        """The id of the step jsrun added after ``before`` ("" if none shows up while the
        jsrun process runs)."""
        if before < 0:
            return ""
        deadline = time.monotonic() + self.step_id_timeout
        while time.monotonic() < deadline:
            with self._lock:
                proc = self._procs.get(step_id)
                ended = proc is None or proc.poll() is not None

            latest = self._jslist_max()
            if latest < 0:
                return ""
            if latest > before:
                return str(latest)
            if ended:
                return ""
            time.sleep(0.05)
        return ""

    def stop_processes(self, step_ids: list[str]) -> None:
        """jskill jsrun steps first (one call), then end the processes."""
        with self._lock:
            targets = [
                s
                for s in step_ids
                if s in self._js_steps and s in self._procs and s not in self._reported
            ]
            self._stopped.update(targets)
        if targets:
            ids = [self._js_steps[s] for s in targets]
            try:
                self.runner.run(commands.jskill(ids), f"killing jsrun steps {', '.join(ids)}")
            except ShellError as exc:
                logger.error(
                    "could not jskill the steps (their jsruns are stopped instead): %s", exc
                )
            else:
                deadline = time.monotonic() + self.step_grace
                while time.monotonic() < deadline:
                    with self._lock:
                        if all(s in self._reported for s in targets):
                            break
                    time.sleep(0.05)
        super().stop_processes(step_ids)

    # ---- batch hooks ---------------------------------------------------------------------
    def job_directives(self, name: str, step: BatchStep) -> list[str]:
        """Job name, output files and working directory of the batch job."""
        ctx = step.context
        return [f"-J {name}", f"-o {ctx.output_file}", f"-e {ctx.error_file}", f"-cwd {ctx.cwd}"]

    def submit_command(self, step: BatchStep) -> list[str]:
        """``bsub <script>``."""
        return commands.bsub(step.script, self.batch_command(step))

    def job_id_from_submit_output(self, output: str) -> str:
        """The id in ``Job <12345> is submitted to queue <normal>.``."""
        return parser.parse_bsub(output)

    def cancel_command(self, job_ids: list[str]) -> list[str]:
        """``bkill`` every job in one call."""
        return commands.bkill(job_ids)

    def query_jobs(self, job_ids: list[str]) -> dict[str, JobState]:
        """One bjobs call for every job; a job it stops knowing is lost after 3 polls."""
        out = self.runner.run(
            commands.bjobs_json(job_ids), "asking bjobs for job states", accept=_NOT_FOUND
        )
        states, unknown = parser.parse_bjobs_json(out.stdout)
        for job_id in job_ids:
            if job_id in states:
                self._missing.seen(job_id)
                continue
            if self._missing.missed(job_id):
                why = "not found" if job_id in unknown else "missing from its output"
                reason = (
                    f"bjobs no longer knows job {job_id} ({why} {self._missing.limit} polls in "
                    "a row) although it was not seen to end: LSF lost it or cleaned it after "
                    "CLEAN_PERIOD; its output files may say how it ended"
                )
                self._on_give_up([job_id], LauncherError(reason))
        return states

    def queued_jobs(self, job_ids: list[str]) -> set[str]:
        """Which of ``job_ids`` bjobs lists as neither DONE nor EXIT."""
        out = self.runner.run(
            commands.bjobs_remaining(job_ids), "asking bjobs which jobs remain", accept=_NOT_FOUND
        )
        states = parser.parse_bjobs_delimited(out.stdout)
        return {j for j in job_ids if states.get(j, "DONE") not in ("DONE", "EXIT")}
