"""Running programs as the ranks of one launch, for every parallel launcher of the stand-ins
(aprun and its ``a : b`` form, PALS mpiexec, jsrun and its ERF files, the toy scheduler's)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: one program of a launch: its argv, its number of ranks and variables for all its ranks
App = tuple[list[str], int, dict[str, str]]


def run_apps(
    apps: list[App],
    rank_env: Callable[[int, int], dict[str, str]],
    cwd: str | None = None,
    stdout: str | None = None,
    stderr: str | None = None,
) -> int:
    """Start every rank of every app (``rank_env(rank, size)`` added to each), wait for all;
    the first non-zero exit code (128+n for a signal), else 0. SIGTERM/SIGINT to this
    process is passed on to the ranks (as jsrun and aprun do)."""
    procs: list[subprocess.Popen[bytes]] = []
    size = sum(n for _, n, _ in apps)

    def forward(signum: int, _frame: Any) -> None:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    out = open(stdout, "ab") if stdout else None
    err = open(stderr, "ab") if stderr else None
    rank = 0
    try:
        for argv, count, env in apps:
            for _ in range(count):
                procs.append(
                    subprocess.Popen(
                        argv,
                        env={**os.environ, **env, **rank_env(rank, size)},
                        cwd=cwd,
                        stdout=out,
                        stderr=err,
                    )
                )
                rank += 1
    except OSError as exc:
        forward(signal.SIGKILL, None)
        print(f"{Path(argv[0]).name}: cannot execute: {exc.strerror}", file=sys.stderr)
        return 127
    code = 0
    for p in procs:
        rc = p.wait()
        rc = 128 - rc if rc < 0 else rc
        if rc and not code:
            code = rc
    return code
