"""Experiment: the user-facing facade (create, generate, start, stop, status)."""

from __future__ import annotations

import os
from typing import Any

from smartsim._core.control.controller import Controller
from smartsim._core.control.manifest import Manifest
from smartsim._core.control.summary import format_table, job_rows
from smartsim._core.generation.generator import Generator
from smartsim._core.launcher import detect_launcher, get_launcher_spec
from smartsim.entity.ensemble import Ensemble
from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.entity_list import EntityList
from smartsim.entity.model import Model
from smartsim.error import SmartSimError
from smartsim.log import get_logger
from smartsim.settings import factory
from smartsim.settings.base import BatchSettings, RunSettings
from smartsim.status import SmartSimStatus

logger = get_logger(__name__)


def _check_entities(args: tuple[Any, ...], what: str) -> None:
    for arg in args:
        if not isinstance(arg, (SmartSimEntity, EntityList)):
            raise TypeError(
                f"{what} takes Models, Ensembles or an Orchestrator, got {type(arg).__name__}"
            )


class Experiment:
    """Create entities and settings, then generate, start, monitor and stop them.

    ``launcher`` is ``"local"`` (default), ``"auto"`` (detected), or a workload manager
    from the launcher registry (``slurm``, ``pbs``, ``lsf``, ``cobalt``).
    """

    def __init__(self, name: str, exp_path: str | None = None, launcher: str = "local") -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("the experiment name must be a non-empty str")
        self.name = name
        if exp_path is not None:
            if not isinstance(exp_path, str):
                raise TypeError(f"exp_path must be a str, not {type(exp_path).__name__}")
            if not os.path.isdir(exp_path):
                raise NotADirectoryError(
                    f"exp_path {exp_path} is not an existing directory; create it first"
                )
            self.exp_path = os.path.abspath(exp_path)
        else:
            self.exp_path = os.path.join(os.getcwd(), name)
        if launcher == "auto":
            launcher = detect_launcher()
        self._launcher = get_launcher_spec(launcher).name
        self._control = Controller(self._launcher)

    @property
    def launcher(self) -> str:
        """The launcher name."""
        return self._launcher

    # ---- running ---------------------------------------------------------------------------
    def start(
        self,
        *args: Any,
        block: bool = True,
        summary: bool = False,
        kill_on_interrupt: bool = True,
    ) -> None:
        """Launch entities (a database first). ``block`` waits for all but the database.

        Ctrl-C while blocking stops every job this experiment started (``kill_on_interrupt``);
        local processes are also stopped when the driver exits.
        """
        manifest = Manifest(*args)
        if summary:
            logger.info("launching:\n%s", self._launch_summary(manifest))
        self._control.start(manifest, block=block, kill_on_interrupt=kill_on_interrupt)

    def _launch_summary(self, manifest: Manifest) -> str:
        rows = []
        for el in manifest.all_entity_lists:
            rows.append((el.name, el.type, str(len(el.entities)), el.path))
        for entity in manifest.entities:
            rows.append((entity.name, entity.type, "1", entity.path))
        return format_table(rows, ("Name", "Entity-Type", "Members", "Path"))

    def stop(self, *args: Any) -> None:
        """Stop entities (their whole process trees); they end Cancelled."""
        _check_entities(args, "stop")
        self._control.stop_entities(args)

    def generate(self, *args: Any, tag: str | None = None, overwrite: bool = False) -> None:
        """Create the experiment directory and one directory per entity, with their files."""
        _check_entities(args, "generate")
        generator = Generator(self.exp_path, overwrite=overwrite)
        if tag is not None:
            generator.set_tag(tag)
        generator.generate_experiment(*args)

    def poll(self, interval: float = 10, verbose: bool = True) -> None:
        """Wait until every non-database job has ended, logging progress every interval."""
        self._control.poll(interval, verbose)

    def finished(self, entity: SmartSimEntity | EntityList) -> bool:
        """Whether an entity has ended (TypeError for a database, ValueError if never run)."""
        _check_entities((entity,), "finished")
        return self._control.finished(entity)

    def get_status(self, *args: Any) -> list[SmartSimStatus]:
        """Statuses of the given entities (every member of an entity list)."""
        _check_entities(args, "get_status")
        out: list[SmartSimStatus] = []
        for arg in args:
            if isinstance(arg, EntityList):
                out += self._control.get_entity_list_status(arg)
            else:
                out.append(self._control.get_entity_status(arg))
        return out

    def summary(self, format: str = "github", style: str | None = None) -> str:
        """A table of every run: Name, Entity-Type, JobID, RunID, Time, Status, Returncode."""
        return format_table(job_rows(self._control.jobs.jobs()), style=style or format)

    # ---- creating ----------------------------------------------------------------------------
    def create_model(
        self,
        name: str,
        run_settings: RunSettings,
        params: dict[str, Any] | None = None,
        path: str | None = None,
        enable_key_prefixing: bool = False,
        params_as_args: list[str] | None = None,
        batch_settings: BatchSettings | None = None,
    ) -> Model:
        """A Model running in ``path`` (default: the current directory).

        With ``batch_settings`` (a workload manager launcher) the model is submitted as its
        own batch job, as in SmartSim 0.5 and later.
        """
        model = Model(
            name,
            params,
            path,
            run_settings,
            params_as_args=params_as_args,
            batch_settings=batch_settings,
        )
        if enable_key_prefixing:
            model.enable_key_prefixing()
        return model

    def create_ensemble(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        batch_settings: BatchSettings | None = None,
        run_settings: RunSettings | None = None,
        replicas: int | None = None,
        perm_strategy: Any = "all_perm",
        path: str | None = None,
        **kwargs: Any,
    ) -> Ensemble:
        """An Ensemble from params (with ``perm_strategy``) and/or ``replicas``."""
        return Ensemble(
            name,
            params,
            params_as_args=kwargs.pop("params_as_args", None),
            batch_settings=batch_settings,
            run_settings=run_settings,
            perm_strat=perm_strategy,
            path=path,
            replicas=replicas,
            **kwargs,
        )

    def create_run_settings(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_command: str = "auto",
        run_args: dict[str, Any] | None = None,
        env_vars: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> RunSettings:
        """RunSettings for this experiment's launcher (see ``create_run_settings``)."""
        return factory.create_run_settings(
            self._launcher, exe, exe_args, run_command, run_args, env_vars, **kwargs
        )

    def create_batch_settings(
        self,
        nodes: int = 1,
        time: str = "",
        queue: str = "",
        account: str = "",
        batch_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> BatchSettings:
        """BatchSettings of this experiment's launcher (SmartSimError for local)."""
        return factory.create_batch_settings(
            self._launcher, nodes, time, queue, account, batch_args, **kwargs
        )

    def create_database(
        self,
        port: int = 6379,
        db_nodes: int = 1,
        batch: bool = False,
        hosts: list[str] | None = None,
        run_command: str = "auto",
        interface: str = "lo",
        account: str | None = None,
        time: str | None = None,
        queue: str | None = None,
        single_cmd: bool = True,
        path: str | None = None,
        **kwargs: Any,
    ) -> EntityList:
        """An Orchestrator for this experiment's launcher (see smartsim.database).

        Its files go to ``path`` (default: the current directory, or ``<exp>/database``
        after :meth:`generate`).
        """
        try:
            from smartsim.database import Orchestrator
        except ImportError as exc:
            raise SmartSimError(f"the Orchestrator is not available: {exc}") from exc
        return Orchestrator(
            port=port,
            db_nodes=db_nodes,
            batch=batch,
            hosts=hosts,
            run_command=run_command,
            interface=interface,
            account=account,
            time=time,
            queue=queue,
            single_cmd=single_cmd,
            launcher=self._launcher,
            path=path,
            **kwargs,
        )

    def reconnect_orchestrator(self, checkpoint: str) -> EntityList:
        """Use a database that an earlier driver left running (from its checkpoint file)."""
        try:
            from smartsim.database import reconnect_orchestrator
        except ImportError as exc:
            raise SmartSimError(f"reconnecting is not available: {exc}") from exc
        db = reconnect_orchestrator(checkpoint)
        self._control.adopt_database(db)
        return db

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, exp_path={self.exp_path!r}, launcher={self._launcher!r})"
