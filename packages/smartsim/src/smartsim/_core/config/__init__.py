"""SmartSim 0.4's ``smartsim._core.config``: ``CONFIG`` reads the ``SMARTSIM_*`` variables."""

from smartsim._core.config.config import CONFIG, Config, get_config

__all__ = ["CONFIG", "Config", "get_config"]
