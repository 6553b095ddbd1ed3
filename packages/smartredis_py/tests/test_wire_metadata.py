"""Dataset metadata bytes, checked against bytes captured from the official client."""

import numpy as np
import pytest

from smartredis._wire import metadata as md
from smartredis.error import RedisRuntimeError


def test_captured_float():
    assert md.encode_scalars(md.MetaType.FLOAT, np.array([1.5])) == bytes.fromhex("020000c03f")


def test_captured_double():
    assert (
        md.encode_scalars(md.MetaType.DOUBLE, np.array([2.5]))
        == b"\x01" + np.float64(2.5).astype("<f8").tobytes()
    )


def test_captured_int64_pair():
    raw = md.encode_scalars(md.MetaType.INT64, np.array([7, 8]))
    assert raw == b"\x04" + b"\x07" + b"\x00" * 7 + b"\x08" + b"\x00" * 7


def test_captured_uint32():
    assert md.encode_scalars(md.MetaType.UINT32, np.array([9])) == bytes.fromhex("0509000000")


def test_captured_strings():
    raw = md.encode_strings(["hello", "wo"])
    assert raw == b"\x07\x05" + b"\x00" * 7 + b"hello" + b"\x02" + b"\x00" * 7 + b"wo"


@pytest.mark.parametrize("meta", list(md.SCALAR_DTYPES))
def test_scalar_roundtrip_every_type(meta):
    values = np.array([0, 1, 42], dtype=md.SCALAR_DTYPES[meta])
    got_type, got = md.decode_field(md.encode_scalars(meta, values))
    assert got_type is meta
    assert got.dtype == values.dtype.newbyteorder("=")
    np.testing.assert_array_equal(got, values)


def test_string_roundtrip_with_empty_and_unicode():
    values = ["", "ümlaut", "a,b", "x" * 1000]
    assert md.decode_field(md.encode_strings(values)) == (md.MetaType.STRING, values)


@pytest.mark.parametrize(
    ("value", "meta"),
    [
        (7, md.MetaType.INT64),
        (2.5, md.MetaType.DOUBLE),
        (np.float32(1.5), md.MetaType.FLOAT),
        (np.int32(3), md.MetaType.INT32),
        (np.uint32(3), md.MetaType.UINT32),
        (np.uint64(3), md.MetaType.UINT64),
    ],
)
def test_scalar_type_mapping(value, meta):
    assert md.scalar_type(value)[0] is meta


@pytest.mark.parametrize("value", [True, np.int8(1), np.float16(1), np.uint16(2), "s"])
def test_unsupported_scalars_raise_type_error(value):
    with pytest.raises(TypeError):
        md.scalar_type(value)


def test_unknown_type_byte_and_truncation_are_rejected():
    with pytest.raises(RedisRuntimeError, match="Unknown metadata type"):
        md.decode_field(b"\x09abc")
    with pytest.raises(RedisRuntimeError, match="truncated"):
        md.decode_field(b"\x07\x05" + b"\x00" * 7 + b"hel")
    with pytest.raises(RedisRuntimeError, match="multiple"):
        md.decode_field(b"\x01abc")
