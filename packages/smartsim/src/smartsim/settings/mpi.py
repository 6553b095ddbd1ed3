"""Open MPI run commands: ``mpirun``, ``mpiexec`` and ``orterun`` (same options)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from smartsim.settings.base import (
    EnvValue,
    RunSettings,
    check_positive_int,
    env_flag_args,
    hosts_to_str,
)

#: what every Open MPI command forwards from the driver (SmartSim 0.4's list)
MPI_PRESET_ENV = ("PATH", "LD_LIBRARY_PATH", "PYTHONPATH")


class _OpenMPISettings(RunSettings):
    """Options shared by Open MPI's launchers: every option is ``--name value``."""

    supports_mpmd = True
    reserved_run_args = frozenset({"np", "n", "wdir"})
    default_run_command = "mpirun"

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_args: Mapping[str, Any] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        run_command: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exe,
            exe_args,
            run_command=run_command or self.default_run_command,
            run_args=run_args,
            env_vars=env_vars,
            **kwargs,
        )

    def set_task_map(self, task_mapping: str) -> None:
        """``--map-by``: how tasks are mapped to resources (e.g. ``ppr:1:node``)."""
        self.run_args["map-by"] = str(task_mapping)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-proc``."""
        self.run_args["cpus-per-proc"] = check_positive_int(cpus_per_task, "cpus_per_task")

    def set_cpu_binding_type(self, bind_type: str) -> None:
        """``--bind-to`` (e.g. ``core``, ``none``)."""
        self.run_args["bind-to"] = str(bind_type)

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--npernode``."""
        self.run_args["npernode"] = check_positive_int(tasks_per_node, "tasks_per_node")

    def set_tasks(self, tasks: int) -> None:
        """``-n``: the number of tasks."""
        self.run_args["n"] = check_positive_int(tasks, "tasks")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--host a,b,c``."""
        self.run_args["host"] = hosts_to_str(host_list)

    def set_hostlist_from_file(self, file_path: str) -> None:
        """``--hostfile``."""
        self.run_args["hostfile"] = str(file_path)

    def set_verbose_launch(self, verbose: bool) -> None:
        """``--verbose`` on or off."""
        if verbose:
            self.run_args["verbose"] = None
        else:
            self.run_args.pop("verbose", None)

    def set_quiet_launch(self, quiet: bool) -> None:
        """``--quiet`` on or off."""
        if quiet:
            self.run_args["quiet"] = None
        else:
            self.run_args.pop("quiet", None)

    def set_walltime(self, walltime: str | int) -> None:
        """``--timeout`` in seconds."""
        self.run_args["timeout"] = int(walltime)

    def format_run_args(self) -> list[str]:
        """``--key value`` (``--key`` alone for a None value); ``n`` becomes ``-n``."""
        out: list[str] = []
        for key, value in self.run_args.items():
            prefix = "-" if key == "n" else "--"
            out.append(prefix + key)
            if value is not None:
                out.append(str(value))
        return out

    def _presets(self) -> list[str]:
        """``-x PATH -x LD_LIBRARY_PATH -x PYTHONPATH`` as SmartSim 0.4 added them (mpirun does
        not pass the driver's environment to remote ranks), for those set here: Open MPI warns
        ``could not find environment variable`` for a name that is not set."""
        out: list[str] = []
        for key in MPI_PRESET_ENV:
            if key in os.environ and key not in self.env_vars:
                out += ["-x", key]
        return out

    def format_env_vars(self) -> list[str]:
        """``-x KEY=VALUE`` per variable; a None value exports the driver's value (``-x KEY``);
        first the driver's PATH, LD_LIBRARY_PATH and PYTHONPATH where set."""
        return self._presets() + env_flag_args("-x", self.env_vars)

    def env_forwarding(self, extra_keys: Iterable[str] = ()) -> list[str]:
        """Forward the presets, our variables and the launcher's (``-x SSDB``) to every rank."""
        return self._presets() + env_flag_args("-x", self.env_vars, extra_keys)


class MpirunSettings(_OpenMPISettings):
    """Settings for Open MPI's ``mpirun``."""

    default_run_command = "mpirun"


class MpiexecSettings(_OpenMPISettings):
    """Settings for ``mpiexec`` (Open MPI's options)."""

    default_run_command = "mpiexec"


class OrterunSettings(_OpenMPISettings):
    """Settings for Open MPI's ``orterun``."""

    default_run_command = "orterun"
