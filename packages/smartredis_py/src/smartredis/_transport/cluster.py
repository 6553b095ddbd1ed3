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
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from smartredis._commands import Key, cluster_slots
from smartredis._transport.base import (
    Node,
    Reader,
    RunPlan,
    Security,
    Timeouts,
    canonical_address,
    hiredis_reader,
)
from smartredis._transport.replies import ReplyError, raise_for_reply
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
    return isinstance(reply, ReplyError) and reply.startswith(("MOVED ", "ASK "))


class ClusterExecutor:
    """Commands routed over the shards of a Redis Cluster; see ``base.Executor``.

    The cluster's ways live here, not in the client: a model or script is stored on every
    shard under the shard's prefix (``{P}.name``), a run goes through temporary ``.TMP``
    copies on one shard, a tensor is deleted with ``UNLINK``.
    """

    is_cluster = True
    delete_verb = "UNLINK"

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
        self._pool: ThreadPoolExecutor | None = None
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
                reply = node.call(cluster_slots())
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

    def call_at(self, address: str, args: Sequence[object]) -> object:
        return self.node_for_address(address).call(args)

    def same_slot(self, a: Key, b: Key) -> bool:
        return key_slot(a) == key_slot(b)

    def model_copies(self, key: Key) -> list[Key]:
        return [s.tag(key) for s in self.shards]

    def model_copy(self, key: Key) -> Key:
        return self.shards[0].tag(key)

    def model_copy_at(self, address: str, key: Key) -> Key:
        return self.shard_for_address(address).tag(key)

    def run_plan(self, key: Key, inputs: Sequence[Key], outputs: Sequence[Key]) -> RunPlan:
        """Run on the shard of the first input (else the first output, else shard 0): inputs
        are copied to ``{P}.<in>.TMP`` there, the run uses ``{P}.<key>``, outputs are copied
        back from ``{P}.<out>.TMP``, and every temporary key is deleted."""
        anchor = (inputs or outputs or [None])[0]
        shard = self.shard_for_key(anchor) if anchor is not None else self.shards[0]
        tmp_in = [shard.tag(_suffixed(k)) for k in inputs]
        tmp_out = [shard.tag(_suffixed(k)) for k in outputs]
        return RunPlan(
            key=shard.tag(key),
            inputs=tmp_in,
            outputs=tmp_out,
            copy_in=list(zip(inputs, tmp_in)),
            copy_out=list(zip(tmp_out, outputs)),
            temporary=[*tmp_out, *tmp_in],
        )

    def scatter(
        self,
        commands: Sequence[tuple[Sequence[object], Key]],
        reader: Reader = hiredis_reader,
        threads: int = 1,
    ) -> list[object]:
        """One pipeline per shard, run in parallel (up to ``threads``) when there are several."""
        if not commands:
            return []
        groups: dict[Node, list[int]] = defaultdict(list)
        for i, (_, key) in enumerate(commands):
            groups[self.node_for_key(key)].append(i)
        replies: list[object] = [None] * len(commands)

        def run(node: Node, indices: list[int]) -> None:
            out = node.pipeline([commands[i][0] for i in indices], reader)
            for i, reply in zip(indices, out):
                replies[i] = reply

        if len(groups) == 1 or threads <= 1:
            for node, indices in groups.items():
                run(node, indices)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(threads, "smartredis")
            for future in [self._pool.submit(run, n, idx) for n, idx in groups.items()]:
                future.result()
        return replies

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
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def __str__(self) -> str:
        return "cluster of " + ", ".join(f"{s.address} [{s.lower}-{s.upper}]" for s in self.shards)


def _suffixed(key: Key) -> Key:
    """``key.TMP``: the temporary name of a run's input or output."""
    return key + b".TMP" if isinstance(key, bytes) else key + ".TMP"
