"""Telling PBS and Cobalt apart: both install ``qsub``; ``qsub --version`` names the system."""

from __future__ import annotations

import shutil

from smartsim._core.launcher.shell import CommandRunner, RetryPolicy
from smartsim.error import ShellError


def qsub_flavour() -> str:
    """``"pbs"``, ``"cobalt"`` or ``""`` from ``qsub --version`` (empty when absent)."""
    if not shutil.which("qsub"):
        return ""
    try:
        result = CommandRunner("qsub").run(
            ["qsub", "--version"],
            "asking qsub which batch system it belongs to",
            policy=RetryPolicy(timeout=10, tries=1),
            ok_codes=range(-64, 256),  # the text matters, not the exit code
        )
    except ShellError:
        return ""
    text = result.output.lower()
    if "pbs" in text:
        return "pbs"
    if "cobalt" in text:
        return "cobalt"
    return ""
