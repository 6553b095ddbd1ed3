"""A server run under valgrind memcheck, and what its report says (tests only)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
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


def problems(report: Path) -> list[str]:
    """What memcheck's report holds against the run: invalid reads, writes and frees, memory
    definitely lost at exit, or no summary at all (valgrind did not run to the end).  lzf's
    uninitialised-value warnings are left out: they are the server's own (its hash table on
    the stack)."""
    text = report.read_text()
    if "ERROR SUMMARY" not in text:
        return ["memcheck did not run to its summary"]
    found = re.findall(r"== (Invalid (?:read|write|free)[^\n]*)", text)
    lost = re.search(r"definitely lost: ([\d,]+) bytes", text)
    if lost and lost.group(1) != "0":
        found.append(f"{lost.group(1)} bytes definitely lost")
    return found


@contextmanager
def memcheck_client(
    binary: Path, workdir: Path, start_timeout: float = 120, socket_timeout: float = 120
) -> Iterator[Any]:
    """A redis-py client of a server run under memcheck in ``workdir``.  On leaving, the
    client is closed, the server stopped, and an AssertionError raised with the report's
    tail if memcheck found anything (``problems``)."""
    import redis

    report = workdir / "memcheck.txt"
    server = MemcheckServer(binary, workdir=workdir, report=report)
    server.start(timeout=start_timeout)
    try:
        client = redis.Redis(host=server.host, port=server.port, socket_timeout=socket_timeout)
        yield client
        client.close()
    finally:
        server.stop(timeout=max(60.0, start_timeout - 60))
    found = problems(report)
    assert found == [], f"{found}\n{report.read_text()[-4000:]}"
