"""One thread per launcher that asks the scheduler about all its live jobs in one call.

Every ``interval`` seconds the poller hands the ids of every live job to the launcher's
``query`` (one status command for all of them: ``sacct -j a,b,c``, ``squeue``...), then
gives each job's answer to ``on_update``. When ``query`` raises (the command runner has
already retried it a bounded number of times) ``on_give_up`` gets every live job and the
error, and those jobs are no longer polled: nothing loops forever on a broken scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
Query = Callable[[list[str]], Mapping[str, T]]


class StatusPoller(Generic[T]):
    """Polls the scheduler for every live job in one call per interval."""

    def __init__(
        self,
        query: Query[T],
        on_update: Callable[[str, T | None], bool],
        on_give_up: Callable[[list[str], Exception], None],
        interval: float,
        name: str = "smartsim-wlm-poller",
    ) -> None:
        self._query = query
        self._on_update = on_update
        self._on_give_up = on_give_up
        self.interval = interval
        self._name = name
        self._live: dict[str, None] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False
        self.polls = 0

    def add(self, job_id: str) -> None:
        """Start polling ``job_id`` (the thread starts with the first job)."""
        with self._cond:
            self._live[job_id] = None
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def discard(self, job_id: str) -> None:
        """Stop polling ``job_id``."""
        with self._cond:
            self._live.pop(job_id, None)

    def live(self) -> list[str]:
        """The ids being polled."""
        with self._cond:
            return list(self._live)

    def poll_once(self) -> None:
        """One poll of every live job, in the calling thread."""
        ids = self.live()
        if not ids:
            return
        self.polls += 1
        try:
            answers = self._query(ids)
        except Exception as exc:  # the runner's bounded retries are spent: give up
            with self._cond:
                for job_id in ids:
                    self._live.pop(job_id, None)
            logger.error("giving up on %d job(s): %s", len(ids), exc)
            self._on_give_up(ids, exc)
            return
        for job_id in ids:
            try:
                finished = self._on_update(job_id, answers.get(job_id))
            except Exception:  # one bad update must not stop the others
                logger.exception("status update of job %s failed", job_id)
                finished = False
            if finished:
                self.discard(job_id)

    def _run(self) -> None:
        next_poll = time.monotonic() + self.interval
        while True:
            with self._cond:
                while not self._closing and (not self._live or time.monotonic() < next_poll):
                    wait = None if not self._live else max(0.0, next_poll - time.monotonic())
                    self._cond.wait(wait)
                if self._closing:
                    return
            self.poll_once()
            next_poll = time.monotonic() + self.interval

    def close(self) -> None:
        """Stop the thread (jobs are left as they are)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=self.interval + 60)
