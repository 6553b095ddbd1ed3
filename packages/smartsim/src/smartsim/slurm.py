"""SmartSim 0.4's ``smartsim.slurm``: the allocation helpers of :mod:`smartsim.wlm.slurm`."""

from smartsim.wlm.slurm import (
    get_allocation,
    get_default_partition,
    get_hosts,
    release_allocation,
    validate,
)

__all__ = [
    "get_allocation",
    "get_default_partition",
    "get_hosts",
    "release_allocation",
    "validate",
]
