"""The launcher interface every workload manager implements.

A launcher turns a :class:`~smartsim._core.launcher.step.Step` into something running,
reports status changes through one callback, and stops steps. It never imports the
Experiment or the controller; status arrives as :class:`StepInfo` values.
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar

from smartsim._core.launcher.step import Step, StepContext
from smartsim.error import LauncherError
from smartsim.settings.base import BatchSettings, RunSettings
from smartsim.status import SmartSimStatus


@dataclass(frozen=True)
class StepInfo:
    """A status change of one step."""

    status: SmartSimStatus
    returncode: int | None = None
    raw_status: str = ""
    error: str = ""


StatusCallback = Callable[[str, StepInfo], None]


class Launcher(ABC):
    """Base of the launchers in the registry."""

    name: ClassVar[str] = ""
    #: False for launchers whose folder exists but whose launching arrives later
    implemented: ClassVar[bool] = True
    #: commands that must all be on PATH for :meth:`detect` to find this WLM
    required_commands: ClassVar[tuple[str, ...]] = ()
    #: whether entity lists with batch_settings can be submitted through this launcher
    supports_batch: ClassVar[bool] = False

    def __init__(self) -> None:
        self._callbacks: list[StatusCallback] = []

    @classmethod
    def detect(cls) -> bool:
        """Whether this workload manager is available here."""
        return bool(cls.required_commands) and all(shutil.which(c) for c in cls.required_commands)

    def add_status_callback(self, callback: StatusCallback) -> None:
        """Call ``callback(step_id, info)`` on every status change (from any thread)."""
        self._callbacks.append(callback)

    def _notify(self, step_id: str, info: StepInfo) -> None:
        for callback in list(self._callbacks):
            callback(step_id, info)

    @abstractmethod
    def create_step(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
    ) -> Step:
        """Build the step that runs ``run_settings`` (nothing is started yet)."""

    @abstractmethod
    def run(self, step: Step) -> str:
        """Start ``step`` and return its id; status changes go to the callbacks."""

    @abstractmethod
    def stop(self, step_ids: Iterable[str]) -> None:
        """Stop these steps and everything they started; report them Cancelled."""

    def take_status_error(self) -> str:
        """Why status polling gave up on some steps since the last call ("" if it did not)."""
        return ""

    def create_batch_step(
        self,
        name: str,
        batch_settings: BatchSettings,
        members: list[Step],
        context: StepContext,
    ) -> Step:
        """One batch job that runs ``members`` (launchers with :attr:`supports_batch`)."""
        raise LauncherError(f"the {self.name} launcher has no batch system")

    def active_steps(self) -> list[str]:
        """Ids of the steps this launcher still considers running."""
        return []

    def attached_steps(self) -> list[str]:
        """Running steps to stop on interrupt or driver exit (not the detached ones)."""
        return self.active_steps()

    def close(self) -> None:
        """Stop background threads (running steps are left to :meth:`stop`)."""
        self._callbacks.clear()
