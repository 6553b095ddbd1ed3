"""Generator: the experiment directory, one directory per entity, and their files.

Layout: ``<exp>/`` ; ``<exp>/database/`` for a database (always recreated);
``<exp>/<ensemble>/<member>/`` ; ``<exp>/<model>/``. An existing entity directory is an
error unless ``overwrite=True`` (then it is replaced). Every directory is first built under a
temporary name and renamed into place only when all of them succeeded, so an error (a bad
file, a failed copy) leaves nothing half-created behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

from smartsim._core.generation.modelwriter import ModelWriter
from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.entity_list import EntityList
from smartsim.entity.files import EntityFiles

logger = logging.getLogger(__name__)


@dataclass
class _Target:
    final: str
    entity: SmartSimEntity | None  # None for a database directory
    staging: str = ""


class Generator:
    """Builds the directories of an experiment's entities."""

    def __init__(self, gen_path: str, overwrite: bool = False) -> None:
        self.gen_path = os.path.abspath(gen_path)
        self.overwrite = overwrite
        self._writer = ModelWriter()

    def set_tag(self, tag: str, regex: str | None = None) -> None:
        """Use another tag delimiter (or a regex whose group 1 is the name)."""
        self._writer.set_tag(tag, regex)

    # ---- planning -------------------------------------------------------------------------
    def _plan(self, args: tuple[Any, ...]) -> tuple[list[_Target], list[str], list[Any]]:
        targets: list[_Target] = []
        parents: list[str] = []  # entity-list directories
        db_lists: list[Any] = []
        for arg in args:
            if isinstance(arg, EntityList):
                if arg.provides_database:
                    targets.append(_Target(os.path.join(self.gen_path, "database"), None))
                    db_lists.append(arg)
                    continue
                parent = os.path.join(self.gen_path, arg.name)
                parents.append(parent)
                targets += [_Target(os.path.join(parent, e.name), e) for e in arg.entities]
            elif isinstance(arg, SmartSimEntity):
                targets.append(_Target(os.path.join(self.gen_path, arg.name), arg))
            else:
                raise TypeError(f"cannot generate {type(arg).__name__}; pass entities")
        finals = [t.final for t in targets]
        if len(set(finals)) != len(finals):
            raise ValueError("two entities would share a directory; give them distinct names")
        for t in targets:
            if t.entity is not None and os.path.exists(t.final) and not self.overwrite:
                raise FileExistsError(
                    f"{t.final} already exists; pass overwrite=True to replace it or use "
                    "another experiment path"
                )
        return targets, parents, db_lists

    # ---- building ---------------------------------------------------------------------------
    def generate_experiment(self, *args: Any) -> None:
        """Create the directories and files of ``args`` (Models, Ensembles, a database)."""
        if os.path.isfile(self.gen_path):
            raise FileExistsError(f"the experiment path {self.gen_path} is a file")
        targets, parents, db_lists = self._plan(args)
        created: list[str] = []
        try:
            for directory in [self.gen_path, *parents]:
                if not os.path.isdir(directory):
                    os.makedirs(directory)
                    created.append(directory)
            for t in targets:
                t.staging = tempfile.mkdtemp(
                    prefix=f".{os.path.basename(t.final)}.", dir=os.path.dirname(t.final)
                )
                if t.entity is not None:
                    self._fill(t.staging, t.entity)
            for t in targets:
                if os.path.lexists(t.final):
                    if os.path.isdir(t.final) and not os.path.islink(t.final):
                        shutil.rmtree(t.final)
                    else:
                        os.remove(t.final)
                os.rename(t.staging, t.final)
                t.staging = ""
        except BaseException:
            for t in targets:
                if t.staging:
                    shutil.rmtree(t.staging, ignore_errors=True)
            for directory in reversed(created):
                if os.path.isdir(directory) and not os.listdir(directory):
                    os.rmdir(directory)
            raise
        for t in targets:
            if t.entity is not None:
                t.entity.set_path(t.final)
        for parent, arg in zip(
            parents, [a for a in args if isinstance(a, EntityList) and not a.provides_database]
        ):
            arg.path = parent
        for db in db_lists:
            db.set_path(os.path.join(self.gen_path, "database"))
        logger.info(
            "generated %d director%s under %s",
            len(targets),
            "y" if len(targets) == 1 else "ies",
            self.gen_path,
        )

    def _fill(self, directory: str, entity: SmartSimEntity) -> None:
        files: EntityFiles | None = getattr(entity, "files", None)
        if not files:
            return
        for src in files.copy:
            if os.path.isdir(src):
                shutil.copytree(src, directory, dirs_exist_ok=True, symlinks=True)
            else:
                shutil.copy2(src, os.path.join(directory, os.path.basename(src)))
        for src in files.link:
            os.symlink(src, os.path.join(directory, os.path.basename(src)))
        params = getattr(entity, "params", {}) or {}
        for src in files.tagged:
            if os.path.isdir(src):
                for root, dirs, names in os.walk(src):
                    rel = os.path.relpath(root, src)
                    dest_root = directory if rel == "." else os.path.join(directory, rel)
                    for d in dirs:
                        os.makedirs(os.path.join(dest_root, d), exist_ok=True)
                    for name in names:
                        self._configure(
                            os.path.join(root, name), os.path.join(dest_root, name), params
                        )
            else:
                self._configure(src, os.path.join(directory, os.path.basename(src)), params)

    def _configure(self, src: str, dest: str, params: dict[str, Any]) -> None:
        self._writer.configure_file(src, dest, params)
        shutil.copymode(src, dest)
