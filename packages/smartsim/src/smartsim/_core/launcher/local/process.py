"""Starting a process in its own session and stopping its whole process tree."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import psutil

from smartsim._core.launcher.step import Step
from smartsim.error import LauncherError


def start_process(step: Step, base_env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``step`` in a new session (so it has its own process group).

    stdout/stderr go to the step's output files (truncated), stdin is /dev/null.
    """
    ctx = step.context
    if not os.path.isdir(ctx.cwd):
        raise LauncherError(
            f"the directory of {step.entity_name} does not exist: {ctx.cwd} (call "
            "Experiment.generate or create it)"
        )
    env = dict(base_env)
    env.update(step.env)
    try:
        with open(ctx.output_file, "wb") as out, open(ctx.error_file, "wb") as err:
            return subprocess.Popen(
                step.command,
                cwd=ctx.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
    except OSError as exc:
        raise LauncherError(f"could not start {step.entity_name} ({step}): {exc}") from exc


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def terminate_trees(procs: list[subprocess.Popen[bytes]], grace: float = 3.0) -> None:
    """SIGTERM every process group and every descendant, wait ``grace`` s, then SIGKILL.

    Descendants are collected first, so processes that left the group (a daemon that
    called setsid, an MPI rank started by a daemon) are found through psutil as well.
    """
    descendants: list[psutil.Process] = []
    for proc in procs:
        descendants += _descendants(proc.pid)
    for proc in procs:
        _signal_group(proc.pid, signal.SIGTERM)
    for child in descendants:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    _, alive = psutil.wait_procs(descendants, timeout=max(0.0, deadline - time.monotonic()))
    for proc in procs:
        _signal_group(proc.pid, signal.SIGKILL)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    psutil.wait_procs(alive, timeout=5)
