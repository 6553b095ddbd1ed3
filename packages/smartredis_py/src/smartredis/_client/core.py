"""State and helpers shared by the client mixins: the executor, the prefixes, tensor I/O,
and running a model or script where the executor says.

The mixins choose commands (built in :mod:`smartredis._commands`) and hand them to the
executor; they never look at sockets, nodes or shards, and never ask which executor they
have: the executor (``_transport``) holds every cluster difference.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from smartredis import _commands as cmd
from smartredis._commands import Key
from smartredis._transport.base import Executor, Reader, buffer_reader, hiredis_reader
from smartredis._wire import tensor as tw
from smartredis._wire.keys import Prefixer
from smartredis.error import RedisInternalError, RedisReplyError

#: Texts of the errors that mean "no such key" (server replies and our own messages).
_MISSING = ("key is empty", "no such key", "does not exist")


class ClientCore:
    """The state every mixin uses."""

    _executor: Executor
    _prefix: Prefixer
    _thread_count: int
    _chunk_size: int | None

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
        return self._executor.scatter(commands, reader, self._thread_count)

    # models and scripts: stored and run where the executor says
    def _on_every_copy(self, key: Key, build: Callable[[Key], list]) -> None:
        """Send ``build(copy)`` for every copy of model/script ``key`` (one per shard)."""
        for copy in self._executor.model_copies(key):
            self._executor.call(build(copy), copy)

    def _run_somewhere(
        self,
        key: Key,
        inputs: list[str],
        outputs: list[str],
        build: Callable[[Key, list[Key], list[Key]], list],
        read_timeout: float,
    ) -> None:
        """Run a model/script as the executor plans it (see ``RunPlan``): copy the inputs
        in, run, copy the outputs back, delete the temporary keys."""
        plan = self._executor.run_plan(key, inputs, outputs)
        try:
            for src, tmp in plan.copy_in:
                self._copy_tensor_key(src, tmp)
            self._executor.call(
                build(plan.key, plan.inputs, plan.outputs), plan.key, hiredis_reader, read_timeout
            )
            for tmp, dst in plan.copy_out:
                self._copy_tensor_key(tmp, dst)
        finally:
            if plan.temporary:
                try:
                    self._executor.call(cmd.delete(*plan.temporary), plan.temporary[0])
                except Exception:  # cleanup only; the run's own error matters
                    pass

    def _run_timeout(self, timeout_ms: int) -> float:
        """How long to wait for a run's reply: its TIMEOUT plus the command timeout."""
        return timeout_ms / 1000 + self._executor.timeouts.command

    @staticmethod
    def _poll(check: Callable[[], bool], poll_frequency_ms: int, num_tries: int) -> bool:
        for _ in range(num_tries):
            if check():
                return True
            time.sleep(poll_frequency_ms / 1000)
        return False
