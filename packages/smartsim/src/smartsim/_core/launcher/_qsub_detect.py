"""Telling PBS, Cobalt and Grid Engine apart: all three install ``qsub``.

``qsub --version`` names PBS (``pbs_version = 2022.1.3``) or Cobalt; Grid Engine's qsub has
no ``--version`` but prints its version as the first line of ``qsub -help`` (``SGE 8.1.9``,
``GE 6.2u5``, ``OGS/GE 2011.11p1``, ``UGE 8.6.4``, ``Altair Grid Engine 2023.1``), asked
only when ``--version`` named neither of the others.
"""

from __future__ import annotations

import re
import shutil

from smartsim._core.launcher.shell import CommandRunner, RetryPolicy
from smartsim.error import ShellError

_GRID_ENGINE = re.compile(
    r"^\s*(SGE|GE|OGS/GE|UGE|OGE|Son of Grid Engine|\S*\s*Grid Engine)\b", re.I
)


def _ask(argv: list[str], what: str) -> str:
    try:
        result = CommandRunner("qsub").run(
            argv,
            what,
            policy=RetryPolicy(timeout=10, tries=1),
            ok_codes=range(-64, 256),  # the text matters, not the exit code
        )
    except ShellError:
        return ""
    return result.output


def qsub_flavour() -> str:
    """``"pbs"``, ``"cobalt"``, ``"sge"`` or ``""`` (no qsub, or one of none of these)."""
    if not shutil.which("qsub"):
        return ""
    text = _ask(["qsub", "--version"], "asking qsub which batch system it belongs to").lower()
    if "pbs" in text:
        return "pbs"
    if "cobalt" in text:
        return "cobalt"
    first = _ask(["qsub", "-help"], "asking qsub -help for its version").splitlines()[:1]
    if first and _GRID_ENGINE.match(first[0]):
        return "sge"
    return ""
