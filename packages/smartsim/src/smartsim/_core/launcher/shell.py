"""The one way a launcher runs a scheduler command (sbatch, sacct, squeue, scancel, qstat...).

Every call has a timeout and a bounded number of tries: a scheduler command that fails or
hangs ends in :class:`~smartsim.error.ShellError` after ``tries`` attempts, naming the
command, what went wrong on the last try and how to change the limits, never in an endless
loop (SmartSim PR #392). A hanging command is killed with its whole process group, so a
wrapper script's children cannot keep the call waiting on its pipes.

Limits come from ``SMARTSIM_WLM_TIMEOUT`` (seconds per try, default 30) and
``SMARTSIM_WLM_TRIES`` (default 3), unless a call passes its own :class:`RetryPolicy`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from smartsim.error import LauncherError, ShellError

T = TypeVar("T")

logger = logging.getLogger(__name__)

TIMEOUT_ENV = "SMARTSIM_WLM_TIMEOUT"
TRIES_ENV = "SMARTSIM_WLM_TRIES"


def _env_number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        return max(minimum, float(raw))
    except ValueError:
        logger.warning("%s=%r is not a number; using %s", name, raw, default)
        return default


@dataclass(frozen=True)
class RetryPolicy:
    """How long one try may take, how many tries, and the pause before the second try
    (doubled for each later one)."""

    timeout: float = 30.0
    tries: int = 3
    backoff: float = 0.5

    @classmethod
    def from_env(cls, timeout: float | None = None, tries: int | None = None) -> RetryPolicy:
        """``SMARTSIM_WLM_TIMEOUT`` / ``SMARTSIM_WLM_TRIES`` (or the given values)."""
        return cls(
            timeout=timeout if timeout is not None else _env_number(TIMEOUT_ENV, 30.0, 0.1),
            tries=tries if tries is not None else int(_env_number(TRIES_ENV, 3, 1)),
        )

    def once(self, min_timeout: float = 0.0) -> RetryPolicy:
        """A single try (for commands that must not run twice: submits), with at least
        ``min_timeout`` seconds."""
        return RetryPolicy(max(self.timeout, min_timeout), 1, self.backoff)


@dataclass(frozen=True)
class CommandResult:
    """What a finished command printed and returned."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """stdout and stderr together (stripped)."""
        return "\n".join(s for s in (self.stdout.strip(), self.stderr.strip()) if s)


class _Timeout(Exception):
    pass


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _run_once(
    argv: Sequence[str], timeout: float, env: Mapping[str, str] | None, stdin: str | None
) -> CommandResult:
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else None,
        start_new_session=True,  # a timeout kills the command and everything it started
        close_fds=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=5)
        raise _Timeout() from None
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    return CommandResult(tuple(argv), proc.returncode, out or "", err or "")


class CommandRunner:
    """Runs scheduler commands with a timeout and bounded retries; counts every call.

    ``calls`` counts attempts per command name (``sacct``, ``squeue``...), which the
    benchmarks read to check that status polling makes one call per poll.
    """

    def __init__(self, wlm: str, policy: RetryPolicy | None = None) -> None:
        self.wlm = wlm
        self._policy = policy
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def policy(self) -> RetryPolicy:
        """The default policy (read from the environment when none was given)."""
        return self._policy or RetryPolicy.from_env()

    def run(
        self,
        argv: Sequence[str],
        what: str,
        policy: RetryPolicy | None = None,
        ok_codes: Sequence[int] = (0,),
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        accept: Sequence[str] = (),
    ) -> CommandResult:
        """Run ``argv``; retry on a non-zero exit or a timeout; ShellError after the last try.

        ``what`` says what the call is for (it starts the error message). An exit code in
        ``ok_codes``, or output containing one of the ``accept`` strings (e.g. scancel's
        "already completed"), counts as success.
        """
        pol = policy or self.policy
        name = os.path.basename(argv[0]) if argv else "?"
        last = ""
        for attempt in range(1, pol.tries + 1):
            with self._lock:
                self.calls[name] += 1
            try:
                result = _run_once(argv, pol.timeout, env, stdin)
            except FileNotFoundError as exc:
                raise ShellError(
                    f"{what}: {name} was not found ({exc.strerror}); is {self.wlm} installed "
                    "and on PATH?",
                    command_list=list(argv),
                ) from exc
            except _Timeout:
                last = f"timed out after {pol.timeout:g} s (killed)"
            else:
                if result.returncode in ok_codes or any(a in result.output for a in accept):
                    return result
                last = f"exit {result.returncode}: {result.output or '(no output)'}"
            if attempt < pol.tries:
                logger.debug("%s: try %d of %d failed (%s)", what, attempt, pol.tries, last)
                time.sleep(pol.backoff * 2 ** (attempt - 1))
        tries = "once" if pol.tries == 1 else f"{pol.tries} times"
        raise ShellError(
            f"{what}: {name} failed {tries} ({last}). Check that {self.wlm} answers "
            f"(e.g. run the command below by hand); {TIMEOUT_ENV} and {TRIES_ENV} set the "
            "timeout per try and the number of tries",
            shell_error=last,
            command_list=list(argv),
        )

    def run_parsed(
        self,
        argv: Sequence[str],
        what: str,
        parse: Callable[[str], T],
        ok_codes: Sequence[int] = (0,),
    ) -> tuple[T, CommandResult]:
        """:meth:`run`, then ``parse`` its stdout; an answer ``parse`` cannot read
        (LauncherError) is asked for again, up to the policy's tries."""
        tries = self.policy.tries
        for attempt in range(1, tries + 1):
            out = self.run(argv, what, ok_codes=ok_codes)
            try:
                return parse(out.stdout), out
            except LauncherError as exc:
                if attempt == tries:
                    raise LauncherError(f"{what}: {exc} ({tries} tries)") from exc
                logger.debug("%s: unreadable answer, asking again: %s", what, exc)
        raise AssertionError("unreachable")
