"""State and helpers shared by the client mixins: the executor, the prefixes, tensor I/O,
and the cluster placement of models, scripts and temporary keys."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from smartredis import _commands as cmd
from smartredis._transport import ClusterExecutor, StandaloneExecutor
from smartredis._transport.base import Node, Reader, buffer_reader, hiredis_reader, raise_for_reply
from smartredis._transport.cluster import Shard
from smartredis._wire import tensor as tw
from smartredis._wire.keys import Prefixer
from smartredis.error import RedisInternalError, RedisReplyError

#: Texts of the errors that mean "no such key" (server replies and our own messages).
_MISSING = ("key is empty", "no such key", "does not exist")

Key = str | bytes


class ClientCore:
    """The state every mixin uses."""

    _executor: StandaloneExecutor | ClusterExecutor
    _prefix: Prefixer
    _thread_count: int
    _chunk_size: int | None
    _pool: ThreadPoolExecutor | None

    @contextmanager
    def _explain_missing(self, family: str, name: str) -> Iterator[None]:
        """Add to a missing-key error which ensemble prefix was applied to ``name``, and why."""
        try:
            yield
        except RedisReplyError as exc:
            hint = self._prefix.explain_get(family, name)
            if not hint or not any(text in exc.detail for text in _MISSING):
                raise
            raise type(exc)(f"{exc.detail}\n{hint}", exc.method, exc.key) from None

    # tensors on the wire
    def _read_tensor(self, key: Key) -> np.ndarray:
        reply = self._executor.call(cmd.tensorget(key), key, buffer_reader)
        return self._tensor_from_reply(reply)

    @staticmethod
    def _tensor_from_reply(reply: object) -> np.ndarray:
        if not isinstance(reply, list) or len(reply) < 6:
            raise RedisInternalError(f"Unexpected reply to AI.TENSORGET: {reply!r:.200}")
        blob = reply[5]
        if isinstance(blob, bytes):
            blob = bytearray(blob)  # small tensor: a writable copy
        return tw.from_wire(reply[1], reply[3], blob)

    def _write_tensor(self, key: Key, data: np.ndarray) -> None:
        type_name, dims, blob = tw.to_wire(data)
        self._executor.call(cmd.tensorset(key, type_name, dims, blob), key)

    def _copy_tensor_key(self, src: Key, dst: Key) -> None:
        """Copy a tensor through the client (the keys may be on different shards)."""
        reply = self._executor.call(cmd.tensorget(src), src, buffer_reader)
        if not isinstance(reply, list) or len(reply) < 6:
            raise RedisInternalError(f"Unexpected reply to AI.TENSORGET: {reply!r:.200}")
        dims = [int(d) for d in reply[3]]
        self._executor.call(cmd.tensorset(dst, reply[1], dims, reply[5]), dst)

    # several commands over possibly several shards
    def _pipeline_by_key(
        self, commands: Sequence[tuple[Sequence[object], Key]], reader: Reader = hiredis_reader
    ) -> list[object]:
        """Run commands grouped per node (one pipeline each), replies in the original order."""
        if not commands:
            return []
        groups: dict[Node, list[int]] = defaultdict(list)
        for i, (_, key) in enumerate(commands):
            groups[self._executor.node_for_key(key)].append(i)
        replies: list[object] = [None] * len(commands)

        def run(node: Node, indices: list[int]) -> None:
            out = node.pipeline([commands[i][0] for i in indices], reader)
            for i, reply in zip(indices, out):
                replies[i] = reply

        if len(groups) == 1 or self._thread_count <= 1:
            for node, indices in groups.items():
                run(node, indices)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._thread_count, "smartredis")
            for future in [self._pool.submit(run, n, idx) for n, idx in groups.items()]:
                future.result()
        return replies

    # models and scripts: one copy per shard in a cluster
    def _shards(self) -> list[Shard] | None:
        ex = self._executor
        return ex.shards if isinstance(ex, ClusterExecutor) else None

    def _all_copies(self, key: str) -> list[Key]:
        """Every key a model/script is stored under: ``key``, or ``{P}.key`` on each shard."""
        shards = self._shards()
        return [s.tag(key) for s in shards] if shards else [key]

    def _first_copy(self, key: str) -> Key:
        """The copy read by get_model/get_script/model_exists (shard 0 in a cluster)."""
        shards = self._shards()
        return shards[0].tag(key) if shards else key

    def _on_every_copy(self, key: str, build: Callable[[Key], list]) -> None:
        for copy in self._all_copies(key):
            self._executor.call(build(copy), copy)

    def _run_somewhere(
        self,
        key: str,
        inputs: list[str],
        outputs: list[str],
        build: Callable[[Key, list[Key], list[Key]], list],
        read_timeout: float,
    ) -> None:
        """Run a model/script; in a cluster through ``.TMP`` copies on one shard.

        The shard is the one of the first input (else the first output, else shard 0):
        inputs are copied to ``{P}.<in>.TMP`` there, the run uses ``{P}.<key>``, outputs are
        copied back from ``{P}.<out>.TMP`` and every temporary key is deleted.
        """
        ex = self._executor
        if not isinstance(ex, ClusterExecutor):
            ex.call(build(key, list(inputs), list(outputs)), key, hiredis_reader, read_timeout)
            return
        anchor = (inputs or outputs or [None])[0]
        shard = ex.shard_for_key(anchor) if anchor is not None else ex.shards[0]
        tmp_in = [shard.tag(k + ".TMP") for k in inputs]
        tmp_out = [shard.tag(k + ".TMP") for k in outputs]
        try:
            for src, tmp in zip(inputs, tmp_in):
                self._copy_tensor_key(src, tmp)
            run_key = shard.tag(key)
            ex.call(build(run_key, tmp_in, tmp_out), run_key, hiredis_reader, read_timeout)
            for tmp, dst in zip(tmp_out, outputs):
                self._copy_tensor_key(tmp, dst)
        finally:
            temporary = [*tmp_out, *tmp_in]
            if temporary:
                try:
                    shard.node.call(["DEL", *temporary])
                except Exception:  # cleanup only; the run's own error matters
                    pass

    def _run_timeout(self, timeout_ms: int) -> float:
        """How long to wait for a run's reply: its TIMEOUT plus the command timeout."""
        return timeout_ms / 1000 + self._executor.nodes[0].timeouts.command

    @staticmethod
    def _poll(check: Callable[[], bool], poll_frequency_ms: int, num_tries: int) -> bool:
        for _ in range(num_tries):
            if check():
                return True
            time.sleep(poll_frequency_ms / 1000)
        return False

    @staticmethod
    def _ok(reply: object) -> object:
        return raise_for_reply(reply)
