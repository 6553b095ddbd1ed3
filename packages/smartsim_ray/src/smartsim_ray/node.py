"""Ray nodes as experiment entities, and what their output says about them."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smartsim.entity.entity import SmartSimEntity
from smartsim_ray.entrypoint import MARK_ERROR, MARK_EXIT, MARK_READY, MARK_TEMP

if TYPE_CHECKING:
    from smartsim.settings.base import RunSettings
    from smartsim_ray.raycluster import RayCluster


@dataclass
class NodeState:
    """A Ray node as its output file describes it."""

    temp: str | None = None
    ready: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    exit: int | None = None
    lines: list[str] = field(default_factory=list)

    def tail(self, count: int = 15) -> list[str]:
        """The last ``count`` lines of the node's output."""
        return self.lines[-count:]


def read_node_state(path: Path) -> NodeState:
    """Parse the marker lines of a node's output file (missing file: nothing yet)."""
    state = NodeState()
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return state
    state.lines = text.splitlines()
    for line in state.lines:
        marker, _, payload = line.partition(" ")
        if marker not in (MARK_TEMP, MARK_READY, MARK_ERROR, MARK_EXIT):
            continue
        data: dict[str, Any] = {}
        with contextlib.suppress(ValueError):
            data = json.loads(payload)
        if marker == MARK_TEMP:
            state.temp = data.get("dir")
        elif marker == MARK_READY:
            state.ready = data
        elif marker == MARK_ERROR:
            state.error = data
        else:
            state.exit = int(data.get("code", 1))
    return state


class RayNode(SmartSimEntity):
    """One Ray node (one process per host) of a :class:`RayCluster`."""

    def __init__(
        self, name: str, path: str, run_settings: RunSettings, cluster: RayCluster, index: int
    ) -> None:
        self._cluster = cluster
        self.index = index
        super().__init__(name, path, run_settings)

    @property
    def out_file(self) -> Path:
        """The node's output (the entrypoint's markers and ``ray start``'s own lines)."""
        return Path(self.path) / f"{self.name}.out"

    def state(self) -> NodeState:
        """What the node's output says now."""
        return read_node_state(self.out_file)

    def set_path(self, path: str) -> None:
        """Run in ``path``; the cluster's files that live there follow."""
        super().set_path(path)
        if getattr(self._cluster, "entities", None):
            self._cluster._refresh_commands()

    def client_env(self, db_addresses: list[str] | None) -> dict[str, str]:
        """``SSDB`` of the running database: Ray tasks inherit it from the node's raylet."""
        return {"SSDB": ",".join(db_addresses[:128])} if db_addresses else {}


class RayHead(RayNode):
    """The head node (``ray_head``): GCS, Ray Client server, optional dashboard."""


class RayWorker(RayNode):
    """A worker node (``ray_worker_<i>``)."""
