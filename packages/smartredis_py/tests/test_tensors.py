"""Tensors against a real server: every dtype, layouts, copies, renames and errors."""

from __future__ import annotations

import numpy as np
import pytest

from smartredis.error import RedisReplyError, RedisRuntimeError

DTYPES = ["float64", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_roundtrip_every_dtype(client, raw, dtype):
    data = np.arange(-5, 19).astype(dtype).reshape(2, 3, 4)
    client.put_tensor("t", data)
    got = client.get_tensor("t")
    assert got.dtype == data.dtype and got.shape == data.shape
    np.testing.assert_array_equal(got, data)
    reply = raw.execute_command("AI.TENSORGET", "t", "META", "BLOB")
    assert reply[3] == [2, 3, 4]
    assert reply[5] == data.tobytes()


def test_wire_bytes_are_c_order_for_every_layout(client, raw):
    base = np.arange(12, dtype=np.float64).reshape(3, 4)
    for name, data in {
        "fortran": np.asfortranarray(base),  # upstream sends these bytes column-major
        "transposed": base.T,
        "strided": base[::2, ::3],
        "bigendian": base.astype(">f8"),
    }.items():
        client.put_tensor(name, data)
        reply = raw.execute_command("AI.TENSORGET", name, "META", "BLOB")
        assert reply[3] == list(data.shape)
        assert reply[5] == np.ascontiguousarray(data, dtype="<f8").tobytes()
        np.testing.assert_array_equal(client.get_tensor(name), data)


def test_large_tensor_roundtrip(client):
    data = np.random.default_rng(0).random((1024, 1024, 3))  # 24 MB
    client.put_tensor("big", data)
    got = client.get_tensor("big")
    np.testing.assert_array_equal(got, data)
    got[0, 0, 0] = -1.0  # writable


def test_unpack_tensor(client):
    data = np.arange(6, dtype=np.int32).reshape(2, 3)
    client.put_tensor("t", data)
    out = np.empty(6, dtype=np.int32)
    client.unpack_tensor("t", out)
    np.testing.assert_array_equal(out, data.ravel())
    with pytest.raises(RedisRuntimeError):
        client.unpack_tensor("t", np.empty(6, dtype=np.float32))
    with pytest.raises(RedisRuntimeError):
        client.unpack_tensor("t", np.empty(5, dtype=np.int32))


def test_exists_delete_copy_rename(client):
    client.put_tensor("a", np.ones(3, dtype=np.uint8))
    assert client.tensor_exists("a") and client.key_exists("a")
    assert client.poll_tensor("a", 10, 1)
    client.copy_tensor("a", "b")
    np.testing.assert_array_equal(client.get_tensor("b"), np.ones(3))
    client.rename_tensor("b", "c")
    assert not client.tensor_exists("b") and client.tensor_exists("c")
    client.delete_tensor("c")
    assert not client.poll_tensor("c", 10, 2)
    assert not client.poll_key("c", 10, 1)


def test_bad_input_is_rejected_before_sending(client, raw):
    with pytest.raises(TypeError, match="Incompatible tensor type"):
        client.put_tensor("t", np.zeros(3, dtype=bool))
    with pytest.raises(TypeError):
        client.put_tensor("t", [1, 2, 3])
    with pytest.raises(TypeError):
        client.put_tensor(3, np.zeros(3))
    with pytest.raises(RedisRuntimeError, match="at least one dimension"):
        client.put_tensor("t", np.array(1.0))
    with pytest.raises(RedisRuntimeError, match="positive"):
        client.put_tensor("t", np.zeros((3, 0)))
    with pytest.raises(RedisRuntimeError, match="empty"):
        client.put_tensor("", np.zeros(3))
    assert raw.dbsize() == 0


def test_missing_tensor_is_a_reply_error_with_the_method_name(client):
    with pytest.raises(RedisRuntimeError, match=r"Client\.get_tensor execution failed") as info:
        client.get_tensor("missing")
    assert "Redis error when executing command" in str(info.value)
    with pytest.raises(RedisReplyError):
        client.copy_tensor("missing", "x")


def test_non_tensor_key_is_a_reply_error(client, raw):
    raw.set("plain", "x")
    with pytest.raises(RedisRuntimeError, match="WRONGTYPE"):
        client.get_tensor("plain")


def test_reading_a_type_smartredis_does_not_map_is_an_internal_error(client, raw):
    from smartredis.error import RedisInternalError

    raw.execute_command("AI.TENSORSET", "b", "BOOL", 2, "BLOB", b"\x00\x01")
    with pytest.raises(RedisInternalError, match="BOOL"):
        client.get_tensor("b")


def test_put_and_get_do_not_copy_large_tensors(client):
    """put sends the array's buffer; get receives into the returned array's buffer."""
    import tracemalloc

    data = np.ones(16 << 20, dtype=np.float32)  # 64 MB
    tracemalloc.start()
    try:
        client.put_tensor("big", data)
        put_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        got = client.get_tensor("big")
        get_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert put_peak < 0.05 * data.nbytes
    assert get_peak <= 1.2 * data.nbytes
    assert got.nbytes == data.nbytes and got[-1] == 1.0


def test_one_client_shared_by_threads(client):
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> bool:
        for j in range(30):
            data = np.full(1000 + i, j, dtype=np.int32)
            client.put_tensor(f"thread{i}", data)
            if not np.array_equal(client.get_tensor(f"thread{i}"), data):
                return False
        return True

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))
