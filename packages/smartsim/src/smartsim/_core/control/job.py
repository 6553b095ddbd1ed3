"""Job: one launch of one entity, and its history of earlier runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from smartsim.status import SmartSimStatus


@dataclass
class Run:
    """One run of an entity (an entity launched twice has two)."""

    run_id: int
    step_id: str
    job_id: str
    start_time: float
    status: SmartSimStatus = SmartSimStatus.STATUS_RUNNING
    returncode: int | None = None
    end_time: float | None = None
    detail: str = ""
    error_file: str = ""  # the run's stderr file, quoted when it fails

    @property
    def elapsed(self) -> float:
        """Seconds from launch to end (or to now while running)."""
        return (self.end_time or time.time()) - self.start_time


@dataclass
class Job:
    """The runs of one entity, most recent last."""

    name: str
    entity_type: str
    is_db: bool
    launcher: str
    runs: list[Run] = field(default_factory=list)

    @property
    def current(self) -> Run:
        """The latest run."""
        return self.runs[-1]

    @property
    def status(self) -> SmartSimStatus:
        """Status of the latest run."""
        return self.current.status

    @property
    def returncode(self) -> int | None:
        """Exit code of the latest run (None while running)."""
        return self.current.returncode

    def new_run(self, step_id: str, job_id: str) -> Run:
        """Record a new launch of this entity."""
        run = Run(len(self.runs), step_id, job_id, time.time())
        self.runs.append(run)
        return run
