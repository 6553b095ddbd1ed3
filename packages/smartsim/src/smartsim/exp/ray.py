"""``smartsim.exp.ray``: SmartSim 0.4's home of RayCluster, now the ``smartsim_ray`` plugin.

Importing this module imports neither Ray nor ``smartsim_ray``; the first attribute looked
up (``from smartsim.exp.ray import RayCluster``) loads the plugin: the ``ray`` entry point
of the ``smartsim.plugins`` group if an installed package declares one, else the
``smartsim_ray`` package. Without it, the ImportError says what to install.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

PLUGIN_GROUP = "smartsim.plugins"
PLUGIN_NAME = "ray"
DEFAULT_MODULE = "smartsim_ray"
_plugin: ModuleType | None = None


def _load() -> ModuleType:
    global _plugin
    if _plugin is None:
        module = DEFAULT_MODULE
        for ep in entry_points(group=PLUGIN_GROUP, name=PLUGIN_NAME):
            module = ep.value.partition(":")[0]
            break
        try:
            _plugin = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            raise ImportError(
                "smartsim.exp.ray needs the smartsim_ray package: pip install smartsim_ray "
                "(and Ray itself: pip install 'smartsim_ray[ray]')"
            ) from exc
    return _plugin


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_load(), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(getattr(_load(), "__all__", ())))
