"""Parallel launchers inside a stand-in job: ALPS ``aprun`` (Cray PBS and Cobalt sites) and
:func:`run_mpmd`, which the PALS ``mpiexec`` stand-in shares. Every rank is a local process;
a scheduler module decides whether the caller is inside a job before calling these."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any


def run_mpmd(
    ranks: list[tuple[list[str], dict[str, str]]],
    rank_env: Callable[[int], dict[str, str]],
    cwd: str | None = None,
) -> int:
    """Start one process per ``(argv, extra env)`` in ``ranks`` (rank = its index, whose
    ``rank_env(rank)`` is added too) and wait; the first non-zero exit code (128+n for a
    signal), else 0. SIGTERM/SIGINT to this process is passed on to every rank."""
    procs: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: Any) -> None:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for rank, (argv, extra) in enumerate(ranks):
        try:
            procs.append(
                subprocess.Popen(argv, env={**os.environ, **extra, **rank_env(rank)}, cwd=cwd)
            )
        except OSError as exc:
            forward(signal.SIGKILL, None)
            print(f"{os.path.basename(argv[0])}: cannot execute: {exc.strerror}", file=sys.stderr)
            return 127
    code = 0
    for p in procs:
        rc = p.wait()
        rc = 128 - rc if rc < 0 else rc
        if rc and not code:
            code = rc
    return code


_WITH_VALUE = {"-n", "-N", "-d", "-cc", "-e", "-L", "-E", "-m", "-j", "-S", "-sl", "-p",
               "-r", "-t", "--pes", "--pes-per-node", "--cpus-per-pe", "--cpu-binding",
               "--node-list", "--exclude-node-list", "--wdir", "--memory-per-pe",
               "--cpu-time-limit", "--access-mode"}  # fmt: skip
_FLAGS = {"-b", "-q", "-B", "-T", "-F", "-C", "-D", "--quiet", "--bypass-app-transfer",
          "--debug", "--sync-output"}  # fmt: skip


def aprun(argv: list[str]) -> int:
    """``aprun [-n pes] [-N per node] [-d depth] [-cc list] [-e K=V] [--wdir dir] cmd
    [: -n pes cmd2 ...]``; ranks get ``ALPS_APP_PE``."""
    ranks: list[tuple[list[str], dict[str, str]]] = []
    i, n, env, wdir = 0, 1, {}, None
    while i < len(argv):
        arg, eq, inline = argv[i].partition("=") if argv[i].startswith("--") else (argv[i], "", "")
        if arg in _WITH_VALUE:
            if not eq and i + 1 >= len(argv):
                print(f"aprun: option {arg} requires an argument", file=sys.stderr)
                return 1
            value = inline if eq else argv[i + 1]
            if arg in ("-n", "--pes"):
                if not value.isdigit() or int(value) < 1:
                    print(f"aprun: -n value {value} is not a positive integer", file=sys.stderr)
                    return 1
                n = int(value)
            elif arg == "-e":
                key, _, val = value.partition("=")
                env[key] = val
            elif arg == "--wdir":
                wdir = value
            i += 1 if eq else 2
            continue
        if arg in _FLAGS:
            i += 1
            continue
        if arg.startswith("-"):
            print(f"aprun: Unrecognized option {arg}", file=sys.stderr)
            return 1
        end = argv.index(":", i) if ":" in argv[i:] else len(argv)
        ranks += [(argv[i:end], dict(env)) for _ in range(n)]
        i, n, env = end + 1, 1, {}
    if not ranks:
        print("aprun: Missing command", file=sys.stderr)
        return 1
    return run_mpmd(ranks, lambda r: {"ALPS_APP_PE": str(r)}, cwd=wdir)
