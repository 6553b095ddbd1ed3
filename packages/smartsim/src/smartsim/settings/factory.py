"""``create_run_settings`` / ``create_batch_settings``: pick the settings class.

These are the only places where settings meet the machine: ``create_run_settings`` resolves
the executable (it must exist) and, with ``run_command="auto"``, picks the first run command
of the launcher's preference list (from the launcher registry) that is on ``PATH``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Any

from smartsim.error import SmartSimError, SSConfigError
from smartsim.settings.alps import AprunSettings
from smartsim.settings.base import BatchSettings, EnvValue, RunSettings
from smartsim.settings.lsf import JsrunSettings
from smartsim.settings.mpi import (
    MpiexecSettings,
    MpirunSettings,
    OrterunSettings,
    _OpenMPISettings,
)
from smartsim.settings.slurm import SrunSettings

#: run command name -> its settings class (any other name gives plain RunSettings)
RUN_COMMAND_SETTINGS: dict[str, type[RunSettings]] = {
    "srun": SrunSettings,
    "aprun": AprunSettings,
    "mpirun": MpirunSettings,
    "mpiexec": MpiexecSettings,
    "orterun": OrterunSettings,
    "jsrun": JsrunSettings,
}


def expand_exe_path(exe: str) -> str:
    """The absolute path of ``exe`` (a name on PATH or a path); SSConfigError if missing."""
    if not isinstance(exe, str) or not exe:
        raise TypeError(f"exe must be a non-empty str, got {exe!r}")
    if os.sep in exe:
        path = os.path.abspath(os.path.expanduser(exe))
        if not os.path.isfile(path):
            raise SSConfigError(f"could not locate executable {exe}: {path} is not a file")
        if not os.access(path, os.X_OK):
            raise SSConfigError(f"{path} is not executable; run `chmod +x {path}`")
        return path
    found = shutil.which(exe)
    if not found:
        raise SSConfigError(
            f"could not locate executable {exe!r} on PATH; give its full path or add its "
            "directory to PATH"
        )
    return os.path.abspath(found)


def create_run_settings(
    launcher: str,
    exe: str,
    exe_args: str | list[str] | None = None,
    run_command: str = "auto",
    run_args: Mapping[str, Any] | None = None,
    env_vars: Mapping[str, EnvValue] | None = None,
    **kwargs: Any,
) -> RunSettings:
    """Build the RunSettings subclass for ``run_command`` on ``launcher``.

    ``"auto"`` gives no run command on the local launcher; on a workload manager it takes
    the first of the launcher's run commands found on ``PATH`` (e.g. slurm: srun, mpirun).
    """
    from smartsim._core.launcher import get_launcher_spec

    spec = get_launcher_spec(launcher)
    exe_path = expand_exe_path(exe)
    if not isinstance(run_command, str):
        raise TypeError(f"run_command must be a str, got {type(run_command).__name__}")
    command = run_command.strip()
    if command == "auto":
        command = ""
        for candidate in spec.run_commands:
            if shutil.which(candidate):
                command = candidate
                break
        if spec.run_commands and not command:
            raise SSConfigError(
                f"none of the {spec.name} launcher's run commands "
                f"({', '.join(spec.run_commands)}) is on PATH; pass run_command explicitly"
            )
    name = os.path.basename(command)
    cls = (spec.run_settings_class(name) or RUN_COMMAND_SETTINGS.get(name)) if command else None
    if cls is None:
        return RunSettings(
            exe_path,
            exe_args,
            run_command=command,
            run_args=run_args,
            env_vars=env_vars,
            **kwargs,
        )
    if issubclass(cls, _OpenMPISettings) and command != os.path.basename(command):
        kwargs["run_command"] = command  # a full path to mpirun/mpiexec/orterun
    return cls(exe_path, exe_args, run_args=run_args, env_vars=env_vars, **kwargs)


def create_batch_settings(
    launcher: str,
    nodes: int = 1,
    time: str = "",
    queue: str = "",
    account: str = "",
    batch_args: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> BatchSettings:
    """Build the BatchSettings of ``launcher`` (slurm: sbatch, pbs: qsub, lsf: bsub, ...)."""
    from smartsim._core.launcher import get_launcher_spec

    spec = get_launcher_spec(launcher)
    cls = spec.batch_settings_class()
    if cls is None:
        raise SmartSimError(
            f"the {spec.name} launcher has no batch system; use launcher='slurm', 'pbs', "
            "'lsf' or 'cobalt' for batch settings"
        )
    return cls(
        nodes=nodes,
        time=time or None,
        queue=queue or None,
        account=account or None,
        batch_args=batch_args,
        **kwargs,
    )
