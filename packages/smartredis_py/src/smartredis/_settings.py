"""The client's resolved settings, read once from a ConfigOptions at construction."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from smartredis._transport import Security, Timeouts
from smartredis._transport.base import REFUSED_GRACE
from smartredis._wire.address import Address, parse_ssdb, split_credentials
from smartredis.configoptions import ConfigOptions, parse_integer
from smartredis.error import RedisConnectionError

DEFAULT_MODEL_TIMEOUT_MS = 60_000_000


@dataclass(frozen=True)
class Settings:
    """Everything the client reads from its configuration."""

    addresses: list[Address]
    cluster: bool
    sskeyin: str
    sskeyout: str
    timeouts: Timeouts
    thread_count: int
    security: Security = field(default_factory=Security)


def _positive(cfg: ConfigOptions, name: str, default: int) -> int:
    value = cfg._integer(name, default)
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, not {value}.")
    return value


def resolve(cfg: ConfigOptions, cluster: bool | None = None) -> Settings:
    """Read SSDB, SR_DB_TYPE, SSKEYIN/SSKEYOUT and the SR_* timing options.

    ``cluster`` given explicitly (the ``Client(cluster, address)`` form) wins over SR_DB_TYPE.
    """
    ssdb = cfg._string("SSDB", "")
    if not ssdb:
        raise RedisConnectionError("The environment variable SSDB must be set to use the client.")
    try:
        addresses = parse_ssdb(ssdb, cfg._key("SSDB"))
        security = _security(cfg, ssdb)
    except ValueError as exc:
        raise RedisConnectionError(str(exc)) from None
    if cluster is None:
        cluster = cfg._string("SR_DB_TYPE", "Clustered").lower() == "clustered"
    thread_count = cfg._integer("SR_THREAD_COUNT", 4)
    if thread_count < 0:
        raise ValueError(f"SR_THREAD_COUNT must not be negative, not {thread_count}.")
    timeouts = Timeouts(
        connect=_positive(cfg, "SR_CONN_TIMEOUT", 100),
        connect_interval=_positive(cfg, "SR_CONN_INTERVAL", 1000) / 1000,
        command=_positive(cfg, "SR_CMD_TIMEOUT", 100),
        command_interval=_positive(cfg, "SR_CMD_INTERVAL", 1000) / 1000,
        socket=_positive(cfg, "SR_SOCKET_TIMEOUT", 250) / 1000,
    )
    if cfg._lookup("SR_CONN_TIMEOUT") is None:  # upstream's 100 s, but not for refusals
        timeouts = dataclasses.replace(timeouts, refused=min(REFUSED_GRACE, timeouts.connect))
    else:
        timeouts = dataclasses.replace(timeouts, refused=timeouts.connect)
    return Settings(
        addresses=addresses,
        cluster=cluster,
        sskeyin=cfg._string("SSKEYIN", ""),
        sskeyout=cfg._string("SSKEYOUT", ""),
        timeouts=timeouts,
        thread_count=thread_count or (os.cpu_count() or 1),
        security=security,
    )


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def _security(cfg: ConfigOptions, ssdb: str) -> Security:
    """SR_DB_USERNAME/SR_DB_PASSWORD and SR_DB_TLS(_CA/_CERT/_KEY); a ``redis[s]://`` URL in
    SSDB wins for what it gives."""
    url = split_credentials(ssdb)[1]
    tls_text = cfg._string("SR_DB_TLS", "").strip().lower()
    if tls_text not in _TRUE + _FALSE:
        raise ValueError(f"{cfg._key('SR_DB_TLS')} must be 1 or 0, not {tls_text!r}.")
    files: dict[str, str | None] = {}
    for option in ("tls_ca", "tls_cert", "tls_key"):
        name = cfg._key("SR_DB_" + option.upper())
        files[option] = cfg._string("SR_DB_" + option.upper(), "") or None
        if files[option] is not None and not os.path.isfile(str(files[option])):
            raise ValueError(f"{name}={files[option]!r}: no such file.")
    password = url.password if url.password is not None else cfg._string("SR_DB_PASSWORD", "")
    username = url.username or cfg._string("SR_DB_USERNAME", "") or None
    return Security(
        username=username,
        password=password or None,
        tls=url.tls or tls_text in _TRUE,
        **files,
    )


def model_timeout_ms() -> int:
    """SR_MODEL_TIMEOUT (never suffixed), read on every run: the TIMEOUT of AI.MODELEXECUTE."""
    text = os.environ.get("SR_MODEL_TIMEOUT")
    if not text:
        return DEFAULT_MODEL_TIMEOUT_MS
    value = parse_integer("SR_MODEL_TIMEOUT", text)
    if value <= 0:
        raise ValueError(f"SR_MODEL_TIMEOUT must be a positive integer, not {value}.")
    return value
