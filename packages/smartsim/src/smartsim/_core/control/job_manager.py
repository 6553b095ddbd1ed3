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
            self._by_step[step_id] = run
            info = self._pending.pop(step_id, None)
            if info is not None:
                self._apply(run, info)
            self._cond.notify_all()
            return run

    def on_status(self, step_id: str, info: StepInfo) -> None:
        """Launcher callback: a step's status changed."""
        with self._cond:
            run = self._by_step.get(step_id)
            if run is None:
                self._pending[step_id] = info  # reported before add_run: apply it then
            else:
                self._apply(run, info)
            self._cond.notify_all()

    @staticmethod
    def _apply(run: Run, info: StepInfo) -> None:
        if run.status in TERMINAL_STATUSES:
            return
        run.status = info.status
        run.returncode = info.returncode
        run.detail = info.error or info.raw_status
        if info.status in TERMINAL_STATUSES:
            run.end_time = time.time()

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

        With ``progress_every``, logs a one-line count of statuses at that interval.
        """
        with self._cond:
            wanted = list(dict.fromkeys(self._resolve(n) for n in names))
        deadline = None if timeout is None else time.monotonic() + timeout
        next_report = time.monotonic() + progress_every if progress_every else None
        with self._cond:
            while True:
                live = [
                    n
                    for n in wanted
                    if n in self._jobs and self._jobs[n].status not in TERMINAL_STATUSES
                ]
                if not live:
                    return True
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return False
                if next_report is not None and now >= next_report:
                    logger.info(
                        "waiting for %d of %d job(s): %s",
                        len(live),
                        len(wanted),
                        ", ".join(live[:5]) + (" ..." if len(live) > 5 else ""),
                    )
                    next_report = now + (progress_every or 0)
                waits = [t for t in (deadline, next_report) if t is not None]
                self._cond.wait(None if not waits else max(0.0, min(waits) - now))
