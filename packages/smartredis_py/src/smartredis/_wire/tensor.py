"""numpy arrays <-> RedisAI tensors: dtype names, dims and the raw bytes.

On the wire a tensor is its type name, its dims and its elements in C (row-major) order
and little-endian byte order.  Arrays are sent from their own buffer when they are
already C-contiguous and native-endian; only other layouts are copied (once) into C order.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from smartredis.error import RedisInternalError, RedisRuntimeError

#: numpy dtype -> RedisAI type name: the eight types SmartRedis 0.6.1 supports.
DTYPE_TO_WIRE: dict[np.dtype, str] = {
    np.dtype(np.float64): "DOUBLE",
    np.dtype(np.float32): "FLOAT",
    np.dtype(np.int8): "INT8",
    np.dtype(np.int16): "INT16",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.uint8): "UINT8",
    np.dtype(np.uint16): "UINT16",
}
#: RedisAI type name -> little-endian numpy dtype.
WIRE_TO_DTYPE: dict[str, np.dtype] = {
    name: dtype.newbyteorder("<") for dtype, name in DTYPE_TO_WIRE.items()
}

_LITTLE = sys.byteorder == "little"


def wire_type(dtype: np.dtype) -> str:
    """The RedisAI type name of ``dtype`` (any byte order); ``TypeError`` if unsupported."""
    name = DTYPE_TO_WIRE.get(dtype.newbyteorder("="))
    if name is None:
        raise TypeError(f"Incompatible tensor type provided {dtype}")
    return name


def dtype_of(type_name: str | bytes) -> np.dtype:
    """The numpy dtype for a RedisAI type name; ``RedisInternalError`` if unsupported."""
    if isinstance(type_name, bytes):
        type_name = type_name.decode()
    try:
        return WIRE_TO_DTYPE[type_name.upper()]
    except KeyError:
        raise RedisInternalError(
            f"The tensor type {type_name} is not supported by SmartRedis; supported "
            f"types are {', '.join(WIRE_TO_DTYPE)}"
        ) from None


def check_dims(dims: Sequence[int]) -> None:
    """Reject the shapes SmartRedis rejects: no dimension, or a dimension of zero."""
    if len(dims) == 0:
        raise RedisRuntimeError("Must provide a dimensions vector with at least one dimension.")
    if any(d <= 0 for d in dims):
        raise RedisRuntimeError("All tensor dimensions must be positive.")


def check_name(name: str) -> None:
    """Tensor names must be non-empty strings and cannot be ``.meta``."""
    if not isinstance(name, str):
        raise TypeError(f"Argument name is of type {type(name)}, not {str}")
    if not name:
        raise RedisRuntimeError("A tensor name must not be empty.")
    if name == ".meta":
        raise RedisRuntimeError(".meta is an internal field name and cannot be a tensor name.")


def to_wire(data: np.ndarray) -> tuple[str, list[int], memoryview]:
    """Validate ``data`` and return its (type name, dims, C-order little-endian bytes).

    The returned memoryview is over ``data``'s own buffer when that buffer is already
    C-contiguous and little-endian (no copy); otherwise over a single C-order copy.
    """
    if not isinstance(data, np.ndarray):
        raise TypeError(f"Argument data is of type {type(data)}, not {np.ndarray}")
    type_name = wire_type(data.dtype)
    dims = [int(d) for d in data.shape]
    check_dims(dims)
    if data.dtype.byteorder == ">" or (data.dtype.byteorder == "=" and not _LITTLE):
        data = data.astype(data.dtype.newbyteorder("<"), order="C")
    elif not data.flags.c_contiguous:
        data = np.ascontiguousarray(data)
    return type_name, dims, memoryview(data).cast("B")


def from_wire(type_name: str | bytes, dims: Sequence[int], blob: object) -> np.ndarray:
    """An array of ``dims`` over ``blob`` (any buffer), without copying it."""
    dtype = dtype_of(type_name)
    dims = [int(d) for d in dims]
    if len(dims) == 0 or any(d <= 0 for d in dims):
        raise RedisRuntimeError(f"The tensor reply has invalid dimensions {dims}.")
    array = np.frombuffer(blob, dtype=dtype)  # type: ignore[call-overload]
    expected = int(np.prod(dims))
    if array.size != expected:
        raise RedisInternalError(
            f"The tensor reply has {array.size} elements but its shape {dims} needs {expected}."
        )
    if not _LITTLE:
        array = array.astype(dtype.newbyteorder("="))
    return array.reshape(dims)
