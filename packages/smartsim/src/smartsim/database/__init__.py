"""The database: :class:`Orchestrator` (one shard or a Redis Cluster) and its helpers."""

from smartsim.database.legacy import (
    CobaltOrchestrator,
    LSFOrchestrator,
    PBSOrchestrator,
    SlurmOrchestrator,
)
from smartsim.database.orchestrator import Orchestrator
from smartsim.database.reconnect import reconnect_orchestrator

__all__ = [
    "CobaltOrchestrator",
    "LSFOrchestrator",
    "Orchestrator",
    "PBSOrchestrator",
    "SlurmOrchestrator",
    "reconnect_orchestrator",
]
