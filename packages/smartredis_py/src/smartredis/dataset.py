"""Dataset: named tensors plus typed metadata, stored under one hash tag."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from smartredis._checks import typecheck
from smartredis._wire import metadata as md
from smartredis._wire import tensor as tw
from smartredis.error import RedisKeyError, RedisRuntimeError
from smartredis.srobject import SRObject
from smartredis.util import _handle_exceptions

__all__ = ["Dataset"]

_FIELD_TYPES: dict[md.MetaType, type] = {
    md.MetaType.DOUBLE: np.float64,
    md.MetaType.FLOAT: np.float32,
    md.MetaType.INT32: np.int32,
    md.MetaType.INT64: np.int64,
    md.MetaType.UINT32: np.uint32,
    md.MetaType.UINT64: np.uint64,
    md.MetaType.STRING: str,
}


@_handle_exceptions
class Dataset(SRObject):
    """A named group of tensors and metadata fields, put and got as one unit."""

    def __init__(self, name: str) -> None:
        typecheck(name, "name", str)
        if not name:
            raise ValueError("A dataset name must not be empty.")
        super().__init__(name)
        self._name = name
        self._tensors: dict[str, np.ndarray] = {}
        self._meta: dict[str, tuple[md.MetaType, list]] = {}

    def __str__(self) -> str:
        return (
            f"DataSet ({self._name}):\n"
            f"Tensors: {', '.join(self._tensors) or '(none)'}\n"
            f"Metadata fields: {', '.join(self._meta) or '(none)'}"
        )

    def get_name(self) -> str:
        """The dataset's name."""
        return self._name

    # tensors
    def add_tensor(self, name: str, data: np.ndarray) -> None:
        """Add a copy of ``data`` (C order) as tensor ``name``."""
        tw.check_name(name)
        typecheck(data, "data", np.ndarray)
        tw.to_wire(data)  # validates dtype and dims
        if name in self._tensors:
            raise RedisRuntimeError(f"The tensor {name} already exists")
        self._tensors[name] = np.array(data, order="C", copy=True)

    def get_tensor(self, name: str) -> np.ndarray:
        """The tensor ``name``; ``RedisKeyError`` if the dataset has no such tensor."""
        typecheck(name, "name", str)
        try:
            return self._tensors[name]
        except KeyError:
            raise RedisKeyError(
                f'The tensor "{name}" does not exist in dataset "{self._name}".'
            ) from None

    def get_tensor_names(self) -> list[str]:
        """Tensor names, in insertion order."""
        return list(self._tensors)

    def get_tensor_dims(self, name: str) -> list[int]:
        """The dims of tensor ``name``."""
        return [int(d) for d in self.get_tensor(name).shape]

    def get_tensor_type(self, name: str) -> type:
        """The numpy type of tensor ``name`` (e.g. ``numpy.float32``)."""
        return self.get_tensor(name).dtype.type

    # metadata
    def _add_meta(self, name: str, meta: md.MetaType, value: object) -> None:
        if name in md.RESERVED_FIELDS:
            raise RedisRuntimeError(f"{name} is a reserved metadata field name.")
        if name in self._meta:
            current, values = self._meta[name]
            if current is not meta:
                raise RedisRuntimeError(
                    f"The metadata field {name} holds {current.name} values; a {meta.name} "
                    "value cannot be added to it."
                )
            values.append(value)
        else:
            self._meta[name] = (meta, [value])

    def add_meta_scalar(self, name: str, data: int | float | np.number) -> None:
        """Append a scalar to field ``name`` (int -> INT64, float -> DOUBLE, numpy keeps type)."""
        typecheck(name, "name", str)
        typecheck(data, "data", (int, float, np.number))
        meta, value = md.scalar_type(data)
        self._add_meta(name, meta, value)

    def add_meta_string(self, name: str, data: str) -> None:
        """Append a string to field ``name``."""
        typecheck(name, "name", str)
        typecheck(data, "data", str)
        self._add_meta(name, md.MetaType.STRING, data)

    def _field(self, name: str) -> tuple[md.MetaType, list]:
        typecheck(name, "name", str)
        try:
            return self._meta[name]
        except KeyError:
            raise RedisRuntimeError(
                f"The metadata field {name} does not exist in dataset {self._name}."
            ) from None

    def get_meta_scalars(self, name: str) -> np.ndarray:
        """The scalars of field ``name`` as a 1-D array of the field's type."""
        meta, values = self._field(name)
        if meta is md.MetaType.STRING:
            raise RedisRuntimeError(f"The metadata field {name} holds strings, not scalars.")
        return np.asarray(values, dtype=md.SCALAR_DTYPES[meta].newbyteorder("="))

    def get_meta_strings(self, name: str) -> list[str]:
        """The strings of field ``name``."""
        meta, values = self._field(name)
        if meta is not md.MetaType.STRING:
            raise RedisRuntimeError(f"The metadata field {name} holds scalars, not strings.")
        return list(values)

    def get_metadata_field_names(self) -> list[str]:
        """Names of the metadata fields (tensor names and the ack are not listed)."""
        return list(self._meta)

    def get_metadata_field_type(self, name: str) -> type:
        """The type of field ``name``: a numpy scalar type, or ``str``."""
        return _FIELD_TYPES[self._field(name)[0]]

    # wire form (internal)
    def _fields(self) -> list[tuple[str, bytes]]:
        """Serialized hash fields: every metadata field, then ``.tensor_names``."""
        fields = []
        for name, (meta, values) in self._meta.items():
            if meta is md.MetaType.STRING:
                fields.append((name, md.encode_strings(values)))
            else:
                fields.append((name, md.encode_scalars(meta, np.asarray(values))))
        if self._tensors:
            fields.append((md.TENSOR_NAMES_FIELD, md.encode_strings(list(self._tensors))))
        return fields

    @classmethod
    def _from_hash(cls, name: str, fields: Mapping[bytes, bytes]) -> tuple[Dataset, list[str]]:
        """A dataset with the metadata of an HGETALL reply, and its tensor names."""
        dataset = cls(name)
        tensor_names: list[str] = []
        for raw_name, raw in fields.items():
            field = raw_name.decode("utf-8", "surrogateescape")
            if field == md.COMPLETE_FIELD:
                continue
            meta, values = md.decode_field(raw)
            if field == md.TENSOR_NAMES_FIELD:
                tensor_names = list(values)  # type: ignore[arg-type]
            else:
                dataset._meta[field] = (meta, list(values))
        return dataset, tensor_names

    def _set_received_tensor(self, name: str, array: np.ndarray) -> None:
        self._tensors[name] = array
