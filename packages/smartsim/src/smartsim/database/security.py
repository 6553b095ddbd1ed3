"""Who may talk to the database: an optional password and optional TLS (pure data + helpers).

:class:`DBSecurity` is what the Orchestrator and a colocated database are given.  It knows

* the server options (``requirepass`` and ``masterauth`` go into a ``0600`` config file
  so the password never appears on a command line; the TLS options are paths),
* how the driver connects (redis-py keyword arguments, or a raw socket for PING/SHUTDOWN),
* what launched applications get in their environment (``SR_DB_PASSWORD``, ``SR_DB_TLS``,
  ``SR_DB_TLS_CA``), which our ``smartredis.Client`` reads with no code change.

Both are off by default, so the official SmartRedis clients (which cannot send a password
or speak TLS) keep working.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from smartsim._core.entrypoints.dbnode import write_secret_config
from smartsim.error import SmartSimError

#: Environment variables of launched applications (read by our smartredis.Client).
PASSWORD_ENV = "SR_DB_PASSWORD"
TLS_ENV = "SR_DB_TLS"
TLS_CA_ENV = "SR_DB_TLS_CA"

#: Markers of a server binary built with TLS (OpenSSL symbols are linked in or imported).
_TLS_MARKERS = (b"SSL_CTX_new", b"OPENSSL_init_ssl")


class AuthError(SmartSimError):
    """The database refused our credentials (or wants some we do not have)."""


@dataclass(frozen=True)
class DBSecurity:
    """Password and TLS files of a database; every field empty means an open database."""

    password: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None

    @classmethod
    def from_args(
        cls,
        password: str | bool | None = None,
        tls_cert: str | os.PathLike[str] | None = None,
        tls_key: str | os.PathLike[str] | None = None,
        tls_ca: str | os.PathLike[str] | None = None,
        db_conf: Mapping[str, str] | None = None,
    ) -> DBSecurity:
        """Check the user's arguments; ``password=True`` (or ``"auto"``) generates one.

        A ``requirepass`` in ``db_conf`` counts as the password (it must agree with
        ``password`` when both are given).
        """
        conf_pass = (db_conf or {}).get("requirepass")
        if password is True or password == "auto":
            password = conf_pass or secrets.token_urlsafe(32)
        elif password is False:
            password = None
        if password is not None and not isinstance(password, str):
            raise TypeError(f"password must be a str, True or None, got {type(password).__name__}")
        if password == "":
            raise SmartSimError("password must not be empty (use None for no password)")
        if conf_pass is not None:
            if password is not None and conf_pass != password:
                raise SmartSimError(
                    "db_conf['requirepass'] and password= differ; give the password once"
                )
            password = conf_pass or None
        files = {"tls_cert": tls_cert, "tls_key": tls_key, "tls_ca": tls_ca}
        given = {k: v for k, v in files.items() if v is not None}
        if given and len(given) != 3:
            missing = sorted(set(files) - set(given))
            raise SmartSimError(
                f"TLS needs tls_cert, tls_key and tls_ca together; missing {', '.join(missing)}"
            )
        paths: dict[str, str] = {}
        for key, value in given.items():
            path = Path(value).expanduser().resolve()
            if not path.is_file():
                raise SmartSimError(f"{key}={str(value)!r}: no such file")
            paths[key] = str(path)
        return cls(password=password, **paths)

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @property
    def enabled(self) -> bool:
        return self.password is not None or self.tls

    def __repr__(self) -> str:  # never show the password
        shown = "***" if self.password else None
        return f"DBSecurity(password={shown}, tls={self.tls}, tls_ca={self.tls_ca!r})"

    # ---- the server -------------------------------------------------------------------
    def write_config(self, path: Path) -> Path:
        """Write ``requirepass``/``masterauth`` to ``path``, readable by this user only."""
        assert self.password, "no password to write"
        write_secret_config(path, self.password)
        return path

    def port_options(self, port: int, cluster: bool) -> list[str]:
        """``--port``/``--tls-*`` options: with TLS, the plain port is closed."""
        if not self.tls:
            return ["--port", str(port)]
        argv = ["--port", "0", "--tls-port", str(port)]
        argv += ["--tls-cert-file", str(self.tls_cert), "--tls-key-file", str(self.tls_key)]
        argv += ["--tls-ca-cert-file", str(self.tls_ca), "--tls-auth-clients", "optional"]
        if cluster:
            argv += ["--tls-cluster", "yes", "--tls-replication", "yes"]
        return argv

    # ---- the driver's connections -----------------------------------------------------
    def redis_kwargs(self) -> dict[str, object]:
        """Keyword arguments for ``redis.Redis`` / ``RedisCluster``."""
        kwargs: dict[str, object] = {}
        if self.password:
            kwargs["password"] = self.password
        if self.tls:
            kwargs.update(
                ssl=True,
                ssl_ca_certs=self.tls_ca,
                ssl_certfile=self.tls_cert,
                ssl_keyfile=self.tls_key,
                ssl_cert_reqs="required",
                ssl_check_hostname=False,  # the chain is checked; nodes are reached by IP
            )
        return kwargs

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.tls_ca)
        ctx.check_hostname = False
        ctx.load_cert_chain(str(self.tls_cert), str(self.tls_key))
        return ctx

    def open_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        """A connected socket (TLS-wrapped when TLS is on); nothing sent yet."""
        sock = socket.create_connection((host, port), timeout=timeout)
        if not self.tls:
            return sock
        try:
            return self.ssl_context().wrap_socket(sock)
        except BaseException:
            sock.close()
            raise

    def auth_command(self) -> bytes:
        """RESP ``AUTH <password>`` (empty without a password)."""
        if not self.password:
            return b""
        secret = self.password.encode()
        return b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret)

    # ---- launched applications --------------------------------------------------------
    def client_env(self) -> dict[str, str]:
        """What our smartredis.Client needs to connect (empty for an open database)."""
        env: dict[str, str] = {}
        if self.password:
            env[PASSWORD_ENV] = self.password
        if self.tls:
            env[TLS_ENV] = "1"
            env[TLS_CA_ENV] = str(self.tls_ca)
        return env


def server_has_tls(binary: str | os.PathLike[str]) -> bool:
    """Whether the server binary was built with TLS (OpenSSL symbols in it)."""
    try:
        data = Path(binary).read_bytes()
    except OSError:
        return True  # cannot tell: let the server itself say so at start
    return any(marker in data for marker in _TLS_MARKERS)


def describe_auth_reply(reply: bytes, address: str, security: DBSecurity) -> str | None:
    """A clear message for an authentication (or TLS) failure reply, else None."""
    text = reply.decode(errors="replace").strip().lstrip("-")
    if text.startswith("NOAUTH"):
        return (
            f"the database at {address} requires a password ({text}); give the Orchestrator "
            "password=... (or db_conf={'requirepass': ...}) with the server's password"
        )
    if text.startswith("WRONGPASS") or "invalid password" in text:
        return (
            f"the database at {address} refused the password ({text}); the password given "
            "to the Orchestrator is not the server's"
        )
    if text.startswith("TLSERROR"):
        return (
            f"the TLS handshake with the database at {address} failed ({text[9:]}); check that "
            "tls_ca is the CA that signed tls_cert"
        )
    return None  # PONG, or an open server that needs no password
