"""SmartSim 0.3's launcher-specific Orchestrators, kept as deprecated aliases.

Each warns with ``DeprecationWarning`` and builds an :class:`Orchestrator` for its launcher,
with SmartSim 0.4's defaults.
"""

from __future__ import annotations

import warnings
from typing import Any

from smartsim.database.orchestrator import Orchestrator
from smartsim.error import SSUnsupportedError


def _port_alias(port: int, kwargs: dict[str, Any], cls: str) -> int:
    """``db_port`` (as in SmartSim 0.3's examples) is the same as ``port``."""
    if "db_port" not in kwargs:
        return port
    db_port = kwargs.pop("db_port")
    if port != 6379 and port != db_port:
        raise TypeError(f"{cls} got port={port} and db_port={db_port}; give only one")
    return db_port


def _warn(old: str, launcher: str) -> None:
    warnings.warn(
        f"{old} is deprecated; use Orchestrator(launcher={launcher!r}, ...) or "
        "exp.create_database(...)",
        DeprecationWarning,
        stacklevel=3,
    )


class SlurmOrchestrator(Orchestrator):
    """Deprecated: ``Orchestrator(launcher="slurm")``."""

    def __init__(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        batch: bool = True,
        hosts: list[str] | str | None = None,
        run_command: str = "srun",
        account: str | None = None,
        time: str | None = None,
        alloc: str | None = None,
        db_per_host: int = 1,
        interface: str = "ipogif0",
        single_cmd: bool = False,
        **kwargs: Any,
    ) -> None:
        _warn("SlurmOrchestrator", "slurm")
        if db_per_host != 1:
            raise SSUnsupportedError(
                f"db_per_host={db_per_host} is not supported: the Orchestrator runs one shard "
                "per node; use db_nodes for more shards"
            )
        super().__init__(
            port=_port_alias(port, kwargs, "SlurmOrchestrator"),
            interface=interface,
            launcher="slurm",
            run_command=run_command,
            db_nodes=db_nodes,
            batch=batch,
            hosts=hosts,
            account=account,
            time=time,
            alloc=alloc,
            single_cmd=single_cmd,
            **kwargs,
        )


class PBSOrchestrator(Orchestrator):
    """Deprecated: ``Orchestrator(launcher="pbs")``."""

    _launcher = "pbs"

    def __init__(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        batch: bool = True,
        hosts: list[str] | str | None = None,
        run_command: str = "aprun",
        interface: str = "ipogif0",
        account: str | None = None,
        time: str | None = None,
        queue: str | None = None,
        single_cmd: bool = True,
        **kwargs: Any,
    ) -> None:
        _warn(type(self).__name__, self._launcher)
        super().__init__(
            port=_port_alias(port, kwargs, type(self).__name__),
            interface=interface,
            launcher=self._launcher,
            run_command=run_command,
            db_nodes=db_nodes,
            batch=batch,
            hosts=hosts,
            account=account,
            time=time,
            queue=queue,
            single_cmd=single_cmd,
            **kwargs,
        )


class CobaltOrchestrator(PBSOrchestrator):
    """Deprecated: ``Orchestrator(launcher="cobalt")``."""

    _launcher = "cobalt"

    def __init__(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        batch: bool = True,
        hosts: list[str] | str | None = None,
        run_command: str = "aprun",
        interface: str = "ipogif0",
        account: str | None = None,
        queue: str | None = None,
        time: str | None = None,
        single_cmd: bool = True,
        **kwargs: Any,
    ) -> None:
        # 0.4's order: queue before time (PBSOrchestrator has time first)
        super().__init__(
            port, db_nodes, batch, hosts, run_command, interface, account,
            time=time, queue=queue, single_cmd=single_cmd, **kwargs,
        )  # fmt: skip


class LSFOrchestrator(Orchestrator):
    """Deprecated: ``Orchestrator(launcher="lsf")``."""

    def __init__(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        cpus_per_shard: int = 4,
        gpus_per_shard: int = 0,
        batch: bool = True,
        hosts: list[str] | str | None = None,
        project: str | None = None,
        time: str | None = None,
        interface: str = "ib0",
        single_cmd: bool = True,
        **kwargs: Any,
    ) -> None:
        if not single_cmd:
            raise SSUnsupportedError(
                "LSFOrchestrator can only run with single_cmd=True (MPMD) in SmartSim 0.4"
            )
        _warn("LSFOrchestrator", "lsf")
        super().__init__(
            port=_port_alias(port, kwargs, "LSFOrchestrator"),
            interface=interface,
            launcher="lsf",
            run_command="jsrun",
            db_nodes=db_nodes,
            batch=batch,
            hosts=hosts,
            account=project,
            time=time,
            single_cmd=single_cmd,
            **kwargs,
        )
        # each shard's jsrun resource set gets these (as 0.4's LSFOrchestrator did)
        self.set_cpus(cpus_per_shard)
        if gpus_per_shard:
            for part in self._all_shard_settings():
                part.set_gpus_per_rs(gpus_per_shard)  # type: ignore[attr-defined]
