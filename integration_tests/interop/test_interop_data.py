"""Tensors, datasets, lists and prefixed keys written by one client and read by the other.

Both directions, standalone and cluster, against the same real server with our module.
"""

from __future__ import annotations

import numpy as np
import pytest

from smartredis import Dataset

pytestmark = pytest.mark.interop

DTYPES = ["float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16"]


def sample(dtype: str) -> np.ndarray:
    return (np.arange(-12, 12) % 120).astype(dtype).reshape(2, 3, 4)


def test_tensors_ours_to_official(target):
    c = target.ours()
    for dtype in DTYPES:
        c.put_tensor(f"t_{dtype}", sample(dtype))
    c.put_tensor("fortran", np.asfortranarray(sample("float64")))
    c.put_tensor("view", sample("int32")[:, ::2, 1:])
    target.official(
        f"""
        for dtype in {DTYPES!r}:
            save("t_" + dtype, c.get_tensor("t_" + dtype))
        save("fortran", c.get_tensor("fortran"))
        save("view", c.get_tensor("view"))
        """
    )
    for dtype in DTYPES:
        got = target.load(f"t_{dtype}")
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, sample(dtype))
    np.testing.assert_array_equal(target.load("fortran"), sample("float64"))
    np.testing.assert_array_equal(target.load("view"), sample("int32")[:, ::2, 1:])


def test_tensors_official_to_ours(target):
    target.official(
        f"""
        for dtype in {DTYPES!r}:
            c.put_tensor("t_" + dtype, (np.arange(-12, 12) % 120).astype(dtype).reshape(2, 3, 4))
        c.put_tensor("big", np.arange(1 << 20, dtype=np.float32).reshape(1024, 1024))
        """
    )
    c = target.ours()
    for dtype in DTYPES:
        got = c.get_tensor(f"t_{dtype}")
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, sample(dtype))
    np.testing.assert_array_equal(
        c.get_tensor("big"), np.arange(1 << 20, dtype=np.float32).reshape(1024, 1024)
    )
    c.copy_tensor("t_int8", "copied")
    c.rename_tensor("t_uint8", "renamed")
    result = target.official(
        """
        dump({
            "copied": c.get_tensor("copied").tolist(),
            "renamed": c.tensor_exists("renamed"),
            "old": c.tensor_exists("t_uint8"),
        })
        """
    )
    assert result == {
        "copied": sample("int8").tolist(),
        "renamed": True,
        "old": False,
    }


def full_dataset(name: str) -> Dataset:
    ds = Dataset(name)
    ds.add_tensor("a", sample("float32"))
    ds.add_tensor("b", sample("uint16"))
    ds.add_meta_scalar("dbl", 2.5)
    ds.add_meta_scalar("flt", np.float32(1.5))
    ds.add_meta_scalar("i32", np.int32(-7))
    ds.add_meta_scalar("i64", 7)
    ds.add_meta_scalar("i64", 8)
    ds.add_meta_scalar("u32", np.uint32(9))
    ds.add_meta_scalar("u64", np.uint64(2**63 + 5))
    ds.add_meta_string("str", "hello")
    ds.add_meta_string("str", "wörld")
    return ds


OFFICIAL_READ_DATASET = """
ds = c.get_dataset(NAME)
out = {"tensors": ds.get_tensor_names(), "fields": sorted(ds.get_metadata_field_names())}
for t in ds.get_tensor_names():
    save("ds_" + t, ds.get_tensor(t))
for f in ds.get_metadata_field_names():
    if f == "str":
        out[f] = ds.get_meta_strings(f)
    else:
        v = ds.get_meta_scalars(f)
        out[f] = [str(v.dtype), [str(x) for x in v]]
dump(out)
"""


def check_official_view(result, target) -> None:
    assert result["tensors"] == ["a", "b"]
    assert result["fields"] == sorted(["dbl", "flt", "i32", "i64", "u32", "u64", "str"])
    assert result["str"] == ["hello", "wörld"]
    assert result["dbl"] == ["float64", ["2.5"]]
    assert result["flt"] == ["float32", ["1.5"]]
    assert result["i32"] == ["int32", ["-7"]]
    assert result["i64"] == ["int64", ["7", "8"]]
    assert result["u32"] == ["uint32", ["9"]]
    assert result["u64"] == ["uint64", [str(2**63 + 5)]]
    np.testing.assert_array_equal(target.load("ds_a"), sample("float32"))
    np.testing.assert_array_equal(target.load("ds_b"), sample("uint16"))


def test_dataset_ours_to_official(target):
    c = target.ours()
    c.put_dataset(full_dataset("ds"))
    check_official_view(target.official(OFFICIAL_READ_DATASET.replace("NAME", "'ds'")), target)
    c.copy_dataset("ds", "ds2")
    check_official_view(target.official(OFFICIAL_READ_DATASET.replace("NAME", "'ds2'")), target)


def test_dataset_official_to_ours(target):
    target.official(
        """
        ds = Dataset("ds")
        ds.add_tensor("a", (np.arange(-12, 12) % 120).astype("float32").reshape(2, 3, 4))
        ds.add_tensor("b", (np.arange(-12, 12) % 120).astype("uint16").reshape(2, 3, 4))
        ds.add_meta_scalar("dbl", 2.5)
        ds.add_meta_scalar("flt", np.float32(1.5))
        ds.add_meta_scalar("i32", np.int32(-7))
        ds.add_meta_scalar("i64", 7)
        ds.add_meta_scalar("i64", 8)
        ds.add_meta_scalar("u32", np.uint32(9))
        ds.add_meta_scalar("u64", np.uint64(2**63 + 5))
        ds.add_meta_string("str", "hello")
        ds.add_meta_string("str", "wörld")
        c.put_dataset(ds)
        """
    )
    c = target.ours()
    assert c.dataset_exists("ds")
    got, want = c.get_dataset("ds"), full_dataset("ds")
    assert got.get_tensor_names() == ["a", "b"]
    for name in ("a", "b"):
        np.testing.assert_array_equal(got.get_tensor(name), want.get_tensor(name))
    for field in want.get_metadata_field_names():
        assert got.get_metadata_field_type(field) is want.get_metadata_field_type(field)
        if field == "str":
            assert got.get_meta_strings(field) == ["hello", "wörld"]
        else:
            np.testing.assert_array_equal(got.get_meta_scalars(field), want.get_meta_scalars(field))
    c.rename_dataset("ds", "moved")
    assert target.official('dump([c.dataset_exists("ds"), c.dataset_exists("moved")])') == [
        False,
        True,
    ]


def test_aggregation_lists_both_ways(target):
    c = target.ours()
    for i in range(5):
        ds = Dataset(f"ours{i}")
        ds.add_tensor("t", np.full(3, i, dtype=np.int64))
        ds.add_meta_string("who", "ours")
        c.put_dataset(ds)
        c.append_to_list("L", ds)
    result = target.official(
        """
        got = c.get_datasets_from_list("L")
        out = [[d.get_name(), d.get_tensor("t").tolist()] for d in got]
        for i in range(3):
            ds = Dataset(f"off{i}")
            ds.add_tensor("t", np.full(2, 10 + i, dtype=np.int16))
            c.put_dataset(ds)
            c.append_to_list("M", ds)
        c.copy_list("L", "L2")
        dump([out, c.get_list_length("L"), c.get_list_length("L2")])
        """
    )
    assert result == [[[f"ours{i}", [i] * 3] for i in range(5)], 5, 5]
    got = c.get_datasets_from_list("M")
    assert [d.get_name() for d in got] == ["off0", "off1", "off2"]
    assert [d.get_tensor("t").tolist() for d in got] == [[10, 10], [11, 11], [12, 12]]
    assert [d.get_name() for d in c.get_dataset_list_range("L2", 1, 2)] == ["ours1", "ours2"]


def test_prefixed_keys_both_ways(target, monkeypatch):
    # our client is ensemble member "a" reading "b"; the official one is "b" reading "a"
    monkeypatch.setenv("SSKEYOUT", "a")
    monkeypatch.setenv("SSKEYIN", "b")
    c = target.ours()
    c.put_tensor("t", np.arange(3, dtype=np.float64))
    ds = Dataset("d")
    ds.add_meta_string("from", "a")
    c.put_dataset(ds)
    c.append_to_list("L", ds)
    result = target.official(
        """
        c.put_tensor("t", np.arange(4, dtype=np.int32))
        ds = Dataset("d")
        ds.add_meta_string("from", "b")
        c.put_dataset(ds)
        c.append_to_list("L", ds)
        dump([
            c.get_tensor("t").tolist(),
            c.get_dataset("d").get_meta_strings("from"),
            [d.get_meta_strings("from") for d in c.get_datasets_from_list("L")],
        ])
        """,
        env={"SSKEYOUT": "b", "SSKEYIN": "a"},
    )
    assert result == [[0.0, 1.0, 2.0], ["a"], [["a"]]]
    assert c.get_tensor("t").tolist() == [0, 1, 2, 3]
    assert c.get_dataset("d").get_meta_strings("from") == ["b"]
    assert [d.get_meta_strings("from") for d in c.get_datasets_from_list("L")] == [["b"]]
    assert c.key_exists("a.t") and c.key_exists("b.t")


def test_unix_socket_both_ways(ai_server_factory, tmp_path):
    from .conftest import Target

    sock = tmp_path / "db.sock"
    server = ai_server_factory(config={"unixsocket": str(sock), "unixsocketperm": "700"})
    official = Target(f"unix://{sock}", False, tmp_path)
    official.official('c.put_tensor("from_official", np.arange(5, dtype=np.int16))')
    from smartredis import Client

    with Client(False, address=f"unix://{sock}") as c:
        np.testing.assert_array_equal(c.get_tensor("from_official"), np.arange(5))
        c.put_tensor("from_ours", np.arange(3, dtype=np.float64))
    with Client(False, address=server.address) as tcp:
        assert tcp.tensor_exists("from_ours")
    result = official.official('dump(c.get_tensor("from_ours").tolist())')
    assert result == [0.0, 1.0, 2.0]
