"""Steps: a fully formatted command plus where and how to run it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

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


def step_name(entity_name: str) -> str:
    """``<entity>-<base36 time_ns>`` (unique per launch)."""
    return f"{entity_name}-{base36(time.time_ns())}"


@dataclass(frozen=True)
class StepContext:
    """What the controller passes to a launcher for one launch (not stored in settings)."""

    cwd: str
    output_file: str
    error_file: str
    env: dict[str, str] = field(default_factory=dict)  # SSDB, SSKEYIN, SSKEYOUT, ...
    #: left running when the driver exits or is interrupted (start(kill_on_interrupt=False))
    detached: bool = False

    @classmethod
    def for_entity(
        cls, name: str, path: str, env: dict[str, str] | None = None, detached: bool = False
    ) -> StepContext:
        """``<path>/<name>.out`` and ``.err`` in the entity's directory."""
        return cls(
            cwd=path,
            output_file=os.path.join(path, f"{name}.out"),
            error_file=os.path.join(path, f"{name}.err"),
            env=dict(env or {}),
            detached=detached,
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

    def __str__(self) -> str:
        return " ".join(self.command)
