"""PBS Pro ``qsub`` batch settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartsim.error import SmartSimError
from smartsim.settings._qsub import QsubLikeSettings
from smartsim.settings.base import (
    check_positive_int,
    format_directives,
    hosts_to_str,
)


class QsubBatchSettings(QsubLikeSettings):
    """Settings for PBS ``qsub``; ``resources`` become ``-l name=value`` directives
    (``select``, ``place`` and ``walltime`` among them override the built ones)."""

    reserved_batch_args = frozenset({"e", "o", "N", "l"})
    scheduler = "PBS"

    def __init__(
        self,
        nodes: int | None = None,
        ncpus: int | None = None,
        time: str | None = None,
        queue: str | None = None,
        account: str | None = None,
        resources: Mapping[str, Any] | None = None,
        batch_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._nodes: int | None = None
        self._ncpus: int | None = None
        self._time: str | None = None
        self._hosts: str | None = None
        super().__init__(
            resources,
            batch_args=batch_args,
            nodes=nodes,
            time=time,
            queue=queue,
            account=account,
            **kwargs,
        )
        if ncpus:
            self.set_ncpus(ncpus)

    def set_nodes(self, num_nodes: int) -> None:
        """Nodes in ``-l select=N``."""
        self._nodes = check_positive_int(num_nodes, "nodes")

    def set_ncpus(self, num_cpus: int) -> None:
        """CPUs per node in ``-l select=N:ncpus=M``."""
        self._ncpus = check_positive_int(num_cpus, "ncpus")

    def set_walltime(self, walltime: str) -> None:
        """``-l walltime=HH:MM:SS``."""
        self._time = str(walltime)

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """Restrict the job to these hosts (``-l select=1:host=a+1:host=b``)."""
        self._hosts = hosts_to_str(host_list)

    def _resource_list(self) -> list[str]:
        res: list[str] = []
        if "select" in self.resources:
            res.append(f"-l select={self.resources['select']}")
        elif self._hosts:
            res.append("-l select=" + "+".join(f"1:host={h}" for h in self._hosts.split(",")))
        else:
            if not self._nodes:
                raise SmartSimError(
                    "QsubBatchSettings needs a number of nodes (nodes=... or set_nodes) "
                    "or a 'select' resource"
                )
            select = f"-l select={self._nodes}"
            if self._ncpus:
                select += f":ncpus={self._ncpus}"
            res.append(select)
        res.append(f"-l place={self.resources.get('place', 'scatter')}")
        walltime = self.resources.get("walltime", self._time)
        if walltime:
            res.append(f"-l walltime={walltime}")
        for name, value in self.resources.items():
            if name not in ("select", "place", "walltime"):
                res.append(f"-l {name}={value}")
        return res

    def format_batch_args(self) -> list[str]:
        """The ``-l`` resources first, then ``-k value`` for each batch argument."""
        return self._resource_list() + format_directives(self.batch_args, long_prefix="-")
