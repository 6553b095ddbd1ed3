"""Helpers shared by smartsim's real-process tests."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

import psutil
import pytest


def alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_pids(path: str, count: int, timeout: float = 30.0) -> list[int]:
    """Wait until ``path`` lists ``count`` pids (one per line) and return them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            lines = [ln for ln in open(path).read().split() if ln.strip()]
            if len(lines) >= count:
                return [int(x) for x in lines[:count]]
        time.sleep(0.02)
    raise AssertionError(f"{path} did not list {count} pids within {timeout} s")


def kill_leftovers(pids: list[int]) -> None:
    """Last-resort cleanup so a failing test does not leave processes behind."""
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


@pytest.fixture
def exp(tmp_path):
    """An Experiment in a temporary directory; everything it started is stopped at the end."""
    from smartsim import Experiment

    e = Experiment("test", exp_path=str(tmp_path), launcher="local")
    yield e
    e._control.stop_all()


class ProcTools:
    """The helpers above, as a fixture (test modules cannot import conftest in importlib mode)."""

    alive = staticmethod(alive)
    read_pids = staticmethod(read_pids)
    kill_leftovers = staticmethod(kill_leftovers)


@pytest.fixture
def procs() -> ProcTools:
    """Process helpers: alive(pid), read_pids(path, n), kill_leftovers(pids)."""
    return ProcTools()


@pytest.fixture
def smartsim_log() -> Iterator[list[str]]:
    """Warnings and errors logged under ``smartsim`` (which does not propagate to the root)."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("smartsim")
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
