"""Cray ALPS ``aprun`` settings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smartsim.settings.base import (
    EnvValue,
    RunSettings,
    check_positive_int,
    format_dash_args,
    hosts_to_str,
)


class AprunSettings(RunSettings):
    """Settings for ``aprun``."""

    supports_mpmd = True

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_args: Mapping[str, Any] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exe, exe_args, run_command="aprun", run_args=run_args, env_vars=env_vars, **kwargs
        )

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--cpus-per-pe``."""
        self.run_args["cpus-per-pe"] = check_positive_int(cpus_per_task, "cpus_per_task")

    def set_tasks(self, tasks: int) -> None:
        """``--pes``."""
        self.run_args["pes"] = check_positive_int(tasks, "tasks")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--pes-per-node``."""
        self.run_args["pes-per-node"] = check_positive_int(tasks_per_node, "tasks_per_node")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--node-list``."""
        self.run_args["node-list"] = hosts_to_str(host_list)

    def set_excluded_hosts(self, host_list: str | list[str]) -> None:
        """``--exclude-node-list``."""
        self.run_args["exclude-node-list"] = hosts_to_str(host_list)

    def set_walltime(self, walltime: str | int) -> None:
        """``-t`` in seconds (aprun's per-PE CPU time limit); ``"HH:MM:SS"`` is converted, as
        SmartSim 0.4 did."""
        text = str(walltime)
        if ":" in text:
            parts = text.split(":")
            if len(parts) != 3 or not all(p.isdigit() for p in parts):
                raise ValueError(f"walltime {text!r} is not HH:MM:SS or a number of seconds")
            h, m, s = (int(p) for p in parts)
            text = str(h * 3600 + m * 60 + s)
        self.run_args["t"] = text

    def format_run_args(self) -> list[str]:
        """``-k v`` for one-letter keys, ``--key=v`` otherwise, bare flags for None."""
        return format_dash_args(self.run_args)

    def format_env_vars(self) -> list[str]:
        """``-e KEY=VALUE`` per variable."""
        out: list[str] = []
        for key, value in self.env_vars.items():
            if value is not None:
                out += ["-e", f"{key}={value}"]
        return out

    def env_forwarding(self, extra_keys: Iterable[str] = ()) -> list[str]:
        """aprun forwards the environment itself; our variables go as ``-e``."""
        return self.format_env_vars()
