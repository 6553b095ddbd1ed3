"""Unit tests of the pure tensor core (tensor.c), built alone and driven through ctypes.

No server: shape math, overflow checks, blob validation, STRING offsets, values and
reference counts are checked directly, including with hypothesis on the shape math.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

MODULE_SRC = Path(__file__).resolve().parents[1] / "src" / "module"
FLOAT, DOUBLE, INT8, INT16, INT32, INT64, UINT8, UINT16, BOOL, STRING = range(10)
OK, EDIMS, ETOO_LARGE, EDATA_LEN, EBOOL, ESTR_COUNT = range(6)
SIZE_MAX = 2**64 - 1


class Tensor(ctypes.Structure):
    _fields_ = [
        ("refcount", ctypes.c_uint32),
        ("dtype", ctypes.c_uint8),
        ("unused", ctypes.c_uint8),
        ("ndims", ctypes.c_uint16),
        ("len", ctypes.c_size_t),
        ("nbytes", ctypes.c_size_t),
        ("data", ctypes.POINTER(ctypes.c_char)),
        ("owner", ctypes.c_void_p),
    ]  # then int64_t dims[ndims] and, for STRING, uint64_t offsets[len]

    @property
    def offsets(self):
        """The STRING offsets, stored after the dims (ai_tensor_offsets)."""
        start = ctypes.addressof(self) + ctypes.sizeof(Tensor) + 8 * self.ndims
        return ctypes.cast(start, ctypes.POINTER(ctypes.c_uint64))


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lib = tmp_path_factory.mktemp("core") / "tensor_core.so"
    sources = [MODULE_SRC / name for name in ("types/tensor.c", "core/alloc.c", "core/rm_api.c")]
    subprocess.run(
        [cc, "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-fPIC", "-shared", f"-I{MODULE_SRC / 'core'}", *map(str, sources), "-o", str(lib)],
        check=True,
    )  # fmt: skip
    dll = ctypes.CDLL(str(lib))
    P = ctypes.POINTER(Tensor)
    dll.ai_tensor_new.restype = P
    dll.ai_tensor_new.argtypes = [
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int64),
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
    ]
    dll.ai_shape_len.argtypes = [ctypes.POINTER(ctypes.c_int64), ctypes.c_int, ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_size_t)]  # fmt: skip
    for name in ("ai_tensor_check_blob", "ai_tensor_copy_blob"):
        getattr(dll, name).argtypes = [P, ctypes.c_char_p, ctypes.c_size_t]
    dll.ai_tensor_alloc_data.argtypes = [P, ctypes.c_size_t]
    dll.ai_tensor_incref.restype = P
    dll.ai_tensor_incref.argtypes = [P]
    dll.ai_tensor_decref.argtypes = [P]
    dll.ai_tensor_get_double.restype = ctypes.c_double
    dll.ai_tensor_get_double.argtypes = [P, ctypes.c_size_t]
    dll.ai_tensor_set_double.argtypes = [P, ctypes.c_size_t, ctypes.c_double]
    dll.ai_tensor_get_longlong.restype = ctypes.c_longlong
    dll.ai_tensor_get_longlong.argtypes = [P, ctypes.c_size_t]
    dll.ai_tensor_set_longlong.argtypes = [P, ctypes.c_size_t, ctypes.c_longlong]
    dll.ai_tensor_get_string.restype = ctypes.c_void_p
    dll.ai_tensor_get_string.argtypes = [P, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    dll.ai_dtype_parse.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)]
    dll.ai_tensor_overwrite.argtypes = [P, ctypes.c_int, ctypes.POINTER(ctypes.c_int64), ctypes.c_int,
                                        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]  # fmt: skip
    return dll


def dims_array(dims):
    return (ctypes.c_int64 * max(len(dims), 1))(*dims)


def new(core, dtype, dims):
    status = ctypes.c_int(-1)
    t = core.ai_tensor_new(dtype, dims_array(dims), len(dims), ctypes.byref(status))
    return t, status.value


def shape_len(core, dims, size):
    n, nbytes = ctypes.c_size_t(), ctypes.c_size_t()
    st = core.ai_shape_len(dims_array(dims), len(dims), size, ctypes.byref(n), ctypes.byref(nbytes))
    return st, n.value, nbytes.value


@settings(max_examples=300, deadline=None)
@given(
    dims=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=6),
    size=st.sampled_from([1, 2, 4, 8]),
)
def test_shape_math_matches_python(core, dims, size):
    st_, n, nbytes = shape_len(core, dims, size)
    if any(d <= 0 for d in dims):
        assert st_ == EDIMS
        return
    product = 1
    for d in dims:
        product *= d
    if product * size > SIZE_MAX or product > SIZE_MAX >> 4:
        assert st_ == ETOO_LARGE
    else:
        assert (st_, n, nbytes) == (OK, product, product * size)


def test_scalar_and_too_many_dims(core):
    assert shape_len(core, [], 8) == (OK, 1, 8)
    assert shape_len(core, [1] * 1025, 1)[0] == EDIMS


def test_dtype_names(core):
    out = ctypes.c_int()
    for i, name in enumerate(
        ["FLOAT", "double", "Int8", "INT16", "int32", "INT64", "uint8", "UINT16", "bool", "String"]
    ):
        assert (
            core.ai_dtype_parse(name.encode(), len(name), ctypes.byref(out)) == 0 and out.value == i
        )
    # a trailing NUL or a non-letter that differs from a letter by case bits is no match
    for bad in ["", "FLOAT16", "UINT32", "BOOLX", "FLOA", "STRINGS", "INT8\0", "BOOL\0\0",
                "INT\x18", "float ", "UINT8\x00"]:  # fmt: skip
        assert core.ai_dtype_parse(bad.encode(), len(bad), ctypes.byref(out)) == -1
    # bytes with the high bit set never fold onto letters
    for bad in [b"FLO\xc1T", b"\xc6LOAT", b"BOOL\xff", b"int\xb8"]:
        assert core.ai_dtype_parse(bad, len(bad), ctypes.byref(out)) == -1
    # every case mix of every name
    for i, name in enumerate(
        ["FLOAT", "DOUBLE", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "BOOL", "STRING"]
    ):
        for mask in range(1 << len(name)):
            mixed = "".join(c.lower() if mask >> k & 1 else c for k, c in enumerate(name))
            assert core.ai_dtype_parse(mixed.encode(), len(mixed), ctypes.byref(out)) == 0
            assert out.value == i


def test_blob_checks(core):
    t, st_ = new(core, FLOAT, [2, 2])
    assert st_ == OK and t.contents.len == 4 and t.contents.nbytes == 16
    assert core.ai_tensor_check_blob(t, b"\x00" * 15, 15) == EDATA_LEN
    assert core.ai_tensor_copy_blob(t, b"\x00" * 16, 16) == OK
    core.ai_tensor_decref(t)
    b, _ = new(core, BOOL, [3])
    assert core.ai_tensor_check_blob(b, b"\x01\x00\x02", 3) == EBOOL  # the last byte too
    assert core.ai_tensor_check_blob(b, b"\x01\x00\x01", 3) == OK
    core.ai_tensor_decref(b)


def test_string_offsets(core):
    s, _ = new(core, STRING, [3])
    for bad in (b"a\x00b\x00", b"a\x00b\x00c", b"a\x00\x00\x00\x00"):
        assert core.ai_tensor_check_blob(s, bad, len(bad)) == ESTR_COUNT
    blob = b"ab\x00\x00xyz\x00"
    assert core.ai_tensor_copy_blob(s, blob, len(blob)) == OK
    assert [s.contents.offsets[i] for i in range(3)] == [0, 3, 4]
    n = ctypes.c_size_t()
    got = []
    for i in range(3):
        ptr = core.ai_tensor_get_string(s, i, ctypes.byref(n))
        got.append(ctypes.string_at(ptr, n.value))
    assert got == [b"ab", b"", b"xyz"]
    core.ai_tensor_decref(s)


def test_zero_fill_and_values(core):
    z, _ = new(core, STRING, [4])
    assert core.ai_tensor_alloc_data(z, 0) == OK
    assert ctypes.string_at(z.contents.data, z.contents.nbytes) == b"\x00" * 4
    core.ai_tensor_decref(z)
    for dtype, value in [
        (INT8, 127),
        (INT16, -3),
        (INT32, 2**31 - 1),
        (INT64, -(2**63)),
        (UINT8, 255),
        (UINT16, 65535),
        (BOOL, 1),
    ]:
        t, _ = new(core, dtype, [2])
        core.ai_tensor_alloc_data(t, 0)
        core.ai_tensor_set_longlong(t, 1, value)
        assert (core.ai_tensor_get_longlong(t, 0), core.ai_tensor_get_longlong(t, 1)) == (0, value)
        core.ai_tensor_decref(t)
    f, _ = new(core, FLOAT, [1])
    core.ai_tensor_alloc_data(f, 0)
    core.ai_tensor_set_double(f, 0, 1.1)
    assert core.ai_tensor_get_double(f, 0) == ctypes.c_float(1.1).value
    core.ai_tensor_decref(f)


def test_reference_counts(core):
    t, _ = new(core, INT8, [1])
    core.ai_tensor_alloc_data(t, 0)
    assert core.ai_tensor_incref(t).contents.refcount == 2
    core.ai_tensor_decref(t)
    assert t.contents.refcount == 1
    core.ai_tensor_decref(t)  # frees; leaks are checked against real servers (test_fuzz_tensor)


def overwrite(core, t, dtype, dims, blob, owner=None):
    return core.ai_tensor_overwrite(t, dtype, dims_array(dims), len(dims), blob, len(blob), owner)


def test_overwrite_in_place_copies_into_the_same_data(core):
    t, _ = new(core, FLOAT, [2, 4])
    assert core.ai_tensor_copy_blob(t, b"\x01" * 32, 32) == OK
    data = ctypes.addressof(t.contents.data.contents)
    # same byte size and ndims, another dtype and shape: done in place
    assert overwrite(core, t, INT16, [4, 4], b"\x02" * 32) == 0
    c = t.contents
    assert (c.dtype, c.len, c.nbytes, c.refcount) == (INT16, 16, 32, 1)
    assert ctypes.addressof(c.data.contents) == data
    assert ctypes.string_at(c.data, 32) == b"\x02" * 32
    assert list(ctypes.cast(ctypes.addressof(c) + ctypes.sizeof(Tensor),
                            ctypes.POINTER(ctypes.c_int64))[:2]) == [4, 4]  # fmt: skip
    core.ai_tensor_decref(t)


def test_overwrite_refuses_and_leaves_the_tensor_untouched(core):
    t, _ = new(core, UINT8, [4])
    assert core.ai_tensor_copy_blob(t, b"\x00\x01\x00\x01", 4) == OK
    refused = [
        (UINT8, [2, 2], b"\x05" * 4),  # other ndims: the header has no room
        (UINT8, [5], b"\x05" * 5),  # other byte size
        (INT16, [4], b"\x05" * 8),  # other byte size through the dtype
        (UINT8, [4], b"\x05" * 3),  # blob shorter than the shape
        (BOOL, [4], b"\x01\x02\x00\x00"),  # invalid BOOL byte
        (STRING, [4], b"a\x00b\x00"),  # STRING: offsets depend on the contents
    ]
    for dtype, dims, blob in refused:
        assert overwrite(core, t, dtype, dims, blob) == -1
    core.ai_tensor_incref(t)  # another holder (a running request, a COPY) sees the old data
    assert overwrite(core, t, UINT8, [4], b"\x07" * 4) == -1
    core.ai_tensor_decref(t)
    c = t.contents
    assert (c.dtype, c.len, c.nbytes) == (UINT8, 4, 4)
    assert ctypes.string_at(c.data, 4) == b"\x00\x01\x00\x01"
    assert overwrite(core, t, BOOL, [4], b"\x01\x01\x00\x01") == 0
    core.ai_tensor_decref(t)
    s, _ = new(core, STRING, [2])
    assert core.ai_tensor_copy_blob(s, b"a\x00b\x00", 4) == OK
    assert overwrite(core, s, UINT8, [4], b"\x01" * 4) == -1
    core.ai_tensor_decref(s)


def test_overwrite_with_an_owner_swaps_owners(core):
    released = []
    release_type = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    release = release_type(released.append)
    hook = ctypes.c_void_p.in_dll(core, "ai_tensor_owner_release")
    saved = hook.value
    hook.value = ctypes.cast(release, ctypes.c_void_p).value
    try:
        first, second = b"\x03" * 8, b"\x04" * 4  # stand for the owners' buffers
        t, _ = new(core, UINT8, [8])
        assert core.ai_tensor_copy_blob(t, b"\x00" * 8, 8) == OK
        # its own data is freed, the owner's buffer adopted without a copy
        assert overwrite(core, t, UINT8, [8], first, owner=11) == 0
        assert t.contents.owner == 11 and released == []
        assert ctypes.string_at(t.contents.data, 8) == first
        # an owner may bring another byte size; the previous owner is released
        assert overwrite(core, t, INT16, [2], second, owner=12) == 0
        assert (t.contents.owner, t.contents.nbytes, t.contents.len) == (12, 4, 2)
        assert released == [11]
        # without an owner, a tensor that has one is rebuilt by the caller instead
        assert overwrite(core, t, INT16, [2], b"\x00" * 4) == -1
        core.ai_tensor_decref(t)
        assert released == [11, 12]
    finally:
        hook.value = saved
