"""JobManager: the status of everything launched, updated as launchers report changes.

Launchers push :class:`StepInfo` updates (from their own threads); waiting is done on a
condition variable, so a waiter wakes the moment the last job ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from smartsim._core.control.job import Job, Run
from smartsim._core.launcher.base import StepInfo
from smartsim.status import TERMINAL_STATUSES, SmartSimStatus

logger = logging.getLogger(__name__)


class JobManager:
    """Tracks jobs by entity name and step id."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._by_step: dict[str, Run] = {}
        self._pending: dict[str, StepInfo] = {}
        self._alias: dict[str, str] = {}  # member of a batch list -> the list's job

    def _resolve(self, name: str) -> str:
        return self._alias.get(name, name)

    # ---- updates ------------------------------------------------------------------------
    def add_run(
        self,
        name: str,
        entity_type: str,
        step_id: str,
        job_id: str,
        launcher: str,
        is_db: bool,
        members: Iterable[str] = (),
        error_file: str = "",
    ) -> Run:
        """Record that an entity was launched (an update may already be waiting).

        ``members`` are entities run inside this job (a batch list): their status, waits
        and stops go to this job.
        """
        with self._cond:
            self._alias.pop(name, None)
            for member in members:
                self._alias[member] = name
            job = self._jobs.get(name)
            if job is None:
                job = self._jobs[name] = Job(name, entity_type, is_db, launcher)
            run = job.new_run(step_id, job_id)
            run.error_file = error_file
            self._by_step[step_id] = run
            info = self._pending.pop(step_id, None)
            if info is not None and self._apply(run, info) and not is_db:
                _report_failure(job, run)  # before waiters wake: they see it logged
            self._cond.notify_all()
        return run

    def on_status(self, step_id: str, info: StepInfo) -> None:
        """Launcher callback: a step's status changed."""
        with self._cond:
            run = self._by_step.get(step_id)
            if run is None:
                self._pending[step_id] = info  # reported before add_run: apply it then
            elif self._apply(run, info):
                job = self._job_of_run(run)
                if job is not None and not job.is_db:
                    _report_failure(job, run)  # before waiters wake: they see it logged
            self._cond.notify_all()

    def _job_of_run(self, run: Run) -> Job | None:
        return next((j for j in self._jobs.values() if run in j.runs), None)

    @staticmethod
    def _apply(run: Run, info: StepInfo) -> bool:
        """Apply ``info``; True when the run has just failed."""
        if run.status in TERMINAL_STATUSES:
            return False
        run.status = info.status
        run.returncode = info.returncode
        run.detail = info.error or info.raw_status
        if info.status in TERMINAL_STATUSES:
            run.end_time = time.time()
        return info.status == SmartSimStatus.STATUS_FAILED

    def _ended_counts(self, names: list[str]) -> str:
        """``"12 Completed, 1 Failed"`` for the jobs of ``names`` that ended (call locked)."""
        counts: dict[str, int] = {}
        for name in names:
            job = self._jobs.get(name)
            if job is not None and job.status in TERMINAL_STATUSES:
                key = str(job.status.value)
                counts[key] = counts.get(key, 0) + 1
        return ", ".join(f"{n} {status}" for status, n in counts.items())

    # ---- queries ------------------------------------------------------------------------
    def get_job(self, name: str) -> Job | None:
        """The job of an entity (a batch member's: its list's), or None if never launched."""
        with self._cond:
            return self._jobs.get(self._resolve(name))

    def jobs(self) -> list[Job]:
        """All jobs, in launch order."""
        with self._cond:
            return list(self._jobs.values())

    def status(self, name: str) -> SmartSimStatus | None:
        """Current status of an entity's latest run, or None if never launched."""
        with self._cond:
            job = self._jobs.get(self._resolve(name))
            return job.status if job else None

    def running_step_ids(self, names: Iterable[str]) -> list[str]:
        """Step ids of these entities' latest runs that have not ended."""
        with self._cond:
            out: list[str] = []
            for name in names:
                job = self._jobs.get(self._resolve(name))
                if job and job.status not in TERMINAL_STATUSES:
                    if job.current.step_id not in out:
                        out.append(job.current.step_id)
            return out

    def current_step_ids(self, names: Iterable[str]) -> list[str]:
        """Step ids of these entities' latest runs, whatever their status."""
        with self._cond:
            out: list[str] = []
            for name in names:
                job = self._jobs.get(self._resolve(name))
                if job and job.current.step_id not in out:
                    out.append(job.current.step_id)
            return out

    def wait(
        self,
        names: Iterable[str],
        timeout: float | None = None,
        progress_every: float | None = None,
    ) -> bool:
        """Block until these entities' latest runs have ended (True) or timeout (False).

        With ``progress_every``, logs at that interval how many jobs still run, how the
        others ended and the first names still running; and, if it logged that, one line
        when the last job has ended.
        """
        with self._cond:
            wanted = list(dict.fromkeys(self._resolve(n) for n in names))
        start = time.monotonic()
        deadline = None if timeout is None else start + timeout
        next_report = start + progress_every if progress_every else None
        reported = False
        with self._cond:
            while True:
                live = [
                    n
                    for n in wanted
                    if n in self._jobs and self._jobs[n].status not in TERMINAL_STATUSES
                ]
                now = time.monotonic()
                if not live:
                    if reported:
                        logger.info(
                            "all %d job(s) ended after %.0f s: %s",
                            len(wanted),
                            now - start,
                            self._ended_counts(wanted),
                        )
                    return True
                if deadline is not None and now >= deadline:
                    return False
                if next_report is not None and now >= next_report:
                    ended = self._ended_counts(wanted)
                    logger.info(
                        "waiting for %d of %d job(s)%s: %s",
                        len(live),
                        len(wanted),
                        f" ({ended} so far)" if ended else "",
                        ", ".join(live[:5]) + (" ..." if len(live) > 5 else ""),
                    )
                    reported = True
                    next_report = now + (progress_every or 0)
                waits = [t for t in (deadline, next_report) if t is not None]
                self._cond.wait(None if not waits else max(0.0, min(waits) - now))


def _report_failure(job: Job, run: Run, lines: int = 10) -> None:
    """Log a failed run with its exit code and the end of its stderr file."""
    what = f"exit code {run.returncode}" if run.returncode is not None else "no exit code"
    plain = not run.detail or run.detail.lower().startswith(("exit", "failed", "signal"))
    detail = "" if plain else f", {run.detail}"
    text = f"{job.entity_type} {job.name} failed ({what}{detail})"
    if run.error_file:
        try:
            with open(run.error_file, "rb") as err:
                err.seek(max(0, err.seek(0, 2) - 8192))  # the end is enough
                tail = err.read().decode(errors="replace").splitlines(keepends=True)[-lines:]
        except OSError:
            tail = None
        if tail:
            text += f"; last lines of {run.error_file}:\n" + "".join(f"    {ln}" for ln in tail)
        elif tail is not None:
            text += f"; {run.error_file} is empty"
    logger.warning(text.rstrip())
