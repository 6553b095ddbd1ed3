"""DBNode: what the Orchestrator launches, one shard or (MPMD) several in one launch."""

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
    """Database shards started by one launch: its run settings start ``entrypoints/dbnode.py``.

    Usually one shard (``orchestrator_0``); with ``single_cmd`` on a workload manager one
    MPMD launch starts every shard (one per node), as in SmartSim. Each shard writes its
    address into its own log file (``<path>/<shard>.log``); :attr:`hosts` reads them.
    """

    def __init__(
        self,
        name: str,
        path: str,
        run_settings: RunSettings,
        ports: list[int],
        shards: ShardCommand | list[ShardCommand] | None = None,
    ) -> None:
        super().__init__(name, path, run_settings)
        self.ports = list(ports)
        if shards is None:
            shards = []
        self.shards: list[ShardCommand] = shards if isinstance(shards, list) else [shards]
        self._hosts: list[str] = []

    @property
    def shard(self) -> ShardCommand | None:
        """The (first) shard's command line."""
        return self.shards[0] if self.shards else None

    @property
    def is_mpmd(self) -> bool:
        """Whether one launch starts several shards."""
        return len(self.shards) > 1

    @property
    def port(self) -> int:
        return self.ports[0]

    @property
    def log_files(self) -> list[Path]:
        """Each shard's log file (server log, address line and exit line)."""
        if not self.shards:
            return [Path(self.path) / f"{self.name}.log"]
        return [Path(self.path) / f"{shard.name}.log" for shard in self.shards]

    @property
    def log_file(self) -> Path:
        """The (first) shard's log file."""
        return self.log_files[0]

    @property
    def cluster_config_file(self) -> Path:
        """The (first) shard's cluster configuration file."""
        return self.cluster_config_files[0]

    @property
    def cluster_config_files(self) -> list[Path]:
        names = [s.name for s in self.shards] or [self.name]
        return [Path(self.path) / f"nodes-{name}-{self.port}.conf" for name in names]

    def state(self) -> ShardState:
        """What the (first) shard's log file says (address, pid, exit status, log lines)."""
        return self.shard_states()[0]

    def shard_states(self) -> list[ShardState]:
        """What each shard's log file says, in shard order."""
        from smartsim.database.readiness import read_shard_state

        return [read_shard_state(log) for log in self.log_files]

    @property
    def host(self) -> str:
        """The address the (first) shard listens on (first of :attr:`hosts`)."""
        return self.hosts[0]

    @property
    def hosts(self) -> list[str]:
        """Addresses of the shards, read from their log files (5 tries, 1 s apart)."""
        count = len(self.log_files)
        for attempt in range(5):
            if len(self._hosts) >= count:
                break
            infos = [state.info for state in self.shard_states()]
            if all(infos):
                self._hosts = [str(info["host"]) for info in infos]  # type: ignore[index]
            elif attempt < 4 and any(log.exists() for log in self.log_files):
                time.sleep(1)
            else:
                break
        if len(self._hosts) < count:
            raise SmartSimError(
                f"Failed to obtain database hostname: {', '.join(map(str, self.log_files))} "
                "has no address line; was the database started?"
            )
        return list(self._hosts)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def addresses(self) -> list[str]:
        """``host:port`` of every shard of this launch."""
        return [f"{host}:{self.port}" for host in self.hosts]

    def set_host(self, host: str) -> None:
        self._hosts = [str(host)]

    def set_hosts(self, hosts: list[str]) -> None:
        self._hosts = [str(h) for h in hosts]

    def reset_hosts(self) -> None:
        self._hosts = []

    def stale_files(self) -> list[Path]:
        """Files a previous run leaves behind (logs, cluster configs, output)."""
        base = Path(self.path)
        return [
            *self.log_files,
            *self.cluster_config_files,
            base / f"{self.name}.out",
            base / f"{self.name}.err",
        ]

    def remove_stale_dbnode_files(self) -> None:
        """Remove the logs, cluster configs and output files of a previous run."""
        for path in self.stale_files():
            path.unlink(missing_ok=True)
