"""smartsim_ray: Ray clusters launched through SmartSim's launchers (not implemented yet)."""

__version__ = "0.1.0"
