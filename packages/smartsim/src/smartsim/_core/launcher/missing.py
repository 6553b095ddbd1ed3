"""The rule for a batch job the scheduler stops listing before it was seen to end.

LSF (bjobs ``is not found``) and Cobalt (qstat drops ended jobs; the cobaltlog then has the
exit code) can lose a job. A job missing from :data:`MISSING_POLLS` polls in a row, with no
other record of how it ended, is given up on like a job whose status cannot be read
(``BatchLauncher._on_give_up``): reported Failed with a reason naming the scheduler,
``start(block=True)``/``poll()`` raise, and it is still cancelled by ``exp.stop``, Ctrl-C or
the driver's exit, since it may still run.
"""

from __future__ import annotations

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

    def missed(self, job_id: str) -> bool:
        """The scheduler did not list ``job_id``; True once that happened ``limit`` times
        in a row (the job is lost)."""
        count = self._misses.get(job_id, 0) + 1
        self._misses[job_id] = count
        if count < self.limit:
            return False
        self._misses.pop(job_id, None)
        return True
