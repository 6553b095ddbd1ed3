"""Warn when an original CrayLabs distribution shares this environment with ours.

Ours install as ``smartredis_py`` and ``smartsim_py``, the originals as ``smartredis`` and
``smartsim``; each pair owns the same import package, so pip lets one overwrite the other's
files (and uninstalling one breaks the other). A distribution counts as the original when its
metadata names CrayLabs (a leftover install of this project under an old name does not).
``smartsim`` calls this too, for its own pair.
"""

from __future__ import annotations

import logging
from importlib import metadata


def original_distribution(name: str) -> metadata.Distribution | None:
    """The installed CrayLabs distribution ``name``, if there is one."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    meta = dist.metadata
    fields = [meta.get(key) or "" for key in ("Author", "Author-email", "Home-page")]
    fields += meta.get_all("Project-URL") or []
    return dist if any("craylabs" in value.lower() for value in fields) else None


def warn_if_original_installed(original: str = "smartredis", ours: str = "smartredis_py") -> bool:
    """Log a warning and return True when ``original`` is installed next to ``ours``."""
    dist = original_distribution(original)
    if dist is None:
        return False
    logging.getLogger(original).warning(
        "the original %s %s (CrayLabs) is installed in this environment next to %s: both "
        "provide the `%s` import package and overwrite each other's files. Keep one: "
        "`pip uninstall -y %s %s`, then `pip install %s` (or `pip install %s`).",
        original,
        dist.version,
        ours,
        original,
        original,
        ours,
        ours,
        original,
    )
    return True
