"""RDB encodings of AI_TENSOR, AI__MODEL and AI_SCRIPT, through DUMP/RESTORE on real servers.

Payloads are built by hand here from the reference's description of RedisAI's encodings
(versions 0-4), so the module is checked against the format, not against itself: a DUMP
payload is ``type byte 7 (module, v2) | module id | typed fields | EOF | RDB version |
CRC64``; the 64-bit module id packs the 9-character type name and the encoding version.
Corrupt payloads must make RESTORE fail cleanly, never crash or leak.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
import redis

from smartsim_ai.testing.dump import with_crc

# ---- the DUMP payload format (Redis RDB, module values of "RDB_TYPE_MODULE_2") ----

_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_OP_EOF, _OP_UINT, _OP_STRING = 0, 2, 5
RDB_VERSION_REDIS6 = 9  # what RedisAI's own RESTORE tests carry; accepted by newer servers


def rdb_len(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    if n < 1 << 32:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def module_id(type_name: str, encver: int) -> int:
    assert len(type_name) == 9
    mid = 0
    for ch in type_name:
        mid = (mid << 6) | _CHARSET.index(ch)
    return (mid << 10) | encver


class Fields:
    """Writes module fields as RedisModule_Save* does (signed values use the uint opcode)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def uint(self, v: int) -> Fields:
        self.buf += rdb_len(_OP_UINT) + rdb_len(v & 0xFFFFFFFFFFFFFFFF)
        return self

    def string(self, s: bytes) -> Fields:
        self.buf += rdb_len(_OP_STRING) + rdb_len(len(s)) + s
        return self


def payload(type_name: str, encver: int, fields: Fields, rdbver: int = RDB_VERSION_REDIS6) -> bytes:
    body = b"\x07" + rdb_len(module_id(type_name, encver)) + bytes(fields.buf) + rdb_len(_OP_EOF)
    body += struct.pack("<H", rdbver)
    return with_crc(body)


class Reader:
    """Reads back the module fields of a DUMP payload made by the server."""

    def __init__(self, data: bytes) -> None:
        assert data[0] == 7
        self.data, self.pos = data, 1
        self.module_id = self._len()

    def _len(self, allow_encoded: bool = False) -> int:
        b = self.data[self.pos]
        kind = b >> 6
        if kind == 3:
            assert allow_encoded, "an encoded string where a length was expected"
            self.pos += 1
            return -(b & 0x3F) - 1  # -1 - encoding type
        if kind == 0:
            self.pos += 1
            return b & 0x3F
        if kind == 1:
            self.pos += 2
            return ((b & 0x3F) << 8) | self.data[self.pos - 1]
        if b == 0x80:
            self.pos += 5
            return struct.unpack(">I", self.data[self.pos - 4 : self.pos])[0]
        assert b == 0x81
        self.pos += 9
        return struct.unpack(">Q", self.data[self.pos - 8 : self.pos])[0]

    def uint(self) -> int:
        assert self._len() == _OP_UINT
        return self._len()

    def sint(self) -> int:
        v = self.uint()
        return v - (1 << 64) if v >= 1 << 63 else v

    def string(self) -> bytes:
        assert self._len() == _OP_STRING
        n = self._len(allow_encoded=True)
        if n == -4:  # LZF: compressed length, plain length, data
            clen, plen = self._len(), self._len()
            self.pos += clen
            return lzf_decompress(self.data[self.pos - clen : self.pos], plen)
        if n < 0:  # an integer-encoded string (8, 16 or 32 bits)
            width = {-1: 1, -2: 2, -3: 4}[n]
            self.pos += width
            raw = self.data[self.pos - width : self.pos]
            return str(int.from_bytes(raw, "little", signed=True)).encode()
        self.pos += n
        return self.data[self.pos - n : self.pos]


def lzf_decompress(data: bytes, plain_len: int) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # literal run
            out += data[i : i + ctrl + 1]
            i += ctrl + 1
            continue
        length = ctrl >> 5
        if length == 7:
            length += data[i]
            i += 1
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
        i += 1
        for _ in range(length + 2):
            out.append(out[ref])
            ref += 1
    assert len(out) == plain_len
    return bytes(out)


# ---- tensor encodings ----

DL = {"FLOAT": (2, 32), "DOUBLE": (2, 64), "INT8": (0, 8), "INT16": (0, 16), "INT32": (0, 32),
      "INT64": (0, 64), "UINT8": (1, 8), "UINT16": (1, 16), "BOOL": (6, 8), "STRING": (7, 8)}  # fmt: skip


def tensor_v4(dtype: str, shape: list[int], data: bytes, offsets: list[int] | None = None) -> bytes:
    code, bits = DL[dtype]
    f = Fields().uint(code).uint(bits).uint(len(shape))
    for d in shape:
        f.uint(d)
    f.string(data)
    for off in offsets or []:
        f.uint(off)
    return payload("AI_TENSOR", 4, f)


def tensor_v0_3(encver: int, dtype: str, shape: list[int], data: bytes) -> bytes:
    code, bits = DL[dtype]
    f = Fields().uint(1).uint(0).uint(bits).uint(code).uint(1).uint(len(shape))
    for d in shape:
        f.uint(d)
    for _ in shape:
        f.uint(0)  # strides (ignored)
    f.uint(0)  # byte offset
    f.string(data)
    return payload("AI_TENSOR", encver, f)


def tget(client, key):
    return client.execute_command("AI.TENSORGET", key, "META", "BLOB")


def restore_error(client, key, data) -> str:
    with pytest.raises(redis.ResponseError) as info:
        client.restore(key, 0, data)
    return str(info.value)


def random_floats(n: int) -> np.ndarray:
    return np.random.default_rng(3).standard_normal(n).astype(np.float32)


def test_builder_matches_server_dump(ai_client):
    """Our hand-written v4 encoding equals what the module saves, byte for byte."""
    arr = random_floats(12)
    ai_client.execute_command("AI.TENSORSET", "t", "FLOAT", 3, 4, "BLOB", arr.tobytes())
    dumped = ai_client.dump("t")
    rdbver = struct.unpack("<H", dumped[-10:-8])[0]
    f = Fields().uint(2).uint(32).uint(2).uint(3).uint(4).string(arr.tobytes())
    assert dumped == payload("AI_TENSOR", 4, f, rdbver)
    assert Reader(dumped).module_id == module_id("AI_TENSOR", 4)


def test_string_tensor_v4_carries_offsets(ai_client):
    ai_client.execute_command(
        "AI.TENSORSET", "s", "STRING", 3, "VALUES", "abcdefghijklmnopqrstuvwx", "", "yz"
    )
    r = Reader(ai_client.dump("s"))
    assert (r.uint(), r.uint(), r.sint(), r.sint()) == (7, 8, 1, 3)
    assert r.string() == b"abcdefghijklmnopqrstuvwx\x00\x00yz\x00"
    assert [r.uint() for _ in range(3)] == [0, 25, 26]


@pytest.mark.parametrize("dtype", list(DL))
def test_restore_v4_every_dtype(ai_client, dtype):
    if dtype == "STRING":
        shape, data, offsets = [3], b"hello-world-123456789\x00\x00z\x00", [0, 22, 23]
    else:
        shape, data, offsets = [2, 3], bytes([1, 0] * 24)[: 6 * (DL[dtype][1] // 8)], None
    ai_client.restore("t", 0, tensor_v4(dtype, shape, data, offsets))
    assert tget(ai_client, "t") == [b"dtype", dtype.encode(), b"shape", shape, b"blob", data]


@pytest.mark.parametrize("encver", [0, 1, 2, 3])
def test_restore_redisai_v0_to_v3_tensors(ai_client, encver):
    arr = random_floats(6)
    ai_client.restore("t", 0, tensor_v0_3(encver, "FLOAT", [2, 3], arr.tobytes()))
    assert tget(ai_client, "t") == [b"dtype", b"FLOAT", b"shape", [2, 3], b"blob", arr.tobytes()]
    ai_client.restore("i", 0, tensor_v0_3(encver, "INT64", [1], struct.pack("<q", 42)))
    assert ai_client.execute_command("AI.TENSORGET", "i", "VALUES") == [42]


def test_restore_v4_with_bits_before_code(ai_client):
    """An early v4 build wrote (bits, code); both orders load."""
    f = Fields().uint(64).uint(2).uint(1).uint(2).string(struct.pack("<2d", 1.5, -2))
    ai_client.restore("t", 0, payload("AI_TENSOR", 4, f))
    assert tget(ai_client, "t")[:4] == [b"dtype", b"DOUBLE", b"shape", [2]]


def _corrupt_tensor_payloads() -> dict[str, bytes]:
    good = random_floats(4).tobytes()
    return {
        "newer encoding": payload("AI_TENSOR", 5, Fields().uint(2).uint(32).uint(1).uint(4).string(good)),
        "unknown dtype": payload("AI_TENSOR", 4, Fields().uint(9).uint(32).uint(1).uint(4).string(good)),
        "huge ndims": payload("AI_TENSOR", 4, Fields().uint(2).uint(32).uint(1 << 40).uint(4)),
        "negative ndims": payload("AI_TENSOR", 4, Fields().uint(2).uint(32).uint(-1).string(good)),
        "zero dim": payload("AI_TENSOR", 4, Fields().uint(2).uint(32).uint(1).uint(0).string(good)),
        "negative dim": payload("AI_TENSOR", 4, Fields().uint(2).uint(32).uint(1).uint(-4).string(good)),
        "overflowing shape": payload(
            "AI_TENSOR", 4, Fields().uint(2).uint(32).uint(3).uint(1 << 40).uint(1 << 40).uint(1 << 40).string(good)
        ),
        "short data": payload("AI_TENSOR", 4, Fields().uint(2).uint(32).uint(1).uint(5).string(good)),
        "missing data": payload("AI_TENSOR", 4, Fields().uint(2).uint(32).uint(1).uint(4)),
        "bad bool": payload("AI_TENSOR", 4, Fields().uint(6).uint(8).uint(1).uint(2).string(b"\x01\x07")),
        "string count": payload("AI_TENSOR", 4, Fields().uint(7).uint(8).uint(1).uint(3).string(b"a\x00b\x00")),
        "string offsets missing": payload("AI_TENSOR", 4, Fields().uint(7).uint(8).uint(1).uint(2).string(b"a\x00b\x00")),
        "v0 lanes": payload(
            "AI_TENSOR", 0, Fields().uint(1).uint(0).uint(32).uint(2).uint(4).uint(1).uint(1).uint(0).uint(0).string(good)
        ),
        "v0 byte offset": payload(
            "AI_TENSOR", 0, Fields().uint(1).uint(0).uint(32).uint(2).uint(1).uint(1).uint(4).uint(0).uint(8).string(good)
        ),
        "v0 truncated": payload("AI_TENSOR", 0, Fields().uint(1).uint(0).uint(32)),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(_corrupt_tensor_payloads()))
def test_corrupt_tensor_payload_is_refused(ai_client, case):
    data = _corrupt_tensor_payloads()[case]
    assert "Bad data format" in restore_error(ai_client, "t", data)
    assert ai_client.exists("t") == 0
    assert ai_client.ping()


def test_corrupt_payloads_do_not_leak(ai_client):
    payloads = list(_corrupt_tensor_payloads().values())
    for data in payloads:  # warm up allocator caches
        restore_error(ai_client, "t", data)
    before = ai_client.info("memory")["used_memory"]
    for _ in range(30):
        for data in payloads:
            restore_error(ai_client, "t", data)
    after = ai_client.info("memory")["used_memory"]
    assert after - before < 64 * 1024


# ---- models and scripts: the stored payload survives every encoding version ----

TORCH, ONNX = 2, 3


def model_fields(encver: int, *, backend=TORCH, device=b"CPU", tag=b"v1", batch=(4, 2, 100),
                 inputs=(), outputs=(), blob=b"", chunks=None) -> Fields:  # fmt: skip
    f = Fields().uint(backend).string(device + b"\x00")
    f.string(tag + b"\x00" if encver == 0 else tag)
    f.uint(batch[0]).uint(batch[1])
    if encver >= 2:
        f.uint(batch[2])
    f.uint(len(inputs))
    for name in inputs:
        f.string(name + b"\x00")
    f.uint(len(outputs))
    for name in outputs:
        f.string(name + b"\x00")
    if encver == 0:
        f.string(blob)
    else:
        parts = chunks if chunks is not None else [blob]
        f.uint(len(blob)).uint(len(parts))
        for part in parts:
            f.string(part)
    return f


def read_model_v4(dumped: bytes) -> dict:
    r = Reader(dumped)
    assert r.module_id == module_id("AI__MODEL", 4)
    out = {"backend": r.uint(), "device": r.string(), "tag": r.string()}
    out["batch"] = (r.uint(), r.uint(), r.uint())
    out["inputs"] = [r.string() for _ in range(r.uint())]
    out["outputs"] = [r.string() for _ in range(r.uint())]
    total, n = r.uint(), r.uint()
    out["blob"] = b"".join(r.string() for _ in range(n))
    assert len(out["blob"]) == total
    return out


def script_fields(encver: int, *, device=b"CPU", tag=b"t", source=b"def f(a):\n    return a\n",
                  entry_points=()) -> Fields:  # fmt: skip
    f = Fields().string(device + b"\x00").string(tag + b"\x00" if encver == 0 else tag)
    f.string(source + b"\x00")
    if encver >= 3:
        f.uint(len(entry_points))
        for ep in entry_points:
            f.string(ep + b"\x00")
    return f


def read_script_v4(dumped: bytes) -> dict:
    r = Reader(dumped)
    assert r.module_id == module_id("AI_SCRIPT", 4)
    out = {"device": r.string(), "tag": r.string(), "source": r.string()}
    out["entry_points"] = [r.string() for _ in range(r.uint())]
    return out


@pytest.fixture(scope="module")
def torch_blob() -> bytes:
    """A real TorchScript model, so an execution layer that validates models accepts it."""
    torch = pytest.importorskip("torch")
    import io

    class Double(torch.nn.Module):
        def forward(self, x):
            return x * 2

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Double()), buf)
    return buf.getvalue()


@pytest.mark.torch
@pytest.mark.parametrize("encver", [0, 1, 2, 3, 4])
def test_restore_model_every_version(ai_client, torch_blob, encver):
    names = {"inputs": (b"x",), "outputs": (b"",)} if encver >= 2 else {}
    ai_client.restore(
        "m", 0, payload("AI__MODEL", encver, model_fields(encver, blob=torch_blob, **names))
    )
    assert ai_client.type("m") == b"AI__MODEL"
    got = read_model_v4(ai_client.dump("m"))
    assert got["backend"] == TORCH and got["device"] == b"CPU\x00" and got["tag"] == b"v1"
    assert got["batch"] == ((4, 2, 100) if encver >= 2 else (4, 2, 0))
    assert got["blob"] == torch_blob
    # names as stored, or as derived from the model by an execution layer
    assert got["inputs"] in ([b"x\x00"], [])
    assert got["outputs"] in ([b"\x00"], [])


@pytest.mark.torch
def test_restore_chunked_model(ai_client, torch_blob):
    chunks = [torch_blob[i : i + 1000] for i in range(0, len(torch_blob), 1000)] + [b""]
    f = model_fields(4, blob=torch_blob, chunks=chunks, inputs=(b"x",), outputs=(b"",))
    ai_client.restore("m", 0, payload("AI__MODEL", 4, f))
    assert read_model_v4(ai_client.dump("m"))["blob"] == torch_blob


@pytest.mark.torch
def test_model_copy_rename_memory(ai_client, torch_blob):
    f = model_fields(4, blob=torch_blob, inputs=(b"x",), outputs=(b"",))
    ai_client.restore("m", 0, payload("AI__MODEL", 4, f))
    assert ai_client.execute_command("COPY", "m", "m2") == 1
    assert ai_client.rename("m", "m3")
    assert read_model_v4(ai_client.dump("m3")) == read_model_v4(ai_client.dump("m2"))
    assert ai_client.memory_usage("m2") >= len(torch_blob)
    assert ai_client.delete("m2", "m3") == 2


def _corrupt_model_payloads(blob: bytes) -> dict[str, bytes]:
    return {
        "newer encoding": payload("AI__MODEL", 5, model_fields(4, blob=blob)),
        "unknown backend": payload("AI__MODEL", 4, model_fields(4, backend=9, blob=blob)),
        "huge input count": payload("AI__MODEL", 4, Fields().uint(2).string(b"CPU\x00").string(b"").uint(0).uint(0).uint(0).uint(1 << 50)),
        "chunks exceed total": payload("AI__MODEL", 4, model_fields(4, blob=blob[:10], chunks=[blob[:10], blob[:10]])),
        "chunks short of total": payload("AI__MODEL", 4, model_fields(4, blob=blob, chunks=[blob[:10]])),
        "truncated": payload("AI__MODEL", 4, Fields().uint(2).string(b"CPU\x00")),
    }  # fmt: skip


@pytest.mark.parametrize("case", list(_corrupt_model_payloads(b"x" * 64)))
def test_corrupt_model_payload_is_refused(ai_client, case):
    data = _corrupt_model_payloads(b"x" * 64)[case]
    assert "Bad data format" in restore_error(ai_client, "m", data)
    assert ai_client.exists("m") == 0 and ai_client.ping()


@pytest.mark.parametrize("encver", [0, 1, 2, 3, 4])
def test_restore_script_every_version(ai_client, encver):
    eps = (b"f", b"g") if encver >= 3 else ()
    source = b"def f(a):\n    return a\n\ndef g(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n"
    ai_client.restore(
        "s", 0, payload("AI_SCRIPT", encver, script_fields(encver, source=source, entry_points=eps))
    )
    assert ai_client.type("s") == b"AI_SCRIPT"
    got = read_script_v4(ai_client.dump("s"))
    assert got == {"device": b"CPU\x00", "tag": b"t", "source": source + b"\x00",
                   "entry_points": [e + b"\x00" for e in eps]}  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        payload("AI_SCRIPT", 5, script_fields(4)),
        payload("AI_SCRIPT", 4, Fields().string(b"CPU\x00").string(b"t")),
        payload("AI_SCRIPT", 4, script_fields(2)),  # v4 needs the entry point count
        payload(
            "AI_SCRIPT", 4, Fields().string(b"CPU\x00").string(b"t").string(b"x\x00").uint(1 << 40)
        ),
    ],
    ids=["newer", "truncated", "no-entry-count", "huge-entry-count"],
)
def test_corrupt_script_payload_is_refused(ai_client, data):
    assert "Bad data format" in restore_error(ai_client, "s", data)
    assert ai_client.exists("s") == 0 and ai_client.ping()
