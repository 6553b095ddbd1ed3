"""SmartSim 0.4 module path: the classes live in :mod:`smartsim.settings.slurm`."""

from smartsim.settings.slurm import SbatchSettings, SrunSettings

__all__ = ["SbatchSettings", "SrunSettings"]
