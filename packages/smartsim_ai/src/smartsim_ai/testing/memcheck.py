"""A server run under valgrind memcheck, and what its report says (tests only)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from smartsim_ai.testing.servers import ServerProcess


class MemcheckServer(ServerProcess):
    """The server run under ``valgrind --tool=memcheck``, its report in ``report``."""

    def __init__(self, *args: Any, report: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report = report

    def command(self) -> list[str]:
        return ["valgrind", "--tool=memcheck", f"--log-file={self.report}", *super().command()]


def invalid_accesses(report: Path) -> list[str]:
    """memcheck's error headings: invalid reads, writes and frees (not lzf's known
    uninitialised-value warnings, which are the server's own: its hash table on the stack)."""
    return re.findall(r"== (Invalid (?:read|write|free)[^\n]*)", report.read_text())


def definitely_lost(report: Path) -> int:
    """Bytes memcheck found definitely lost at exit (0 when it reported no leak summary)."""
    m = re.search(r"definitely lost: ([\d,]+) bytes", report.read_text())
    return int(m.group(1).replace(",", "")) if m else 0
