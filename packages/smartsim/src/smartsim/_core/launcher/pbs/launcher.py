"""The pbs launcher: registered and detectable; launching arrives in a later issue."""

from __future__ import annotations

from smartsim._core.launcher.wlm import NotYetImplementedLauncher


class PBSLauncher(NotYetImplementedLauncher):
    """Launches through pbs (not implemented yet)."""

    name = "pbs"
    required_commands = ("qsub", "qstat", "qdel")

    @classmethod
    def detect(cls) -> bool:
        """qsub, qstat and qdel are present and ``qsub --version`` says pbs."""
        from smartsim._core.launcher._qsub_detect import qsub_flavour

        return super().detect() and qsub_flavour() == "pbs"
