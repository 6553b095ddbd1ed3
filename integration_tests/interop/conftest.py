"""Run the official SmartRedis 0.6.1 client (its own virtual environment) against our servers.

The official client's Python is named by ``SMARTREDIS_OFFICIAL_PYTHON``; tests marked
``interop`` are skipped without it (see the root pytest plugin).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import redis

from smartredis import Client

PREAMBLE = """
import json, os, sys
import numpy as np
from smartredis import Client, Dataset
import smartredis.smartredisPy  # the official wheel's binding: fails if ours was imported
OUT = sys.argv[1]
c = Client(CLUSTER, address=ADDRESS)
def save(name, array):
    np.save(os.path.join(OUT, name + ".npy"), array)
def load(name):
    return np.load(os.path.join(OUT, name + ".npy"))
def dump(obj):
    with open(os.path.join(OUT, "result.json"), "w") as f:
        json.dump(obj, f)
"""


def official_environment() -> dict[str, str]:
    """The environment for the official client: no PYTHONPATH (a development checkout puts
    our ``smartredis`` there, which would shadow the official one) and no client settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith(("SSKEY", "SSDB", "SR_"))
    }


@dataclass
class Target:
    """A database both clients talk to."""

    address: str
    cluster: bool
    workdir: Path

    def official(self, body: str, env: dict[str, str] | None = None) -> object:
        """Run ``body`` with the official client ``c``; return what it ``dump``ed (or None)."""
        python = os.environ["SMARTREDIS_OFFICIAL_PYTHON"]
        script = PREAMBLE.replace("CLUSTER", repr(self.cluster)).replace(
            "ADDRESS", repr(self.address)
        ) + textwrap.dedent(body)
        full_env = official_environment()
        full_env.update({"SR_LOG_LEVEL": "QUIET", **(env or {})})
        result = self.workdir / "result.json"
        result.unlink(missing_ok=True)
        proc = subprocess.run(
            [python, "-c", script, str(self.workdir)],
            capture_output=True,
            text=True,
            timeout=120,
            env=full_env,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"official client failed:\n{proc.stdout}\n{proc.stderr}")
        return json.loads(result.read_text()) if result.exists() else None

    def save(self, name: str, array: np.ndarray) -> None:
        np.save(self.workdir / f"{name}.npy", array)

    def load(self, name: str) -> np.ndarray:
        return np.load(self.workdir / f"{name}.npy")

    def ours(self, env: dict[str, str] | None = None, monkeypatch=None) -> Client:
        if monkeypatch is not None:
            for key, value in (env or {}).items():
                monkeypatch.setenv(key, value)
        return Client(self.cluster, address=self.address)


def _flush(addresses: list[str]) -> None:
    for address in addresses:
        host, port = address.split(":")
        r = redis.Redis(host=host, port=int(port))
        r.flushall()
        r.close()


@pytest.fixture(params=["standalone", "cluster"])
def target(request, tmp_path, monkeypatch) -> Iterator[Target]:
    for var in list(os.environ):
        if var.startswith(("SSKEY", "SR_DB_TYPE")):
            monkeypatch.delenv(var)
    if request.param == "standalone":
        server = request.getfixturevalue("valkey_ai_server")
        addresses = [server.address]
    else:
        cluster = request.getfixturevalue("ai_cluster")
        addresses = cluster.addresses
    _flush(addresses)
    yield Target(addresses[0], request.param == "cluster", tmp_path)
