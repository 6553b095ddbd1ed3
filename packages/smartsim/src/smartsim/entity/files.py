"""Files attached to a model for the generator: to copy, to symlink, to configure."""

from __future__ import annotations

import os
from typing import Any


def _path_list(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, (str, os.PathLike)) else value
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{what} must be a str or a list of str, not {type(value).__name__}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"{what} must contain paths (str), got {item!r}")
        path = os.path.abspath(os.path.expanduser(os.fspath(item)))
        if not os.path.exists(path):
            raise FileNotFoundError(f"{what}: {item} does not exist (looked at {path})")
        out.append(path)
    return out


class EntityFiles:
    """Absolute paths of a model's attached files, checked to exist when attached.

    ``tagged`` files are copied and have their ``;tag;`` values replaced; a directory in
    ``tagged`` has its contents placed at the top of the model's directory with its
    subdirectories kept (a symlink to a directory is refused). ``copy`` entries are copied
    (a directory's contents are merged in), ``symlink`` entries are linked by base name.
    """

    def __init__(self, tagged: Any = None, copy: Any = None, symlink: Any = None) -> None:
        self.tagged = _path_list(tagged, "to_configure")
        self.copy = _path_list(copy, "to_copy")
        self.link = _path_list(symlink, "to_symlink")
        for path in self.tagged:
            if os.path.isdir(path) and os.path.islink(path):
                raise ValueError(
                    f"to_configure: {path} is a symlink to a directory; name the directory itself"
                )

    def merge(self, other: EntityFiles) -> None:
        """Add another attachment's files."""
        self.tagged += other.tagged
        self.copy += other.copy
        self.link += other.link

    def __bool__(self) -> bool:
        return bool(self.tagged or self.copy or self.link)

    def __str__(self) -> str:
        return f"copy={self.copy} symlink={self.link} configure={self.tagged}"
