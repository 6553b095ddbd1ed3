"""SmartSim 0.4 module path: the classes live in :mod:`smartsim.settings.lsf`."""

from smartsim.settings.lsf import BsubBatchSettings, JsrunSettings

__all__ = ["BsubBatchSettings", "JsrunSettings"]
