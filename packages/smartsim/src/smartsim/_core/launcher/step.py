"""Steps: a fully formatted command plus where and how to run it."""

from __future__ import annotations

import itertools
import os
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smartsim.settings.base import BatchSettings

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    """``number`` in base 36 (step names use it for their time stamp)."""
    if number < 0:
        raise ValueError("base36 takes a non-negative int")
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = _DIGITS[rem] + out
        if not number:
            return out


_COUNTER = itertools.count()
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def step_name(entity_name: str) -> str:
    """``<entity>-<base36 time_ns>`` (unique per launch)."""
    return f"{entity_name}-{base36(time.time_ns())}"


def job_name(entity_name: str, limit: int = 64) -> str:
    """A scheduler job name: unique, at most ``limit`` characters, ``[A-Za-z0-9_.-]`` only.

    ``<entity>-<base36 time_ns><base36 pid><base36 counter>``: the time stamp, the driver's
    pid and a per-process counter keep two launches apart even within one clock tick; the
    entity part is cut (never the unique part) to fit ``limit``.
    """
    unique = f"{base36(time.time_ns())}{base36(os.getpid())}{base36(next(_COUNTER))}"
    if limit < len(unique) + 2:
        raise ValueError(f"a job name limit of {limit} leaves no room for the unique part")
    entity = _UNSAFE.sub("_", entity_name)[: limit - len(unique) - 1] or "job"
    return f"{entity}-{unique}"


@dataclass(frozen=True)
class StepContext:
    """What the controller passes to a launcher for one launch (not stored in settings)."""

    cwd: str
    output_file: str
    error_file: str
    env: dict[str, str] = field(default_factory=dict)  # SSDB, SSKEYIN, SSKEYOUT, ...
    #: left running when the driver exits or is interrupted (start(kill_on_interrupt=False))
    detached: bool = False
    #: the step runs inside a batch job's script, not from the driver
    in_batch: bool = False

    @classmethod
    def for_entity(
        cls,
        name: str,
        path: str,
        env: dict[str, str] | None = None,
        detached: bool = False,
        in_batch: bool = False,
    ) -> StepContext:
        """``<path>/<name>.out`` and ``.err`` in the entity's directory."""
        return cls(
            cwd=path,
            output_file=os.path.join(path, f"{name}.out"),
            error_file=os.path.join(path, f"{name}.err"),
            env=dict(env or {}),
            detached=detached,
            in_batch=in_batch,
        )


@dataclass
class Step:
    """A command ready to run: argv, environment additions, directory and output files."""

    name: str
    entity_name: str
    command: list[str]
    context: StepContext
    env: dict[str, str]  # variables added to the driver's environment
    launched_id: str = ""  # what the launcher calls it once running (a pid, a job id)

    def launch_with(self, launcher: Any) -> str:
        """Start this step through ``launcher`` as a process it watches (batch steps submit)."""
        return launcher.run_process(self)

    def __str__(self) -> str:
        return " ".join(self.command)


@dataclass
class BatchStep(Step):
    """A batch job: a generated script that runs ``members`` (steps) and waits for them."""

    members: list[Step] = field(default_factory=list)
    script: str = ""  # path of the generated script
    batch_settings: BatchSettings | None = None

    def launch_with(self, launcher: Any) -> str:
        """Submit the script through the launcher's batch system."""
        return launcher.submit(self)
