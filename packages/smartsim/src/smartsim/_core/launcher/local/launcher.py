"""LocalLauncher: each step is a child process in its own session.

* ``stdout``/``stderr`` go to ``<name>.out``/``<name>.err`` in the entity's directory;
* exits are seen the moment they happen (:mod:`.watcher`), exit codes are recorded;
* :meth:`LocalLauncher.stop` sends SIGTERM to the process group and every descendant,
  then SIGKILL after a grace period;
* nothing outlives the driver: every process still running when the interpreter exits, or
  when it gets SIGTERM/SIGHUP, is stopped the same way (Ctrl-C raises KeyboardInterrupt,
  which ends in the same exit path unless the driver catches it). Steps launched with
  ``StepContext.detached`` (``start(..., kill_on_interrupt=False)``) are left running.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar

from smartsim._core.launcher.base import Launcher, StepInfo
from smartsim._core.launcher.local.process import start_process, terminate_trees
from smartsim._core.launcher.local.states import describe_returncode, status_from_returncode
from smartsim._core.launcher.local.steps import create_local_step
from smartsim._core.launcher.local.watcher import ExitWatcher
from smartsim._core.launcher.step import Step, StepContext
from smartsim.settings.base import RunSettings

logger = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[LocalLauncher] = weakref.WeakSet()
_HOOKS_INSTALLED = False
_HOOK_LOCK = threading.Lock()


class LocalLauncher(Launcher):
    """Runs steps as local processes (any run command, e.g. mpirun, works)."""

    name: ClassVar[str] = "local"
    #: seconds between SIGTERM and SIGKILL when stopping
    stop_grace: float = 3.0

    def __init__(self) -> None:
        super().__init__()
        # reentrant: the SIGTERM/SIGHUP handler may stop steps while the main thread is
        # inside run() holding this lock
        self._lock = threading.RLock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._stopped: set[str] = set()
        self._reported: set[str] = set()
        self._detached: set[str] = set()
        self._watcher: ExitWatcher | None = None
        _LIVE.add(self)
        _install_exit_hooks()

    @classmethod
    def detect(cls) -> bool:
        """Always available."""
        return True

    def create_step(
        self,
        name: str,
        run_settings: RunSettings,
        context: StepContext,
        wrap_command: Callable[[list[str]], list[str]] | None = None,
    ) -> Step:
        """Build the command (run command, arguments, exe) and resolve its first word."""
        return create_local_step(name, run_settings, context, wrap_command)

    def run(self, step: Step) -> str:
        """Start the step's process; its exit is reported through the status callbacks."""
        with self._lock:
            if self._watcher is None:
                self._watcher = ExitWatcher(self._on_exit)
        # Ctrl-C, SIGTERM and SIGHUP wait until the process is registered: one arriving
        # between its start and its registration would stop everything but it.
        with _stop_signals_held():
            proc = start_process(step, dict(os.environ))
            with self._lock:
                self._procs[step.name] = proc
                if step.context.detached:
                    self._detached.add(step.name)
        step.launched_id = str(proc.pid)
        self._watcher.watch(step.name, proc)
        logger.debug("started %s (pid %d): %s", step.entity_name, proc.pid, step)
        return step.name

    def _report(self, step_id: str, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            if step_id in self._reported:
                return
            self._reported.add(step_id)
            stopped = step_id in self._stopped
            self._procs.pop(step_id, None)
        rc = proc.returncode
        status = status_from_returncode(rc, stopped)
        self._notify(step_id, StepInfo(status, rc, describe_returncode(rc)))

    def _on_exit(self, step_id: str, proc: subprocess.Popen[bytes]) -> None:
        self._report(step_id, proc)

    def stop(self, step_ids: Iterable[str]) -> None:
        """Stop these steps' process trees (TERM, grace, KILL); they end Cancelled."""
        targets: list[tuple[str, subprocess.Popen[bytes]]] = []
        with self._lock:
            for step_id in step_ids:
                proc = self._procs.get(step_id)
                if proc is not None and step_id not in self._reported:
                    self._stopped.add(step_id)
                    targets.append((step_id, proc))
        if not targets:
            return
        terminate_trees([p for _, p in targets], grace=self.stop_grace)
        for step_id, proc in targets:
            self._report(step_id, proc)

    def active_steps(self) -> list[str]:
        """Steps whose process has not been seen to exit yet."""
        with self._lock:
            return [s for s in self._procs if s not in self._reported]

    def attached_steps(self) -> list[str]:
        """Running steps that must not outlive the driver (all but detached ones)."""
        with self._lock:
            return [s for s in self._procs if s not in self._reported and s not in self._detached]

    def stop_all(self) -> None:
        """Stop every step still running that is not detached."""
        self.stop(self.attached_steps())

    def close(self) -> None:
        """Stop every attached step still running, then the exit watcher."""
        self.stop_all()
        with self._lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.close()


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """In the main thread, SIGINT/SIGTERM/SIGHUP arriving inside the block are raised again
    as it ends, to whatever handler was there (KeyboardInterrupt, the exit hooks below, the
    default action). Elsewhere Python runs no signal handler, so nothing needs holding."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for sig in _STOP_SIGNALS:
        handler = signal.getsignal(sig)
        if handler is not None:  # None: installed outside Python, left alone
            previous[sig] = signal.signal(sig, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)


def _stop_everything(reason: str) -> None:
    for launcher in list(_LIVE):
        active = launcher.attached_steps()
        if active:
            logger.warning("%s: stopping %d process(es) still running", reason, len(active))
            launcher.stop(active)
        launcher.run_exit_cleanups()


def _on_exit() -> None:
    _stop_everything("driver exiting")


def _on_fatal_signal(signum: int, frame: object) -> None:
    _stop_everything(f"driver received {signal.Signals(signum).name}")
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_exit_hooks() -> None:
    """Once per process: stop local processes at exit and on SIGTERM/SIGHUP."""
    global _HOOKS_INSTALLED
    with _HOOK_LOCK:
        if _HOOKS_INSTALLED:
            return
        _HOOKS_INSTALLED = True
        atexit.register(_on_exit)
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) == signal.SIG_DFL:
                signal.signal(sig, _on_fatal_signal)
