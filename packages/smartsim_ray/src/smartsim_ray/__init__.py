"""smartsim_ray: Ray clusters launched, watched and stopped by SmartSim experiments.

Also importable as ``smartsim.exp.ray`` (SmartSim 0.4's location). Importing this package
does not import Ray; the nodes run ``ray start`` through :mod:`smartsim_ray.entrypoint`.
"""

from smartsim_ray.node import RayHead, RayNode, RayWorker
from smartsim_ray.ports import PortPlan
from smartsim_ray.raycluster import RayCluster, connect_client

__version__ = "0.1.0"

__all__ = [
    "PortPlan",
    "RayCluster",
    "RayHead",
    "RayNode",
    "RayWorker",
    "__version__",
    "connect_client",
]
