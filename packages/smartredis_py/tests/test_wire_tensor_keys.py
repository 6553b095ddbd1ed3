"""Tensor bytes, dtype mapping, key prefixes and addresses, without a server."""

import numpy as np
import pytest

from smartredis import _commands as cmd
from smartredis._transport.resp import pack
from smartredis._wire import tensor as tw
from smartredis._wire.address import parse_address, parse_ssdb
from smartredis._wire.keys import Prefixer, dataset_name_from_entry
from smartredis.error import RedisInternalError, RedisRuntimeError

SUPPORTED = ["float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16"]


@pytest.mark.parametrize("dtype", SUPPORTED)
def test_roundtrip_every_dtype(dtype):
    data = (np.arange(24) % 100).astype(dtype).reshape(2, 3, 4)
    type_name, dims, blob = tw.to_wire(data)
    assert dims == [2, 3, 4]
    out = tw.from_wire(type_name, dims, bytes(blob))
    np.testing.assert_array_equal(out, data)
    assert out.dtype == data.dtype


def test_c_contiguous_arrays_are_sent_without_copy():
    data = np.arange(1000, dtype=np.float64)
    _, _, blob = tw.to_wire(data)
    assert np.shares_memory(np.frombuffer(blob, dtype=np.float64), data)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: np.asfortranarray(a),  # the upstream bug: base-less Fortran order
        lambda a: a.T,
        lambda a: a[:, ::2],
        lambda a: a.astype(">i4"),
    ],
)
def test_any_layout_goes_out_in_c_order(make):
    base = np.arange(12, dtype=np.int32).reshape(3, 4)
    data = make(base)
    type_name, dims, blob = tw.to_wire(data)
    assert type_name == "INT32"
    np.testing.assert_array_equal(tw.from_wire(type_name, dims, bytes(blob)), data)


@pytest.mark.parametrize("dtype", ["bool", "float16", "uint32", "uint64", "complex64"])
def test_unsupported_dtypes_raise_type_error(dtype):
    with pytest.raises(TypeError, match="Incompatible tensor type"):
        tw.to_wire(np.zeros(3, dtype=dtype))


def test_shapes_rejected_before_sending():
    with pytest.raises(RedisRuntimeError, match="at least one dimension"):
        tw.to_wire(np.array(5.0))
    with pytest.raises(RedisRuntimeError, match="positive"):
        tw.to_wire(np.zeros((2, 0)))
    with pytest.raises(TypeError):
        tw.to_wire([1, 2, 3])


def test_reading_an_unsupported_type_is_an_internal_error():
    with pytest.raises(RedisInternalError, match="BOOL"):
        tw.from_wire("BOOL", [2], b"\x00\x01")


def test_prefixes_follow_the_captured_example():
    p = Prefixer.from_values("in1,in2", "out")
    assert p.tensor_put("t") == "out.t"
    assert p.tensor_get("t") == "in1.t"
    assert p.dataset_put("d") == "out.{d}"
    assert p.list_put("L") == "out.L"
    assert p.model_get("m") == "m"  # models are not prefixed by default
    p.set_data_source("in2")
    assert p.tensor_get("t") == "in2.t"
    with pytest.raises(RedisRuntimeError, match="could not be found"):
        p.set_data_source("nope")
    p.datasets = p.lists = False
    assert p.dataset_put("d") == "{d}"
    assert p.list_put("L") == "L"


def test_no_prefix_when_unset():
    p = Prefixer.from_values("", "")
    assert p.tensor_put("t") == p.tensor_get("t") == "t"


def test_dataset_name_of_a_list_entry():
    assert dataset_name_from_entry("pfx.{my.ds}") == "my.ds"
    with pytest.raises(RedisRuntimeError):
        dataset_name_from_entry("nobraces")


def test_addresses():
    assert str(parse_address("tcp://127.0.0.1:6379")) == "127.0.0.1:6379"
    assert str(parse_address("unix:///tmp/r.sock")) == "unix:///tmp/r.sock"
    assert parse_address("h:0x1F").port == 31
    assert [a.port for a in parse_ssdb("a:1,b:2")] == [1, 2]
    for bad in ("127.0.0.1:6379;", "host", ":6379", "h:"):
        with pytest.raises(ValueError):
            parse_ssdb(bad)


def test_modelstore_arguments_in_upstream_order():
    args = cmd.modelstore(
        "m", "TORCH", "CPU", [b"x"], tag="v1", batch_size=4, min_batch_size=2,
        min_batch_timeout=5,
    )  # fmt: skip
    assert args == [
        "AI.MODELSTORE", "m", "TORCH", "CPU", "TAG", "v1", "BATCHSIZE", 4,
        "MINBATCHSIZE", 2, "MINBATCHTIMEOUT", 5, "BLOB", b"x",
    ]  # fmt: skip
    tf = cmd.modelstore("m", "TF", "GPU:1", [b"x"], inputs=["x", "y"], outputs=["z"])
    assert tf[4:] == ["INPUTS", 2, "x", "y", "OUTPUTS", 1, "z", "BLOB", b"x"]
    assert cmd.modelexecute("m", [], [], 5)[2:] == ["INPUTS", 0, "OUTPUTS", 0, "TIMEOUT", 5]


def test_chunks_are_views_in_order():
    chunks = cmd.chunk(b"a" * 1024, 300)
    assert [len(c) for c in chunks] == [300, 300, 300, 124]


def test_pack_keeps_large_buffers_as_views():
    big = np.ones(1 << 20, dtype=np.uint8)
    pieces = pack([["AI.TENSORSET", "k", "UINT8", 1 << 20, "BLOB", memoryview(big)]])
    views = [p for p in pieces if isinstance(p, memoryview)]
    assert len(views) == 1 and np.shares_memory(np.frombuffer(views[0], np.uint8), big)
    joined = b"".join(bytes(p) for p in pieces)
    assert joined.startswith(b"*6\r\n$12\r\nAI.TENSORSET\r\n$1\r\nk\r\n")
    assert joined.endswith(b"\x01\r\n")
