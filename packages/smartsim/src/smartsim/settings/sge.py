"""(Son of) Grid Engine ``qsub`` batch settings (SmartSim 0.8's ``SgeQsubBatchSettings``).

Grid Engine has no nodes: a job asks for *slots* in a parallel environment
(``-pe <pe_type> <slots>``) and for resources with ``-l name=value`` (walltime is
``h_rt``). ``nodes`` and ``ncpus`` give ``slots = nodes * ncpus``; more than one slot needs a
``pe_type`` (the site's PE name: ``mpi``, ``smp``, ``orte``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartsim.error import SmartSimError
from smartsim.settings._qsub import QsubLikeSettings
from smartsim.settings.base import check_positive_int, format_directives


class SgeQsubBatchSettings(QsubLikeSettings):
    """Settings for Grid Engine ``qsub``: ``-pe``, ``-l``, ``-q``, ``-A``, ``-P``."""

    reserved_batch_args = frozenset({"e", "o", "N", "l", "pe", "cwd", "wd", "V", "terse"})
    scheduler = "Grid Engine"

    def __init__(
        self,
        time: str | None = None,
        ncpus: int | None = None,
        pe_type: str | None = None,
        account: str | None = None,
        resources: Mapping[str, Any] | None = None,
        batch_args: Mapping[str, Any] | None = None,
        nodes: int | None = None,
        queue: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._nodes = 1
        self._ncpus = 1
        self.pe_type: str | None = None
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
        if pe_type:
            self.set_pe_type(pe_type)

    def set_nodes(self, num_nodes: int) -> None:
        """Hosts' worth of slots (``slots = nodes * ncpus``; Grid Engine places them)."""
        self._nodes = check_positive_int(num_nodes, "nodes")

    def set_ncpus(self, num_cpus: int) -> None:
        """Slots per node."""
        self._ncpus = check_positive_int(num_cpus, "ncpus")

    def set_pe_type(self, pe_type: str) -> None:
        """The parallel environment (``-pe <pe_type> <slots>``)."""
        if not isinstance(pe_type, str) or not pe_type.strip():
            raise TypeError("pe_type must be a non-empty str (the site's parallel environment)")
        self.pe_type = pe_type.strip()

    def set_walltime(self, walltime: str) -> None:
        """``-l h_rt=HH:MM:SS``."""
        self.resources["h_rt"] = str(walltime)

    def set_project(self, project: str) -> None:
        """``-P`` (the share-tree project)."""
        self.batch_args["P"] = str(project)

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``-l hostname=a|b``."""
        hosts = [host_list] if isinstance(host_list, str) else list(host_list)
        if not hosts or not all(isinstance(h, str) and h for h in hosts):
            raise TypeError("host_list must be a non-empty str or list of str")
        self.resources["hostname"] = "|".join(hosts)

    @property
    def slots(self) -> int:
        """``nodes * ncpus``."""
        return self._nodes * self._ncpus

    def format_batch_args(self) -> list[str]:
        """``-pe``, then one ``-l`` per resource, then ``-key value`` per batch argument."""
        out: list[str] = []
        if self.pe_type:
            out.append(f"-pe {self.pe_type} {self.slots}")
        elif self.slots > 1:
            raise SmartSimError(
                f"{self.slots} slots need a parallel environment: pass pe_type=... (the "
                "site's PE, see `qconf -spl`) or call set_pe_type"
            )
        out += [f"-l {name}={value}" for name, value in self.resources.items()]
        return out + format_directives(self.batch_args, long_prefix="-")
