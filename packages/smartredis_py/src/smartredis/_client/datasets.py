"""Dataset operations of the client: one non-transactional pipeline per put, as upstream."""

from __future__ import annotations

from smartredis import _commands as cmd
from smartredis._checks import typecheck
from smartredis._client.core import ClientCore
from smartredis._client.tensors import _check_poll
from smartredis._transport.base import buffer_reader, hiredis_reader
from smartredis._transport.replies import first_error
from smartredis._wire import keys
from smartredis._wire import metadata as md
from smartredis._wire import tensor as tw
from smartredis.dataset import Dataset
from smartredis.error import RedisKeyError, RedisRuntimeError


def _pairs(reply: object) -> dict[bytes, bytes]:
    """An HGETALL reply (RESP2: field, value, field, value...) as a dict."""
    items = list(reply or [])  # type: ignore[call-overload]
    return dict(zip(items[0::2], items[1::2]))


class DatasetMixin(ClientCore):
    """put/get/copy/rename/delete/exists/poll of datasets."""

    def put_dataset(self, dataset: Dataset) -> None:
        """Store ``dataset``: ``DEL`` meta, ``HMSET`` fields, tensors, then the ``.COMPLETE`` ack."""
        typecheck(dataset, "dataset", Dataset)
        fields = dataset._fields()
        if not fields:
            raise RedisRuntimeError(
                f"The dataset {dataset.get_name()} does not contain any fields or tensors."
            )
        base = self._prefix.dataset_put(dataset.get_name())
        meta = keys.meta_key(base)
        commands = cmd.put_dataset_meta(meta, fields)
        for name in dataset.get_tensor_names():
            type_name, dims, blob = tw.to_wire(dataset.get_tensor(name))
            commands.append(
                cmd.tensorset(keys.dataset_tensor_key(base, name), type_name, dims, blob)
            )
        commands.append(cmd.ack_dataset(meta))
        first_error(self._executor.pipeline(commands, meta))

    def _load_dataset(self, name: str, base: str, fields: dict[bytes, bytes]) -> Dataset:
        dataset, tensor_names = Dataset._from_hash(name, fields)
        if tensor_names:
            tkeys = [keys.dataset_tensor_key(base, t) for t in tensor_names]
            replies = self._executor.pipeline(
                [cmd.tensorget(k) for k in tkeys], tkeys[0], buffer_reader
            )
            first_error(replies)
            for tname, reply in zip(tensor_names, replies):
                dataset._set_received_tensor(tname, self._tensor_from_reply(reply))
        return dataset

    def _dataset_fields(self, name: str) -> tuple[str, dict[bytes, bytes]]:
        """The key base of dataset ``name`` (read prefix) and its metadata hash;
        ``RedisKeyError`` if it does not exist."""
        base = self._prefix.dataset_get(name)
        meta = keys.meta_key(base)
        with self._explain_missing("dataset", name):
            fields = _pairs(self._executor.call(cmd.hgetall(meta), meta))
            if not fields:
                raise RedisKeyError(f'The requested DataSet, "{name}", does not exist.')
        return base, fields

    def get_dataset(self, name: str) -> Dataset:
        """The dataset ``name``; ``RedisKeyError`` if it does not exist."""
        typecheck(name, "name", str)
        base, fields = self._dataset_fields(name)
        return self._load_dataset(name, base, fields)

    def dataset_exists(self, name: str) -> bool:
        """Whether dataset ``name`` was completely put (its ``.COMPLETE`` ack is present)."""
        typecheck(name, "name", str)
        meta = keys.meta_key(self._prefix.dataset_get(name))
        return bool(self._executor.call(cmd.hexists(meta, md.COMPLETE_FIELD), meta))

    def poll_dataset(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for dataset ``name``."""
        typecheck(name, "name", str)
        _check_poll(poll_frequency_ms, num_tries)
        return self._poll(lambda: self.dataset_exists(name), poll_frequency_ms, num_tries)

    def copy_dataset(self, src_name: str, dest_name: str) -> None:
        """Copy dataset ``src_name`` (read prefix) to ``dest_name`` (write prefix)."""
        typecheck(src_name, "src_name", str)
        typecheck(dest_name, "dest_name", str)
        src, fields = self._dataset_fields(src_name)
        fields.pop(md.COMPLETE_FIELD.encode(), None)
        _, tensor_names = Dataset._from_hash(src_name, fields)
        dst = self._prefix.dataset_put(dest_name)
        for tname in tensor_names:
            self._copy_tensor_key(
                keys.dataset_tensor_key(src, tname), keys.dataset_tensor_key(dst, tname)
            )
        dst_meta = keys.meta_key(dst)
        commands = cmd.put_dataset_meta(dst_meta, [(k.decode(), v) for k, v in fields.items()])
        commands.append(cmd.ack_dataset(dst_meta))
        first_error(self._executor.pipeline(commands, dst_meta))

    def delete_dataset(self, name: str) -> None:
        """Delete dataset ``name``: its metadata hash and its tensors, in one ``DEL``."""
        typecheck(name, "name", str)
        base = self._prefix.dataset_get(name)
        meta = keys.meta_key(base)
        with self._explain_missing("dataset", name):
            fields = _pairs(self._executor.call(cmd.hgetall(meta), meta, hiredis_reader))
            if not fields:
                raise RedisRuntimeError(f"The requested DataSet {name} does not exist.")
        _, tensor_names = Dataset._from_hash(name, fields)
        self._executor.call(
            cmd.delete(meta, *[keys.dataset_tensor_key(base, t) for t in tensor_names]), meta
        )

    def rename_dataset(self, old_name: str, new_name: str) -> None:
        """copy_dataset then delete_dataset."""
        self.copy_dataset(old_name, new_name)
        self.delete_dataset(old_name)
