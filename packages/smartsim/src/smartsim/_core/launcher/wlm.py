"""Shared base of the workload-manager launchers whose launching arrives in a later issue.

Their folders, settings, registry entries and detection exist now; creating one raises a
clear error instead of pretending to launch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import ClassVar

from smartsim._core.launcher.base import Launcher
from smartsim._core.launcher.step import Step, StepContext
from smartsim.error import SSUnsupportedError
from smartsim.settings.base import RunSettings


class NotYetImplementedLauncher(Launcher):
    """A registered workload manager that cannot launch yet."""

    implemented: ClassVar[bool] = False

    def __init__(self) -> None:
        raise SSUnsupportedError(
            f"launching through {self.name} is not implemented yet in this smartsim; its "
            "settings (run and batch) can be built and formatted, but start() works with "
            "launcher='local' only for now"
        )

    def create_step(  # pragma: no cover - never constructed
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
    ) -> Step:
        raise NotImplementedError

    def run(self, step: Step) -> str:  # pragma: no cover - never constructed
        raise NotImplementedError

    def stop(self, step_ids: Iterable[str]) -> None:  # pragma: no cover - never constructed
        raise NotImplementedError
