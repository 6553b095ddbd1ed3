"""Aggregation lists: Redis lists of dataset keys."""

from __future__ import annotations

from collections.abc import Callable

from smartredis import _commands as cmd
from smartredis._checks import typecheck
from smartredis._client.datasets import DatasetMixin, _pairs
from smartredis._client.tensors import _check_poll
from smartredis._transport.base import buffer_reader
from smartredis._transport.replies import first_error
from smartredis._wire import keys
from smartredis.dataset import Dataset
from smartredis.error import RedisInternalError, RedisKeyError, RedisRuntimeError


class ListMixin(DatasetMixin):
    """append/copy/rename/delete/length/poll of aggregation lists and reading their datasets."""

    def append_to_list(self, list_name: str, dataset: Dataset) -> None:
        """Append ``dataset``'s key (``[p.]{name}``) to list ``list_name``; put it first."""
        typecheck(list_name, "list_name", str)
        typecheck(dataset, "dataset", Dataset)
        key = self._prefix.list_put(list_name)
        self._executor.call(cmd.rpush(key, self._prefix.dataset_put(dataset.get_name())), key)

    def delete_list(self, list_name: str) -> None:
        """Delete list ``list_name`` (not the datasets it names)."""
        typecheck(list_name, "list_name", str)
        key = self._prefix.list_get(list_name)
        self._executor.call(cmd.delete(key), key)

    def copy_list(self, src_name: str, dest_name: str) -> None:
        """Replace list ``dest_name`` (write prefix) by the entries of ``src_name`` (read prefix)."""
        typecheck(src_name, "src_name", str)
        typecheck(dest_name, "dest_name", str)
        if not src_name or not dest_name:
            raise ValueError("The source and destination list names must not be empty.")
        if src_name == dest_name:
            return
        src = self._prefix.list_get(src_name)
        with self._explain_missing("list", src_name):
            entries = self._executor.call(cmd.lrange(src, 0, -1), src)
            if not entries:
                raise RedisRuntimeError("The source aggregation list does not exist.")
        dest = self._prefix.list_put(dest_name)
        first_error(self._executor.pipeline([cmd.delete(dest), cmd.rpush(dest, *entries)], dest))

    def rename_list(self, src_name: str, dest_name: str) -> None:
        """copy_list then delete the source."""
        self.copy_list(src_name, dest_name)
        if src_name != dest_name:
            self.delete_list(src_name)

    def get_list_length(self, list_name: str) -> int:
        """The number of entries of list ``list_name``."""
        typecheck(list_name, "list_name", str)
        key = self._prefix.list_get(list_name)
        length = self._executor.call(cmd.llen(key), key)
        if not isinstance(length, int) or length < 0:
            raise RedisInternalError(f"LLEN replied {length!r}, not a length.")
        return length

    def _poll_length(
        self, name: str, length: int, freq: int, tries: int, ok: Callable[[int, int], bool]
    ) -> bool:
        typecheck(name, "name", str)
        typecheck(length, "list_length", int)
        _check_poll(freq, tries)
        if length < 0:
            raise ValueError(f"The list length to wait for must not be negative, not {length}.")
        return self._poll(lambda: ok(self.get_list_length(name), length), freq, tries)

    def poll_list_length(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """Wait until list ``name`` has exactly ``list_length`` entries."""
        return self._poll_length(
            name, list_length, poll_frequency_ms, num_tries, lambda a, b: a == b
        )

    def poll_list_length_gte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """Wait until list ``name`` has at least ``list_length`` entries."""
        return self._poll_length(
            name, list_length, poll_frequency_ms, num_tries, lambda a, b: a >= b
        )

    def poll_list_length_lte(
        self, name: str, list_length: int, poll_frequency_ms: int, num_tries: int
    ) -> bool:
        """Wait until list ``name`` has at most ``list_length`` entries."""
        return self._poll_length(
            name, list_length, poll_frequency_ms, num_tries, lambda a, b: a <= b
        )

    def get_datasets_from_list(self, list_name: str) -> list[Dataset]:
        """Every dataset named in list ``list_name`` (``[]`` for a missing or empty list)."""
        typecheck(list_name, "list_name", str)
        return self._datasets_in_range(list_name, 0, -1)

    def get_dataset_list_range(
        self, list_name: str, start_index: int, end_index: int
    ) -> list[Dataset]:
        """The datasets at positions ``start_index..end_index`` (inclusive, negatives allowed)."""
        typecheck(list_name, "list_name", str)
        typecheck(start_index, "start_index", int)
        typecheck(end_index, "end_index", int)
        return self._datasets_in_range(list_name, start_index, end_index)

    def _datasets_in_range(self, list_name: str, start: int, end: int) -> list[Dataset]:
        key = self._prefix.list_get(list_name)
        raw = self._executor.call(cmd.lrange(key, start, end), key) or []
        entries = [e.decode("utf-8", "surrogateescape") for e in raw]  # type: ignore[union-attr]
        if not entries:
            return []
        metas = [keys.meta_key(e) for e in entries]
        replies = self._pipeline_by_key([(cmd.hgetall(m), m) for m in metas])
        first_error(replies)
        datasets, wanted = [], []
        for entry, reply in zip(entries, replies):
            fields = _pairs(reply)
            if not fields:
                raise RedisKeyError(
                    f"The dataset {entry} named in the aggregation list does not exist."
                )
            dataset, names = Dataset._from_hash(keys.dataset_name_from_entry(entry), fields)
            datasets.append(dataset)
            wanted += [(dataset, t, keys.dataset_tensor_key(entry, t)) for t in names]
        tensor_replies = self._pipeline_by_key(
            [(cmd.tensorget(k), k) for _, _, k in wanted], buffer_reader
        )
        first_error(tensor_replies)
        for (dataset, tname, _), reply in zip(wanted, tensor_replies):
            dataset._set_received_tensor(tname, self._tensor_from_reply(reply))
        return datasets
