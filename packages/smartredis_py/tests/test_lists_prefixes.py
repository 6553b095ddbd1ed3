"""Aggregation lists and ensemble prefixes against a real server."""

from __future__ import annotations

import numpy as np
import pytest

from smartredis import Client, Dataset
from smartredis.error import RedisRuntimeError


def meta_dataset(name: str, value: int) -> Dataset:
    ds = Dataset(name)
    ds.add_meta_scalar("v", value)
    return ds


def test_list_operations(client, raw):
    for i in range(4):
        ds = meta_dataset(f"d{i}", i)
        client.put_dataset(ds)
        client.append_to_list("L", ds)
    assert raw.lrange("L", 0, -1) == [b"{d0}", b"{d1}", b"{d2}", b"{d3}"]
    assert client.get_list_length("L") == 4
    assert client.poll_list_length("L", 4, 10, 1)
    assert client.poll_list_length_gte("L", 3, 10, 1)
    assert not client.poll_list_length_lte("L", 3, 10, 2)
    got = client.get_datasets_from_list("L")
    assert [d.get_name() for d in got] == ["d0", "d1", "d2", "d3"]
    assert [int(d.get_meta_scalars("v")[0]) for d in got] == [0, 1, 2, 3]
    assert [d.get_name() for d in client.get_dataset_list_range("L", 1, -2)] == ["d1", "d2"]
    client.copy_list("L", "M")
    assert raw.lrange("M", 0, -1) == raw.lrange("L", 0, -1)
    client.rename_list("M", "N")
    assert not raw.exists("M") and client.get_list_length("N") == 4
    client.delete_list("N")
    assert client.get_list_length("N") == 0
    assert client.get_datasets_from_list("nothing") == []


def test_list_errors(client):
    with pytest.raises(RedisRuntimeError, match="source aggregation list does not exist"):
        client.copy_list("missing", "x")
    with pytest.raises(ValueError):
        client.copy_list("", "x")
    with pytest.raises(ValueError):
        client.poll_list_length("L", -1, 10, 1)
    with pytest.raises(TypeError):
        client.append_to_list("L", "not a dataset")


def test_copy_list_replaces_the_destination(client, raw):
    raw.rpush("dst", "{old}")
    raw.rpush("src", "{new}")
    client.copy_list("src", "dst")
    assert raw.lrange("dst", 0, -1) == [b"{new}"]


def test_prefixes_on_the_wire(ai_server, ai_client, monkeypatch):
    raw = ai_client
    monkeypatch.setenv("SSKEYOUT", "out")
    monkeypatch.setenv("SSKEYIN", "in1,in2")
    monkeypatch.setenv("SR_DB_TYPE", "Standalone")
    monkeypatch.setenv("SSDB", ai_server.address)
    c = Client(None)
    ds = meta_dataset("d", 1)
    c.put_dataset(ds)
    assert raw.hexists("out.{d}.meta", ".COMPLETE")
    c.append_to_list("L", ds)
    assert raw.lrange("out.L", 0, -1) == [b"out.{d}"]
    # reads use the SSKEYIN item: nothing written under in1 yet
    assert not c.dataset_exists("d")
    raw.rename("out.{d}.meta", "in1.{d}.meta")
    assert c.dataset_exists("d")
    c.set_data_source("in2")
    assert not c.dataset_exists("d")
    with pytest.raises(RedisRuntimeError):
        c.set_data_source("elsewhere")
    # list entries are used verbatim, prefix included
    c.set_data_source("in1")
    raw.rename("out.L", "in1.L")
    raw.rename("in1.{d}.meta", "out.{d}.meta")
    assert [d.get_name() for d in c.get_datasets_from_list("L")] == ["d"]
    c.use_dataset_ensemble_prefix(False)
    c.use_list_ensemble_prefix(False)
    c.put_dataset(meta_dataset("p", 2))
    c.append_to_list("plain", meta_dataset("p", 2))
    assert raw.lrange("plain", 0, -1) == [b"{p}"]
    assert not c.key_exists("d")  # key_exists never prefixes
    c.close()


def test_tensor_prefixes(ai_server, ai_client, monkeypatch):
    raw = ai_client
    monkeypatch.setenv("SSKEYOUT", "out")
    monkeypatch.setenv("SSKEYIN", "out")
    c = Client(False, address=ai_server.address)
    c.put_tensor("t", np.arange(3, dtype=np.int64))
    assert raw.exists("out.t")
    np.testing.assert_array_equal(c.get_tensor("t"), [0, 1, 2])
    c.copy_tensor("t", "u")
    assert raw.exists("out.u")
    c.use_tensor_ensemble_prefix(False)
    c.put_tensor("t", np.arange(3, dtype=np.int64))
    assert raw.exists("t")
    c.close()
