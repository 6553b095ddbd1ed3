"""The worker protocol against its golden frames, from both sides.

``golden/worker_frames.json`` holds a small set of complete frames (hex, length prefix
included) with the fields they carry.  The Python side (``smartsim_ai.worker.protocol``) must
decode every frame to its fields and encode the fields back to the same bytes; the C side
(``src/module/exec/worker_protocol.c/.h``, built alone with ``golden/worker_frames.c``) must encode
the frames the module sends, through the very message encoders (``wmsg_*``, ``wval_*``) the
module uses, and decode the frames the worker sends to the same fields.  A
change of a message code, a dtype code, the shared-memory flag or a layout on either side
fails here, not in a server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from smartsim_ai.worker import protocol

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "worker_frames.json"
MODULE_SRC = HERE.parent / "src" / "module" / "exec"
FRAMES: list[dict[str, Any]] = json.loads(GOLDEN.read_text())["frames"]
BY_NAME = {f["name"]: f for f in FRAMES}
TO_WORKER = [f["name"] for f in FRAMES if f["direction"] == "to_worker"]
TO_MODULE = [f["name"] for f in FRAMES if f["direction"] == "to_module"]


# ---------------------------------------------------------------------------------------------
# JSON fields <-> protocol messages


def _tensor_from_json(t: dict[str, Any] | None) -> np.ndarray | None:
    if t is None:
        return None
    data = bytes.fromhex(t["hex"])
    if t["dtype"] == "STRING":
        items = [p.decode() for p in data.split(b"\0")[:-1]]
        return np.array(items, dtype=object).reshape(t["shape"])
    dtype = np.dtype(protocol._NUMPY[t["dtype"]])
    return np.frombuffer(data, dtype=dtype).reshape(t["shape"]).copy()


def _tensor_to_json(arr: np.ndarray | None) -> dict[str, Any] | None:
    if arr is None:
        return None
    code, shape, content = protocol._tensor_parts(arr)
    return {
        "dtype": protocol.DTYPES[code],
        "shape": list(shape),
        "hex": bytes(protocol._inline(content)).hex(),
    }


def _value_from_json(v: Any) -> object:
    if isinstance(v, dict):
        return protocol.RedisReplyError(v["error"])
    if isinstance(v, list):
        return [_value_from_json(x) for x in v]
    return v


def _value_to_json(v: object) -> Any:
    if isinstance(v, protocol.RedisReplyError):
        return {"error": str(v)}
    if isinstance(v, list):
        return [_value_to_json(x) for x in v]
    return v


def message_from_json(fields: dict[str, Any]) -> protocol.Message:
    """The protocol message a golden frame's ``fields`` describe."""
    kwargs = {k: v for k, v in fields.items() if k != "type"}
    if "tensors" in kwargs:
        kwargs["tensors"] = [_tensor_from_json(t) for t in kwargs["tensors"]]
    if "blob" in kwargs and kwargs["blob"] is not None:
        kwargs["blob"] = bytes.fromhex(kwargs["blob"])
    if "value" in kwargs:
        kwargs["value"] = _value_from_json(kwargs["value"])
    return getattr(protocol, fields["type"])(**kwargs)


def message_to_json(msg: protocol.Message) -> dict[str, Any]:
    """A decoded message as golden ``fields`` (tensors without where their bytes lay)."""
    out: dict[str, Any] = {"type": type(msg).__name__}
    for name, value in vars(msg).items():
        if name == "tensors":
            value = [_tensor_to_json(a) for a in value]
        elif name == "blob" and value is not None:
            value = bytes(value).hex()
        elif name == "value":
            value = _value_to_json(value)
        out[name] = value
    return out


def without_shm(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "tensors" in out:
        out["tensors"] = [
            None if t is None else {k: v for k, v in t.items() if k != "shm_offset"}
            for t in out["tensors"]
        ]
    return out


def region_bytes(fields: dict[str, Any]) -> bytes:
    """The shared region a frame's tensors flagged SHM point into (zeroes elsewhere)."""
    region = bytearray()
    for t in fields.get("tensors", []):
        if t is not None and "shm_offset" in t:
            data = bytes.fromhex(t["hex"])
            end = t["shm_offset"] + len(data)
            region.extend(b"\0" * max(0, end - len(region)))
            region[t["shm_offset"] : end] = data
    return bytes(region)


def shared_memory(threshold: int, inbound: bytes = b"") -> protocol.SharedMemory:
    in_fd = os.memfd_create("golden-in")
    out_fd = os.memfd_create("golden-out")
    if inbound:
        os.write(in_fd, inbound)
    return protocol.SharedMemory.from_fds(in_fd, out_fd, threshold)


def close(shm: protocol.SharedMemory) -> None:
    os.close(shm.inbound.fd)
    os.close(shm.outbound.fd)


def uses_shm(fields: dict[str, Any]) -> bool:
    return any(t is not None and "shm_offset" in t for t in fields.get("tensors", []))


# ---------------------------------------------------------------------------------------------
# The golden set itself


def test_the_golden_set_covers_every_message_code_and_dtype() -> None:
    codes = {bytes.fromhex(f["frame"])[8] for f in FRAMES}
    declared = {v for k, v in vars(protocol).items() if k.startswith("MSG_")}
    assert codes == declared
    dtypes = {t["dtype"] for f in FRAMES for t in f["fields"].get("tensors", []) if t}
    assert dtypes == set(protocol.DTYPES)
    assert any(uses_shm(f["fields"]) for f in FRAMES if f["direction"] == "to_worker")
    assert any(uses_shm(f["fields"]) for f in FRAMES if f["direction"] == "to_module")


def test_the_module_builds_frames_only_through_the_message_encoders() -> None:
    """Every frame the module sends is built by a ``wmsg_*`` function of worker_protocol.c, and
    the golden C side calls every such encoder: a layout written inline elsewhere in the module
    would escape the golden frames."""
    module = MODULE_SRC.parent
    inline = [
        f"{path.relative_to(module)}:{n}"
        for path in sorted(module.rglob("*.c"))
        if path.name != "worker_protocol.c"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bwbuf_(init|u8|u32|u64|str|bytes|bytes_copy|tensor)\(", line)
    ]
    assert inline == []
    header = (MODULE_SRC / "worker_protocol.h").read_text()
    encoders = set(re.findall(r"^void (w(?:msg|val)_\w+)\(", header, re.M))
    assert {"wmsg_load", "wmsg_run_model", "wmsg_run_script", "wmsg_unload"} <= encoders
    golden_c = (HERE / "golden" / "worker_frames.c").read_text()
    assert {e for e in encoders if f"{e}(" not in golden_c} == set()


def test_frame_length_prefixes_are_right() -> None:
    for f in FRAMES:
        frame = bytes.fromhex(f["frame"])
        assert int.from_bytes(frame[:8], "little") == len(frame) - 8, f["name"]


# ---------------------------------------------------------------------------------------------
# Python side


@pytest.mark.parametrize("name", [f["name"] for f in FRAMES])
def test_python_decodes_the_golden_frame(name: str) -> None:
    golden = BY_NAME[name]
    fields = golden["fields"]
    payload = bytes.fromhex(golden["frame"])[8:]
    shm = shared_memory(0, region_bytes(fields)) if uses_shm(fields) else None
    try:
        msg = protocol.decode(payload, shm)
        assert message_to_json(msg) == without_shm(fields)
    finally:
        if shm is not None:
            close(shm)


@pytest.mark.parametrize("name", [f["name"] for f in FRAMES])
def test_python_encodes_the_golden_frame(name: str) -> None:
    golden = BY_NAME[name]
    fields = golden["fields"]
    if uses_shm(fields) and golden["direction"] == "to_worker":
        pytest.skip("only the module puts a run's inputs into shared memory (C side below)")
    shm = None
    if uses_shm(fields):  # a worker's result: tensors of threshold bytes and more go shared
        shm = shared_memory(golden["shm_threshold"])
    try:
        msg = message_from_json(fields)
        assert b"".join(bytes(b) for b in protocol.encode(msg, shm)).hex() == golden["frame"]
        if shm is not None:
            want = region_bytes(fields)
            assert bytes(shm.outbound.view(0, len(want))) == want
    finally:
        if shm is not None:
            close(shm)


def _c_constants() -> dict[str, int]:
    text = (MODULE_SRC / "worker_protocol.h").read_text()
    consts = {m[0]: int(m[1], 0) for m in re.findall(r"\b(W\w+) = (\w+)", text)}
    consts.update({m[0]: int(m[1], 0) for m in re.findall(r"#define (WIRE_\w+) (\w+)", text)})
    return consts


def test_python_constants_are_the_c_header_constants() -> None:
    c = _c_constants()
    for name, value in vars(protocol).items():
        if name.startswith("MSG_"):
            assert c["W" + name] == value, name
        if name.startswith("VAL_"):
            assert c["W" + name] == value, name
        if name.startswith("KIND_"):
            assert c["WIRE_" + name] == value, name
    assert [c[f"WIRE_DTYPE_{n}"] for n in protocol.DTYPES] == list(range(len(protocol.DTYPES)))
    assert c["WIRE_DTYPE_COUNT"] == len(protocol.DTYPES)
    assert c["WIRE_ABSENT"] == protocol.ABSENT
    assert c["WIRE_SHM"] == protocol.SHM == 0x40
    assert c["WIRE_SHM_ALIGN"] == protocol.SHM_ALIGN


# ---------------------------------------------------------------------------------------------
# C side


@pytest.fixture(scope="module")
def c_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    exe = tmp_path_factory.mktemp("golden") / "worker_frames"
    subprocess.run(
        [cc, "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         f"-I{MODULE_SRC}", str(HERE / "golden" / "worker_frames.c"),
         str(MODULE_SRC / "worker_protocol.c"), "-o", str(exe)],
        check=True,
    )  # fmt: skip
    return exe


@pytest.mark.parametrize("name", TO_WORKER)
def test_c_encodes_the_golden_frame(c_frames: Path, name: str) -> None:
    out = subprocess.run([str(c_frames), "encode", name], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == BY_NAME[name]["frame"]


@pytest.mark.parametrize("name", TO_MODULE)
def test_c_decodes_the_golden_frame(c_frames: Path, name: str) -> None:
    golden = BY_NAME[name]
    region = region_bytes(golden["fields"]).hex()
    argv = [str(c_frames), "decode", golden["frame"], *([region] if region else [])]
    out = subprocess.run(argv, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == golden["fields"]


def test_c_rejects_a_truncated_frame_and_an_unknown_code(c_frames: Path) -> None:
    frame = BY_NAME["result"]["frame"]
    cut = subprocess.run([str(c_frames), "decode", frame[:-2]], capture_output=True, text=True)
    assert cut.returncode == 1 and "malformed" in cut.stderr
    bad = frame[:16] + "63" + frame[18:]  # message type 99
    out = subprocess.run([str(c_frames), "decode", bad], capture_output=True, text=True)
    assert out.returncode == 1 and "unknown message type 99" in out.stderr
