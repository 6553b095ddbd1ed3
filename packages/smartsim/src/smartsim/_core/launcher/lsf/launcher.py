"""The lsf launcher: registered and detectable; launching arrives in a later issue."""

from __future__ import annotations

from smartsim._core.launcher.wlm import NotYetImplementedLauncher


class LSFLauncher(NotYetImplementedLauncher):
    """Launches through lsf (not implemented yet)."""

    name = "lsf"
    required_commands = ("bsub", "jsrun", "jslist", "bjobs", "bkill")
