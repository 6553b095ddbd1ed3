"""The one registry of launchers.

Each entry names a workload manager's launcher class (in ``_core/launcher/<wlm>/``), its
BatchSettings class and its run commands in order of preference. ``create_run_settings``,
``create_batch_settings``, the controller, the Orchestrator and :func:`detect_launcher` all
read this table; nothing else keeps a list of launchers. Adding a workload manager is one
folder, its settings module and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smartsim.error import SSUnsupportedError

if TYPE_CHECKING:
    from smartsim._core.launcher.base import Launcher
    from smartsim.settings.base import BatchSettings


def _load(dotted: str) -> type:
    module, _, attr = dotted.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class LauncherSpec:
    """One registry entry."""

    name: str
    launcher: str  # "module:Class"
    batch_settings: str | None  # "module:Class", None when there is no batch system
    run_commands: tuple[str, ...]  # preference order for run_command="auto"
    #: run command -> "module:Class" where this WLM's command differs (pals: mpiexec)
    run_settings: tuple[tuple[str, str], ...] = ()

    def launcher_class(self) -> type[Launcher]:
        """The launcher class (imported on first use)."""
        return _load(self.launcher)

    def batch_settings_class(self) -> type[BatchSettings] | None:
        """The BatchSettings class, or None for the local launcher."""
        return _load(self.batch_settings) if self.batch_settings else None

    def run_settings_class(self, run_command: str) -> type | None:
        """The RunSettings class this WLM uses for ``run_command``, if it has its own."""
        dotted = dict(self.run_settings).get(run_command)
        return _load(dotted) if dotted else None

    def detect(self) -> bool:
        """Whether this workload manager's tools are on this machine."""
        return self.launcher_class().detect()

    @property
    def implemented(self) -> bool:
        """Whether launching through it works yet (slurm/pbs/lsf/cobalt arrive later)."""
        return bool(getattr(self.launcher_class(), "implemented", True))


_L = "smartsim._core.launcher"
REGISTRY: dict[str, LauncherSpec] = {
    spec.name: spec
    for spec in (
        LauncherSpec("local", f"{_L}.local.launcher:LocalLauncher", None, ()),
        LauncherSpec(
            "slurm",
            f"{_L}.slurm.launcher:SlurmLauncher",
            "smartsim.settings.slurm:SbatchSettings",
            ("srun", "mpirun"),
        ),
        LauncherSpec(
            "pbs",
            f"{_L}.pbs.launcher:PBSLauncher",
            "smartsim.settings.pbs:QsubBatchSettings",
            ("aprun", "mpirun"),
        ),
        LauncherSpec(
            "pals",
            f"{_L}.pbs.launcher:PalsLauncher",
            "smartsim.settings.pbs:QsubBatchSettings",
            ("mpiexec",),
            (("mpiexec", "smartsim.settings.pals:PalsMpiexecSettings"),),
        ),
        LauncherSpec(
            "cobalt",
            f"{_L}.cobalt.launcher:CobaltLauncher",
            "smartsim.settings.cobalt:CobaltBatchSettings",
            ("aprun", "mpirun"),
        ),
        LauncherSpec(
            "lsf",
            f"{_L}.lsf.launcher:LSFLauncher",
            "smartsim.settings.lsf:BsubBatchSettings",
            ("jsrun", "mpirun"),
        ),
        LauncherSpec(
            "sge",
            f"{_L}.sge.launcher:SGELauncher",
            "smartsim.settings.sge:SgeQsubBatchSettings",
            ("mpirun",),
        ),
    )
}

#: order in which "auto" detection tries the workload managers (local is the fallback)
DETECTION_ORDER = ("pbs", "cobalt", "sge", "lsf", "slurm")


def get_launcher_spec(name: str) -> LauncherSpec:
    """The registry entry of ``name`` (case-insensitive); SSUnsupportedError if unknown."""
    if not isinstance(name, str):
        raise TypeError(f"launcher must be a str, not {type(name).__name__}")
    spec = REGISTRY.get(name.lower())
    if spec is None:
        raise SSUnsupportedError(
            f"launcher {name!r} is not supported; choose one of {', '.join(REGISTRY)} or 'auto'"
        )
    return spec


def launcher_names() -> list[str]:
    """The registered launcher names."""
    return list(REGISTRY)


def detect_launcher() -> str:
    """The first workload manager found on this machine, else ``"local"``."""
    for name in DETECTION_ORDER:
        if REGISTRY[name].detect():
            return name
    return "local"


def create_launcher(name: str) -> Launcher:
    """A new launcher instance for ``name``."""
    return get_launcher_spec(name).launcher_class()()


__all__ = [
    "REGISTRY",
    "LauncherSpec",
    "create_launcher",
    "detect_launcher",
    "get_launcher_spec",
    "launcher_names",
]
