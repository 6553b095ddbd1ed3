"""Lost replies: idempotent commands are resent, commands with side effects never are.

Real failures on a private server: ``DEBUG SLEEP`` makes the server stall while our command
waits in its socket (the reply comes too late), ``CLIENT KILL`` drops our connection.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis

from smartredis import Client, Dataset
from smartredis.error import RedisDatabaseError


@pytest.fixture
def setup(ai_server_factory, monkeypatch):
    server = ai_server_factory(config={"enable-debug-command": "yes"})
    monkeypatch.setenv("SR_CMD_TIMEOUT", "1")  # seconds to wait for a reply
    monkeypatch.setenv("SR_CMD_INTERVAL", "100")
    client = Client(False, address=server.address)
    raw = redis.Redis(host=server.host, port=server.port)
    yield client, raw, server
    client.close()
    raw.close()


def test_rpush_whose_reply_is_late_runs_exactly_once(setup):
    client, raw, server = setup
    ds = Dataset("d")
    ds.add_meta_string("k", "v")
    client.put_dataset(ds)
    sleeper = redis.Redis(host=server.host, port=server.port)
    stall = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "2"))
    stall.start()
    time.sleep(0.3)
    try:
        with pytest.raises(RedisDatabaseError, match="not sent again"):
            client.append_to_list("L", ds)
    finally:
        stall.join()
        sleeper.close()
    assert raw.lrange("L", 0, -1) == [b"{d}"]  # queued once, run once, never resent


def test_idempotent_command_is_resent_on_a_new_connection(setup):
    client, raw, _ = setup
    raw.set("k", "v")
    assert client.key_exists("k")
    killed = raw.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    assert killed >= 1
    assert client.key_exists("k")  # the dead connection is replaced transparently
    assert client.get_dataset_list_range("none", 0, -1) == []
