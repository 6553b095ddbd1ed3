"""A database colocated with an application (``Model.colocate_db_tcp`` / ``_uds``).

The settings live in ``run_settings.colocated_db_settings``; :func:`wrap_colocated`
turns the model's launch command into ``python entrypoints/colocated.py --config <json>
-- <program>`` so the database starts beside the program and stops with it.  A run
command (mpirun, srun) stays in front: each node's first rank starts the database.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from smartsim.database.orchestrator import _locate_server
from smartsim.database.security import DBSecurity
from smartsim.database.shard import module_args_from_kwargs
from smartsim.error import SmartSimError, SSUnsupportedError

ENTRYPOINT = Path(__file__).resolve().parent.parent / "_core" / "entrypoints" / "colocated.py"
#: How the colocated database's password reaches the entry point (the model's environment).
PASSWORD_ENV = "SMARTSIM_COLO_DB_PASSWORD"


def colocated_settings(
    *,
    port: int | None = None,
    ifname: str | list[str] | None = None,
    unix_socket: str | None = None,
    socket_permissions: int = 755,
    db_cpus: int = 1,
    custom_pinning: list[int] | None = None,
    debug: bool = False,
    password: str | bool | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Check the arguments and build the JSON-able settings the entry point reads.

    ``threads_per_queue``, ``inter_op_parallelism``/``intra_op_parallelism`` (and the 0.4
    spellings) and ``module_args`` go to the module; other keyword arguments become
    server options (``maxmemory="1gb"`` -> ``--maxmemory 1gb``).  ``password`` (a str, or
    ``True`` to generate one) is kept under ``"password"``; it reaches the entry point
    through the environment (:data:`PASSWORD_ENV`), never its command line.
    """
    module_args = module_args_from_kwargs(kwargs, kwargs.pop("module_args", None))
    kwargs.pop("db_identifier", None)
    kwargs.pop("limit_app_cpus", None)
    if "requirepass" in kwargs:
        conf_pass = kwargs.pop("requirepass")
        password = DBSecurity.from_args(password, db_conf={"requirepass": conf_pass}).password
    security = DBSecurity.from_args(password)
    server, module = _locate_server(kwargs.pop("server", None))
    if isinstance(db_cpus, bool) or not isinstance(db_cpus, int) or db_cpus < 1:
        raise SmartSimError(f"db_cpus must be a positive int, got {db_cpus!r}")
    if custom_pinning is not None:
        if not isinstance(custom_pinning, (list, tuple)) or not all(
            isinstance(c, int) and c >= 0 for c in custom_pinning
        ):
            raise TypeError("custom_pinning must be a list of CPU numbers (ints >= 0)")
        if not custom_pinning:
            custom_pinning = None
    cfg: dict[str, Any] = {
        "server": str(server.path),
        "module": str(module),
        "module_args": module_args,
        "db_cpus": db_cpus,
        "custom_pinning": list(custom_pinning) if custom_pinning else None,
        "debug": bool(debug),
        "db_conf": {k.replace("_", "-"): str(v) for k, v in kwargs.items()},
    }
    if security.password:
        cfg["password"] = security.password  # removed from the JSON of the command line
    if unix_socket is not None:
        if not isinstance(unix_socket, str) or not unix_socket:
            raise TypeError("unix_socket must be a non-empty str (the socket file's path)")
        if not isinstance(socket_permissions, int):
            raise TypeError("socket_permissions must be an int such as 755")
        cfg.update(unix_socket=os.path.abspath(unix_socket), socket_permissions=socket_permissions)
    else:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise SmartSimError(f"port must be an int between 1 and 65535, got {port!r}")
        names = [ifname] if isinstance(ifname, str) else list(ifname or ["lo"])
        cfg.update(port=port, ifname=[n for n in names if n not in ("lo", "127.0.0.1")])
    return cfg


def check_colocatable(run_settings: Any) -> None:
    if getattr(run_settings, "mpmd", None):
        raise SSUnsupportedError("a colocated database cannot be used with an MPMD model")


def colocated_address(cfg: dict[str, Any]) -> str:
    """What ``SSDB`` is for the application."""
    if cfg.get("unix_socket"):
        return f"unix://{cfg['unix_socket']}"
    return f"127.0.0.1:{cfg['port']}"


def wrap_colocated(argv: list[str], exe_tokens: list[str], cfg: dict[str, Any]) -> list[str]:
    """Put the colocated entry point in front of the program inside ``argv``.

    ``exe_tokens`` is the program part (exe + args) at the end of ``argv``; whatever comes
    before it (a run command and its arguments) stays in front.
    """
    cfg = {k: v for k, v in cfg.items() if k != "password"}  # never on a command line
    n = len(exe_tokens)
    if n and argv[-n:] == exe_tokens:
        prefix, program = argv[:-n], argv[-n:]
    else:
        prefix, program = [], argv
    wrapper = [sys.executable, str(ENTRYPOINT), "--config", json.dumps(cfg), "--"]
    return [*prefix, *wrapper, *program]


def colocate(model: Any, **kwargs: Any) -> None:
    """Attach a colocated database to ``model`` (``Model.colocate_db_tcp``/``_uds``)."""
    if model.run_settings is None:
        raise SmartSimError(f"model {model.name!r} has no run settings to colocate a database with")
    check_colocatable(model.run_settings)
    model.run_settings.colocated_db_settings = colocated_settings(**kwargs)


def wrap_model_command(model: Any, argv: list[str]) -> list[str]:
    """The model's launch command with the colocated entry point in front of the program."""
    settings = model.run_settings
    cfg = settings.colocated_db_settings if settings is not None else None
    if not cfg:
        return argv
    cfg = dict(cfg)
    if cfg.get("debug"):
        cfg["log_file"] = os.path.join(model.path, f"{model.name}-db.log")
    return wrap_colocated(argv, [settings.exe_path, *settings.exe_args], cfg)
