"""Datasets against a real server: the bytes in the hash, the ack, copies and deletes."""

from __future__ import annotations

import numpy as np
import pytest

from smartredis import Dataset
from smartredis._wire import metadata as md
from smartredis.error import RedisKeyError, RedisRuntimeError


def full_dataset(name: str = "ds") -> Dataset:
    ds = Dataset(name)
    ds.add_tensor("a", np.arange(6, dtype=np.float32).reshape(2, 3))
    ds.add_tensor("b", np.arange(4, dtype=np.int16))
    ds.add_meta_scalar("sf", np.float32(1.5))
    ds.add_meta_scalar("sd", 2.5)
    ds.add_meta_scalar("si", 7)
    ds.add_meta_scalar("si", 8)
    ds.add_meta_scalar("i32", np.int32(-3))
    ds.add_meta_scalar("u32", np.uint32(9))
    ds.add_meta_scalar("u64", np.uint64(2**63))
    ds.add_meta_string("str", "hello")
    ds.add_meta_string("str", "wo")
    return ds


def assert_same(got: Dataset, want: Dataset) -> None:
    assert got.get_tensor_names() == want.get_tensor_names()
    for name in want.get_tensor_names():
        np.testing.assert_array_equal(got.get_tensor(name), want.get_tensor(name))
        assert got.get_tensor(name).dtype == want.get_tensor(name).dtype
    assert sorted(got.get_metadata_field_names()) == sorted(want.get_metadata_field_names())
    for field in want.get_metadata_field_names():
        assert got.get_metadata_field_type(field) is want.get_metadata_field_type(field)
        if want.get_metadata_field_type(field) is str:
            assert got.get_meta_strings(field) == want.get_meta_strings(field)
        else:
            np.testing.assert_array_equal(got.get_meta_scalars(field), want.get_meta_scalars(field))


def test_put_writes_the_upstream_layout(client, raw):
    client.put_dataset(full_dataset())
    fields = raw.hgetall("{ds}.meta")
    assert fields[b".COMPLETE"] == b"1"
    assert fields[b"sf"] == bytes.fromhex("020000c03f")
    assert fields[b"si"] == b"\x04\x07" + b"\x00" * 7 + b"\x08" + b"\x00" * 7
    assert fields[b"u32"] == bytes.fromhex("0509000000")
    assert fields[b"str"] == b"\x07\x05" + b"\x00" * 7 + b"hello\x02" + b"\x00" * 7 + b"wo"
    assert fields[b".tensor_names"] == b"\x07\x01" + b"\x00" * 7 + b"a\x01" + b"\x00" * 7 + b"b"
    reply = raw.execute_command("AI.TENSORGET", "{ds}.a", "META", "BLOB")
    assert reply[1] == b"FLOAT" and reply[3] == [2, 3]


def test_roundtrip_every_metadata_type(client):
    want = full_dataset()
    client.put_dataset(want)
    assert client.dataset_exists("ds")
    assert_same(client.get_dataset("ds"), want)


def test_metadata_only_dataset(client, raw):
    ds = Dataset("m")
    ds.add_meta_string("k", "v")
    client.put_dataset(ds)
    assert b".tensor_names" not in raw.hgetall("{m}.meta")
    assert client.get_dataset("m").get_meta_strings("k") == ["v"]


def test_empty_dataset_is_rejected_before_sending(client, raw):
    with pytest.raises(RedisRuntimeError, match="does not contain any fields or tensors"):
        client.put_dataset(Dataset("empty"))
    assert raw.dbsize() == 0


def test_put_replaces_old_metadata(client, raw):
    old = Dataset("r")
    old.add_meta_string("gone", "x")
    client.put_dataset(old)
    new = Dataset("r")
    new.add_meta_string("kept", "y")
    client.put_dataset(new)
    assert client.get_dataset("r").get_metadata_field_names() == ["kept"]


def test_exists_needs_the_ack(client, raw):
    raw.hset("{half}.meta", "f", b"\x07")
    assert not client.dataset_exists("half")
    assert not client.poll_dataset("half", 10, 2)
    raw.hset("{half}.meta", ".COMPLETE", "1")
    assert client.poll_dataset("half", 10, 2)


def test_missing_dataset_errors(client):
    with pytest.raises(RedisKeyError, match='"nope", does not exist'):
        client.get_dataset("nope")
    with pytest.raises(RedisRuntimeError, match="does not exist"):
        client.delete_dataset("nope")
    with pytest.raises(RedisKeyError):
        client.copy_dataset("nope", "x")


def test_copy_rename_delete(client, raw):
    want = full_dataset("src")
    client.put_dataset(want)
    client.copy_dataset("src", "dst")
    assert_same(client.get_dataset("dst"), want)
    client.rename_dataset("dst", "moved")
    assert not client.dataset_exists("dst")
    assert_same(client.get_dataset("moved"), want)
    client.delete_dataset("moved")
    assert raw.keys("*moved*") == []
    assert client.dataset_exists("src")


def test_dataset_tensors_are_writable_arrays(client):
    client.put_dataset(full_dataset())
    got = client.get_dataset("ds").get_tensor("a")
    got[0, 0] = 42  # a writable, independent array
    assert client.get_dataset("ds").get_tensor("a")[0, 0] == 0


def test_reads_a_dataset_written_by_hand_in_the_upstream_format(client, raw):
    raw.execute_command("AI.TENSORSET", "{hand}.t", "INT64", 2, "BLOB", np.array([5, 6]).tobytes())
    raw.hset(
        "{hand}.meta",
        mapping={
            ".tensor_names": md.encode_strings(["t"]),
            "n": md.encode_scalars(md.MetaType.UINT64, np.array([3])),
            ".COMPLETE": "1",
        },
    )
    got = client.get_dataset("hand")
    np.testing.assert_array_equal(got.get_tensor("t"), [5, 6])
    assert got.get_metadata_field_type("n") is np.uint64
