"""SmartSim 0.4 module path: the classes live in :mod:`smartsim.settings.alps`."""

from smartsim.settings.alps import AprunSettings

__all__ = ["AprunSettings"]
