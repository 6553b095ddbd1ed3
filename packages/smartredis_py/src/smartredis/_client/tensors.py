"""Tensor operations of the client."""

from __future__ import annotations

import numpy as np

from smartredis import _commands as cmd
from smartredis._checks import typecheck
from smartredis._client.core import ClientCore
from smartredis._wire import tensor as tw
from smartredis.error import RedisRuntimeError


def _check_poll(poll_frequency_ms: int, num_tries: int) -> None:
    typecheck(poll_frequency_ms, "poll_frequency_ms", int)
    typecheck(num_tries, "num_tries", int)


class TensorMixin(ClientCore):
    """put/get/unpack/copy/rename/delete/exists/poll of tensors, and raw key checks."""

    def put_tensor(self, name: str, data: np.ndarray) -> None:
        """Store ``data`` as tensor ``name`` (sent from the array's buffer, in C order).

        :raises TypeError: ``data`` is not an ndarray of a supported dtype
        :raises RedisRuntimeError: ``data`` has no dimension or a zero dimension
        """
        tw.check_name(name)
        self._write_tensor(self._prefix.tensor_put(name), data)

    def get_tensor(self, name: str) -> np.ndarray:
        """The tensor ``name`` as a new, writable array over the received bytes."""
        typecheck(name, "name", str)
        with self._explain_missing("tensor", name):
            return self._read_tensor(self._prefix.tensor_get(name))

    def unpack_tensor(self, name: str, result: np.ndarray) -> None:
        """Fill ``result`` (same dtype and element count) with tensor ``name``."""
        typecheck(name, "name", str)
        typecheck(result, "result", np.ndarray)
        data = self.get_tensor(name)
        if data.dtype != result.dtype.newbyteorder("="):
            raise RedisRuntimeError(
                f"The tensor {name} has type {data.dtype}, not the {result.dtype} of the buffer."
            )
        if data.size != result.size:
            raise RedisRuntimeError(
                f"The tensor {name} has shape {list(data.shape)}; the buffer of shape "
                f"{list(result.shape)} cannot hold it."
            )
        result[...] = data.reshape(result.shape)

    def delete_tensor(self, name: str) -> None:
        """Delete tensor ``name`` (``UNLINK`` in a cluster, ``DEL`` otherwise)."""
        typecheck(name, "name", str)
        key = self._prefix.tensor_get(name)
        self._executor.call(cmd.delete(key, verb=self._executor.delete_verb), key)

    def copy_tensor(self, src_name: str, dest_name: str) -> None:
        """Copy tensor ``src_name`` (read prefix) to ``dest_name`` (write prefix)."""
        typecheck(src_name, "src_name", str)
        typecheck(dest_name, "dest_name", str)
        tw.check_name(dest_name)
        src, dst = self._prefix.tensor_get(src_name), self._prefix.tensor_put(dest_name)
        with self._explain_missing("tensor", src_name):
            self._copy_tensor_key(src, dst)

    def rename_tensor(self, old_name: str, new_name: str) -> None:
        """Rename a tensor: ``RENAME``, or copy + ``UNLINK`` across cluster slots."""
        typecheck(old_name, "old_name", str)
        typecheck(new_name, "new_name", str)
        tw.check_name(new_name)
        src, dst = self._prefix.tensor_get(old_name), self._prefix.tensor_put(new_name)
        with self._explain_missing("tensor", old_name):
            if self._executor.same_slot(src, dst):
                self._executor.call(cmd.rename(src, dst), src)
            else:
                self._copy_tensor_key(src, dst)
                self._executor.call(cmd.unlink(src), src)

    def tensor_exists(self, name: str) -> bool:
        """Whether tensor ``name`` exists (read prefix)."""
        typecheck(name, "name", str)
        key = self._prefix.tensor_get(name)
        return bool(self._executor.call(cmd.exists(key), key))

    def key_exists(self, key: str) -> bool:
        """Whether ``key`` exists (no prefix is added)."""
        typecheck(key, "key", str)
        return bool(self._executor.call(cmd.exists(key), key))

    def poll_tensor(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for tensor ``name``."""
        typecheck(name, "name", str)
        _check_poll(poll_frequency_ms, num_tries)
        return self._poll(lambda: self.tensor_exists(name), poll_frequency_ms, num_tries)

    def poll_key(self, key: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for ``key``."""
        typecheck(key, "key", str)
        _check_poll(poll_frequency_ms, num_tries)
        return self._poll(lambda: self.key_exists(key), poll_frequency_ms, num_tries)
