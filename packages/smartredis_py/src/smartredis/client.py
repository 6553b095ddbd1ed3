"""Client: the SmartRedis 0.6.1 client API over a standalone database or a Redis Cluster.

Two constructor forms, as upstream::

    Client(config_options: ConfigOptions | None = None, logger_name: str = "Default")
    Client(cluster: bool, address: str | None = None, logger_name: str = "Default",
           *, password: str | None = None)

The first reads SSDB, SR_DB_TYPE (default "Clustered"), SSKEYIN/SSKEYOUT and the SR_*
timing options through the ConfigOptions (or the environment); the second sets
``os.environ["SSDB"]`` to ``address`` when given and ignores SR_DB_TYPE.

Our additions (see the README): the password and TLS options SR_DB_PASSWORD,
SR_DB_USERNAME, SR_DB_TLS, SR_DB_TLS_CA, SR_DB_TLS_CERT, SR_DB_TLS_KEY; ``redis://`` /
``rediss://`` URLs with ``user:password@`` as addresses; the ``password`` keyword.
"""

from __future__ import annotations

import functools
import os
import typing as t

from smartredis._client.admin import AdminMixin
from smartredis._client.lists import ListMixin
from smartredis._client.models import ModelMixin
from smartredis._client.scripts import ScriptMixin
from smartredis._client.tensors import TensorMixin
from smartredis._settings import Settings, resolve
from smartredis._transport import ClusterExecutor, Executor, StandaloneExecutor
from smartredis._wire.keys import Prefixer
from smartredis.configoptions import ConfigOptions
from smartredis.error import RedisConnectionError, RedisReplyError, RedisRuntimeError
from smartredis.logger import _configure as configure_logging
from smartredis.srobject import SRObject

__all__ = ["Client"]


class _Connection(t.NamedTuple):
    """What a construction method returns: the executor and the settings it was made from."""

    executor: Executor
    settings: Settings
    logger_name: str


def _connect(cfg: ConfigOptions, cluster: bool | None, logger_name: str) -> _Connection:
    try:  # the log output first, as upstream: a bad SR_LOG_LEVEL fails the construction
        configure_logging()
    except RedisRuntimeError as exc:
        raise RedisConnectionError(exc.detail) from None
    settings = resolve(cfg, cluster)
    try:
        if settings.cluster:
            executor: Executor = ClusterExecutor(
                settings.addresses, settings.timeouts, settings.security
            )
        else:
            if len(settings.addresses) > 1:
                import random

                address = random.choice(settings.addresses)
            else:
                address = settings.addresses[0]
            executor = StandaloneExecutor(address, settings.timeouts, settings.security)
    except RedisReplyError as exc:
        where = ", ".join(str(a) for a in settings.addresses)
        detail = exc.detail
        if detail.startswith("Could not connect to the database at"):
            raise RedisConnectionError(detail) from None  # it names the address already
        raise RedisConnectionError(
            f"Could not connect to the database at {where}: {detail}"
        ) from None
    return _Connection(executor, settings, logger_name)


class Client(SRObject, TensorMixin, ListMixin, ModelMixin, ScriptMixin, AdminMixin):
    """A SmartRedis client: tensors, datasets, aggregation lists, models and scripts."""

    def __init__(self, *a: t.Any, **kw: t.Any) -> None:
        if a:
            if isinstance(a[0], bool):
                for arg in kw:
                    if arg not in ("cluster", "address", "logger_name", "password"):
                        raise TypeError(f"__init__() got an unexpected keyword argument '{arg}'")
                conn = self.__address_construction(*a, **kw)
            elif isinstance(a[0], ConfigOptions) or a[0] is None:
                conn = self.__standard_construction(*a, **kw)
            else:
                raise TypeError(f"Invalid type for argument 0: {type(a[0])}")
        elif "address" in kw or "cluster" in kw:
            conn = self.__address_construction(*a, **kw)
        else:
            conn = self.__standard_construction(*a, **kw)
        self._setup(conn)

    def _setup(self, conn: _Connection) -> None:
        super().__init__(conn.logger_name)
        self._executor = conn.executor
        self._settings = conn.settings
        self._prefix = Prefixer.from_values(conn.settings.sskeyin, conn.settings.sskeyout)
        self._thread_count = conn.settings.thread_count
        self._chunk_size = None

    def __address_construction(
        self,
        cluster: bool,
        address: str | None = None,
        logger_name: str = "Default",
        *,
        password: str | None = None,
    ) -> _Connection:
        """Connect to ``address`` (or $SSDB); ``cluster`` says whether it is a Redis Cluster.

        ``password`` (our addition) is used instead of SR_DB_PASSWORD.
        """
        if not isinstance(cluster, bool):
            raise TypeError(f"Argument cluster is of type {type(cluster)}, not {bool}")
        if address is not None:
            if not isinstance(address, str):
                raise TypeError(f"Argument address is of type {type(address)}, not {str}")
            os.environ["SSDB"] = address
        if not os.environ.get("SSDB"):
            raise RedisConnectionError("Could not connect to database. $SSDB not set")
        if not isinstance(logger_name, str):
            raise TypeError(f"Argument logger_name is of type {type(logger_name)}, not {str}")
        cfg = ConfigOptions.create_from_environment("")
        if password is not None:
            if not isinstance(password, str):
                raise TypeError(f"Argument password is of type {type(password)}, not {str}")
            cfg.override_string_option("SR_DB_PASSWORD", password)
        return _connect(cfg, cluster, logger_name)

    @staticmethod
    def __standard_construction(
        config_options: ConfigOptions | None = None, logger_name: str = "Default"
    ) -> _Connection:
        """Connect as the ConfigOptions (or the environment) say, SR_DB_TYPE included."""
        if config_options is not None and not isinstance(config_options, ConfigOptions):
            raise TypeError(
                f"Argument config_options is of type {type(config_options)}, not ConfigOptions"
            )
        if not isinstance(logger_name, str):
            raise TypeError(f"Argument logger_name is of type {type(logger_name)}, not {str}")
        cfg = (
            config_options._clone()
            if config_options is not None
            else ConfigOptions.create_from_environment("")
        )
        cfg._check()
        return _connect(cfg, None, logger_name)

    def __str__(self) -> str:
        return f"Client ({self._context}): {self._executor}"

    def close(self) -> None:
        """Close the connections (they are also closed when the client is garbage collected)."""
        self._executor.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _named_errors(func: t.Callable, qualname: str) -> t.Callable:
    """Prefix errors with ``Client.<method> execution failed``, as the official client does.

    The name is that of the method the user called: a method that calls another public
    method (``set_model_from_file`` -> ``set_model``) renames the error on the way out.
    """

    @functools.wraps(func)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except RedisReplyError as exc:
            if exc.method == qualname:
                raise
            raise type(exc)(exc.detail, qualname, exc.key) from None

    return wrapper


for _name in dir(Client):
    _attr = getattr(Client, _name)
    if not _name.startswith("_") and callable(_attr) and _name not in SRObject.__dict__:
        setattr(Client, _name, _named_errors(_attr, f"Client.{_name}"))
del _name, _attr
