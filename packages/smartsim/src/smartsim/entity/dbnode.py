"""DBNode: one shard of the Orchestrator's database, launched like any other entity."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from smartsim.entity.entity import SmartSimEntity
from smartsim.error import SmartSimError

if TYPE_CHECKING:
    from smartsim.database.readiness import ShardState
    from smartsim.database.shard import ShardCommand
    from smartsim.settings.base import RunSettings

logger = logging.getLogger(__name__)


class DBNode(SmartSimEntity):
    """One database shard: its run settings start ``entrypoints/dbnode.py`` and the server.

    The shard writes its address into its log file (``<path>/<name>.log``) once it runs
    on its node; :attr:`host` reads it from there.
    """

    def __init__(
        self,
        name: str,
        path: str,
        run_settings: RunSettings,
        ports: list[int],
        shard: ShardCommand | None = None,
    ) -> None:
        super().__init__(name, path, run_settings)
        self.ports = list(ports)
        self.shard = shard
        self._hosts: list[str] = []

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def log_file(self) -> Path:
        """The server's log file; the shard's address and exit status are written there too."""
        return Path(self.path) / f"{self.name}.log"

    @property
    def cluster_config_file(self) -> Path:
        return Path(self.path) / f"nodes-{self.name}-{self.port}.conf"

    def state(self) -> ShardState:
        """What the shard's log file says (address, pid, exit status, log lines)."""
        from smartsim.database.readiness import read_shard_state

        return read_shard_state(self.log_file)

    @property
    def host(self) -> str:
        """The address the shard listens on (first host of :attr:`hosts`)."""
        return self.hosts[0]

    @property
    def hosts(self) -> list[str]:
        """Addresses of the shard, read from its log file (5 tries, 1 s apart, once started)."""
        for attempt in range(5):
            if self._hosts:
                break
            info = self.state().info
            if info:
                self._hosts = [str(info["host"])]
            elif attempt < 4 and self.log_file.exists():
                time.sleep(1)
            else:
                break
        if not self._hosts:
            raise SmartSimError(
                f"Failed to obtain database hostname: {self.log_file} has no address line; "
                "was the database started?"
            )
        return list(self._hosts)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def set_host(self, host: str) -> None:
        self._hosts = [str(host)]

    def set_hosts(self, hosts: list[str]) -> None:
        self._hosts = [str(h) for h in hosts]

    def reset_hosts(self) -> None:
        self._hosts = []

    def stale_files(self) -> list[Path]:
        """Files a previous run of this shard leaves behind (log, cluster config, output)."""
        base = Path(self.path)
        return [
            self.log_file,
            self.cluster_config_file,
            base / f"{self.name}.out",
            base / f"{self.name}.err",
        ]

    def remove_stale_dbnode_files(self) -> None:
        """Remove the log, cluster config and output files of a previous run."""
        for path in self.stale_files():
            path.unlink(missing_ok=True)
