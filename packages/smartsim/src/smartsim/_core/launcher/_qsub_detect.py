"""Telling PBS and Cobalt apart: both install ``qsub``; ``qsub --version`` names the system."""

from __future__ import annotations

import shutil
import subprocess


def qsub_flavour() -> str:
    """``"pbs"``, ``"cobalt"`` or ``""`` from ``qsub --version`` (empty when absent)."""
    if not shutil.which("qsub"):
        return ""
    try:
        result = subprocess.run(
            ["qsub", "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = (result.stdout + result.stderr).lower()
    if "pbs" in text:
        return "pbs"
    if "cobalt" in text:
        return "cobalt"
    return ""
