"""Launch settings of the Orchestrator's shards: CPUs, hosts, wall time, run/batch args.

These change the shards' RunSettings (and the batch job's BatchSettings) before launch.
Argument keys the Orchestrator sets itself are refused with a warning, as in SmartSim 0.4.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from smartsim.error import SmartSimError, SSUnsupportedError

if TYPE_CHECKING:
    from smartsim.entity.dbnode import DBNode
    from smartsim.settings.base import BatchSettings, RunSettings

logger = logging.getLogger(__name__)


def shard_settings(node: DBNode) -> list[RunSettings]:
    """The run settings of each shard a DBNode starts (its MPMD parts, in shard order)."""
    assert node.run_settings is not None
    return [node.run_settings, *node.run_settings.mpmd]


def spread(settings: RunSettings, index: int) -> set[str]:
    """Put shard ``index`` on node ``index`` of its allocation (one shard per node, as every
    shard listens on the same port); returns the run argument keys this set.

    Run commands without such an option (no allocation, or mpirun, which needs ``hosts``)
    are left alone.
    """
    setter = getattr(settings, "set_node_offset", None)
    if setter is None:
        return set()
    before = dict(settings.run_args)
    setter(index)
    return {k for k, v in settings.run_args.items() if before.get(k, object()) != v}


class ShardSettingsMixin:
    """``set_cpus``, ``set_walltime``, ``set_hosts``, ``set_batch_arg``, ``set_run_arg``."""

    entities: list[DBNode]
    batch_settings: BatchSettings | None
    _run_args: dict[str, object]
    _user_hosts: list[str]
    _reserved_run_args: set[str]
    _reserved_batch_args: set[str]
    _placement_args: set[str]

    def _all_shard_settings(self) -> list[RunSettings]:
        return [part for node in self.entities for part in shard_settings(node)]

    def set_cpus(self, num_cpus: int) -> None:
        """CPUs per shard (run settings; the batch job too when there is one)."""
        if isinstance(num_cpus, bool) or not isinstance(num_cpus, int) or num_cpus < 1:
            raise TypeError(f"num_cpus must be a positive int, got {num_cpus!r}")
        if self.batch_settings is not None:
            for name in ("set_cpus_per_task", "set_ncpus"):
                setter = getattr(self.batch_settings, name, None)
                if setter is not None:
                    setter(num_cpus)
                    break
        for part in self._all_shard_settings():
            try:
                part.set_cpus_per_task(num_cpus)
            except SSUnsupportedError:
                logger.debug("no run command to pin CPUs; %d CPUs not enforced", num_cpus)

    def set_walltime(self, walltime: str) -> None:
        """Wall time of the batch job (batch only)."""
        if self.batch_settings is None:
            raise SmartSimError("Wall time can only be set for a database launched as a batch job")
        self.batch_settings.set_walltime(walltime)

    def set_hosts(self, host_list: list[str] | str) -> None:
        """Hosts to run the shards on, one per shard (or one host for all)."""
        if isinstance(host_list, str):
            host_list = [host_list.strip()]
        if not isinstance(host_list, list) or not all(isinstance(h, str) for h in host_list):
            raise TypeError("host_list argument must be a list of strings")
        self._user_hosts = list(host_list)
        if self.batch_settings is not None:
            try:
                self.batch_settings.set_hostlist(host_list)
            except SSUnsupportedError:
                pass
        for i, part in enumerate(self._all_shard_settings()):
            host = host_list[i % len(host_list)]
            try:
                part.set_hostlist([host])
            except SSUnsupportedError:
                logger.debug("the shards run on this host; host %s not used", host)
                continue
            for key in self._placement_args:  # the hosts place the shards now
                part.run_args.pop(key, None)

    def set_batch_arg(self, arg: str, value: str | None = None) -> None:
        """A batch directive for the database's batch job (reserved ones are ignored)."""
        if self.batch_settings is None:
            raise SmartSimError("Not running as a batch, cannot set batch_arg")
        if arg in type(self.batch_settings).reserved_batch_args | self._reserved_batch_args:
            logger.warning("Can not set batch argument %s: it is a reserved keyword", arg)
            return
        self.batch_settings.batch_args[arg] = value

    def set_run_arg(self, arg: str, value: str | None = None) -> None:
        """A run-command argument for every shard (reserved ones are ignored)."""
        parts = self._all_shard_settings()
        for part in parts:
            if arg in type(part).reserved_run_args | self._reserved_run_args:
                logger.warning("Can not set run argument %s: it is a reserved keyword", arg)
                return
        self._run_args[arg] = value
        for part in parts:
            part.run_args[arg] = value
