"""Byte encoding of dataset metadata fields (stable since SmartRedis 0.2).

A field is one hash field of ``{ds}.meta``.  Its value is one type byte, then the payload:
scalars are packed back to back (little-endian, no count); strings are each an 8-byte
little-endian length followed by the raw bytes.  Tensor names live in the string field
``.tensor_names``; the ``.COMPLETE`` field is the put_dataset acknowledgement.
"""

from __future__ import annotations

import enum
import struct

import numpy as np

from smartredis.error import RedisRuntimeError

TENSOR_NAMES_FIELD = ".tensor_names"
COMPLETE_FIELD = ".COMPLETE"
#: Field names that are not user metadata.
RESERVED_FIELDS = frozenset({TENSOR_NAMES_FIELD, COMPLETE_FIELD})


class MetaType(enum.IntEnum):
    """The type byte of a metadata field."""

    DOUBLE = 1
    FLOAT = 2
    INT32 = 3
    INT64 = 4
    UINT32 = 5
    UINT64 = 6
    STRING = 7


#: Scalar type byte -> little-endian numpy dtype of its values.
SCALAR_DTYPES: dict[MetaType, np.dtype] = {
    MetaType.DOUBLE: np.dtype("<f8"),
    MetaType.FLOAT: np.dtype("<f4"),
    MetaType.INT32: np.dtype("<i4"),
    MetaType.INT64: np.dtype("<i8"),
    MetaType.UINT32: np.dtype("<u4"),
    MetaType.UINT64: np.dtype("<u8"),
}
_BY_DTYPE = {dtype.newbyteorder("="): t for t, dtype in SCALAR_DTYPES.items()}
_LEN = struct.Struct("<Q")


def scalar_type(value: object) -> tuple[MetaType, object]:
    """The metadata type of a scalar and the value to store; ``TypeError`` if unsupported.

    Python ``int`` becomes INT64 and ``float`` DOUBLE; numpy scalars keep their type.
    ``bool``, int8/16, uint8/16 and float16 are rejected, as upstream does.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Unsupported metadata scalar type {type(value)}")
    array = np.asarray(value)
    if array.size > 1:
        raise TypeError("Argument provided is not a scalar")
    meta = _BY_DTYPE.get(array.dtype.newbyteorder("="))
    if meta is None:
        raise TypeError(f"Unsupported metadata scalar type {array.dtype}")
    return meta, array.reshape(-1)[0] if array.size else array


def encode_scalars(meta: MetaType, values: np.ndarray) -> bytes:
    """Encode scalar ``values`` of type ``meta``."""
    return bytes([meta]) + np.asarray(values, dtype=SCALAR_DTYPES[meta]).tobytes()


def encode_strings(values: list[str] | list[bytes]) -> bytes:
    """Encode a string field."""
    parts = [bytes([MetaType.STRING])]
    for value in values:
        raw = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
        parts.append(_LEN.pack(len(raw)))
        parts.append(raw)
    return b"".join(parts)


def decode_field(raw: bytes) -> tuple[MetaType, np.ndarray | list[str]]:
    """Decode one serialized field into (type, values)."""
    if not raw:
        raise RedisRuntimeError("A metadata field is empty; it has no type byte.")
    try:
        meta = MetaType(raw[0])
    except ValueError:
        raise RedisRuntimeError(f"Unknown metadata type byte {raw[0]}.") from None
    payload = memoryview(raw)[1:]
    if meta is MetaType.STRING:
        return meta, decode_strings(payload)
    dtype = SCALAR_DTYPES[meta]
    if len(payload) % dtype.itemsize:
        raise RedisRuntimeError(
            f"A {meta.name} metadata field has {len(payload)} bytes, not a multiple of "
            f"{dtype.itemsize}."
        )
    return meta, np.frombuffer(payload, dtype=dtype).astype(dtype.newbyteorder("="))


def decode_strings(payload: memoryview | bytes) -> list[str]:
    """Decode the payload (after the type byte) of a string field."""
    values: list[str] = []
    offset, end = 0, len(payload)
    while offset < end:
        if offset + 8 > end:
            raise RedisRuntimeError("A string metadata field is truncated.")
        (length,) = _LEN.unpack_from(payload, offset)
        offset += 8
        if offset + length > end:
            raise RedisRuntimeError("A string metadata field is truncated.")
        values.append(bytes(payload[offset : offset + length]).decode("utf-8", "surrogateescape"))
        offset += length
    return values
