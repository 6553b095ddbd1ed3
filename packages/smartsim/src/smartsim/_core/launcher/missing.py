"""The rule for a batch job the scheduler stops listing before it was seen to end.

LSF (bjobs ``is not found``) and Cobalt (qstat drops ended jobs; the cobaltlog then has the
exit code) can lose a job. A job missing from :data:`MISSING_POLLS` polls in a row, with no
other record of how it ended, is reported Failed with a reason naming the scheduler, and the
launcher's status error is set so that ``start(block=True)``/``poll()`` raise.
"""

from __future__ import annotations

from smartsim._core.launcher.batch import JobState
from smartsim.status import SmartSimStatus

#: polls in a row a job may be missing before it is reported lost
MISSING_POLLS = 3


class MissingJobs:
    """Counts, per job, the polls in a row that did not list it."""

    def __init__(self, limit: int = MISSING_POLLS) -> None:
        self.limit = limit
        self._misses: dict[str, int] = {}

    def seen(self, job_id: str) -> None:
        """The scheduler listed ``job_id``."""
        self._misses.pop(job_id, None)

    def missed(self, job_id: str, why: str) -> JobState | None:
        """The scheduler did not list ``job_id``; a Failed state once it is lost."""
        count = self._misses.get(job_id, 0) + 1
        self._misses[job_id] = count
        if count < self.limit:
            return None
        self._misses.pop(job_id, None)
        return JobState(SmartSimStatus.STATUS_FAILED, "LOST", None, why)
