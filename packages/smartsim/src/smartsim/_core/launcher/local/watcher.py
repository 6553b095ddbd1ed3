"""One thread that notices child exits as they happen.

Each process gets a pidfd (Linux >= 5.3) registered with epoll: the pidfd becomes readable
the moment the process exits, so the status changes within milliseconds, with no polling
interval. Where a pidfd cannot be had (other OS, too many open files) the process is polled
every 20 ms by the same thread instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

ExitCallback = Callable[[str, "subprocess.Popen[bytes]"], None]
_POLL_INTERVAL = 0.02


class ExitWatcher:
    """Calls ``on_exit(key, proc)`` once per watched process, from its own thread."""

    def __init__(self, on_exit: ExitCallback, use_pidfd: bool = True) -> None:
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._by_fd: dict[int, tuple[str, subprocess.Popen[bytes]]] = {}
        self._polled: dict[str, subprocess.Popen[bytes]] = {}
        usable = use_pidfd and hasattr(select, "epoll") and hasattr(os, "pidfd_open")
        self._epoll = select.epoll() if usable else None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        if self._epoll is not None:
            self._epoll.register(self._wake_r, select.EPOLLIN)
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="smartsim-exit-watcher", daemon=True)
        self._thread.start()

    def watch(self, key: str, proc: subprocess.Popen[bytes]) -> None:
        """Start watching ``proc`` (which may already have exited)."""
        fd = -1
        if self._epoll is not None:
            try:
                fd = os.pidfd_open(proc.pid)
            except OSError as exc:
                logger.debug("pidfd_open(%d) failed (%s); polling it instead", proc.pid, exc)
        with self._lock:
            if fd >= 0:
                self._by_fd[fd] = (key, proc)
                assert self._epoll is not None
                self._epoll.register(fd, select.EPOLLIN)
                return
            self._polled[key] = proc
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _finish(self, key: str, proc: subprocess.Popen[bytes]) -> None:
        try:
            self._on_exit(key, proc)
        except Exception:  # a callback error must not stop the watcher
            logger.exception("status callback failed for %s", key)

    def _check_fd(self, fd: int) -> bool:
        """Reap the process behind a readable pidfd; False if someone else holds its lock."""
        with self._lock:
            entry = self._by_fd.get(fd)
        if entry is None:
            return True
        key, proc = entry
        if proc.poll() is None:
            return False
        with self._lock:
            self._by_fd.pop(fd, None)
            assert self._epoll is not None
            with contextlib.suppress(OSError, ValueError):
                self._epoll.unregister(fd)
            os.close(fd)
        self._finish(key, proc)
        return True

    def _check_polled(self) -> None:
        with self._lock:
            items = list(self._polled.items())
        for key, proc in items:
            if proc.poll() is not None:
                with self._lock:
                    self._polled.pop(key, None)
                self._finish(key, proc)

    def _run(self) -> None:
        while not self._closing:
            timeout = _POLL_INTERVAL if self._polled else 1.0
            if self._epoll is not None:
                events = self._epoll.poll(timeout)
            else:
                ready, _, _ = select.select([self._wake_r], [], [], timeout)
                events = [(self._wake_r, 0)] if ready else []
            stalled = False
            for fd, _mask in events:
                if fd == self._wake_r:
                    with contextlib.suppress(OSError):
                        os.read(self._wake_r, 4096)
                    continue
                if not self._check_fd(fd):
                    stalled = True
            if self._polled:
                self._check_polled()
            if stalled:
                time.sleep(0.001)  # another thread is reaping it (stop); let it finish

    def close(self) -> None:
        """Stop the thread and release the pidfds (watched processes are not touched)."""
        self._closing = True
        self._wake()
        self._thread.join(timeout=5)
        with self._lock:
            for fd in self._by_fd:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._by_fd.clear()
            self._polled.clear()
        if self._epoll is not None:
            self._epoll.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
