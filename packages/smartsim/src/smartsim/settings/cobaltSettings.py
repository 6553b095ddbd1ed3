"""SmartSim 0.4 module path: the classes live in :mod:`smartsim.settings.cobalt`."""

from smartsim.settings.cobalt import CobaltBatchSettings

__all__ = ["CobaltBatchSettings"]
