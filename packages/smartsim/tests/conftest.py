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


def _standin_package():  # tests/standin_wlm, loaded by path (importlib mode has no rootdir)
    import importlib.util
    import sys
    from pathlib import Path

    if "standin_wlm" not in sys.modules:
        folder = Path(__file__).parent / "standin_wlm"
        spec = importlib.util.spec_from_file_location(
            "standin_wlm", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["standin_wlm"] = module
        spec.loader.exec_module(module)
    return sys.modules["standin_wlm"]


@pytest.fixture
def standin_wlm(tmp_path_factory, monkeypatch):
    """Factory: ``standin_wlm("pbs")`` puts that stand-in scheduler's commands
    (``tests/standin_wlm/<name>.py``) first on PATH, points ``STANDIN_WLM_DIR`` at a fresh
    state directory and returns its :class:`standin_wlm.StandIn` (call log, job records,
    fault injection). Every job process still alive at the end of the test is killed."""
    package = _standin_package()
    made = []

    def make(scheduler: str):
        standin = package.StandIn(scheduler, tmp_path_factory.mktemp(f"standin-{scheduler}"))
        for key in ("PATH", package.DIR_ENV):
            monkeypatch.setenv(key, standin.env()[key])
        made.append(standin)
        return standin

    yield make
    for standin in made:
        standin.close()
