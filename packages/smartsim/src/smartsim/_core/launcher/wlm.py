"""Shared base of the workload-manager launchers whose launching arrives in a later issue.

Their folders, settings, registry entries and detection exist now; creating one raises a
clear error instead of pretending to launch.
"""

from __future__ import annotations

from typing import ClassVar

from smartsim._core.launcher.base import Launcher
from smartsim.error import SSUnsupportedError


class NotYetImplementedLauncher(Launcher):
    """A registered workload manager that cannot launch yet.

    Constructing one raises, so its abstract step methods are never needed.
    """

    implemented: ClassVar[bool] = False

    def __new__(cls) -> NotYetImplementedLauncher:
        raise SSUnsupportedError(
            f"launching through {cls.name} is not implemented yet in this smartsim; its "
            "settings (run and batch) can be built and formatted, but start() works with "
            "launcher='local' only for now"
        )
