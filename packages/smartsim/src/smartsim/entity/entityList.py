"""SmartSim 0.4 module path of :class:`EntityList` (now :mod:`smartsim.entity.entity_list`)."""

from smartsim.entity.entity_list import EntityList

__all__ = ["EntityList"]
