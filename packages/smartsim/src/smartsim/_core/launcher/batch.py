"""The batch base shared by the workload-manager launchers (psij's batch-executor pattern).

:class:`BatchLauncher` does the common work once: it renders a batch script from the WLM's
template, submits it, polls every live job with one status call per interval
(:class:`~smartsim._core.launcher.poller.StatusPoller`), cancels jobs and waits until they
are gone, and cancels every attached job when the driver is interrupted or exits. Every
scheduler command goes through one :class:`~smartsim._core.launcher.shell.CommandRunner`
(timeouts, bounded retries).

A workload manager supplies only small hooks: its directive prefix and template, the job's
own directives (:meth:`job_directives`), the submit command and how to read the job id from
its output, the cancel command, and :meth:`query_jobs` (one call for many jobs, parsed
through its state table). Steps that run a command from the driver (``srun``, ``mpirun``
inside an allocation) are processes watched like the local launcher's (it is the parent
class); a WLM may refine how they are stopped (:meth:`stop_processes`).
"""

from __future__ import annotations

import logging
import os
import shlex
import string
import threading
import time
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from smartsim._core.launcher.base import Launcher, StepInfo
from smartsim._core.launcher.local.launcher import LocalLauncher, _stop_signals_held
from smartsim._core.launcher.local.steps import create_local_step
from smartsim._core.launcher.poller import StatusPoller
from smartsim._core.launcher.shell import CommandRunner
from smartsim._core.launcher.step import BatchStep, Step, StepContext, job_name
from smartsim.error import LauncherError, ShellError
from smartsim.settings.base import BatchSettings, RunSettings
from smartsim.status import TERMINAL_STATUSES, SmartSimStatus

logger = logging.getLogger(__name__)

POLL_INTERVAL_ENV = "SMARTSIM_WLM_POLL_INTERVAL"


def poll_interval() -> float:
    """Seconds between status polls of batch jobs (``SMARTSIM_WLM_POLL_INTERVAL``, default 2)."""
    try:
        return max(0.05, float(os.environ.get(POLL_INTERVAL_ENV, "2")))
    except ValueError:
        return 2.0


@dataclass(frozen=True)
class JobState:
    """A scheduler's answer about one job: its status, native state, exit code and reason."""

    status: SmartSimStatus
    raw: str
    returncode: int | None = None
    reason: str = ""


@dataclass
class _Job:
    step_id: str
    job_id: str
    detached: bool
    stopped: bool = False
    done: bool = False  # seen to end (or cancelled and gone)
    lost: bool = False  # the poller gave up on it: reported Failed, may still run
    last: JobState | None = None  # the scheduler's latest answer


def render_script(template: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """Fill a batch-script template (``string.Template`` syntax, ``$$`` for a literal ``$``).

    A line that holds only ``$name`` where ``values[name]`` is a list becomes those lines,
    and disappears when the list is empty; every other ``$name`` is substituted as text.
    A name missing from ``values`` raises LauncherError.
    """
    scalars = {k: v for k, v in values.items() if isinstance(v, str)}
    out: list[str] = []
    for line in template.splitlines():
        key = line.strip()[1:]
        if line.strip().startswith("$") and key in values and not isinstance(values[key], str):
            out.extend(values[key])
            continue
        try:
            out.append(string.Template(line).substitute(scalars))
        except KeyError as exc:
            raise LauncherError(f"batch script template: no value for ${exc.args[0]}") from exc
    return "\n".join(out) + "\n"


def member_lines(step: Step) -> list[str]:
    """Shell lines that start one member step in the background and record its pid."""
    ctx = step.context
    env = [f"{k}={v}" for k, v in step.env.items()]
    command = ["env", *env, *step.command] if env else step.command
    return [
        f"(cd {shlex.quote(ctx.cwd)} && exec {shlex.join(command)}) "
        f"> {shlex.quote(ctx.output_file)} 2> {shlex.quote(ctx.error_file)} &",
        "pids+=($!)",
    ]


class BatchLauncher(LocalLauncher):
    """Base of the workload-manager launchers: batch jobs plus watched run-command steps."""

    supports_batch: ClassVar[bool] = True
    #: the directive prefix in batch scripts (``#SBATCH``, ``#PBS``, ``#BSUB``, ``#COBALT``)
    directive_prefix: ClassVar[str] = ""
    #: the batch script template (``<wlm>/templates/...``)
    template: ClassVar[Path]
    #: longest job name the scheduler keeps whole
    job_name_limit: ClassVar[int] = 64
    #: output of the cancel command that means the job had already ended (not an error)
    cancel_accept: ClassVar[tuple[str, ...]] = ()
    #: the program that submits a batch script when the batch settings name none
    submit_program: ClassVar[str] = ""
    #: the least time a submission may take (it is tried once: a retry could submit twice)
    submit_timeout: ClassVar[float] = 120.0
    #: seconds :meth:`stop` waits for cancelled jobs to leave the queue
    stop_timeout: ClassVar[float] = 120.0
    #: run commands a step run from the driver may use only inside a job
    #: (:meth:`require_allocation`), the variable that says the driver is in one, what the
    #: job is called and how to get one
    allocation_commands: ClassVar[tuple[str, ...]] = ()
    allocation_env: ClassVar[str] = ""
    allocation_what: ClassVar[str] = "a job"
    allocation_hint: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.runner = CommandRunner(self.name)
        self._batch_lock = threading.RLock()
        self._jobs: dict[str, _Job] = {}  # step id -> job
        self._by_job: dict[str, str] = {}  # scheduler job id -> step id
        self._status_error = ""
        self.poller: StatusPoller[JobState] = StatusPoller(
            self.query_jobs, self._on_poll, self._on_give_up, poll_interval()
        )

    @classmethod
    def detect(cls) -> bool:
        """Every command of :attr:`required_commands` is on PATH."""
        return Launcher.detect.__func__(cls)  # type: ignore[attr-defined]

    # ---- hooks a workload manager fills in ----------------------------------------------
    @abstractmethod
    def job_directives(self, name: str, step: BatchStep) -> list[str]:
        """Directive arguments the launcher sets itself (job name, output files, directory)."""

    @abstractmethod
    def submit_command(self, step: BatchStep) -> list[str]:
        """The command that submits ``step.script`` (``step.batch_settings.batch_cmd``)."""

    @abstractmethod
    def job_id_from_submit_output(self, output: str) -> str:
        """The job id in the submit command's output (LauncherError if there is none)."""

    @abstractmethod
    def cancel_command(self, job_ids: list[str]) -> list[str]:
        """The command that cancels these jobs (one call for all)."""

    @abstractmethod
    def query_jobs(self, job_ids: list[str]) -> dict[str, JobState]:
        """The state of each job, asked with one status call for all of them."""

    @abstractmethod
    def queued_jobs(self, job_ids: list[str]) -> set[str]:
        """Those of ``job_ids`` the scheduler still holds (pending, running or completing)."""

    def make_job_name(self, entity_name: str) -> str:
        """A unique job name within :attr:`job_name_limit` (a WLM with a short limit may
        build it differently)."""
        return job_name(entity_name, self.job_name_limit)

    def batch_values(self, step: BatchStep) -> dict[str, str | list[str]]:
        """Values for the template beyond ``directives``, ``preamble`` and ``steps``."""
        return {}

    # ---- building ------------------------------------------------------------------------
    def create_batch_step(
        self,
        name: str,
        batch_settings: BatchSettings,
        members: list[Step],
        context: StepContext,
    ) -> BatchStep:
        """Render the batch script of ``members`` into ``<cwd>/<name>.batch.sh``."""
        if not os.path.isdir(context.cwd):
            raise LauncherError(
                f"the directory of {name} does not exist: {context.cwd} (create it, or call "
                "Experiment.generate first)"
            )
        if not members:
            raise LauncherError(f"the batch job {name} has no members to run")
        step = BatchStep(
            name=self.make_job_name(name),
            entity_name=name,
            command=[],
            context=context,
            env=dict(context.env),
            members=list(members),
            script=os.path.join(context.cwd, f"{name}.batch.sh"),
            batch_settings=batch_settings,
        )
        directives = self.job_directives(step.name, step) + batch_settings.format_batch_args()
        values: dict[str, str | list[str]] = {
            "directives": [f"{self.directive_prefix} {d}" for d in directives],
            "preamble": batch_settings.preamble,
            "steps": [line for m in members for line in member_lines(m)],
            **self.batch_values(step),
        }
        text = render_script(self.template.read_text(), values)
        with open(step.script, "w") as fh:
            fh.write(text)
        step.command = self.submit_command(step)
        return step

    def create_step(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
    ) -> Step:
        """A batch job's member (:meth:`member_step`), or a step the driver runs itself, whose
        run command may need the driver to be inside a job (:meth:`require_allocation`)."""
        if context.in_batch:
            return self.member_step(name, run_settings, context, wrap_command)
        self.require_allocation(name, run_settings)
        return create_local_step(name, run_settings, context, wrap_command)

    def batch_command(self, step: BatchStep) -> str:
        """The submit program: the batch settings' ``batch_cmd``, else :attr:`submit_program`."""
        return step.batch_settings.batch_cmd if step.batch_settings else self.submit_program

    def member_step(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
        command: list[str] | None = None,
    ) -> Step:
        """A batch job's member: its launch command (or ``command``), run by the script (not
        resolved here: the job's PATH decides), with the settings' and the context's
        variables."""
        if command is None:
            command = run_settings.launch_command(context.env.keys())
        if wrap_command is not None:
            command = list(wrap_command(list(command)))
        if not command:
            raise LauncherError(f"empty command for {name}")
        env = {k: str(v) for k, v in run_settings.env_vars.items() if v is not None}
        env.update(context.env)
        return Step(name=name, entity_name=name, command=command, context=context, env=env)

    def require_allocation(self, name: str, run_settings: RunSettings) -> None:
        """LauncherError when ``run_settings``' run command is one of
        ``allocation_commands`` and the driver is not inside a job (no ``allocation_env``)."""
        run_command = os.path.basename(run_settings.run_command or "")
        if run_command in self.allocation_commands and not os.environ.get(self.allocation_env):
            raise LauncherError(
                f"{run_command} needs {self.allocation_what} to run {name}: the driver is not "
                f"inside one (no {self.allocation_env}). {self.allocation_hint}"
            )

    # ---- running -------------------------------------------------------------------------
    def run(self, step: Step) -> str:
        """Submit a batch step, start any other step as a watched process."""
        return step.launch_with(self)

    def run_process(self, step: Step) -> str:
        """Start ``step`` as a process of the driver (``srun``/``mpirun`` in an allocation)."""
        return LocalLauncher.run(self, step)

    def submit(self, step: BatchStep) -> str:
        """Submit the batch script once (a refused job raises with the scheduler's message)."""
        try:
            with _stop_signals_held():
                result = self.runner.run(
                    step.command,
                    f"submitting {step.entity_name} to {self.name}",
                    policy=self.runner.policy.once(min_timeout=self.submit_timeout),
                    env={**os.environ, **step.env},
                )
                job_id = self.job_id_from_submit_output(result.stdout)
                with self._batch_lock:
                    self._jobs[step.name] = _Job(step.name, job_id, step.context.detached)
                    self._by_job[job_id] = step.name
        except ShellError as exc:
            raise LauncherError(
                f"{self.name} refused the batch job {step.entity_name}: "
                f"{exc.shell_error or exc}\n(script: {step.script})"
            ) from exc
        step.launched_id = job_id
        logger.debug("submitted %s as job %s (%s)", step.entity_name, job_id, step.script)
        self._notify(step.name, StepInfo(SmartSimStatus.STATUS_QUEUED, None, "submitted"))
        self.poller.add(job_id)
        return step.name

    # ---- status ----------------------------------------------------------------------------
    def _on_poll(self, job_id: str, state: JobState | None) -> bool:
        with self._batch_lock:
            step_id = self._by_job.get(job_id)
            job = self._jobs.get(step_id or "")
            if job is None or job.done or job.lost or state is None:
                return job is None or job.done or job.lost
            changed = job.last is None or (job.last.status, job.last.returncode) != (
                state.status,
                state.returncode,
            )
            job.last = state
            finished = state.status in TERMINAL_STATUSES
            if finished:
                job.done = True
            status = state.status
            if finished and job.stopped:
                status = SmartSimStatus.STATUS_CANCELLED
        if changed or finished:
            detail = state.raw + (f" ({state.reason})" if state.reason else "")
            self._notify(job.step_id, StepInfo(status, state.returncode, detail))
        return finished

    def _on_give_up(self, job_ids: list[str], error: Exception) -> None:
        message = f"lost track of the job: {error}"
        self._status_error = str(error)
        for job_id in job_ids:
            with self._batch_lock:
                job = self._jobs.get(self._by_job.get(job_id, ""))
                if job is None or job.done or job.lost:
                    continue
                job.lost = True
            self._notify(
                job.step_id, StepInfo(SmartSimStatus.STATUS_FAILED, None, "unknown", message)
            )

    def take_status_error(self) -> str:
        """The error that made the poller give up on jobs ("" if none); cleared once read."""
        error, self._status_error = self._status_error, ""
        return error

    # ---- stopping --------------------------------------------------------------------------
    def stop(self, step_ids: Iterable[str]) -> None:
        """Cancel batch jobs (one cancel call) and wait until they are gone; stop processes."""
        ids = list(step_ids)
        with self._batch_lock:
            jobs = [self._jobs[s] for s in ids if s in self._jobs]
            for job in jobs:
                job.stopped = True
        others = [s for s in ids if s not in self._jobs]
        if others:
            self.stop_processes(others)
        if jobs:
            self._cancel_jobs(jobs)

    def stop_processes(self, step_ids: list[str]) -> None:
        """Stop steps that run as processes of the driver (TERM, grace, KILL)."""
        LocalLauncher.stop(self, step_ids)

    def _cancel_jobs(self, jobs: list[_Job]) -> None:
        job_ids = [j.job_id for j in jobs]
        try:
            self.runner.run(
                self.cancel_command(job_ids),
                f"cancelling job(s) {', '.join(job_ids)}",
                accept=self.cancel_accept,
            )
        except ShellError as exc:
            logger.error("%s", exc)
        deadline = time.monotonic() + self.stop_timeout
        waiting = list(job_ids)
        while waiting and time.monotonic() < deadline:
            try:
                waiting = sorted(self.queued_jobs(waiting))
            except ShellError as exc:
                logger.error("cannot tell whether the cancelled jobs are gone: %s", exc)
                break
            if waiting:
                time.sleep(0.25)
        if waiting:
            logger.warning(
                "%s still lists job(s) %s %g s after cancelling them",
                self.name,
                ", ".join(waiting),
                self.stop_timeout,
            )
        for job in jobs:
            self.poller.discard(job.job_id)
            with self._batch_lock:
                if job.done:
                    continue
                job.done = True
            info = StepInfo(SmartSimStatus.STATUS_CANCELLED, None, "CANCELLED", "")
            self._notify(job.step_id, info)

    def active_steps(self) -> list[str]:
        """Processes still running and batch jobs not seen to end (lost ones included)."""
        with self._batch_lock:
            batch = [s for s, j in self._jobs.items() if not j.done]
        return super().active_steps() + batch

    def attached_steps(self) -> list[str]:
        """What an interrupt or the driver's exit cancels (all but detached steps/jobs).

        A job the poller gave up on is still cancelled: the scheduler may run it yet.
        """
        with self._batch_lock:
            batch = [
                s
                for s, j in self._jobs.items()
                if not j.detached
                and not j.stopped
                and not (j.last and j.last.status in TERMINAL_STATUSES)
            ]
        return super().attached_steps() + batch

    def close(self) -> None:
        """Cancel attached jobs and stop attached processes, then stop the poller."""
        super().close()
        self.poller.close()
