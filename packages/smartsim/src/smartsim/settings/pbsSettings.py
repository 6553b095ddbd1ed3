"""SmartSim 0.4 module path: the classes live in :mod:`smartsim.settings.pbs`."""

from smartsim.settings.pbs import QsubBatchSettings

__all__ = ["QsubBatchSettings"]
