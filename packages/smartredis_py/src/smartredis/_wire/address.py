"""The ``SSDB`` address grammar: ``[tcp://]host:port`` or ``unix://<path>``, comma separated."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ALLOWED = re.compile(r"^[A-Za-z0-9.:,/_\-]+$")


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
    try:
        if text.lower().startswith("0x"):
            port = int(text, 16)
        elif len(text) > 1 and text.startswith("0"):
            port = int(text, 8)
        else:
            port = int(text, 10)
    except ValueError:
        raise ValueError(f"The port of the address {address!r} is not a number.") from None
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


def parse_ssdb(value: str) -> list[Address]:
    """Parse an ``SSDB`` value (one or more comma separated addresses)."""
    if not value or not _ALLOWED.match(value):
        raise ValueError(
            f"The database address {value!r} is invalid: use host:port, tcp://host:port or "
            "unix://path (separated by commas); only letters, digits and .:,/_- are allowed."
        )
    return [parse_address(item) for item in value.split(",") if item]
