"""SmartSim 0.4 module path: the classes live in :mod:`smartsim.settings.mpi`."""

from smartsim.settings.mpi import MpiexecSettings, MpirunSettings, OrterunSettings

__all__ = ["MpiexecSettings", "MpirunSettings", "OrterunSettings"]
