"""The ``SSDB`` address grammar: ``[tcp://]host:port`` or ``unix://<path>``, comma separated.

Our addition: ``redis://[[user]:password@]host:port`` and ``rediss://...`` (TLS), as
redis-py takes them; :func:`split_credentials` takes the user, password and TLS flag out
(percent-decoded) before the address is parsed, and :func:`redact` hides a password in
messages.  A port is decimal (``010`` is 10; the official client reads it as octal, 8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

_ALLOWED = re.compile(r"^[A-Za-z0-9.:,/_\-]+$")
_URL = re.compile(r"^(rediss?)://(?:([^@/]*)@)?([^@]*)$")
_USERINFO = re.compile(r"(rediss?://)[^@/,]*@")


@dataclass(frozen=True)
class Address:
    """One database address: TCP (``host``, ``port``) or a Unix socket (``path``)."""

    host: str = ""
    port: int = 0
    path: str = ""

    @property
    def is_unix(self) -> bool:
        return bool(self.path)

    def __str__(self) -> str:
        """The canonical form used to match addresses: ``host:port`` or ``unix://path``."""
        return f"unix://{self.path}" if self.path else f"{self.host}:{self.port}"


def _parse_port(text: str, address: str) -> int:
    """Decimal digits (a leading 0 changes nothing), or ``0x`` hexadecimal as upstream."""
    try:
        if text.lower().startswith("0x"):
            port = int(text, 16)
        elif text.isascii() and text.isdigit():
            port = int(text, 10)
        else:
            raise ValueError(text)
    except ValueError:
        raise ValueError(
            f"The port of the address {address!r} is not a number (decimal digits expected)."
        ) from None
    if not 0 < port < 65536:
        raise ValueError(f"The port of the address {address!r} is out of range.")
    return port


def parse_address(text: str) -> Address:
    """Parse one address; ``ValueError`` with the address in the message when malformed."""
    text = text.strip()
    if text.startswith("unix://"):
        path = text[len("unix://") :]
        if not path:
            raise ValueError(f"The Unix socket address {text!r} has no path.")
        return Address(path=path)
    body = text[len("tcp://") :] if text.startswith("tcp://") else text
    host, sep, port = body.partition(":")
    if not sep or not host or not port:
        raise ValueError(
            f"The address {text!r} is not of the form host:port, tcp://host:port or unix://path."
        )
    return Address(host=host, port=_parse_port(port, text))


def parse_ssdb(value: str, name: str = "SSDB") -> list[Address]:
    """Parse an ``SSDB`` value (one or more comma separated addresses).

    ``name`` (the variable it came from) is named in the errors.
    """
    value = split_credentials(value)[0]
    if not value or not _ALLOWED.match(value):
        raise ValueError(
            f"The database address {name}={redact(value)!r} is invalid: use host:port, "
            "tcp://host:port or unix://path (separated by commas); only letters, digits "
            "and .:,/_- are allowed."
        )
    addresses = [parse_address(item) for item in value.split(",") if item.strip()]
    if not addresses:
        raise ValueError(
            f"The database address {name}={value!r} holds no address; set it to host:port "
            "(or several, separated by commas)."
        )
    return addresses


@dataclass(frozen=True)
class Credentials:
    """User, password and TLS flag taken from ``redis://`` / ``rediss://`` addresses."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False


def split_credentials(value: str) -> tuple[str, Credentials]:
    """``value`` with each ``redis[s]://[user:password@]`` turned into a plain address.

    The URLs of one value must agree on the credentials and on TLS.
    """
    found: set[Credentials] = set()
    items = []
    for item in value.split(","):
        match = _URL.match(item.strip())
        if not match:
            items.append(item)
            continue
        scheme, userinfo, rest = match.groups()
        username = password = None
        if userinfo is not None:
            user, sep, secret = userinfo.partition(":")
            username = unquote(user) or None
            password = unquote(secret) if sep else None
            if not sep:  # redis://secret@host is a password in redis-py
                username, password = None, unquote(user)
        found.add(Credentials(username, password, scheme == "rediss"))
        items.append(rest.rstrip("/"))
    if len(found) > 1:
        raise ValueError(
            f"The addresses {redact(value)!r} give different credentials or TLS settings."
        )
    return ",".join(items), (found.pop() if found else Credentials())


def redact(text: str) -> str:
    """``text`` with the user:password part of any ``redis[s]://`` URL replaced by ``***``."""
    return _USERINFO.sub(r"\1***@", text)
