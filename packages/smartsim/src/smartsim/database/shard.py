"""The command line of one database shard (pure: no processes, no I/O).

A shard is ``python <entrypoints/dbnode.py> --ifname .. --name .. --port .. --log-file ..
-- <server> <options> --loadmodule <ai.so> KEY VALUE ...``.  The entry point adds
``--bind`` for the interface it resolves on the node; everything else is here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from smartsim.database.security import DBSecurity
from smartsim.error import SmartSimError

ENTRYPOINT = Path(__file__).resolve().parent.parent / "_core" / "entrypoints" / "dbnode.py"

#: Orchestrator keyword -> module argument (RedisAI's names; SmartSim 0.4 and 0.8 spellings).
MODULE_KWARGS = {
    "threads_per_queue": "THREADS_PER_QUEUE",
    "inter_op_threads": "INTER_OP_PARALLELISM",
    "intra_op_threads": "INTRA_OP_PARALLELISM",
    "inter_op_parallelism": "INTER_OP_PARALLELISM",
    "intra_op_parallelism": "INTRA_OP_PARALLELISM",
}

#: Server options every shard gets (SmartSim's redis6.conf, minus ``protected-mode no``).
BASE_SERVER_OPTIONS: dict[str, str] = {
    "daemonize": "no",
    "save": "",
    "appendonly": "no",
    "maxclients": "50000",
    "tcp-backlog": "511",
    "stop-writes-on-bgsave-error": "no",
}

CLUSTER_OPTIONS: dict[str, str] = {
    "cluster-enabled": "yes",
    "cluster-node-timeout": "5000",
    "cluster-require-full-coverage": "yes",
}


def module_args_from_kwargs(
    kwargs: dict[str, object], module_args: Mapping[str, object] | None = None
) -> dict[str, str]:
    """Pop the module keywords out of ``kwargs`` and merge ``module_args`` (KEY VALUE pairs).

    Values must be positive integers for the thread settings; ``module_args`` keys are
    passed through upper-cased (worker settings of the ``ai`` module, e.g. its worker count).
    """
    result: dict[str, str] = {}
    for kwarg, key in MODULE_KWARGS.items():
        value = kwargs.pop(kwarg, None)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SmartSimError(f"{kwarg} must be a positive integer, got {value!r}")
        result[key] = str(value)
    for key, value in (module_args or {}).items():
        if not isinstance(key, str) or not key or " " in key:
            raise SmartSimError(f"module argument names must be single words, got {key!r}")
        if value is None or str(value) == "" or " " in str(value):
            raise SmartSimError(f"module argument {key} needs a single-word value, got {value!r}")
        result[key.upper()] = str(value)
    return result


@dataclass(frozen=True)
class ShardCommand:
    """Everything needed to build one shard's command line."""

    name: str
    port: int
    directory: Path
    server: Path
    module: Path
    interfaces: Sequence[str]
    module_args: Mapping[str, str] = field(default_factory=dict)
    cluster: bool = False
    server_options: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable
    security: DBSecurity = field(default_factory=DBSecurity)

    @property
    def log_file(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def cluster_config_file(self) -> Path:
        return self.directory / f"nodes-{self.name}-{self.port}.conf"

    @property
    def secret_file(self) -> Path:
        """The ``0600`` config file with the password (written by the Orchestrator)."""
        return self.directory / f"{self.name}.secret.conf"

    def server_argv(self) -> list[str]:
        """The server's own command line (without ``--bind``, which the node adds).

        The password is read from :attr:`secret_file`, never given on the command line.
        """
        options = dict(BASE_SERVER_OPTIONS)
        if self.cluster:
            options.update(CLUSTER_OPTIONS)
            options["cluster-config-file"] = self.cluster_config_file.name
        options.update(self.server_options)
        for secret in ("requirepass", "masterauth"):
            options.pop(secret, None)
        argv = [str(self.server)]
        if self.security.password:
            argv.append(str(self.secret_file))
        argv += [*self.security.port_options(self.port, self.cluster), "--dir", str(self.directory)]
        argv += ["--logfile", str(self.log_file)]
        for key, value in options.items():
            argv += [f"--{key}", value]
        argv += ["--loadmodule", str(self.module)]
        for key, value in self.module_args.items():
            argv += [key, value]
        return argv

    def exe_args(self) -> list[str]:
        """Arguments of ``python`` for the DBNode's run settings."""
        return [
            str(ENTRYPOINT),
            "--ifname",
            ",".join(self.interfaces),
            "--name",
            self.name,
            "--port",
            str(self.port),
            "--log-file",
            str(self.log_file),
            "--",
            *self.server_argv(),
        ]
