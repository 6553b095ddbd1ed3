"""``smartsim-ai-server``: start a database node with only this package installed.

It runs the server that :func:`~smartsim_ai.find_server` finds with the ``ai`` module loaded
and the model workers on this environment's Python::

    smartsim-ai-server --port 6379 --bind 0.0.0.0
    smartsim-ai-server --port 6379 -- THREADS_PER_QUEUE 2      # module arguments after --
    smartsim-ai-server --server /opt/redis/bin/redis-server --port 6379
    smartsim-ai-server --dry-run --port 6379                  # print the command only

Options before ``--`` go to the server unchanged (``--port``, ``--bind``, ``--save ""``,
``--daemonize yes``, any ``redis.conf`` directive); the server then replaces this process.
The Orchestrator of the ``smartsim`` library does the same and more (clusters, launchers).
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence

from smartsim_ai.locate import ModuleNotBuiltError, ServerNotFoundError, find_server, module_path


def server_command(argv: Sequence[str]) -> list[str]:
    """The server's command line for ``smartsim-ai-server`` arguments ``argv``."""
    args = list(argv)
    module_args: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, module_args = args[:cut], args[cut + 1 :]
    if len(module_args) % 2:
        raise ValueError(f"module arguments come in KEY VALUE pairs, got {module_args}")
    explicit = None
    if "--server" in args:
        at = args.index("--server")
        if at + 1 >= len(args):
            raise ValueError("--server needs the path of a valkey-server or redis-server")
        explicit = args[at + 1]
        del args[at : at + 2]
    keys = {k.upper() for k in module_args[::2]}
    if "WORKER_PYTHON" not in keys:
        # workers must import smartsim_ai: run them on this environment's interpreter
        module_args += ["WORKER_PYTHON", sys.executable]
    server = find_server(explicit)
    return [str(server.path), *args, "--loadmodule", str(module_path()), *module_args]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``smartsim-ai-server`` (``python -m smartsim_ai.server``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    dry_run = "--dry-run" in args
    if dry_run:
        args.remove("--dry-run")
    try:
        command = server_command(args)
    except (ValueError, ServerNotFoundError, ModuleNotBuiltError) as exc:
        print(f"smartsim-ai-server: {exc}", file=sys.stderr)
        return 2
    if dry_run:
        print(shlex.join(command))
        return 0
    sys.stdout.flush()
    os.execv(command[0], command)
    return 1  # not reached: execv replaces this process


if __name__ == "__main__":
    sys.exit(main())
