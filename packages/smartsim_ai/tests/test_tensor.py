"""AI.TENSORSET / AI.TENSORGET against a real server with the module (Valkey and Redis).

Error strings are RedisAI 1.2.7's, byte for byte (redis-py strips a leading ``ERR ``).
"""

from __future__ import annotations

import socket

import numpy as np
import pytest
import redis

DTYPES = {
    "FLOAT": np.float32,
    "DOUBLE": np.float64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "BOOL": np.bool_,
}


def tensorget(client, key, *fmt):
    return client.execute_command("AI.TENSORGET", key, *fmt)


def error_of(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.execute_command(*args)
    return str(info.value)


def sample(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(7)
    if dtype == "BOOL":
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    np_type = DTYPES[dtype]
    if np.issubdtype(np_type, np.floating):
        return rng.standard_normal(shape).astype(np_type)
    info = np.iinfo(np_type)
    return rng.integers(info.min, info.max, size=shape, dtype=np_type, endpoint=True)


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_blob_roundtrip_every_dtype(ai_client, dtype):
    arr = sample(dtype, (3, 4, 5))
    assert ai_client.execute_command("AI.TENSORSET", "t", dtype, 3, 4, 5, "BLOB", arr.tobytes())
    reply = tensorget(ai_client, "t", "META", "BLOB")
    assert reply[:4] == [b"dtype", dtype.encode(), b"shape", [3, 4, 5]]
    assert reply[4] == b"blob"
    assert np.array_equal(np.frombuffer(reply[5], dtype=DTYPES[dtype]).reshape(3, 4, 5), arr)
    assert tensorget(ai_client, "t", "BLOB") == arr.tobytes()
    assert tensorget(ai_client, "t") == reply  # no format means META + BLOB


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_values_roundtrip_every_dtype(ai_client, dtype):
    values = [0, 1, 1, 0] if dtype == "BOOL" else [1, 2, 3, 100]
    ai_client.execute_command("AI.TENSORSET", "t", dtype, 2, 2, "VALUES", *values)
    got = tensorget(ai_client, "t", "VALUES")
    if dtype in ("FLOAT", "DOUBLE"):
        assert [float(v) for v in got] == values
    else:
        assert got == values
    meta_values = tensorget(ai_client, "t", "META", "VALUES")
    assert meta_values[:5] == [b"dtype", dtype.encode(), b"shape", [2, 2], b"values"]
    blob = tensorget(ai_client, "t", "BLOB")
    assert np.frombuffer(blob, dtype=DTYPES[dtype]).tolist() == [DTYPES[dtype](v) for v in values]


def test_float_values_keep_float32_precision(ai_client):
    ai_client.execute_command("AI.TENSORSET", "t", "FLOAT", 2, "VALUES", "1.1", "-2.5")
    got = [float(v) for v in tensorget(ai_client, "t", "VALUES")]
    assert got == [float(np.float32(1.1)), -2.5]


def test_meta_only_and_scalar(ai_client):
    ai_client.execute_command("AI.TENSORSET", "s", "DOUBLE", "VALUES", 3.5)
    assert tensorget(ai_client, "s", "META") == [b"dtype", b"DOUBLE", b"shape", []]
    assert [float(v) for v in tensorget(ai_client, "s", "VALUES")] == [3.5]
    ai_client.execute_command("AI.TENSORSET", "b", "INT32", "BLOB", np.int32(-7).tobytes())
    assert tensorget(ai_client, "b", "META", "VALUES") == [
        b"dtype",
        b"INT32",
        b"shape",
        [],
        b"values",
        [-7],
    ]


@pytest.mark.parametrize("dtype", [*DTYPES, "STRING"])
def test_zero_fill(ai_client, dtype):
    ai_client.execute_command("AI.TENSORSET", "t", dtype, 2, 3)
    blob = tensorget(ai_client, "t", "BLOB")
    size = 1 if dtype == "STRING" else np.dtype(DTYPES[dtype]).itemsize
    assert blob == b"\x00" * (6 * size)
    expected = [b""] * 6 if dtype == "STRING" else [0] * 6
    got = tensorget(ai_client, "t", "VALUES")
    assert [float(v) for v in got] == expected if dtype in ("FLOAT", "DOUBLE") else got == expected


def test_keywords_are_case_insensitive(ai_client):
    arr = np.arange(4, dtype=np.float32)
    ai_client.execute_command("AI.TENSORSET", "t", "float", 4, "blob", arr.tobytes())
    assert tensorget(ai_client, "t", "meta")[:2] == [b"dtype", b"FLOAT"]
    assert tensorget(ai_client, "t", "Blob") == arr.tobytes()
    ai_client.execute_command("AI.TENSORSET", "u", "uInT8", 2, "values", 1, 2)
    assert tensorget(ai_client, "u", "vAlUeS", "mEtA")[1] == b"UINT8"
    # keywords are compared ORed with 0x20: no control or non-ASCII byte may fold onto a
    # letter, and a word one letter short or long is no keyword
    near = [b"BLO", b"BLOBS", b"BL\x0fB", b"bLo\xc2", b"\x02LOB", b"M\xc5TA", b"VALUE", b"VALUESX"]
    for word in near:
        assert error_of(ai_client, "AI.TENSORGET", "t", word) == "unsupported data format"
        assert error_of(ai_client, "AI.TENSORSET", "x", "FLOAT", 1, word, b"\0" * 4) == (
            "invalid or negative value found in tensor shape"
        )


def test_string_tensors(ai_client):
    ai_client.execute_command("AI.TENSORSET", "s", "STRING", 3, "VALUES", "ab", "c\x00", "")
    assert tensorget(ai_client, "s", "VALUES") == [b"ab", b"c", b""]
    assert tensorget(ai_client, "s", "BLOB") == b"ab\x00c\x00\x00"
    ai_client.execute_command("AI.TENSORSET", "b", "STRING", 2, "BLOB", b"x\xff\x00yz\x00")
    assert tensorget(ai_client, "b", "VALUES") == [b"x\xff", b"yz"]
    assert tensorget(ai_client, "b", "META") == [b"dtype", b"STRING", b"shape", [2]]


def test_overwrite_and_keyspace_commands(ai_client):
    ai_client.execute_command("AI.TENSORSET", "t", "INT32", 1, "VALUES", 1)
    ai_client.execute_command("AI.TENSORSET", "t", "INT64", 2, "VALUES", 5, 6)
    assert tensorget(ai_client, "t", "VALUES") == [5, 6]
    assert ai_client.type("t") == b"AI_TENSOR"
    assert ai_client.execute_command("COPY", "t", "c") == 1
    assert ai_client.rename("t", "r")
    assert ai_client.exists("t") == 0
    assert tensorget(ai_client, "r", "VALUES") == [5, 6] == tensorget(ai_client, "c", "VALUES")
    ai_client.execute_command("AI.TENSORSET", "r", "INT64", 1, "VALUES", 9)
    assert tensorget(ai_client, "c", "VALUES") == [5, 6]  # the copy is independent
    assert ai_client.delete("r") == 1 and ai_client.unlink("c") == 1
    assert ai_client.dbsize() == 0


def test_overwrite_drops_ttl_like_set(ai_client):
    ai_client.execute_command("AI.TENSORSET", "t", "INT8", 1, "VALUES", 1)
    ai_client.expire("t", 100)
    assert ai_client.ttl("t") > 0
    ai_client.execute_command("AI.TENSORSET", "t", "INT8", 1, "VALUES", 2)
    assert ai_client.ttl("t") == -1
    assert tensorget(ai_client, "t", "VALUES") == [2]
    ai_client.pexpire("t", 1)
    ai_client.execute_command("AI.TENSORSET", "t", "INT8", 1, "VALUES", 3)  # may race expiry
    assert ai_client.ttl("t") == -1


# A TENSORSET of the shape a key holds already reuses its tensor in place when nobody else
# holds it (ai_tensor_overwrite): 1 KB copies into the same block, 64 KB swaps the kept
# argument strings.  What a client sees must not differ from building a new tensor.
@pytest.mark.parametrize("nbytes", [1 << 10, 64 << 10])
def test_same_shape_overwrites(ai_client, nbytes):
    n = nbytes // 4
    rng = np.random.default_rng(3)
    ai_client.execute_command("AI.TENSORSET", "t", "FLOAT", 2, n // 2, "BLOB", bytes(nbytes))
    memory = ai_client.memory_usage("t")
    for _ in range(5):
        arr = rng.standard_normal(n).astype(np.float32)
        ai_client.execute_command("AI.TENSORSET", "t", "FLOAT", 2, n // 2, "BLOB", arr.tobytes())
        assert tensorget(ai_client, "t", "BLOB") == arr.tobytes()
        if nbytes < 32 << 10:
            assert ai_client.memory_usage("t") == memory
    ints = np.arange(n, dtype=np.int32)  # same bytes and ndims, other dtype and shape
    ai_client.execute_command("AI.TENSORSET", "t", "int32", 4, n // 4, "BLOB", ints.tobytes())
    reply = tensorget(ai_client, "t", "META", "BLOB")
    assert reply == [b"dtype", b"INT32", b"shape", [4, n // 4], b"blob", ints.tobytes()]
    ai_client.expire("t", 100)
    ai_client.execute_command("AI.TENSORSET", "t", "INT32", 4, n // 4, "BLOB", ints.tobytes())
    assert ai_client.ttl("t") == -1


def test_failed_same_shape_overwrite_keeps_the_old_tensor(ai_client):
    ai_client.execute_command("AI.TENSORSET", "b", "BOOL", 4, "BLOB", b"\x01\x00\x01\x01")
    bad = ("BOOL", 4, "BLOB", b"\x01\x02\x00\x00")
    message = error_of(ai_client, "AI.TENSORSET", "fresh", *bad)
    assert error_of(ai_client, "AI.TENSORSET", "b", *bad) == message
    assert error_of(ai_client, "AI.TENSORSET", "b", "BOOL", 4, "BLOB", b"\x01") == error_of(
        ai_client, "AI.TENSORSET", "fresh", "BOOL", 4, "BLOB", b"\x01"
    )
    assert tensorget(ai_client, "b", "VALUES") == [1, 0, 1, 1]
    assert ai_client.exists("fresh") == 0


def test_same_shape_overwrite_spares_copies_and_wakes_watchers(ai_client, ai_server):
    old, new, newer = b"\x01" * 1024, b"\x02" * 1024, b"\x03" * 1024
    ai_client.execute_command("AI.TENSORSET", "t", "UINT8", 1024, "BLOB", old)
    assert ai_client.execute_command("COPY", "t", "c") == 1  # shares the tensor
    ai_client.execute_command("AI.TENSORSET", "t", "UINT8", 1024, "BLOB", new)
    assert tensorget(ai_client, "c", "BLOB") == old and tensorget(ai_client, "t", "BLOB") == new
    ai_client.execute_command("AI.TENSORSET", "c", "UINT8", 1024, "BLOB", newer)
    assert tensorget(ai_client, "c", "BLOB") == newer and tensorget(ai_client, "t", "BLOB") == new
    # WATCH sees the in-place write as a modification
    other = redis.Redis(host=ai_server.host, port=ai_server.port)
    with ai_client.pipeline() as pipe:
        pipe.watch("t")
        other.execute_command("AI.TENSORSET", "t", "UINT8", 1024, "BLOB", old)
        pipe.multi()
        pipe.execute_command("AI.TENSORSET", "t", "UINT8", 1024, "BLOB", newer)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    other.close()
    assert tensorget(ai_client, "t", "BLOB") == old
    # several writes of one key in one MULTI: the last one wins
    with ai_client.pipeline() as pipe:
        for blob in (new, newer, new):
            pipe.execute_command("AI.TENSORSET", "t", "UINT8", 1024, "BLOB", blob)
        pipe.execute_command("AI.TENSORGET", "t", "BLOB")
        assert pipe.execute()[-1] == new


def test_dump_restore(ai_client):
    arr = sample("INT16", (7, 3))
    ai_client.execute_command("AI.TENSORSET", "t", "INT16", 7, 3, "BLOB", arr.tobytes())
    ai_client.execute_command("AI.TENSORSET", "s", "STRING", 2, "VALUES", "a", "bc")
    for key in ("t", "s"):
        ai_client.restore(f"{key}2", 0, ai_client.dump(key))
        assert tensorget(ai_client, f"{key}2") == tensorget(ai_client, key)


# glibc malloc (Valkey's embedded build uses it) may hand out a chunk up to 16 usable bytes
# bigger than asked when the free chunk it splits would leave less than its minimum chunk;
# a tensor is two blocks (header, data).  jemalloc (Redis) size classes are exact.
LIBC_CHUNK_SLACK = 2 * 16


@pytest.mark.parametrize("nbytes", [1 << 10, 4 << 10, 64 << 10, 1 << 20])
@pytest.mark.parametrize("ndims", [1, 3])
def test_memory_usage_close_to_data(ai_client, nbytes, ndims):
    data = np.zeros(nbytes, dtype=np.uint8).tobytes()
    dims = (nbytes,) if ndims == 1 else (2, 4, nbytes // 8)
    libc = ai_client.info("memory")["mem_allocator"].startswith("libc")
    ai_client.set("s", data)
    string_overhead = ai_client.memory_usage("s") - len(data)
    overheads = []
    for i in range(8):
        ai_client.execute_command("AI.TENSORSET", f"t{i}", "UINT8", *dims, "BLOB", data)
        overheads.append(ai_client.memory_usage(f"t{i}") - len(data))
    slack = LIBC_CHUNK_SLACK if libc else 0
    # Key included, within 128 bytes of the data, beyond what the allocator adds to any big
    # block (a size class or a page, which a plain string of the same bytes pays too) until
    # background compaction moves it (measured right away here; see test_tensor_compaction).
    assert 0 < min(overheads)
    assert max(overheads) <= max(128, string_overhead + 128) + slack
    if nbytes < 32 << 10:  # copied into an exact block or kept in a tight one
        assert min(overheads) <= 128, overheads
        assert max(overheads) <= 128 + slack, overheads


def test_big_tensor_roundtrip(ai_client):
    arr = np.arange(16 << 20, dtype=np.float32)  # 64 MB
    ai_client.execute_command("AI.TENSORSET", "big", "FLOAT", 1024, 16 << 10, "BLOB", arr.tobytes())
    assert tensorget(ai_client, "big", "BLOB") == arr.tobytes()


# ---- errors, byte for byte ----


def test_tensorset_arity(ai_client):
    assert error_of(ai_client, "AI.TENSORSET", "t", "FLOAT") == (
        "wrong number of arguments for 'AI.TENSORSET' command"
    )
    assert error_of(ai_client, "ai.tensorset", "t") == (
        "wrong number of arguments for 'AI.TENSORSET' command"
    )


def test_tensorset_checks_key_type_first(ai_client):
    ai_client.set("str", "x")
    assert error_of(ai_client, "AI.TENSORSET", "str", "NOTATYPE", "x", "y") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["FLOATX", 1], "invalid data type"),
        (["FLOAT", 0], "invalid or negative value found in tensor shape"),
        (["FLOAT", -2, "VALUES", 1], "invalid or negative value found in tensor shape"),
        (["FLOAT", "abc"], "invalid or negative value found in tensor shape"),
        # dims are read as the server reads integers: no sign, no leading zero, no spaces
        (["FLOAT", "+2"], "invalid or negative value found in tensor shape"),
        (["FLOAT", "02"], "invalid or negative value found in tensor shape"),
        (["FLOAT", "2 "], "invalid or negative value found in tensor shape"),
        (["FLOAT", "2x", "BLOB", b"\x00" * 8], "invalid or negative value found in tensor shape"),
        (["FLOAT", "9" * 20], "invalid or negative value found in tensor shape"),
        (["FLOAT", 2, "blobs", b"\x00" * 8], "invalid or negative value found in tensor shape"),
        (
            ["FLOAT", 2, "BLOB"],
            "a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
        ),
        (
            ["FLOAT", 1, "BLOB", b"\x00" * 4, b"x"],
            "a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
        ),
        (["FLOAT", 2, "BLOB", b"\x00" * 7], "data length does not match tensor shape and type"),
        (["BOOL", 3, "BLOB", b"\x01\x02\x00"], "BOOL tensor elements must be 0 or 1"),
        (
            ["STRING", 2, "BLOB", b"a\x00b"],
            "Number of string elements in data blob does not match tensor length",
        ),
        (
            ["STRING", 2, "BLOB", b"a\x00b\x00c\x00"],
            "Number of string elements in data blob does not match tensor length",
        ),
        (["FLOAT", 2, "VALUES", 1], "wrong number of values was given in 'AI.TENSORSET' command"),
        (["FLOAT", 1, "VALUES", "nan-ish"], "invalid value"),
        (["INT8", 2, "VALUES", -1, -128], "invalid value"),
        (["INT8", 1, "VALUES", 128], "invalid value"),
        (["UINT8", 1, "VALUES", 256], "invalid value"),
        (["UINT16", 1, "VALUES", 65536], "invalid value"),
        (["INT32", 1, "VALUES", 2**31], "invalid value"),
        (["BOOL", 1, "VALUES", 2], "invalid value"),
        (["INT64", 1, "VALUES", "1.5"], "invalid value"),
        (["STRING", 1, "VALUES", b"a\x00b"], "C-string value contains null character"),
    ],
)
def test_tensorset_errors(ai_client, args, message):
    assert error_of(ai_client, "AI.TENSORSET", "t", *args) == message
    assert ai_client.exists("t") == 0


def test_tensorset_rejects_overflowing_and_huge_shapes(ai_client):
    big = 2**32
    msg = error_of(ai_client, "AI.TENSORSET", "t", "DOUBLE", big, big, big)
    assert msg.startswith("tensor shape is too large")
    msg = error_of(ai_client, "AI.TENSORSET", "t", "FLOAT", 2**20, 2**20)  # 4 TB of zeros
    assert msg.startswith("tensor shape is too large")
    assert error_of(ai_client, "AI.TENSORSET", "t", "FLOAT", 2**63) == (
        "invalid or negative value found in tensor shape"
    )
    assert ai_client.ping()


def test_tensorget_errors(ai_client):
    assert error_of(ai_client, "AI.TENSORGET") == (
        "wrong number of arguments for 'AI.TENSORGET' command"
    )
    assert error_of(ai_client, "AI.TENSORGET", "t", "META", "BLOB", "X") == (
        "wrong number of arguments for 'AI.TENSORGET' command"
    )
    # key errors come before format errors
    assert error_of(ai_client, "AI.TENSORGET", "nokey", "BAD") == (
        "tensor key is empty or in a different shard"
    )
    ai_client.set("str", "x")
    assert error_of(ai_client, "AI.TENSORGET", "str", "BAD") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    ai_client.execute_command("AI.TENSORSET", "t", "FLOAT", 1)
    assert error_of(ai_client, "AI.TENSORGET", "t", "BAD") == "unsupported data format"
    assert error_of(ai_client, "AI.TENSORGET", "t", "BLOB", "VALUES") == (
        "both BLOB and VALUES specified"
    )


def test_tensorset_replies_ok_and_is_allowed_in_multi(ai_client):
    pipe = ai_client.pipeline(transaction=True)
    pipe.execute_command("AI.TENSORSET", "t", "INT8", 1, "VALUES", 3)
    pipe.execute_command("AI.TENSORGET", "t", "VALUES")
    assert pipe.execute() == [b"OK", [3]]


def test_ok_reply_is_byte_exact_in_resp2_resp3_multi_and_lua(ai_server):
    """+OK comes from a reply the server made at load time: check the bytes on the wire."""
    with socket.create_connection((ai_server.host, ai_server.port), timeout=10) as sock:

        def send(*args: str) -> bytes:
            """The whole reply: what arrives until the connection stays quiet for 50 ms."""
            sock.sendall(b"".join(resp_encode(*args)))
            sock.settimeout(10)
            data = sock.recv(65536)
            sock.settimeout(0.05)
            try:
                while chunk := sock.recv(65536):
                    data += chunk
            except TimeoutError:
                pass
            return data

        assert send("AI.TENSORSET", "ok1", "INT8", "1", "VALUES", "1") == b"+OK\r\n"
        assert send("MULTI") == b"+OK\r\n"
        assert send("AI.TENSORSET", "ok1", "INT8", "1", "VALUES", "2") == b"+QUEUED\r\n"
        assert send("EXEC") == b"*1\r\n+OK\r\n"
        lua = "return redis.call('AI.TENSORSET', KEYS[1], 'INT8', 1, 'VALUES', 3)"
        assert send("EVAL", lua, "1", "ok1") == b"+OK\r\n"
        assert send("HELLO", "3").startswith(b"%")
        assert send("AI.TENSORSET", "ok1", "INT8", "1", "VALUES", "4") == b"+OK\r\n"
        chunk = send("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE")  # RESP3 integer: b":N\r\n"
        assert send("AI.CONFIG", "MODEL_CHUNK_SIZE", chunk[1:-2].decode()) == b"+OK\r\n"
        assert send("AI.TENSORGET", "ok1", "VALUES") == b"*1\r\n:4\r\n"
        assert send("DEL", "ok1") == b":1\r\n"


def resp_encode(*args: str) -> list[bytes]:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return out


def test_resp3_replies(ai_server):
    client = redis.Redis(host=ai_server.host, port=ai_server.port, protocol=3)
    try:
        client.execute_command("AI.TENSORSET", "r3", "DOUBLE", 2, "VALUES", 1.5, -2)
        assert client.execute_command("AI.TENSORGET", "r3", "VALUES") == [1.5, -2.0]
        reply = client.execute_command("AI.TENSORGET", "r3", "META", "BLOB")
        assert reply[:4] == [b"dtype", b"DOUBLE", b"shape", [2]]
        assert np.frombuffer(reply[5], dtype=np.float64).tolist() == [1.5, -2.0]
    finally:
        client.delete("r3")
        client.close()


@pytest.mark.slow
def test_tensor_at_the_bulk_limit(valkey_ai_server):
    """512 MB, the server's default proto-max-bulk-len: stored once (no copy), read back."""
    client = redis.Redis(host=valkey_ai_server.host, port=valkey_ai_server.port)
    nbytes = 512 * 1024 * 1024
    data = np.frombuffer(np.random.default_rng(5).bytes(1 << 20), dtype=np.uint8)
    blob = np.tile(data, nbytes // data.size).tobytes()
    try:
        client.execute_command("AI.TENSORSET", "huge", "UINT8", 512, 1 << 20, "BLOB", blob)
        assert nbytes <= client.memory_usage("huge") < nbytes * 1.3  # one copy of the data
        assert client.execute_command("AI.TENSORGET", "huge", "META") == [
            b"dtype", b"UINT8", b"shape", [512, 1 << 20]
        ]  # fmt: skip
        assert client.execute_command("AI.TENSORGET", "huge", "BLOB") == blob
    finally:
        client.delete("huge")
        client.close()
