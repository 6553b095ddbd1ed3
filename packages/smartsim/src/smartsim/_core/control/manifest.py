"""Manifest: the checked, ordered set of things passed to Experiment.start/generate."""

from __future__ import annotations

from collections import Counter
from typing import Any

from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.entity_list import EntityList
from smartsim.error import SmartSimError


class Manifest:
    """Splits deployables into database lists, other entity lists and single entities.

    Rules: every item is a SmartSimEntity or an EntityList; names are unique; an entity
    list is not empty (unless it is a batch list); at most one database.
    """

    def __init__(self, *args: Any) -> None:
        self.databases: list[EntityList] = []
        self.entity_lists: list[EntityList] = []
        self.entities: list[SmartSimEntity] = []
        seen: set[str] = set()
        for item in args:
            if isinstance(item, (list, tuple)):
                raise TypeError(
                    "pass entities as separate arguments (exp.start(*models)), not a list"
                )
            if not isinstance(item, (SmartSimEntity, EntityList)):
                raise TypeError(
                    f"{item!r} ({type(item).__name__}) is not a Model, Ensemble, Orchestrator "
                    "or other smartsim entity"
                )
            if item.name in seen:
                raise SmartSimError(
                    f"two deployables are named {item.name!r}; names must be unique"
                )
            seen.add(item.name)
            if isinstance(item, EntityList):
                if not item.entities and not item.batch:
                    raise ValueError(f"{item.type} {item.name!r} has no members to launch")
                if item.provides_database:
                    self.databases.append(item)
                else:
                    self.entity_lists.append(item)
            else:
                self.entities.append(item)
        if len(self.databases) > 1:
            raise SmartSimError("only one database can be launched at a time")
        counts = Counter(e.name for e in self.all_entities())
        duplicates = sorted(n for n, c in counts.items() if c > 1)
        if duplicates:
            raise SmartSimError(
                f"entity names must be unique within a launch; repeated: {', '.join(duplicates)}"
            )

    @property
    def db(self) -> EntityList | None:
        """The database entity list, if any."""
        return self.databases[0] if self.databases else None

    @property
    def models(self) -> list[SmartSimEntity]:
        """Single entities (Models)."""
        return list(self.entities)

    @property
    def ensembles(self) -> list[EntityList]:
        """Entity lists that are not databases."""
        return list(self.entity_lists)

    @property
    def all_entity_lists(self) -> list[EntityList]:
        """Databases first, then the other lists."""
        return self.databases + self.entity_lists

    def all_entities(self) -> list[SmartSimEntity]:
        """Every launchable entity, database members first."""
        out: list[SmartSimEntity] = []
        for el in self.all_entity_lists:
            out += el.entities
        return out + self.entities
