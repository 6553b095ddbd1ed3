"""EntityList: a named group of entities (base of Ensemble and Orchestrator).

The controller calls three hooks on every EntityList it launches or stops, and reads
``provides_database``; subclasses override them (the Orchestrator waits for its shards in
``after_launch``). The controller never checks entity types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from smartsim.entity.entity import SmartSimEntity, check_name, check_path

if TYPE_CHECKING:
    from smartsim.status import SmartSimStatus

#: the controller's view of a member's status by name (None: never launched)
MemberStatus = Callable[[str], "SmartSimStatus | None"]


class EntityList:
    """A named list of entities, launched together."""

    #: True for the Orchestrator: the controller then gives SSDB to later launches
    provides_database: bool = False

    def __init__(self, name: str, path: str | None, **kwargs: Any) -> None:
        self.name = check_name(name)
        self.path = check_path(path)
        self.entities: list[SmartSimEntity] = []
        self.batch_settings = kwargs.pop("batch_settings", None)
        self.member_status: MemberStatus | None = None
        self._initialize_entities(**kwargs)

    def _initialize_entities(self, **kwargs: Any) -> None:
        """Build the members (subclasses)."""

    # ---- hooks called by the controller ----------------------------------------------
    def prepare_launch(self) -> None:
        """Before any member is launched (raise SmartSimError to abort)."""

    def after_launch(self) -> None:
        """After every member is started (raise to make the controller stop the list).

        :attr:`member_status` (set by the controller before launching) tells whether a
        member's job has ended meanwhile.
        """

    def after_stop(self) -> None:
        """After every member was stopped."""

    # ---- the list ------------------------------------------------------------------------
    @property
    def batch(self) -> bool:
        """True when the members are submitted as one batch job."""
        return self.batch_settings is not None

    @property
    def type(self) -> str:
        """The class name (``Ensemble``, ``Orchestrator``, ...)."""
        return type(self).__name__

    def set_path(self, path: str) -> None:
        """Set the list's directory and every member's (the generator may then move members)."""
        self.path = check_path(path)
        for entity in self.entities:
            entity.set_path(self.path)

    def __getitem__(self, name: str) -> SmartSimEntity:
        for entity in self.entities:
            if entity.name == name:
                return entity
        raise KeyError(f"{self.type} {self.name!r} has no member named {name!r}")

    def __iter__(self) -> Iterator[SmartSimEntity]:
        return iter(self.entities)

    def __len__(self) -> int:
        return len(self.entities)

    def __repr__(self) -> str:
        return f"{self.type}(name={self.name!r}, members={len(self.entities)})"

    def __str__(self) -> str:
        return self.name
