"""Model: one application run with its parameters and attached files."""

from __future__ import annotations

from typing import Any

from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.files import EntityFiles
from smartsim.error import EntityExistsError
from smartsim.settings.base import BatchSettings, RunSettings


def cat_arg_and_value(arg_name: str, value: Any) -> str:
    """``--x`` -> ``--x=v``; ``-x`` -> ``-x v``; a long name -> ``--name=v``; one letter -> ``-n v``."""
    if arg_name.startswith("--"):
        return f"{arg_name}={value}"
    if arg_name.startswith("-"):
        return f"{arg_name} {value}"
    if len(arg_name) == 1:
        return f"-{arg_name} {value}"
    return f"--{arg_name}={value}"


class Model(SmartSimEntity):
    """An application with parameters (written into tagged files or passed as arguments).

    The positional order is SmartSim 0.4's: ``Model(name, params, path, run_settings)``;
    ``Model(name, params, run_settings, path)`` (the 0.8 order) is accepted as well.
    """

    def __init__(
        self,
        name: str,
        params: dict[str, Any] | None,
        path: str | None,
        run_settings: RunSettings | None,
        params_as_args: list[str] | None = None,
        batch_settings: BatchSettings | None = None,
    ) -> None:
        if isinstance(path, RunSettings) and not isinstance(run_settings, RunSettings):
            path, run_settings = run_settings, path  # the 0.8 positional order
        if run_settings is None:
            raise TypeError(f"model {name!r} needs run_settings")
        super().__init__(name, path, run_settings)
        if batch_settings is not None and not isinstance(batch_settings, BatchSettings):
            raise TypeError(
                f"batch_settings of model {name!r} must be a BatchSettings (see "
                f"Experiment.create_batch_settings), not {type(batch_settings).__name__}"
            )
        self.batch_settings = batch_settings
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise TypeError(f"params of model {name!r} must be a dict, not {type(params).__name__}")
        self.params: dict[str, Any] = dict(params)
        if params_as_args is not None and (
            not isinstance(params_as_args, list)
            or not all(isinstance(p, str) for p in params_as_args)
        ):
            raise TypeError("params_as_args must be a list of parameter names (str)")
        self.params_as_args: list[str] = list(params_as_args or [])
        self.incoming_entities: list[SmartSimEntity] = []
        self._key_prefixing_enabled = False
        self.files: EntityFiles | None = None
        self.params_to_args()

    @property
    def colocated(self) -> bool:
        """True when a database runs beside this model (see ``colocate_db_*``)."""
        return bool(self.run_settings and self.run_settings.colocated_db_settings)

    # ---- colocated database (SmartSim 0.8; see smartsim/database/colocated.py) ----------
    def colocate_db_tcp(
        self,
        port: int = 6379,
        ifname: str | list[str] = "lo",
        db_cpus: int = 1,
        custom_pinning: list[int] | None = None,
        debug: bool = False,
        **kwargs: Any,
    ) -> None:
        """Run a database beside this model, on TCP ``port`` (loopback, plus ``ifname``)."""
        from smartsim.database.colocated import colocate

        colocate(
            self,
            port=port,
            ifname=ifname,
            db_cpus=db_cpus,
            custom_pinning=custom_pinning,
            debug=debug,
            **kwargs,
        )

    def colocate_db_uds(
        self,
        unix_socket: str = "/tmp/redis.socket",
        socket_permissions: int = 755,
        db_cpus: int = 1,
        custom_pinning: list[int] | None = None,
        debug: bool = False,
        **kwargs: Any,
    ) -> None:
        """Run a database beside this model, reachable only through ``unix_socket``."""
        from smartsim.database.colocated import colocate

        colocate(
            self,
            unix_socket=unix_socket,
            socket_permissions=socket_permissions,
            db_cpus=db_cpus,
            custom_pinning=custom_pinning,
            debug=debug,
            **kwargs,
        )

    def colocate_db(self, port: int = 6379, db_cpus: int = 1, **kwargs: Any) -> None:
        """Deprecated (SmartSim 0.4): use :meth:`colocate_db_tcp`."""
        import warnings

        warnings.warn(
            "colocate_db is deprecated; use colocate_db_tcp", DeprecationWarning, stacklevel=2
        )
        self.colocate_db_tcp(port=port, db_cpus=db_cpus, **kwargs)

    def wrap_command(self, argv: list[str]) -> list[str]:
        """Start the colocated database (if any) around the program in ``argv``."""
        if not self.colocated:
            return argv  # skip importing the database package (and redis) for plain models
        from smartsim.database.colocated import wrap_model_command

        return wrap_model_command(self, argv)

    # ---- key prefixing and data sources ------------------------------------------------
    def register_incoming_entity(self, incoming_entity: SmartSimEntity) -> None:
        """Read keys written by ``incoming_entity`` (it becomes part of ``SSKEYIN``)."""
        if not hasattr(incoming_entity, "name"):
            raise TypeError("register_incoming_entity takes a Model or another entity")
        if any(e.name == incoming_entity.name for e in self.incoming_entities):
            raise EntityExistsError(
                f"{incoming_entity.name!r} is already registered as an incoming entity of "
                f"{self.name!r}"
            )
        self.incoming_entities.append(incoming_entity)

    def enable_key_prefixing(self) -> None:
        """Prefix the keys this model writes with its name (``SSKEYOUT``)."""
        self._key_prefixing_enabled = True

    def disable_key_prefixing(self) -> None:
        """Write keys without a prefix."""
        self._key_prefixing_enabled = False

    def query_key_prefixing(self) -> bool:
        """Whether key prefixing is on."""
        return self._key_prefixing_enabled

    def client_env(self, db_addresses: list[str] | None) -> dict[str, str]:
        """``SSDB``, ``SSKEYIN`` and ``SSKEYOUT`` for this model's launch.

        ``SSDB`` lists at most 128 ``host:port`` addresses of the running database; a
        colocated model gets its own database's address instead.
        """
        env: dict[str, str] = {}
        if db_addresses:
            env["SSDB"] = ",".join(db_addresses[:128])
        colo = self.run_settings.colocated_db_settings if self.run_settings else None
        if colo:
            if colo.get("unix_socket"):
                env["SSDB"] = f"unix://{colo['unix_socket']}"
            elif colo.get("port") is not None:
                env["SSDB"] = f"127.0.0.1:{colo['port']}"
        if self.incoming_entities:
            env["SSKEYIN"] = ",".join(e.name for e in self.incoming_entities)
        if self._key_prefixing_enabled:
            env["SSKEYOUT"] = self.name
        return env

    # ---- files and parameters ------------------------------------------------------------
    def attach_generator_files(
        self,
        to_copy: str | list[str] | None = None,
        to_symlink: str | list[str] | None = None,
        to_configure: str | list[str] | None = None,
    ) -> None:
        """Files the generator copies, symlinks or configures (``;param;`` tags) for us."""
        files = EntityFiles(to_configure, to_copy, to_symlink)
        if self.files is None:
            self.files = files
        else:
            self.files.merge(files)

    def params_to_args(self) -> None:
        """Append each parameter named in ``params_as_args`` to the executable's arguments."""
        assert self.run_settings is not None
        for param in self.params_as_args:
            if param not in self.params:
                raise ValueError(
                    f"params_as_args names {param!r}, which is not a parameter of model "
                    f"{self.name!r} (its parameters: {sorted(self.params)})"
                )
            self.run_settings.add_exe_args(
                cat_arg_and_value(param, self.params[param]).split(" ", 1)
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SmartSimEntity) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __str__(self) -> str:
        lines = [f"Name: {self.name}", f"Type: {self.type}", str(self.run_settings)]
        if self.params:
            lines.append(f"Parameters: {self.params}")
        return "\n".join(lines)
