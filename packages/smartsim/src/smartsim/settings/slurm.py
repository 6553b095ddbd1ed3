"""Slurm settings: ``srun`` (run command) and ``sbatch`` (batch submission)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartsim.settings.base import (
    BatchSettings,
    EnvValue,
    RunSettings,
    check_positive_int,
    format_dash_args,
    hosts_to_str,
)


class SrunSettings(RunSettings):
    """Settings for Slurm's ``srun``. ``alloc`` names an existing allocation (job id)."""

    supports_mpmd = True
    reserved_run_args = frozenset({"chdir", "D"})

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_args: Mapping[str, Any] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        alloc: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exe, exe_args, run_command="srun", run_args=run_args, env_vars=env_vars, **kwargs
        )
        self.alloc = str(alloc) if alloc is not None else None

    def set_nodes(self, nodes: int) -> None:
        """``--nodes``."""
        self.run_args["nodes"] = check_positive_int(nodes, "nodes")

    def set_tasks(self, tasks: int) -> None:
        """``--ntasks``."""
        self.run_args["ntasks"] = check_positive_int(tasks, "tasks")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--ntasks-per-node``."""
        self.run_args["ntasks-per-node"] = check_positive_int(tasks_per_node, "tasks_per_node")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-task``."""
        self.run_args["cpus-per-task"] = check_positive_int(cpus_per_task, "cpus_per_task")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--nodelist``."""
        self.run_args["nodelist"] = hosts_to_str(host_list)

    def set_node_offset(self, offset: int) -> None:
        """``--relative``: start on node ``offset`` (from 0) of the allocation; the
        Orchestrator puts one shard per node this way, in an allocation or a batch job."""
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise TypeError(f"offset must be an int >= 0, got {offset!r}")
        self.run_args["relative"] = offset

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        """``--exclude``."""
        self.run_args["exclude"] = hosts_to_str(host_list)

    def set_walltime(self, walltime: str) -> None:
        """``--time`` (``HH:MM:SS``)."""
        self.run_args["time"] = str(walltime)

    def set_het_group(self, het_group: int | list[int]) -> None:
        """``--het-group``."""
        groups = het_group if isinstance(het_group, list) else [het_group]
        self.run_args["het-group"] = ",".join(str(g) for g in groups)

    def format_run_args(self) -> list[str]:
        """Slurm style: ``-k v`` / ``--key=v`` / bare flags."""
        return format_dash_args(self.run_args)

    def format_env_vars(self) -> tuple[str, list[str]]:  # type: ignore[override]
        """``(export string, comma values)`` as in SmartSim.

        The export string starts with ``PATH,LD_LIBRARY_PATH,PYTHONPATH`` and lists
        ``KEY=VALUE`` for values without commas; values that contain commas cannot go
        through ``--export``, so their names are listed and their ``KEY=VALUE`` strings
        returned separately (the launcher puts them in the environment).
        """
        exports = ["PATH", "LD_LIBRARY_PATH", "PYTHONPATH"]
        comma_values: list[str] = []
        for key, value in self.env_vars.items():
            if value is None:
                exports.append(key)
            elif "," in str(value):
                exports.append(key)
                comma_values.append(f"{key}={value}")
            else:
                exports.append(f"{key}={value}")
        return ",".join(exports), comma_values


class SbatchSettings(BatchSettings):
    """Settings for ``sbatch``."""

    reserved_batch_args = frozenset(
        {"nodes", "N", "ntasks", "n", "output", "o", "error", "e", "job-name", "J", "chdir", "D"}
    )

    def __init__(
        self,
        nodes: int | None = None,
        time: str = "",
        account: str | None = None,
        batch_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            "sbatch", batch_args=batch_args, nodes=nodes, time=time, account=account, **kwargs
        )

    def set_walltime(self, walltime: str) -> None:
        """``--time`` (``HH:MM:SS``)."""
        self.batch_args["time"] = str(walltime)

    def set_nodes(self, num_nodes: int) -> None:
        """``--nodes``."""
        self.batch_args["nodes"] = check_positive_int(num_nodes, "nodes")

    def set_account(self, account: str) -> None:
        """``--account``."""
        self.batch_args["account"] = str(account)

    def set_partition(self, partition: str) -> None:
        """``--partition``."""
        self.batch_args["partition"] = str(partition)

    def set_queue(self, queue: str) -> None:
        """Same as :meth:`set_partition`."""
        self.set_partition(queue)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-task``."""
        self.batch_args["cpus-per-task"] = check_positive_int(cpus_per_task, "cpus_per_task")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--nodelist``."""
        self.batch_args["nodelist"] = hosts_to_str(host_list)

    def format_batch_args(self) -> list[str]:
        """Slurm style: ``-k v`` / ``--key=v`` / bare flags."""
        return format_dash_args(self.batch_args)
