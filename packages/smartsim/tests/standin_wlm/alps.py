"""Parallel launchers inside a stand-in job: ALPS ``aprun`` (Cray PBS and Cobalt sites) and
:func:`run_mpmd`, which the PALS ``mpiexec`` stand-in shares. Every rank is a local process;
a scheduler module decides whether the caller is inside a job before calling these."""

from __future__ import annotations

import sys
from collections.abc import Callable

from standin_wlm._apps import run_apps


def run_mpmd(
    ranks: list[tuple[list[str], dict[str, str]]],
    rank_env: Callable[[int], dict[str, str]],
    cwd: str | None = None,
) -> int:
    """One process per ``(argv, extra env)`` in ``ranks`` (rank = its index, whose
    ``rank_env(rank)`` is added too), run by :func:`standin_wlm._apps.run_apps`."""
    return run_apps([(argv, 1, extra) for argv, extra in ranks], lambda r, _size: rank_env(r), cwd)


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
