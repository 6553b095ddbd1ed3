"""Controller: launches manifests in order, tracks the database, stops what it started.

Order: database entity lists first (``prepare_launch``, members, ``after_launch``), then the
other entity lists, then single entities. Every step is built before anything starts, so a
missing executable or directory fails the whole call with nothing left running. Entities
launched after a database get ``SSDB`` (and ``SSKEYIN``/``SSKEYOUT``) in their environment.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable

from smartsim._core.config.config import progress_interval
from smartsim._core.control.job_manager import JobManager
from smartsim._core.control.manifest import Manifest
from smartsim._core.launcher import create_launcher
from smartsim._core.launcher.base import Launcher, StepInfo
from smartsim._core.launcher.step import Step, StepContext
from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.entity_list import EntityList
from smartsim.error import LauncherError, SmartSimError, SSInternalError
from smartsim.settings.base import BatchSettings
from smartsim.status import TERMINAL_STATUSES, SmartSimStatus

logger = logging.getLogger(__name__)


__all__ = ["Controller", "progress_interval"]


class LaunchProgress:
    """Logs ``launched k of n`` at most every :func:`progress_interval` seconds while a start
    launches many entities (each ``srun`` or ``mpirun`` takes a moment), and once at the end
    when it logged before: a short launch stays silent."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.interval = progress_interval()
        self.start = time.monotonic()
        self.next_report = self.start + self.interval
        self.reported = False

    def launched(self, name: str) -> None:
        self.done += 1
        now = time.monotonic()
        if now >= self.next_report and self.done < self.total:
            logger.info(
                "launched %d of %d entities (%.0f s so far; last %s)",
                self.done,
                self.total,
                now - self.start,
                name,
            )
            self.reported = True
            self.next_report = now + self.interval

    def finish(self) -> None:
        if self.reported:
            logger.info(
                "launched all %d entities in %.0f s", self.total, time.monotonic() - self.start
            )


class Controller:
    """Launches, stops and reports on entities through one launcher."""

    def __init__(self, launcher: str = "local") -> None:
        self.launcher_name = launcher
        self._launcher: Launcher | None = None
        self.jobs = JobManager()
        self._db: EntityList | None = None
        self._detached: set[str] = set()
        self._adopted_steps: set[str] = set()  # runs of a reconnected database (not ours)
        self._keep = False  # the start() in progress leaves its jobs running at exit

    @property
    def launcher(self) -> Launcher:
        """The launcher (created on first use, so settings work before it exists)."""
        if self._launcher is None:
            self._launcher = create_launcher(self.launcher_name)
            self._launcher.add_status_callback(self.jobs.on_status)
            self._launcher.add_exit_cleanup(self._database_files_at_exit)
        return self._launcher

    def _database_files_at_exit(self) -> None:
        """The driver exits with its database still up: the launcher has stopped the shards;
        remove what they leave (reconnect file, cluster configs), as exp.stop(db) does."""
        db = self._db
        if db is not None and not any(e.name in self._detached for e in db.entities):
            db.after_stop()
            self._db = None

    # ---- launching ---------------------------------------------------------------------
    def start(self, manifest: Manifest, block: bool = True, kill_on_interrupt: bool = True) -> None:
        """Launch everything in ``manifest``; with ``block`` wait for the non-database jobs.

        With ``kill_on_interrupt=False`` the jobs of this call are detached: neither Ctrl-C
        nor the driver's exit stops them (``exp.stop`` still does), so another driver can
        reconnect to a database, for example.
        """
        launched: list[str] = []
        self._keep = not kill_on_interrupt
        try:
            self._launch_manifest(manifest, launched)
            if block:
                names = [e.name for e in manifest.all_entities() if not self._is_db_member(e)]
                self.jobs.wait(names, progress_every=progress_interval())
                self._raise_status_error()
        except KeyboardInterrupt:
            if kill_on_interrupt:
                logger.warning("interrupted: stopping every job this experiment started")
                self.stop_all()
            raise
        except BaseException:
            self._stop_names(launched)
            raise
        finally:
            if self._keep:
                self._detached.update(launched)
            else:
                self._detached.difference_update(launched)
            self._keep = False

    def _is_db_member(self, entity: SmartSimEntity) -> bool:
        db = self._db
        return db is not None and any(e is entity for e in db.entities)

    def _launch_manifest(self, manifest: Manifest, launched: list[str]) -> None:
        db = manifest.db
        if db is not None and self.database_active():
            raise SmartSimError(
                f"a database ({self._db.name if self._db else ''}) is already running; stop it "
                "before launching another"
            )
        running = [
            e.name
            for e in manifest.all_entities()
            if self.jobs.status(e.name) not in (None, *TERMINAL_STATUSES)
        ]
        if running:
            raise SmartSimError(
                f"already running: {', '.join(running[:10])}; stop them (exp.stop) or wait "
                "for them before starting them again"
            )
        for item in [*manifest.all_entity_lists, *manifest.entities]:
            if item.batch_settings is not None and not self.launcher.supports_batch:
                raise SmartSimError(
                    f"{item.type} {item.name!r} has batch_settings, but the "
                    f"{self.launcher_name} launcher has no batch system; drop batch_settings "
                    "or use a workload manager launcher (e.g. launcher='slurm')"
                )
        # Build every step first: bad input fails here, before anything runs.
        future_db = db is not None or self._db is not None
        db_steps = self._build_list(db, None, is_db=True) if db else []
        placeholder = ["127.0.0.1:0"] if future_db else None
        steps = self._build_others(manifest, placeholder)
        if db is not None:  # the database's own wait logs its progress (readiness)
            self._launch_list(db, db_steps, launched, LaunchProgress(len(db_steps)))
            self._db = db
        addresses = self._db_addresses()
        if future_db:  # the real addresses are known now: rebuild with them
            db_env = self._db.client_env() if hasattr(self._db, "client_env") else {}
            steps = self._build_others(manifest, addresses, db_env)
        progress = LaunchProgress(sum(len(s) for s in steps.values()))
        for el in manifest.entity_lists:
            self._launch_list(el, steps[id(el)], launched, progress)
        for entity in manifest.entities:
            self._run_step(entity, steps[id(entity)][0], is_db=False)
            launched.append(entity.name)
            progress.launched(entity.name)
        progress.finish()

    def _build_others(
        self,
        manifest: Manifest,
        addresses: list[str] | None,
        db_env: dict[str, str] | None = None,
    ) -> dict[int, list[Step]]:
        """Steps of every non-database list and entity, keyed by ``id()`` of the item;
        ``db_env`` (the database's password/TLS variables) goes to every one of them."""
        steps = {
            id(el): self._build_list(el, addresses, db_env=db_env) for el in manifest.entity_lists
        }
        for entity in manifest.entities:
            env = {**(db_env or {}), **entity.client_env(addresses)}
            if entity.batch_settings is not None:  # a batch model: one job with one member
                member = self._build_step(entity, env, in_batch=True)
                steps[id(entity)] = [self._build_batch(entity, entity.batch_settings, [member])]
            else:
                steps[id(entity)] = [self._build_step(entity, env)]
        return steps

    def _build_list(
        self,
        el: EntityList,
        addresses: list[str] | None,
        is_db: bool = False,
        db_env: dict[str, str] | None = None,
    ) -> list[Step]:
        """One step per member, or one batch step running every member (batch lists)."""

        def env(e: SmartSimEntity) -> dict[str, str]:
            return {} if is_db else {**(db_env or {}), **e.client_env(addresses)}

        if el.batch_settings is None:
            return [self._build_step(e, env(e)) for e in el.entities]
        members = [self._build_step(e, env(e), in_batch=True) for e in el.entities]
        return [self._build_batch(el, el.batch_settings, members)]

    def _build_batch(
        self, item: SmartSimEntity | EntityList, settings: BatchSettings, members: list[Step]
    ) -> Step:
        context = StepContext.for_entity(item.name, item.path, {}, detached=self._keep)
        try:
            return self.launcher.create_batch_step(item.name, settings, members, context)
        except LauncherError as exc:
            raise SmartSimError(f"cannot launch {item.type} {item.name!r}: {exc}") from exc

    def _build_step(
        self, entity: SmartSimEntity, env: dict[str, str], in_batch: bool = False
    ) -> Step:
        if entity.run_settings is None:
            raise SmartSimError(f"{entity.type} {entity.name!r} has no run_settings")
        context = StepContext.for_entity(
            entity.name, entity.path, env, detached=self._keep, in_batch=in_batch
        )
        try:
            return self.launcher.create_step(
                entity.name, entity.run_settings, context, entity.wrap_command
            )
        except LauncherError as exc:
            raise SmartSimError(f"cannot launch {entity.type} {entity.name!r}: {exc}") from exc

    def _run_step(
        self,
        entity: SmartSimEntity | EntityList,
        step: Step,
        is_db: bool,
        members: list[str] | None = None,
    ) -> None:
        try:
            step_id = self.launcher.run(step)
        except LauncherError as exc:
            raise SmartSimError(f"failed to launch {entity.type} {entity.name!r}: {exc}") from exc
        self.jobs.add_run(
            entity.name,
            entity.type,
            step_id,
            step.launched_id,
            self.launcher_name,
            is_db,
            members=members or (),
            error_file=step.context.error_file,
        )

    def _launch_list(
        self, el: EntityList, steps: list[Step], launched: list[str], progress: LaunchProgress
    ) -> None:
        el.member_status = self.jobs.status
        el.prepare_launch()
        started: list[str] = []
        try:
            if el.batch_settings is not None:  # one job runs every member
                members = [e.name for e in el.entities]
                self._run_step(el, steps[0], is_db=el.provides_database, members=members)
                started.append(el.name)
                launched.append(el.name)
                progress.launched(el.name)
            else:
                for entity, step in zip(el.entities, steps):
                    self._run_step(entity, step, is_db=el.provides_database)
                    started.append(entity.name)
                    launched.append(entity.name)
                    progress.launched(entity.name)
            el.after_launch()
        except BaseException:
            self._stop_names(started)
            with contextlib.suppress(Exception):
                el.after_stop()
            raise

    def _db_addresses(self) -> list[str] | None:
        db = self._db
        if db is None:
            return None
        if not self._list_alive(db):
            logger.warning("database %s is no longer running; SSDB is not set", db.name)
            self._db = None
            return None
        try:
            return list(db.get_address())  # type: ignore[attr-defined]
        except Exception as exc:
            raise SmartSimError(f"cannot get the address of database {db.name}: {exc}") from exc

    def _list_alive(self, el: EntityList) -> bool:
        statuses = [self.jobs.status(e.name) for e in el.entities]
        launched = [s for s in statuses if s is not None]
        if not launched:
            return True  # adopted (reconnected) database: no jobs of ours
        return any(s not in TERMINAL_STATUSES for s in launched)

    def database_active(self) -> bool:
        """Whether a database launched (or adopted) by this controller is still running."""
        return self._db is not None and self._list_alive(self._db)

    def adopt_database(self, db: EntityList) -> None:
        """Use a database started elsewhere (reconnect_orchestrator) for SSDB.

        Its shards are recorded as Running jobs (status, summary); the driver's exit leaves
        them running, as it found them, and ``exp.stop`` shuts them down (Cancelled).
        """
        if self.database_active():
            raise SmartSimError("a database is already active in this experiment")
        self._db = db
        for node in db.entities:
            step_id = f"reconnected:{node.name}"
            self.jobs.add_run(node.name, node.type, step_id, "", "reconnected", is_db=True)
            self._adopted_steps.add(step_id)
            self._detached.add(node.name)

    # ---- stopping --------------------------------------------------------------------------
    def _stop_names(self, names: Iterable[str]) -> None:
        if self._launcher is None:
            return
        names = list(names)
        step_ids = [s for s in self.jobs.running_step_ids(names) if s not in self._adopted_steps]
        # a job reported Failed because its status could not be read may still run
        active = set(self._launcher.active_steps())
        step_ids += [
            s for s in self.jobs.current_step_ids(names) if s in active and s not in step_ids
        ]
        if step_ids:
            self._launcher.stop(step_ids)

    def stop_entity(self, entity: SmartSimEntity) -> None:
        """Stop one entity's latest run (nothing happens if it already ended)."""
        self.stop_entities([entity])

    def stop_entity_list(self, el: EntityList) -> None:
        """Stop every member, then call the list's ``after_stop`` hook."""
        self.stop_entities([el])

    def stop_entities(self, items: Iterable[SmartSimEntity | EntityList]) -> None:
        """Stop entities and entity lists together: one launcher stop for all their steps
        (one cancel call for all their batch jobs), then each list's ``after_stop`` hook."""
        names: list[str] = []
        lists: list[EntityList] = []
        for item in items:
            members = item.entities if isinstance(item, EntityList) else [item]
            if not any(self.jobs.get_job(e.name) for e in members) and self._db is not item:
                logger.warning("%s %s was never launched; nothing to stop", item.type, item.name)
                continue
            names += [e.name for e in members]
            if isinstance(item, EntityList):
                lists.append(item)
        self._stop_names(names)
        for el in lists:
            self._after_list_stopped(el)

    def _after_list_stopped(self, el: EntityList) -> None:
        el.after_stop()
        for step_id in self.jobs.current_step_ids([e.name for e in el.entities]):
            if step_id in self._adopted_steps:  # a reconnected database: shut down just now
                self.jobs.on_status(step_id, StepInfo(SmartSimStatus.STATUS_CANCELLED))
        if self._db is el:
            self._db = None

    def stop_all(self) -> None:
        """Stop every job this controller launched that is still running.

        Asks the launcher as well, which also knows a step whose process started just
        before an interrupt, when the job manager had not recorded it yet.
        """
        self._stop_names([j.name for j in self.jobs.jobs() if j.name not in self._detached])
        if self._launcher is not None:
            self._launcher.stop(self._launcher.attached_steps())
        if self._db is not None and not any(e.name in self._detached for e in self._db.entities):
            with contextlib.suppress(Exception):
                self._db.after_stop()
            self._db = None

    # ---- status ----------------------------------------------------------------------------
    def get_entity_status(self, entity: SmartSimEntity) -> SmartSimStatus:
        """Status of the entity's latest run; SmartSimError if never launched."""
        status = self.jobs.status(entity.name)
        if status is None:
            raise SmartSimError(f"{entity.type} {entity.name!r} was never launched")
        return status

    def get_entity_list_status(self, el: EntityList) -> list[SmartSimStatus]:
        """Statuses of every member (one status, the job's, for a list run as a batch job)."""
        job = self.jobs.get_job(el.name)
        if el.batch_settings is not None and job is not None:
            return [job.status]
        return [self.get_entity_status(e) for e in el.entities]

    def finished(self, entity: SmartSimEntity | EntityList) -> bool:
        """Whether the entity (every member of a list) has ended."""
        if getattr(entity, "provides_database", False):
            raise TypeError("finished() does not apply to a database; use get_status or stop")
        members = entity.entities if isinstance(entity, EntityList) else [entity]
        for member in members:
            status = self.jobs.status(member.name)
            if status is None:
                raise ValueError(f"{member.type} {member.name!r} was never launched")
            if status not in TERMINAL_STATUSES:
                return False
        return True

    def poll(self, interval: float = 10, verbose: bool = True) -> None:
        """Wait until every non-database job has ended, logging progress each interval."""
        names = [j.name for j in self.jobs.jobs() if not j.is_db]
        self.jobs.wait(names, progress_every=interval if verbose else None)
        self._raise_status_error()

    def _raise_status_error(self) -> None:
        """SmartSimError when the launcher gave up asking the scheduler about jobs."""
        error = self._launcher.take_status_error() if self._launcher is not None else ""
        if error:
            raise SmartSimError(
                f"the status of jobs could not be read from {self.launcher_name}, so they are "
                f"reported Failed (exp.stop, Ctrl-C or the driver's exit still cancel them): {error}"
            )

    def close(self) -> None:
        """Release the launcher's threads (running jobs are stopped)."""
        if self._launcher is not None:
            try:
                self._launcher.close()
            except SSInternalError as exc:  # pragma: no cover - defensive
                logger.warning("closing the launcher failed: %s", exc)
