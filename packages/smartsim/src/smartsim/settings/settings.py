"""SmartSim 0.4 module path of the settings factories (now :mod:`smartsim.settings.factory`)."""

from smartsim.settings.factory import create_batch_settings, create_run_settings

__all__ = ["create_batch_settings", "create_run_settings"]
