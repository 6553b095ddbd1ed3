"""The slurm launcher: registered and detectable; launching arrives in a later issue."""

from __future__ import annotations

from smartsim._core.launcher.wlm import NotYetImplementedLauncher


class SlurmLauncher(NotYetImplementedLauncher):
    """Launches through slurm (not implemented yet)."""

    name = "slurm"
    required_commands = ("sacct", "srun", "salloc", "sbatch", "scancel", "sstat", "sinfo")
