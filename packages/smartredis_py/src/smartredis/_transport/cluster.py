"""The Redis Cluster executor: routes each command to the shard of its key.

The slot map comes from ``CLUSTER SLOTS`` (primaries only), sorted by lowest slot; a
server owning several ranges appears once per range (each range has its own model prefix,
as in the official client) but shares one connection pool.  A ``MOVED`` reply (the command
did not run) refreshes the map and sends the command once more to the new owner.
"""

from __future__ import annotations

import bisect
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from smartredis._transport.base import (
    Node,
    Reader,
    Security,
    Timeouts,
    canonical_address,
    hiredis_reader,
    raise_for_reply,
)
from smartredis._transport.resp import ReplyError
from smartredis._wire.address import Address
from smartredis._wire.cluster import key_slot, shard_prefix
from smartredis.error import RedisRuntimeError

logger = logging.getLogger("smartredis.transport")


@dataclass
class Shard:
    """One slot range of the cluster and the node that serves it."""

    lower: int
    upper: int
    node: Node
    prefix: bytes

    @property
    def address(self) -> Address:
        return self.node.address

    def tag(self, key: str | bytes) -> bytes:
        """``{P}.key``: the name of a model/script copy (or a temporary key) on this shard."""
        raw = key.encode() if isinstance(key, str) else key
        return b"{" + self.prefix + b"}." + raw


def _is_moved(reply: object) -> bool:
    return isinstance(reply, (redis.exceptions.MovedError, redis.exceptions.AskError)) or (
        isinstance(reply, ReplyError) and str(reply).startswith(("MOVED ", "ASK "))
    )


class ClusterExecutor:
    """Commands routed over the shards of a Redis Cluster."""

    is_cluster = True

    def __init__(
        self, seeds: Sequence[Address], timeouts: Timeouts, security: Security | None = None
    ) -> None:
        for seed in seeds:
            if seed.is_unix:
                raise RedisRuntimeError(
                    f"Unix socket addresses ({seed}) cannot be used with a cluster."
                )
        self.timeouts = timeouts
        self.security = security
        self._nodes_by_addr: dict[str, Node] = {}
        seed = random.choice(list(seeds))
        self._seed = self._node(seed)
        self.shards: list[Shard] = []
        self.refresh()

    def _node(self, address: Address) -> Node:
        key = str(address)
        if key not in self._nodes_by_addr:
            self._nodes_by_addr[key] = Node(address, self.timeouts, self.security)
        return self._nodes_by_addr[key]

    @property
    def nodes(self) -> list[Node]:
        return [s.node for s in self.shards]

    def refresh(self) -> None:
        """Read the slot map with ``CLUSTER SLOTS`` (from the seed, else any known node)."""
        candidates = [self._seed, *[s.node for s in self.shards if s.node is not self._seed]]
        error: Exception | None = None
        for node in candidates:
            try:
                reply = node.call(["CLUSTER", "SLOTS"])
                break
            except Exception as exc:
                error = exc
        else:
            raise error  # type: ignore[misc]
        shards = []
        for entry in reply:  # type: ignore[union-attr]
            lower, upper, primary = int(entry[0]), int(entry[1]), entry[2]
            host = primary[0].decode() if isinstance(primary[0], bytes) else str(primary[0])
            if not host:
                host = self._seed.address.host
            node = self._node(Address(host=host, port=int(primary[1])))
            shards.append(Shard(lower, upper, node, shard_prefix(lower)))
        if not shards:
            raise RedisRuntimeError(
                f"The server at {self._seed.address} reports no cluster slots; is it a cluster?"
            )
        shards.sort(key=lambda s: s.lower)
        self.shards = shards
        self._lowers = [s.lower for s in shards]
        logger.debug("cluster map: %s", [(s.lower, s.upper, str(s.address)) for s in shards])

    def shard_for_key(self, key: str | bytes) -> Shard:
        slot = key_slot(key)
        shard = self.shards[bisect.bisect_right(self._lowers, slot) - 1]
        if not shard.lower <= slot <= shard.upper:
            raise RedisRuntimeError(f"No cluster node serves slot {slot}.")
        return shard

    def node_for_key(self, key: str | bytes | None) -> Node:
        if key is None:
            return self._seed
        return self.shard_for_key(key).node

    def shard_for_address(self, address: str) -> Shard:
        wanted = canonical_address(address)
        for shard in self.shards:
            if str(shard.address) == wanted:
                return shard
        raise RedisRuntimeError(
            f"The address {address} is not a node of the cluster "
            f"({', '.join(sorted({str(s.address) for s in self.shards}))})."
        )

    def node_for_address(self, address: str) -> Node:
        return self.shard_for_address(address).node

    def call(
        self,
        args: Sequence[object],
        key: str | bytes | None = None,
        reader: Reader = hiredis_reader,
        read_timeout: float = 0,
    ) -> object:
        """Send one command to the shard of ``key``; return its reply or raise."""
        return raise_for_reply(self.pipeline([args], key, reader, read_timeout)[0])

    def pipeline(
        self,
        commands: Sequence[Sequence[object]],
        key: str | bytes | None = None,
        reader: Reader = hiredis_reader,
        read_timeout: float = 0,
    ) -> list[object]:
        """Send ``commands`` together to the shard of ``key``; errors are returned in place.

        If any reply is MOVED (nothing was run on that command), the map is refreshed and
        only those commands are sent again, to the new owner.
        """
        replies = self.node_for_key(key).pipeline(commands, reader, read_timeout)
        moved = [i for i, r in enumerate(replies) if _is_moved(r)]
        if moved:
            logger.debug("%s: refreshing the cluster map", replies[moved[0]])
            self.refresh()
            node = self.node_for_key(key)
            again = node.pipeline(
                [commands[i] for i in moved],
                reader,
                read_timeout,
            )
            for i, reply in zip(moved, again):
                replies[i] = reply
        return replies

    def close(self) -> None:
        for node in self._nodes_by_addr.values():
            node.close()

    def __str__(self) -> str:
        return "cluster of " + ", ".join(f"{s.address} [{s.lower}-{s.upper}]" for s in self.shards)
