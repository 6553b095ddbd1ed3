"""Entities: what the controller launches."""

from smartsim.entity.ensemble import Ensemble
from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.entity_list import EntityList
from smartsim.entity.files import EntityFiles
from smartsim.entity.model import Model

__all__ = ["Ensemble", "EntityFiles", "EntityList", "Model", "SmartSimEntity"]


def __getattr__(name: str) -> object:
    # DBNode lives in smartsim/entity/dbnode.py (written with the Orchestrator).
    if name == "DBNode":
        from smartsim.entity.dbnode import DBNode

        return DBNode
    raise AttributeError(f"module 'smartsim.entity' has no attribute {name!r}")
