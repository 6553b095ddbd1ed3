"""Waiting on a condition, and finding a server's worker processes (tests only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 60.0, what: str = "condition") -> T:
    """Poll ``predicate`` every 50 ms until it returns something true, and return that;
    AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.05)


def worker_processes(server_pid: int, zombies: bool = False) -> list[Any]:
    """The ``smartsim_ai.worker`` children of the server process (psutil.Process objects);
    a worker just killed stays a zombie until the server reaps it, and is left out unless
    ``zombies``."""
    import psutil

    found = []
    for p in psutil.Process(server_pid).children():
        try:
            if "smartsim_ai.worker" in " ".join(p.cmdline()) and (
                zombies or p.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(p)
        except psutil.Error:
            pass
    return found
