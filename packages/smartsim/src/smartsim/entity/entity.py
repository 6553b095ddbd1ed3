"""The base of every launchable entity (Model, DBNode)."""

from __future__ import annotations

import os
from typing import Any

from smartsim.settings.base import BatchSettings, RunSettings


def check_name(name: Any, what: str = "name") -> str:
    """A valid entity name: a non-empty str usable as a file name."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    if not name or name.strip() != name or "/" in name or name in (".", ".."):
        raise ValueError(
            f"{what} {name!r} is not valid: use a non-empty name without '/' or surrounding "
            "spaces (it becomes a directory and file name)"
        )
    return name


def check_path(path: Any) -> str:
    """An absolute path from ``path`` (None means the current directory)."""
    if path is None:
        return os.getcwd()
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str, not {type(path).__name__}")
    return os.path.abspath(os.fspath(path))


class SmartSimEntity:
    """Something the controller launches: a name, a directory and RunSettings."""

    #: set on a model submitted as its own batch job (``create_model(..., batch_settings=)``)
    batch_settings: BatchSettings | None = None

    def __init__(self, name: str, path: str | None, run_settings: RunSettings | None) -> None:
        self.name = check_name(name)
        self.path = check_path(path)
        if run_settings is not None and not isinstance(run_settings, RunSettings):
            raise TypeError(
                f"run_settings of {name!r} must be a RunSettings (see "
                f"Experiment.create_run_settings), not {type(run_settings).__name__}"
            )
        self.run_settings = run_settings

    @property
    def type(self) -> str:
        """The class name (``Model``, ``DBNode``, ...)."""
        return type(self).__name__

    def set_path(self, path: str) -> None:
        """Run in ``path`` (the generator sets it to the entity's directory)."""
        self.path = check_path(path)

    def wrap_command(self, argv: list[str]) -> list[str]:
        """Adjust the fully formatted launch command (identity; colocated models wrap it)."""
        return argv

    def client_env(self, db_addresses: list[str] | None) -> dict[str, str]:
        """Environment the launched program needs to reach the database (none here)."""
        return {}

    def __repr__(self) -> str:
        return f"{self.type}(name={self.name!r}, path={self.path!r})"

    def __str__(self) -> str:
        return self.name
