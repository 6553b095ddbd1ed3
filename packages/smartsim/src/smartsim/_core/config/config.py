"""The ``SMARTSIM_*`` environment variables, read on each access as SmartSim 0.4 did.

``redisai``, ``redis_conf``, ``redis_exe`` and ``redis_cli`` named the built RedisAI and Redis
files in 0.4; here they return what the database launch uses (the ``smartsim_ai`` module and the
server it finds).
"""

from __future__ import annotations

import os
from functools import lru_cache

from smartsim.error import SSConfigError


def progress_interval() -> float:
    """Seconds between progress lines of long waits users watch (a blocking ``exp.start``,
    ``exp.poll``, a database coming up): ``SMARTSIM_JM_INTERVAL``, default 10, at least 0.5."""
    try:
        return max(0.5, float(os.environ.get("SMARTSIM_JM_INTERVAL", "10")))
    except ValueError:
        return 10.0


class Config:
    """Values of the ``SMARTSIM_*`` variables (0.4 names; each read when accessed)."""

    @property
    def redisai(self) -> str:
        """Path of the module the database loads (``smartsim_ai.module_path()``)."""
        import smartsim_ai

        return str(smartsim_ai.module_path())

    @property
    def redis_conf(self) -> str:
        """No redis.conf is used: the server gets its options on the command line (empty)."""
        return ""

    @property
    def redis_exe(self) -> str:
        """The server binary the database starts (``smartsim_ai.find_server()``)."""
        import smartsim_ai

        return str(smartsim_ai.find_server().path)

    @property
    def redis_cli(self) -> str:
        """The command-line client matching the server (valkey-cli/redis-cli)."""
        from smartsim._core._cli.commands import find_cli

        cli = find_cli()
        if cli is None:
            raise SSConfigError("no valkey-cli or redis-cli found; install one or put it on PATH")
        return str(cli)

    @property
    def log_level(self) -> str:
        """``SMARTSIM_LOG_LEVEL`` (default ``info``)."""
        return os.environ.get("SMARTSIM_LOG_LEVEL", "info")

    @property
    def jm_interval(self) -> int:
        """``SMARTSIM_JM_INTERVAL``: seconds between status polls (default 10)."""
        return int(os.environ.get("SMARTSIM_JM_INTERVAL", 10))

    @property
    def test_launcher(self) -> str:
        """``SMARTSIM_TEST_LAUNCHER`` (default ``local``)."""
        return os.environ.get("SMARTSIM_TEST_LAUNCHER", "local")

    @property
    def test_device(self) -> str:
        """``SMARTSIM_TEST_DEVICE`` (default ``CPU``)."""
        return os.environ.get("SMARTSIM_TEST_DEVICE", "CPU")

    @property
    def test_interface(self) -> str:
        """``SMARTSIM_TEST_INTERFACE`` (default ``lo`` on the local launcher, else ``ipogif0``)."""
        interface = os.environ.get("SMARTSIM_TEST_INTERFACE")
        if interface:
            return interface
        return "lo" if self.test_launcher == "local" else "ipogif0"

    @property
    def test_account(self) -> str:
        """``SMARTSIM_TEST_ACCOUNT`` (default empty)."""
        return os.environ.get("SMARTSIM_TEST_ACCOUNT", "")


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The one :class:`Config`."""
    return Config()


CONFIG = get_config()
