"""The private channel between the ``ai`` module and its worker processes.

Every message travels as one frame: a little-endian ``u64`` payload length, then the payload.
A payload starts with ``u8 type`` and ``u64 request id``; the fields that follow depend on the
type (see the dataclasses below).  Field encodings:

* ``str``/``bytes``: ``u64`` length, then the bytes (strings are UTF-8, no NUL);
* string list: ``u32`` count, then that many strings;
* tensor: ``u8 dtype`` (:data:`DTYPES` index, :data:`ABSENT` for "no tensor"), ``u32 ndim``,
  ``i64`` dims, ``u64`` byte count, the raw row-major little-endian bytes (STRING: elements each
  terminated by NUL, as in ``AI.TENSORSET``);
* tensor list: ``u32`` count, then that many tensors.

Shared memory: a tensor of at least ``--shm-threshold`` bytes (the module argument
SHM_THRESHOLD) travels with its dtype code or-ed with :data:`SHM` and, instead of its bytes, a
``u64`` offset and a ``u64`` byte count into a region both processes map (:class:`SharedMemory`):
run inputs in the module's "in" region, results in the "out" region the worker fills.  The
regions are memfds the module creates and the worker inherits (``--shm-fds IN,OUT``), sealed
against shrinking; the module reads the out region only after the complete reply frame.

This module is the Python side's one definition of the protocol; the C side's is
``src/module/exec/worker_protocol.h`` (codes, dtype order, the SHM flag and every message layout) with
``worker_protocol.c`` (building and reading frames).  Both are tested against the same golden
frames (``tests/golden/worker_frames.json``, ``tests/test_worker_golden.py``), which also check
that every constant below equals its C twin.  Decoding never copies tensor
bytes: arrays are ``numpy.frombuffer`` views into the received frame, and encoding hands the
arrays' buffers straight to ``socket.sendmsg``.
"""

from __future__ import annotations

import mmap
import os
import socket
import struct
from dataclasses import dataclass, field

import numpy as np

# Message types, C side -> worker.
MSG_LOAD = 1
MSG_RUN_MODEL = 2
MSG_RUN_SCRIPT = 3
MSG_UNLOAD = 4
MSG_PING = 5
# Worker -> C side.
MSG_LOADED = 10
MSG_RESULT = 11
MSG_ERROR = 12
MSG_UNKNOWN = 13
MSG_PONG = 14
# Script callbacks into the server, worker -> C side, while a RUN_SCRIPT is in progress ...
MSG_CALL = 20
MSG_MODEL_LOOKUP = 22
MSG_MODEL_FETCH = 24
# ... and their answers, C side -> worker (or MSG_ERROR).
MSG_CALL_REPLY = 21
MSG_MODEL_INFO = 23

# Redis reply values in MSG_CALL_REPLY: u8 tag, then the payload.
VAL_NIL, VAL_STR, VAL_INT, VAL_ARRAY, VAL_ERROR = 0, 1, 2, 3, 4

KIND_MODEL = 0
KIND_SCRIPT = 1

# Tensor dtypes in wire order: the index is the code (C: enum wire_dtype in worker_protocol.h).
DTYPES = ("FLOAT", "DOUBLE", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "BOOL", "STRING")
ABSENT = 255
SHM = 0x40  # dtype flag: the bytes lie in a shared region (u64 offset, u64 length follow)
SHM_ALIGN = 64
_NUMPY = {
    "FLOAT": np.dtype("<f4"),
    "DOUBLE": np.dtype("<f8"),
    "INT8": np.dtype("i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "UINT8": np.dtype("u1"),
    "UINT16": np.dtype("<u2"),
    "BOOL": np.dtype("?"),
}
_CODE_OF_NUMPY = {dt.str.lstrip("<|="): DTYPES.index(name) for name, dt in _NUMPY.items()}

_HEAD = struct.Struct("<BQ")
_U64 = struct.Struct("<Q")
_U32 = struct.Struct("<I")
_TENSOR_HEAD = struct.Struct("<BI")


class ProtocolError(RuntimeError):
    """A frame could not be decoded, or the peer closed the channel."""


class UnsupportedDtypeError(ValueError):
    """An array's dtype has no RedisAI tensor type."""


# ---------------------------------------------------------------------------------------------
# Shared memory


class SharedRegion:
    """One memfd region, mapped whole; remapped when the other side (or we) made it bigger.

    A mapping that arrays still view stays alive with them (numpy holds the buffer), so
    remapping never pulls memory from under an array.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.map: mmap.mmap | None = None
        self.size = 0

    def _remap(self, size: int) -> None:
        self.map = mmap.mmap(self.fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.size = size

    def view(self, offset: int, length: int) -> memoryview:
        """``length`` bytes at ``offset`` (a protocol error when the region is smaller)."""
        end = offset + length
        if end > self.size:
            size = os.fstat(self.fd).st_size
            if end > size:
                raise ProtocolError(
                    f"a tensor at {offset}+{length} lies outside its shared region ({size} bytes)"
                )
            self._remap(size)
        assert self.map is not None
        return memoryview(self.map)[offset:end]

    def reserve(self, need: int) -> None:
        """Grow the region (it can only grow: sealed) to hold ``need`` bytes."""
        if need <= self.size:
            return
        size = os.fstat(self.fd).st_size
        if need > size:
            size = (need + need // 4 + (1 << 20) - 1) & ~((1 << 20) - 1)
            os.ftruncate(self.fd, size)
        self._remap(size)


@dataclass
class SharedMemory:
    """The two regions a worker shares with the module, and the size from which tensors use
    them."""

    inbound: SharedRegion
    outbound: SharedRegion
    threshold: int

    @classmethod
    def from_fds(cls, in_fd: int, out_fd: int, threshold: int) -> SharedMemory:
        return cls(SharedRegion(in_fd), SharedRegion(out_fd), threshold)


# ---------------------------------------------------------------------------------------------
# Messages


@dataclass
class Load:
    """Compile a model (``kind`` 0) or a TorchScript script (``kind`` 1) and keep it as ``obj_id``."""

    req_id: int
    obj_id: int
    kind: int
    backend: str
    device: str
    inputs: list[str]
    outputs: list[str]
    entry_points: list[str]
    blob: bytes | memoryview


@dataclass
class RunModel:
    req_id: int
    obj_id: int
    tensors: list[np.ndarray | None]


@dataclass
class RunScript:
    req_id: int
    obj_id: int
    function: str
    keys: list[str]
    args: list[str]
    n_outputs: int
    tensors: list[np.ndarray | None]


@dataclass
class Unload:
    req_id: int
    obj_id: int


@dataclass
class Ping:
    req_id: int


@dataclass
class Loaded:
    req_id: int
    inputs: list[str]
    outputs: list[str]
    version: str = ""  # the backend library's version (INFO MODULES ai_backends_info)


@dataclass
class Result:
    req_id: int
    duration_us: int
    tensors: list[np.ndarray | None] = field(default_factory=list)


@dataclass
class Error:
    req_id: int
    message: str


@dataclass
class Unknown:
    """The object named by a run request is not loaded in this worker (e.g. it restarted)."""

    req_id: int


@dataclass
class Pong:
    req_id: int


@dataclass
class Call:
    """``redis.execute(cmd, args)`` from a script: run a command in the server."""

    req_id: int
    argv: list[str]


@dataclass
class CallReply:
    req_id: int
    value: object  # None, str, int, list, or RedisReplyError


class RedisReplyError(str):
    """An error reply of a command run for a script."""


@dataclass
class ModelLookup:
    """``redisAI.model_execute(key, ...)``: which model object is stored at ``key``?"""

    req_id: int
    key: str


@dataclass
class ModelFetch:
    """Send the model object ``obj_id`` (its blob) so the worker can load it."""

    req_id: int
    obj_id: int


@dataclass
class ModelInfo:
    req_id: int
    obj_id: int
    backend: str
    device: str
    inputs: list[str]
    outputs: list[str]
    blob: bytes | memoryview | None  # None: not sent (lookup answers)


Message = (
    Load
    | RunModel
    | RunScript
    | Unload
    | Ping
    | Loaded
    | Result
    | Error
    | Unknown
    | Pong
    | Call
    | CallReply
    | ModelLookup
    | ModelFetch
    | ModelInfo
)


# ---------------------------------------------------------------------------------------------
# Encoding


def _bytes(out: list, data: bytes | memoryview) -> None:
    out.append(_U64.pack(len(data)))
    if len(data):
        out.append(data)


def _str(out: list, text: str) -> None:
    _bytes(out, text.encode())


def _strlist(out: list, items: list[str]) -> None:
    out.append(_U32.pack(len(items)))
    for item in items:
        _str(out, item)


def _tensor_parts(arr: np.ndarray) -> tuple[int, tuple[int, ...], bytes | np.ndarray]:
    """(dtype code, shape, content): the joined bytes of a STRING tensor, else the array."""
    arr = np.asarray(arr)
    if arr.dtype.kind in "OUS":
        items = [x if isinstance(x, bytes) else str(x).encode() for x in arr.reshape(-1)]
        return DTYPES.index("STRING"), arr.shape, b"".join(x + b"\0" for x in items)
    code = _CODE_OF_NUMPY.get(arr.dtype.newbyteorder("<").str.lstrip("<|="))
    if code is None:
        raise UnsupportedDtypeError(f"ERR unsupported dtype {arr.dtype}")
    return code, arr.shape, arr


def _inline(content: bytes | np.ndarray) -> bytes | memoryview:
    """The row-major little-endian bytes of a tensor's content."""
    if isinstance(content, bytes):
        return content
    arr = content
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if not arr.flags.c_contiguous:
        arr = arr.copy(order="C")
    return memoryview(arr).cast("B") if arr.size else b""


def _nbytes(content: bytes | np.ndarray) -> int:
    return len(content) if isinstance(content, bytes) else content.nbytes


def _head(out: list, code: int, shape: tuple[int, ...]) -> None:
    out.append(_TENSOR_HEAD.pack(code, len(shape)))
    if shape:
        out.append(struct.pack(f"<{len(shape)}q", *shape))


def _tensor(out: list, arr: np.ndarray | None) -> None:
    if arr is None:
        out.append(_TENSOR_HEAD.pack(ABSENT, 0))
        return
    code, shape, content = _tensor_parts(arr)
    _head(out, code, shape)
    _bytes(out, _inline(content))


def _shared_tensor(
    out: list, code: int, shape: tuple, content: object, region: SharedRegion, offset: int
) -> None:
    """Copy a tensor's content into ``region`` at ``offset`` (one pass, converting the byte
    order and strides as it goes) and reference it from the frame."""
    assert isinstance(content, (bytes, np.ndarray))
    n = _nbytes(content)
    dst = region.view(offset, n)
    if isinstance(content, bytes):
        dst[:] = content
    else:
        le = content.dtype.newbyteorder("<")
        np.copyto(np.frombuffer(dst, dtype=le).reshape(content.shape), content)
    _head(out, code | SHM, shape)
    out.append(struct.pack("<QQ", offset, n))


def _value(out: list, value: object) -> None:
    if value is None:
        out.append(bytes([VAL_NIL]))
    elif isinstance(value, RedisReplyError):
        out.append(bytes([VAL_ERROR]))
        _str(out, str(value))
    elif isinstance(value, str):
        out.append(bytes([VAL_STR]))
        _str(out, value)
    elif isinstance(value, int):
        out.append(bytes([VAL_INT]) + struct.pack("<q", value))
    elif isinstance(value, list):
        out.append(bytes([VAL_ARRAY]) + _U32.pack(len(value)))
        for item in value:
            _value(out, item)
    else:
        raise TypeError(f"cannot encode reply value {value!r}")


def _tensors(
    out: list,
    arrays: list[np.ndarray | None],
    region: SharedRegion | None = None,
    threshold: int = 0,
) -> None:
    """A tensor list; with a region, tensors of ``threshold`` bytes and more go into it."""
    if region is None or threshold <= 0:
        out.append(_U32.pack(len(arrays)))
        for arr in arrays:
            _tensor(out, arr)
        return
    parts = [None if arr is None else _tensor_parts(arr) for arr in arrays]
    offsets: dict[int, int] = {}
    end = 0
    for i, part in enumerate(parts):
        if part is not None and _nbytes(part[2]) >= threshold:
            offsets[i] = end
            end += (_nbytes(part[2]) + SHM_ALIGN - 1) & ~(SHM_ALIGN - 1)
    if offsets:
        region.reserve(end)
    out.append(_U32.pack(len(arrays)))
    for i, part in enumerate(parts):
        if part is None:
            out.append(_TENSOR_HEAD.pack(ABSENT, 0))
        elif i in offsets:
            _shared_tensor(out, *part, region, offsets[i])
        else:
            _head(out, part[0], part[1])
            _bytes(out, _inline(part[2]))


def encode(msg: Message, shm: SharedMemory | None = None) -> list[bytes | memoryview]:
    """The message as a list of buffers (frame length first), ready for ``sendmsg``.

    With ``shm`` (a worker's regions), a Result's big tensors are written into its out region.
    """
    out: list = []
    if isinstance(msg, Load):
        out.append(_HEAD.pack(MSG_LOAD, msg.req_id))
        out.append(struct.pack("<QB", msg.obj_id, msg.kind))
        _str(out, msg.backend)
        _str(out, msg.device)
        _strlist(out, msg.inputs)
        _strlist(out, msg.outputs)
        _strlist(out, msg.entry_points)
        _bytes(out, msg.blob)
    elif isinstance(msg, RunModel):
        out.append(_HEAD.pack(MSG_RUN_MODEL, msg.req_id))
        out.append(_U64.pack(msg.obj_id))
        _tensors(out, msg.tensors)
    elif isinstance(msg, RunScript):
        out.append(_HEAD.pack(MSG_RUN_SCRIPT, msg.req_id))
        out.append(_U64.pack(msg.obj_id))
        _str(out, msg.function)
        _strlist(out, msg.keys)
        _strlist(out, msg.args)
        out.append(_U32.pack(msg.n_outputs))
        _tensors(out, msg.tensors)
    elif isinstance(msg, Unload):
        out.append(_HEAD.pack(MSG_UNLOAD, msg.req_id))
        out.append(_U64.pack(msg.obj_id))
    elif isinstance(msg, Ping):
        out.append(_HEAD.pack(MSG_PING, msg.req_id))
    elif isinstance(msg, Loaded):
        out.append(_HEAD.pack(MSG_LOADED, msg.req_id))
        _strlist(out, msg.inputs)
        _strlist(out, msg.outputs)
        _str(out, msg.version)
    elif isinstance(msg, Result):
        out.append(_HEAD.pack(MSG_RESULT, msg.req_id))
        out.append(_U64.pack(msg.duration_us))
        if shm is not None:
            _tensors(out, msg.tensors, shm.outbound, shm.threshold)
        else:
            _tensors(out, msg.tensors)
    elif isinstance(msg, Error):
        out.append(_HEAD.pack(MSG_ERROR, msg.req_id))
        _str(out, msg.message)
    elif isinstance(msg, Unknown):
        out.append(_HEAD.pack(MSG_UNKNOWN, msg.req_id))
    elif isinstance(msg, Pong):
        out.append(_HEAD.pack(MSG_PONG, msg.req_id))
    elif isinstance(msg, Call):
        out.append(_HEAD.pack(MSG_CALL, msg.req_id))
        _strlist(out, msg.argv)
    elif isinstance(msg, CallReply):
        out.append(_HEAD.pack(MSG_CALL_REPLY, msg.req_id))
        _value(out, msg.value)
    elif isinstance(msg, ModelLookup):
        out.append(_HEAD.pack(MSG_MODEL_LOOKUP, msg.req_id))
        _str(out, msg.key)
    elif isinstance(msg, ModelFetch):
        out.append(_HEAD.pack(MSG_MODEL_FETCH, msg.req_id))
        out.append(_U64.pack(msg.obj_id))
    elif isinstance(msg, ModelInfo):
        out.append(_HEAD.pack(MSG_MODEL_INFO, msg.req_id))
        out.append(_U64.pack(msg.obj_id))
        _str(out, msg.backend)
        _str(out, msg.device)
        _strlist(out, msg.inputs)
        _strlist(out, msg.outputs)
        out.append(bytes([msg.blob is not None]))
        if msg.blob is not None:
            _bytes(out, msg.blob)
    else:  # pragma: no cover - programming error
        raise TypeError(f"not a protocol message: {msg!r}")
    total = sum(len(b) for b in out)
    return [_U64.pack(total), *out]


# ---------------------------------------------------------------------------------------------
# Decoding


class _Reader:
    def __init__(self, buf: memoryview, region: SharedRegion | None = None) -> None:
        self.buf = buf
        self.pos = 0
        self.region = region

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.buf):
            raise ProtocolError("truncated frame")
        view = self.buf[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, st: struct.Struct) -> tuple:
        return st.unpack(self.take(st.size))

    def u32(self) -> int:
        return self.unpack(_U32)[0]

    def u64(self) -> int:
        return self.unpack(_U64)[0]

    def bytes_(self) -> memoryview:
        return self.take(self.u64())

    def str_(self) -> str:
        return bytes(self.bytes_()).decode()

    def strlist(self) -> list[str]:
        return [self.str_() for _ in range(self.u32())]

    def tensor(self) -> np.ndarray | None:
        code, ndim = self.unpack(_TENSOR_HEAD)
        if code == ABSENT:
            return None
        shared = bool(code & SHM)
        code &= ~SHM
        if code >= len(DTYPES):
            raise ProtocolError(f"unknown tensor dtype code {code}")
        shape = struct.unpack(f"<{ndim}q", self.take(8 * ndim)) if ndim else ()
        if shared:
            if self.region is None:
                raise ProtocolError("a tensor in shared memory, but this worker has no region")
            offset, length = self.unpack(struct.Struct("<QQ"))
            data = self.region.view(offset, length)
        else:
            data = self.bytes_()
        name = DTYPES[code]
        if name == "STRING":
            parts = bytes(data).split(b"\0")[:-1]
            return np.array([p.decode(errors="replace") for p in parts], dtype=object).reshape(
                shape
            )
        return np.frombuffer(data, dtype=_NUMPY[name]).reshape(shape)

    def value(self) -> object:
        tag = self.take(1)[0]
        if tag == VAL_NIL:
            return None
        if tag == VAL_STR:
            return bytes(self.bytes_()).decode(errors="replace")
        if tag == VAL_INT:
            return struct.unpack("<q", self.take(8))[0]
        if tag == VAL_ARRAY:
            return [self.value() for _ in range(self.u32())]
        if tag == VAL_ERROR:
            return RedisReplyError(bytes(self.bytes_()).decode(errors="replace"))
        raise ProtocolError(f"unknown reply value tag {tag}")

    def tensors(self) -> list[np.ndarray | None]:
        return [self.tensor() for _ in range(self.u32())]


def decode(payload: bytes | bytearray | memoryview, shm: SharedMemory | None = None) -> Message:
    """Decode one frame's payload (without the length prefix); with ``shm``, tensors flagged
    :data:`SHM` are views of its in region."""
    r = _Reader(memoryview(payload), shm.inbound if shm is not None else None)
    kind, req_id = r.unpack(_HEAD)
    if kind == MSG_LOAD:
        obj_id, obj_kind = r.unpack(struct.Struct("<QB"))
        backend, device = r.str_(), r.str_()
        inputs, outputs, eps = r.strlist(), r.strlist(), r.strlist()
        return Load(req_id, obj_id, obj_kind, backend, device, inputs, outputs, eps, r.bytes_())
    if kind == MSG_RUN_MODEL:
        return RunModel(req_id, r.u64(), r.tensors())
    if kind == MSG_RUN_SCRIPT:
        obj_id, fn = r.u64(), r.str_()
        keys, args = r.strlist(), r.strlist()
        return RunScript(req_id, obj_id, fn, keys, args, r.u32(), r.tensors())
    if kind == MSG_UNLOAD:
        return Unload(req_id, r.u64())
    if kind == MSG_PING:
        return Ping(req_id)
    if kind == MSG_LOADED:
        return Loaded(req_id, r.strlist(), r.strlist(), r.str_())
    if kind == MSG_RESULT:
        return Result(req_id, r.u64(), r.tensors())
    if kind == MSG_ERROR:
        return Error(req_id, r.str_())
    if kind == MSG_UNKNOWN:
        return Unknown(req_id)
    if kind == MSG_PONG:
        return Pong(req_id)
    if kind == MSG_CALL:
        return Call(req_id, r.strlist())
    if kind == MSG_CALL_REPLY:
        return CallReply(req_id, r.value())
    if kind == MSG_MODEL_LOOKUP:
        return ModelLookup(req_id, r.str_())
    if kind == MSG_MODEL_FETCH:
        return ModelFetch(req_id, r.u64())
    if kind == MSG_MODEL_INFO:
        obj_id, backend, device = r.u64(), r.str_(), r.str_()
        inputs, outputs = r.strlist(), r.strlist()
        blob = r.bytes_() if r.take(1)[0] else None
        return ModelInfo(req_id, obj_id, backend, device, inputs, outputs, blob)
    raise ProtocolError(f"unknown message type {kind}")


# ---------------------------------------------------------------------------------------------
# Socket I/O


def _recv_exact(sock: socket.socket, buf: memoryview) -> None:
    got = 0
    while got < len(buf):
        n = sock.recv_into(buf[got:])
        if n == 0:
            raise ProtocolError("channel closed by peer")
        got += n


def read_frame(sock: socket.socket) -> bytearray:
    """Read one frame's payload into a fresh writable buffer."""
    head = bytearray(8)
    _recv_exact(sock, memoryview(head))
    (length,) = _U64.unpack(head)
    payload = bytearray(length)
    _recv_exact(sock, memoryview(payload))
    return payload


def send(sock: socket.socket, msg: Message) -> None:
    """Send one message; large tensor buffers go to the kernel without being joined."""
    send_buffers(sock, encode(msg))


def send_buffers(sock: socket.socket, encoded: list[bytes | memoryview]) -> None:
    """Send the buffers of an :func:`encode` result."""
    buffers = [memoryview(b).cast("B") for b in encoded]
    while buffers:
        sent = sock.sendmsg(buffers[:512])
        while sent:
            if sent >= len(buffers[0]):
                sent -= len(buffers[0])
                buffers.pop(0)
            else:
                buffers[0] = buffers[0][sent:]
                sent = 0


def receive(sock: socket.socket) -> Message:
    return decode(read_frame(sock))
