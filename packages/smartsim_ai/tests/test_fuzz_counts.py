"""Counts and numbers a client sends (INPUTS/OUTPUTS/KEYS/ARGS/LOAD/PERSIST/ENTRY_POINTS
counts, BATCHSIZE & co, TIMEOUT, tensor dims, AI.CONFIG values) near 2^31, 2^32 and 2^63,
negative, or larger than the arguments that follow: every AI.* command refuses them with an
error reply (RedisAI's text) or serves them correctly, and the server stays up.  Also: no
client string reaches INFO or an error reply with a CR/LF in it (issue 14).

The fixed cases first (each crashed the server before the fix), then hypothesis over every
command, then one short pass of the same under valgrind memcheck.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartsim_ai.testing.dump import with_crc
from smartsim_ai.testing.memcheck import memcheck_client
from smartsim_ai.testing.pytest_plugin import ENGINES, engine_binary

BIG = 2**63 - 1
#: Counts around the integer widths a parser may use, negative ones, and non-numbers.
COUNTS: list[object] = [
    -(2**63), -(2**32), -(2**31) - 1, -(2**31), -1, 0, 1, 2, 3,
    2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1, 2**32, 2**32 + 1, 2**32 + 2,
    *range(2**63 - 8, 2**63), 2**63, 2**64 - 1, 2**64,
    "abc", "1.5", "+1", "",
]  # fmt: skip

SOURCE = """
def f(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0]

def g(x):
    return x
"""


def call(client: redis.Redis, *args):
    """A reply or an error reply; anything else (lost connection, bad protocol) fails."""
    try:
        return client.execute_command(*args)
    except redis.ResponseError as exc:
        return exc


def refused(client: redis.Redis, args: list, error: str) -> None:
    reply = call(client, *args)
    assert isinstance(reply, redis.ResponseError), reply
    assert error in str(reply), reply
    assert client.ping()


def _tensors(client: redis.Redis) -> None:
    for key in ("x", "y", "z"):
        client.execute_command("AI.TENSORSET", key, "FLOAT", 1, 10, "VALUES", *range(10))


# ---------------------------------------------------------------------------- fixed cases

HUGE_COUNT_CASES = [
    pytest.param(
        ["AI.MODELSTORE", "m", "TF", "CPU", "INPUTS", BIG, "x", "OUTPUTS", 1, "y", "BLOB", "x"],
        "number of model inputs does not match the number of given arguments",
        id="modelstore-inputs",
    ),
    pytest.param(
        ["AI.MODELSTORE", "m", "TF", "CPU", "INPUTS", 1, "x", "OUTPUTS", BIG, "y", "BLOB", "x"],
        "number of model outputs does not match the number of given arguments",
        id="modelstore-outputs",
    ),
    pytest.param(
        [*"AI.MODELSTORE m TF CPU INPUTS".split(), 2**32 + 1, *"x OUTPUTS 1 y BLOB x".split()],
        "number of model inputs does not match the number of given arguments",
        id="modelstore-inputs-2^32+1",
    ),
    pytest.param(
        [*"AI.DAGEXECUTE PERSIST".split(), BIG, *"a |> AI.TENSORSET b FLOAT 1 VALUES 2".split()],
        "number of keys to PERSIST after DAG execution does not match",
        id="dag-persist",
    ),
    pytest.param(
        ["AI.DAGEXECUTE", "LOAD", BIG, "x", "y", "z"],
        "number of keys to LOAD into DAG does not match",
        id="dag-load",
    ),
    pytest.param(
        # RedisAI reads LOAD's keys ("|>" included) before it counts them: "|>" is no tensor
        ["AI.DAGRUN_RO", "LOAD", BIG - 2, "x", "|>", "AI.TENSORGET", "x", "VALUES"],
        "tensor key is empty or in a different shard",
        id="dagrun-ro-load",
    ),
    pytest.param(
        ["AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", BIG, "f", "SOURCE", SOURCE],
        "Insufficient arguments, missing script entry points",
        id="scriptstore-entry-points",
    ),
    pytest.param(
        # 5 + count wraps to a negative, and the count's low 32 bits (-4) step back onto a
        # key named SOURCE: the entry point array was then allocated from the count.
        ["AI.SCRIPTSTORE", "SOURCE", "CPU", "ENTRY_POINTS", BIG - 3, "f", "SOURCE", SOURCE],
        "Insufficient arguments, missing script entry points",
        id="scriptstore-entry-points-wrap",
    ),
    pytest.param(
        ["AI.TENSORSET", "t", "STRING", 10**12],
        "tensor shape is too large",
        id="tensorset-string-zero-fill",
    ),
    pytest.param(
        ["AI.TENSORSET", "t", "STRING", 10**12, "BLOB", b"a\x00"],
        "Number of string elements in data blob does not match tensor length",
        id="tensorset-string-blob",
    ),
    pytest.param(
        ["AI.TENSORSET", "t", "STRING", 2**30, 2**20, "VALUES", "a"],
        "wrong number of values",
        id="tensorset-string-values",
    ),
]


@pytest.mark.parametrize("args, error", HUGE_COUNT_CASES)
def test_huge_count_is_refused(ai_client, args, error):
    _tensors(ai_client)
    refused(ai_client, args, error)
    assert ai_client.execute_command("AI.TENSORGET", "x", "META")[3] == [1, 10]


def test_restore_of_a_string_tensor_with_a_huge_shape_is_refused(ai_client):
    """A DUMP payload is client input too: a STRING tensor claiming 10^12 elements for a
    2-byte blob must be refused before its element offsets are allocated."""
    ai_client.execute_command("AI.TENSORSET", "s", "STRING", 1, "VALUES", "a")
    payload = ai_client.dump("s")
    body, version = payload[:-10], payload[-10:-8]
    # v4 layout (module opcodes): UINT code 7, UINT bits 8, ndims 1, dim 1 (signed values are
    # saved as unsigned), STRING data: make the dim 10^12 (a 64-bit length encoding)
    old = b"\x02\x07\x02\x08\x02\x01\x02\x01\x05"
    assert body.count(old) == 1, body
    new = b"\x02\x07\x02\x08\x02\x01\x02\x81" + (10**12).to_bytes(8, "big") + b"\x05"
    body = body.replace(old, new)
    reply = call(ai_client, "RESTORE", "r", 0, with_crc(body + version))
    assert isinstance(reply, redis.ResponseError), reply
    assert "Bad data format" in str(reply)
    assert ai_client.ping()


@pytest.mark.slow
@pytest.mark.torch
def test_scriptrun_with_a_million_arguments(ai_client):
    """AI.SCRIPTRUN kept its tensor lists on the main thread's stack (16 bytes an argument):
    a million arguments overflowed it."""
    ai_client.execute_command("AI.SCRIPTSET", "s", "CPU", "SOURCE", SOURCE)
    n = 1_000_000
    # the trailing '$' is refused after every argument was read
    args = ["AI.SCRIPTRUN", "s", "g", "INPUTS", *(["x"] * n), "OUTPUTS", "y", "$"]
    _tensors(ai_client)
    refused(ai_client, args, "Encountered a variable size list of tensors outside of input")


def test_dag_persist_of_many_keys(ai_client):
    """PERSIST keys are checked for duplicates and looked up in the DAG: 20,000 keys, each
    defined by one TENSORSET op, are served (a pairwise check was 2*10^8 comparisons)."""
    n = 20_000
    args = ["AI.DAGEXECUTE", "PERSIST", n, *(f"k{i}" for i in range(n))]
    for i in range(n):
        args += ["|>", "AI.TENSORSET", f"k{i}", "INT8", 1, "VALUES", i % 100]
    reply = ai_client.execute_command(*args)
    assert reply == [b"OK"] * n
    assert ai_client.execute_command("AI.TENSORGET", f"k{n - 1}", "VALUES") == [(n - 1) % 100]
    refused(ai_client, [*args[:3], "k1", *args[4:]], "PERSIST keys must be unique")


def test_error_replies_carry_no_line_breaks(ai_server):
    """An argument echoed in an error reply must not end the RESP line: the reply stays one
    line and the next command on the connection is answered as usual."""
    cases = [
        ["AI.DAGEXECUTE", "ROUTING", "x", "bad\r\n:1\r\n", "|>", "AI.TENSORGET", "x"],
        ["AI.DAGEXECUTE_RO", "ROUTING", "x", "\n-ERR x\r", "|>", "AI.TENSORGET", "x"],
    ]
    with socket.create_connection((ai_server.host, ai_server.port), timeout=30) as sock:
        for args in cases:
            frame = f"*{len(args)}\r\n".encode()
            for a in args:
                frame += f"${len(a.encode())}\r\n{a}\r\n".encode()
            sock.sendall(frame + b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while not data.endswith(b"+PONG\r\n"):
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
            error, pong = data[: -len(b"+PONG\r\n")], b"+PONG\r\n"
            assert error.startswith(b"-") and error.endswith(b"\r\n"), data
            assert b"\r" not in error[:-2] and b"\n" not in error[:-2], data
            assert pong


# ---------------------------------------------------------------------------- INFO


def _assert_no_injected_field(client: redis.Redis) -> dict:
    info = client.info("modules")
    assert "__raw__" not in info, info  # a line without ':' came from a broken field
    for key, value in info.items():
        assert key == "modules" or key.startswith("ai_"), (key, value)
        if isinstance(value, str):
            assert "#" not in value and "\r" not in value and "\n" not in value, (key, value)
    return info


DEVICES = ["x\r\nused_memory:0\r\nz", "x\r\n# Memory\r\nused_memory:0", "CPU:1", "a,b=c:#"]


@pytest.mark.torch
@pytest.mark.parametrize(
    "engine", [e for e in ENGINES if e in os.environ.get("SMARTSIM_TEST_ENGINES", "valkey,redis")]
)
def test_device_strings_cannot_add_info_fields(ai_server_factory, engine):
    """A private server: each device string may start a worker (until devices are validated),
    which goes away with it."""
    server = ai_server_factory(engine)
    client = redis.Redis(host=server.host, port=server.port, socket_timeout=120)
    for device in DEVICES:
        reply = call(client, "AI.SCRIPTSET", "s", device, "SOURCE", SOURCE)
        assert reply == b"OK" or isinstance(reply, redis.ResponseError), (device, reply)
        info = _assert_no_injected_field(client)
        if device == "CPU:1" and reply == b"OK":
            # the queue's field is named after the device, its ':' made safe
            assert "ai_queue_CPU_1_bthread_n1_used_cpu_total" in info, info
        assert client.ping()
    client.close()


# ---------------------------------------------------------------------------- fuzzing

counts = st.one_of(st.sampled_from(COUNTS), st.integers(-(2**64), 2**64))

#: Every AI.* command, with C marking a number the module parses.
C = object()
TEMPLATES: list[list[object]] = [
    ["AI.TENSORSET", "t", "FLOAT", C, C, "BLOB", b"\x00" * 8],
    ["AI.TENSORSET", "t", "INT8", C, "VALUES", 1, 2],
    ["AI.TENSORSET", "t", "STRING", C],
    ["AI.TENSORSET", "t", "STRING", C, "BLOB", b"a\x00b\x00"],
    ["AI.TENSORSET", "t", "STRING", C, C, "VALUES", "a", "b"],
    ["AI.TENSORSET", "t", "BOOL", C, C, C],
    ["AI.TENSORGET", "x", C],
    ["AI.MODELSTORE", "m2", "TF", "CPU", "INPUTS", C, "x", "OUTPUTS", C, "y", "BLOB", b"x"],
    ["AI.MODELSTORE", "m2", "TF", "CPU", "BATCHSIZE", C, "MINBATCHSIZE", C, "MINBATCHTIMEOUT", C,
     "INPUTS", C, "x", "y", "OUTPUTS", C, "z", "BLOB", b"x"],
    ["AI.MODELSTORE", "m2", "TORCH", "CPU", "BATCHSIZE", C, "MINBATCHSIZE", C, "BLOB", b"x"],
    ["AI.MODELSET", "m2", "TF", "CPU", "BATCHSIZE", C, "MINBATCHSIZE", C, "MINBATCHTIMEOUT", C,
     "INPUTS", "x", "OUTPUTS", "y", "BLOB", b"x"],
    ["AI.MODELGET", "m", C],
    ["AI.MODELDEL", C],
    ["AI.MODELEXECUTE", "m", "INPUTS", C, "x", "OUTPUTS", C, "y", "TIMEOUT", C],
    ["AI.MODELEXECUTE", "m", "INPUTS", C, "x", "y", "z", "OUTPUTS", C],
    ["AI.MODELRUN", "m", "TIMEOUT", C, "INPUTS", "x", "OUTPUTS", "y"],
    ["AI.SCRIPTSTORE", "s2", "CPU", "TAG", C, "ENTRY_POINTS", C, "f", "g", "SOURCE", SOURCE],
    ["AI.SCRIPTSTORE", "SOURCE", "CPU", "ENTRY_POINTS", C, "f", "SOURCE", SOURCE],
    ["AI.SCRIPTSET", "s2", "CPU", "TAG", C, "SOURCE", SOURCE],
    ["AI.SCRIPTGET", "s", C],
    ["AI.SCRIPTDEL", C],
    ["AI.SCRIPTEXECUTE", "s", "f", "KEYS", C, "k", "INPUTS", C, "x", "ARGS", C, "a",
     "OUTPUTS", C, "y", "TIMEOUT", C],
    ["AI.SCRIPTEXECUTE", "s", "f", "INPUTS", C, "x", "ARGS", C],
    ["AI.SCRIPTEXECUTE", "OUTPUTS", "0", "INPUTS", "1", "x", "ARGS", C, "a"],
    ["AI.SCRIPTRUN", "s", "g", "TIMEOUT", C, "INPUTS", "x", "OUTPUTS", "y"],
    ["AI.DAGEXECUTE", "LOAD", C, "x", "PERSIST", C, "y", "TIMEOUT", C,
     "|>", "AI.TENSORSET", "y", "FLOAT", C, "VALUES", 1],
    ["AI.DAGEXECUTE", "LOAD", C, "x", "PERSIST", C, "y",
     "|>", "AI.MODELEXECUTE", "m", "INPUTS", C, "x", "OUTPUTS", C, "y"],
    ["AI.DAGEXECUTE", "ROUTING", "x", "PERSIST", C, "y",
     "|>", "AI.SCRIPTEXECUTE", "s", "f", "INPUTS", C, "x", "OUTPUTS", C, "y"],
    ["AI.DAGEXECUTE_RO", "LOAD", C, "x", "y", "TIMEOUT", C, "|>", "AI.TENSORGET", "x", "VALUES"],
    ["AI.DAGRUN", "LOAD", C, "x", "PERSIST", C, "y", "|>", "AI.SCRIPTRUN", "s", "g", "INPUTS",
     "x", "OUTPUTS", "y"],
    ["AI.DAGRUN_RO", "LOAD", C, "x", "|>", "AI.MODELRUN", "m", "INPUTS", "x", "OUTPUTS", "y"],
    ["AI.INFO", "m", C],
    ["AI.INFO", C],
    ["AI._MODELSCAN"],
    ["AI._SCRIPTSCAN"],
    ["AI.CONFIG", "MODEL_CHUNK_SIZE", C],
    ["AI.CONFIG", "GET", C],
]  # fmt: skip


@st.composite
def commands(draw) -> list:
    """A template with every C filled by a drawn count, sometimes cut short (a count then
    claims more arguments than remain)."""
    template = draw(st.sampled_from(TEMPLATES))
    args = [draw(counts) if a is C else a for a in template]
    if draw(st.integers(0, 3)) == 0:
        args = args[: draw(st.integers(1, len(args)))]
    return args


FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _prepare(client: redis.Redis) -> None:
    """Tensors x, y, z, a model m (x -> y) and a script s, as the templates expect."""
    from smartsim_ai.worker import samples

    client.flushall()
    _tensors(client)
    blob, _ = samples.torch_linear_bytes()
    client.execute_command("AI.MODELSTORE", "m", "TORCH", "CPU", "BLOB", blob)
    client.execute_command("AI.SCRIPTSTORE", "s", "CPU", "ENTRY_POINTS", 1, "f", "SOURCE", SOURCE)


def _run_one(client: redis.Redis, args: list) -> None:
    reply = call(client, *args)
    assert isinstance(reply, (redis.ResponseError, bytes, list, int)) or reply is None, reply
    if args[0] == "AI.MODELEXECUTE" and reply == b"OK":
        assert client.execute_command("AI.TENSORGET", "y", "META")[3] == [1, 1]
    if args[0] == "AI.CONFIG" and len(args) > 2 and args[1] == "MODEL_CHUNK_SIZE":
        if reply == b"OK":
            assert client.execute_command("AI.CONFIG", "GET", "MODEL_CHUNK_SIZE") == args[2]
            blob = client.execute_command("AI.MODELGET", "m", "BLOB")
            assert isinstance(blob, (bytes, list))
        client.execute_command("AI.CONFIG", "MODEL_CHUNK_SIZE", 511 * 1024 * 1024)
    assert client.ping()


@pytest.mark.torch
def test_fuzz_counts_of_every_command(ai_server):
    client = redis.Redis(host=ai_server.host, port=ai_server.port, socket_timeout=60)
    try:
        _prepare(client)

        @FUZZ
        @given(args=commands())
        def one(args):
            _run_one(client, args)

        one()
        # the model and the script still serve after the fuzzing
        _tensors(client)
        client.execute_command("AI.MODELEXECUTE", "m", "INPUTS", 1, "x", "OUTPUTS", 1, "y")
        assert client.execute_command("AI.TENSORGET", "y", "META")[3] == [1, 1]
        _assert_no_injected_field(client)
    finally:
        client.flushall()
        client.close()


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_fuzz_counts_under_memcheck(tmp_path):
    """The count fuzzer, a short pass, against a server under valgrind memcheck: a bad read,
    write or free that does not crash the server fails here too."""
    with memcheck_client(
        engine_binary("valkey"), tmp_path, start_timeout=180, socket_timeout=120
    ) as client:
        _prepare(client)

        @settings(FUZZ, max_examples=250)
        @given(args=commands())
        def one(args):
            _run_one(client, args)

        one()
        for case in HUGE_COUNT_CASES:
            _tensors(client)
            refused(client, *case.values)
        client.flushall()
