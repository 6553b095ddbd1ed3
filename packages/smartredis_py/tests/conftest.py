"""Fixtures: our Client on the shared real servers (standalone and cluster)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from smartredis import Client


@pytest.fixture
def client(ai_server, ai_client, monkeypatch) -> Iterator[Client]:
    """A standalone Client on ``ai_server`` (flushed by ``ai_client``), no ensemble prefixes."""
    for var in ("SSKEYIN", "SSKEYOUT", "SR_DB_TYPE"):
        monkeypatch.delenv(var, raising=False)
    c = Client(False, address=ai_server.address)
    yield c
    c.close()


@pytest.fixture
def raw(ai_client) -> redis.Redis:
    """A plain redis-py client on the same server, to check what is on the wire."""
    return ai_client


@pytest.fixture
def cluster_client(ai_cluster, monkeypatch) -> Iterator[Client]:
    """A cluster Client on the 3-shard ``ai_cluster`` (every shard flushed first)."""
    for var in ("SSKEYIN", "SSKEYOUT", "SR_DB_TYPE"):
        monkeypatch.delenv(var, raising=False)
    for node in ai_cluster.nodes:
        r = redis.Redis(host=node.host, port=node.port)
        r.flushall()
        r.close()
    c = Client(True, address=ai_cluster.addresses[0])
    yield c
    c.close()


def requires_command(client: Client, name: str) -> None:
    """Skip the test when the server does not know command ``name``.

    Used for model and script execution only, which another part of the engine adds:
    the tests turn on by themselves when the server knows the command.  The probe is
    ``COMMAND INFO`` (nothing is executed): an unknown command has no entry.
    """
    node = client._executor.nodes[0]
    reply = node.call(["COMMAND", "INFO", name])
    if not reply or reply[0] is None:
        pytest.skip(f"the server does not implement {name} yet (unknown command)")
