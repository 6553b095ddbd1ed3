"""The reconnect file: a JSON description of a running database for another driver.

Written by the Orchestrator once its database is up (``<path>/smartsim_db.dat``, the file
name SmartSim used; the content is JSON, not a pickle; mode ``0600``, as it holds the
database's password when it has one), read by
:func:`reconnect_orchestrator` (and ``Experiment.reconnect_orchestrator``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartsim.error import SmartSimError

if TYPE_CHECKING:
    from smartsim.database.orchestrator import Orchestrator

logger = logging.getLogger(__name__)

RECONNECT_FILE = "smartsim_db.dat"
FORMAT = "smartsim-orchestrator/1"


def reconnect_file_path(path: str | os.PathLike[str]) -> Path:
    return Path(path) / RECONNECT_FILE


def write_reconnect_file(orc: Orchestrator) -> Path:
    """Describe the running database in ``<orc.path>/smartsim_db.dat``; return its path."""
    shards = []
    for node in orc.entities:
        for shard, host, state in zip(node.shards, node.hosts, node.shard_states()):
            info = state.info or {}
            shards.append(
                {
                    "name": shard.name,
                    "path": str(node.path),
                    "host": host,
                    "port": node.port,
                    "pid": info.get("pid"),
                    "supervisor_pid": info.get("supervisor_pid"),
                    "hostname": info.get("hostname"),
                    "log_file": str(state.log_file),
                }
            )
    data: dict[str, Any] = {
        "format": FORMAT,
        "name": orc.name,
        "path": str(orc.path),
        "launcher": orc.launcher,
        "interface": orc.interfaces,
        "port": orc.ports[0],
        "db_nodes": orc.db_nodes,
        "cluster": orc.db_nodes > 1,
        "server": str(orc.server),
        "addresses": orc.get_address(),
        "shards": shards,
        "driver_pid": os.getpid(),
        "written": time.time(),
    }
    security = orc.security
    if security.password:
        data["password"] = security.password
    if security.tls:
        data["tls"] = {
            "tls_cert": security.tls_cert,
            "tls_key": security.tls_key,
            "tls_ca": security.tls_ca,
        }
    target = reconnect_file_path(orc.path)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it may hold the password
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(json.dumps(data, indent=2))
    tmp.replace(target)
    return target


def read_reconnect_file(checkpoint: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a reconnect file (or the ``smartsim_db.dat`` inside a directory)."""
    path = Path(checkpoint)
    if path.is_dir():
        path = path / RECONNECT_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no database reconnect file at {path}; it is written as {RECONNECT_FILE} in the "
            "Orchestrator's directory once the database has started"
        )
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SmartSimError(f"{path} is not a readable database reconnect file: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SmartSimError(
            f"{path} is not a reconnect file of this smartsim version "
            f"(format {data.get('format') if isinstance(data, dict) else None!r}, "
            f"expected {FORMAT!r})"
        )
    return data


def reconnect_orchestrator(checkpoint: str | os.PathLike[str]) -> Orchestrator:
    """An Orchestrator for the running database described by ``checkpoint``.

    Raises ``SmartSimError`` when that database is no longer running.
    """
    from smartsim.database.orchestrator import Orchestrator

    data = read_reconnect_file(checkpoint)
    orc = Orchestrator._from_reconnect_data(data)
    if not orc.is_active():
        raise SmartSimError(
            f"the database in {checkpoint} ({', '.join(data['addresses'])}) is not running "
            "any more; start a new one"
        )
    logger.info("reconnected to the database at %s", ", ".join(orc.get_address()))
    return orc
