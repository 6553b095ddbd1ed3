"""Property-based fuzzing of AI.TENSORSET / AI.TENSORGET / AI.CONFIG against a real server.

Random and malformed argument vectors (wrong and huge dims, overflowing products,
truncated blobs, bad UTF-8, wrong types): every reply must be a valid reply or an error,
the server must stay up, and after FLUSHALL no memory may be left behind.
"""

from __future__ import annotations

import random
import shutil
import struct

import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartsim_ai.testing.dump import with_crc
from smartsim_ai.testing.memcheck import memcheck_client
from smartsim_ai.testing.pytest_plugin import engine_binary
from smartsim_ai.testing.servers import ServerProcess

DTYPES = ["FLOAT", "DOUBLE", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "BOOL", "STRING"]
KEYWORDS = ["BLOB", "VALUES", "META", "blob", "values", "meta"]
HUGE = [0, -1, -(2**63), 2**31, 2**32, 2**40, 2**62, 2**63 - 1, 2**63, 2**64]

small_dims = st.sampled_from([1, 2, 3])
numbers = st.one_of(
    small_dims,
    st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-300, 70000),
)
blobs = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"\xff\xfe\x00", b"\xc3\x28", b"a\x00b\x00", b"\x00", b"\x01\x02", b""]),
    st.integers(0, 8).map(lambda n: struct.pack("<f", 1.5) * n),
)
tokens = st.one_of(
    st.sampled_from(DTYPES),
    st.sampled_from(DTYPES).map(str.lower),
    st.sampled_from(KEYWORDS),
    numbers,
    blobs,
    st.text(max_size=8),
)
SIZES = {"FLOAT": 4, "DOUBLE": 8, "INT8": 1, "INT16": 2, "INT32": 4, "INT64": 8, "UINT8": 1,
         "UINT16": 2, "BOOL": 1, "STRING": 1}  # fmt: skip


@st.composite
def near_valid(draw) -> list:
    """TYPE dims... BLOB/VALUES with lengths and counts right or off by a little."""
    dtype = draw(st.sampled_from(DTYPES))
    dims = draw(st.lists(st.integers(1, 4), max_size=3))
    count = 1
    for d in dims:
        count *= d
    args: list = [dtype, *dims]
    kind = draw(st.sampled_from(["BLOB", "VALUES", "none"]))
    delta = draw(st.sampled_from([0, 0, 0, -1, 1]))
    if kind == "BLOB":
        if dtype == "STRING":
            parts = draw(
                st.lists(
                    st.binary(max_size=4),
                    min_size=max(count + delta, 0),
                    max_size=max(count + delta, 0),
                )
            )
            blob = b"".join(p.replace(b"\x00", b"") + b"\x00" for p in parts)
        else:
            blob = draw(
                st.binary(
                    min_size=max(count * SIZES[dtype] + delta, 0),
                    max_size=max(count * SIZES[dtype] + delta, 0),
                )
            )
        args += ["BLOB", blob]
    elif kind == "VALUES":
        args += [
            "VALUES",
            *draw(
                st.lists(numbers, min_size=max(count + delta, 0), max_size=max(count + delta, 0))
            ),
        ]
    return args


arg_vectors = st.one_of(st.lists(tokens, max_size=12), near_valid())
FUZZ = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def call(client: redis.Redis, *args):
    """A reply or an error reply; anything else (lost connection, bad protocol) fails."""
    try:
        return client.execute_command(*args)
    except redis.ResponseError as exc:
        return exc


@pytest.fixture
def fuzz_client(ai_server):
    client = redis.Redis(host=ai_server.host, port=ai_server.port, socket_timeout=30)
    client.flushall()
    yield client
    client.flushall()
    client.close()


def used_memory(client: redis.Redis) -> int:
    client.flushall()
    return client.info("memory")["used_memory"]


@FUZZ
@given(args=arg_vectors, key=st.sampled_from(["t", "s", "plain"]))
def test_fuzz_tensorset_then_tensorget(fuzz_client, args, key):
    fuzz_client.set("plain", "x")
    reply = call(fuzz_client, "AI.TENSORSET", key, *args)
    if key == "plain" and len(args) >= 2:
        assert "WRONGTYPE" in str(reply)
    if reply == b"OK":
        meta = fuzz_client.execute_command("AI.TENSORGET", key, "META")
        assert meta[0] == b"dtype" and meta[1].decode() in DTYPES
        count = 1
        for d in meta[3]:
            count *= d
        if count <= 1_000_000:  # a zero-fill up to the 512 MB cap is legal; its VALUES too slow
            values = fuzz_client.execute_command("AI.TENSORGET", key, "VALUES")
            assert len(values) == count
        assert fuzz_client.execute_command("AI.TENSORGET", key, "BLOB") is not None
    else:
        assert isinstance(reply, redis.ResponseError), reply


@FUZZ
@given(args=st.lists(st.one_of(st.sampled_from(KEYWORDS), tokens), max_size=5))
def test_fuzz_tensorget(fuzz_client, args):
    fuzz_client.execute_command("AI.TENSORSET", "t", "STRING", 2, "VALUES", "a\xff", "")
    reply = call(fuzz_client, "AI.TENSORGET", "t", *args)
    assert isinstance(reply, (bytes, list, redis.ResponseError))


@FUZZ
@given(
    args=st.lists(
        st.one_of(
            st.sampled_from(["GET", "MODEL_CHUNK_SIZE", "BACKENDSPATH", "LOADBACKEND", "TORCH"]),
            tokens,
        ),
        max_size=5,
    )
)
def test_fuzz_config(config_server_client, args):
    reply = call(config_server_client, "AI.CONFIG", *args)
    assert reply is None or isinstance(reply, (bytes, int, redis.ResponseError))
    assert config_server_client.ping()


@pytest.fixture(scope="module")
def _config_server():
    with ServerProcess() as server:  # private: AI.CONFIG changes module state
        yield server


@pytest.fixture
def config_server_client(_config_server):
    client = redis.Redis(host=_config_server.host, port=_config_server.port, socket_timeout=30)
    yield client
    client.close()


def test_fuzzing_leaves_no_memory_behind(fuzz_client):
    """Run a fixed batch of malformed commands twice; the second run must not grow memory."""
    batch = [
        ["AI.TENSORSET", "t", "FLOAT", 2, "BLOB", b"\x00" * 7],
        ["AI.TENSORSET", "t", "STRING", 3, "BLOB", b"a\x00b\x00"],
        ["AI.TENSORSET", "t", "STRING", 2, "VALUES", "a\x00b", "c"],
        ["AI.TENSORSET", "t", "INT8", 2, "VALUES", 1, 999],
        ["AI.TENSORSET", "t", "DOUBLE", 2**40, 2**40],
        ["AI.TENSORSET", "t", "BOOL", 2, "BLOB", b"\x01\x05"],
        ["AI.TENSORSET", "t", "UINT16", 3, 3, "VALUES", *range(9)],
        ["AI.TENSORSET", "u", "STRING", 4, "VALUES", "x", "\xff", "yy", ""],
        ["AI.TENSORGET", "t", "VALUES", "BLOB"],
        ["AI.TENSORGET", "u", "META", "VALUES"],
        ["AI.CONFIG", "GET", "NOPE"],
    ]

    def run() -> None:
        for _ in range(50):
            for args in batch:
                call(fuzz_client, *args)

    run()
    before = used_memory(fuzz_client)
    run()
    after = used_memory(fuzz_client)
    assert after - before < 64 * 1024, (before, after)
    assert fuzz_client.ping()


def _mutated_payloads(seeds: list[bytes], count: int, seed: int = 1) -> list[bytes]:
    """`count` DUMP payloads: a seed's value with 1-4 random byte flips, deletions and
    insertions, and the seed's RDB version, checksummed so that RESTORE hands them on."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        source = rng.choice(seeds)
        body, version = bytearray(source[:-10]), source[-10:-8]
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(3)
            if op == 0 and body:
                body[rng.randrange(len(body))] = rng.randrange(256)
            elif op == 1 and len(body) > 2:
                at = rng.randrange(len(body))
                del body[at : at + rng.randint(1, 4)]
            else:
                body.insert(rng.randrange(len(body) + 1), rng.randrange(256))
        out.append(with_crc(bytes(body) + version))
    return out


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_fuzz_under_memcheck(tmp_path):
    """The fuzzers above, fewer examples, plus mutated DUMP payloads that reach the tensor
    loader, against a server under valgrind memcheck: a bad read, write or free that does not
    crash the server still fails here, and so does memory definitely lost at exit."""
    with memcheck_client(
        engine_binary("valkey"), tmp_path, start_timeout=180, socket_timeout=120
    ) as c:
        few = settings(FUZZ, max_examples=200)

        @few
        @given(args=arg_vectors, key=st.sampled_from(["t", "plain"]))
        def tensorset_then_read(args, key):
            c.set("plain", "x")
            if call(c, "AI.TENSORSET", key, *args) == b"OK":
                meta = c.execute_command("AI.TENSORGET", key, "META")
                if np.prod(meta[3]) <= 100_000:  # a huge zero-fill would take minutes here
                    for fmt in (["VALUES"], ["BLOB"], ["META", "BLOB"]):
                        reply = call(c, "AI.TENSORGET", key, *fmt)
                        assert not isinstance(reply, redis.ResponseError)
                assert c.copy(key, key + "c", replace=True)

        tensorset_then_read()
        seeds = []
        for dtype, dims, values in [("FLOAT", [2, 3], range(6)), ("STRING", [3], ["a", "", "bc"]),
                                    ("INT64", [1], [7]), ("BOOL", [4], [1, 0, 1, 1]),
                                    ("UINT16", [2, 2], range(4))]:  # fmt: skip
            c.execute_command("AI.TENSORSET", "seed", dtype, *dims, "VALUES", *values)
            seeds.append(c.dump("seed"))
        seeds += [c.dump(k) for k in ("t", "tc") if c.exists(k)]
        loaded = 0
        for i, data in enumerate(_mutated_payloads(seeds, 400)):
            if call(c, "RESTORE", f"r{i}", 0, data, "REPLACE") == b"OK":
                loaded += 1
                for fmt in (["META"], ["VALUES"], ["BLOB"]):
                    call(c, "AI.TENSORGET", f"r{i}", *fmt)
        assert 0 < loaded < 400  # some reached and passed the loader, most were refused
        assert c.ping()
        c.flushall()
