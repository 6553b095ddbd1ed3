"""The worker process and its private protocol, exercised directly (no server)."""

from __future__ import annotations

import numpy as np
import pytest

from smartsim_ai.worker import protocol
from smartsim_ai.worker.client import WorkerClient, WorkerError


def roundtrip(msg: protocol.Message) -> protocol.Message:
    frame = b"".join(bytes(b) for b in protocol.encode(msg))
    assert int.from_bytes(frame[:8], "little") == len(frame) - 8
    return protocol.decode(bytearray(frame[8:]))


@pytest.mark.parametrize(
    "arr",
    [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.arange(5, dtype=np.int64),
        np.array([True, False]),
        np.arange(6, dtype=np.uint16).reshape(2, 3),
        np.float64(3.5),
    ],
)
def test_tensor_roundtrip_keeps_dtype_shape_and_bytes(arr: np.ndarray) -> None:
    back = roundtrip(protocol.Result(7, 12, [np.asarray(arr), None]))
    assert isinstance(back, protocol.Result)
    assert back.req_id == 7 and back.duration_us == 12
    out, absent = back.tensors
    assert absent is None
    assert out.dtype == np.asarray(arr).dtype and out.shape == np.asarray(arr).shape
    np.testing.assert_array_equal(out, arr)


def test_string_tensor_roundtrip() -> None:
    arr = np.array(["ab", "", "xyz"], dtype=object)
    back = roundtrip(protocol.RunModel(1, 2, [arr]))
    assert list(back.tensors[0]) == ["ab", "", "xyz"]


def test_decoded_arrays_are_views_of_the_frame() -> None:
    frame = bytearray(
        b"".join(bytes(b) for b in protocol.encode(protocol.RunModel(1, 9, [np.ones(4, "<f4")])))[
            8:
        ]
    )
    msg = protocol.decode(frame)
    arr = msg.tensors[0]
    frame[-4:] = np.float32(5).tobytes()
    assert arr[-1] == 5.0  # no copy was made


def test_unsupported_dtype_is_rejected() -> None:
    with pytest.raises(protocol.UnsupportedDtypeError):
        protocol.encode(protocol.Result(1, 0, [np.zeros(2, dtype=np.float16)]))


def test_load_message_roundtrip() -> None:
    msg = protocol.Load(3, 4, protocol.KIND_MODEL, "TF", "GPU:1", ["a"], ["b", "c"], [], b"xyz")
    back = roundtrip(msg)
    assert isinstance(back, protocol.Load)
    assert (back.backend, back.device, back.inputs, back.outputs) == (
        "TF",
        "GPU:1",
        ["a"],
        ["b", "c"],
    )
    assert bytes(back.blob) == b"xyz"


@pytest.mark.torch
def test_worker_runs_a_torch_model_and_scripts() -> None:
    import torch

    from smartsim_ai.worker.samples import SCRIPT, torch_linear_bytes

    blob, module = torch_linear_bytes()
    x = np.random.default_rng(0).random((3, 10), dtype=np.float32)
    with WorkerClient() as worker:
        loaded = worker.load_model(1, "TORCH", blob)
        assert loaded.inputs == ["x"] and loaded.outputs == [""]
        result = worker.run_model(1, [x])
        expected = module(torch.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(result.tensors[0], expected, rtol=1e-6)
        # an object the worker does not hold is reported, not guessed
        assert isinstance(worker.run_model(99, [x]), protocol.Unknown)

        worker.load_script(2, SCRIPT, entry_points=["ep"])
        out = worker.run_script(2, "two_to_one", [x, x], 1).tensors[0]
        np.testing.assert_allclose(out, 2 * x)
        out = worker.run_script(2, "concat_all", [x, x, x], 1).tensors[0]
        assert out.shape == (9, 10)
        out = worker.run_script(2, "first_and_rest", [x, x, x], 1).tensors[0]
        np.testing.assert_allclose(out, 2 * x)
        outs = worker.run_script(2, "ep", [x, x], 2, keys=["k"], args=["3"]).tensors
        np.testing.assert_allclose(outs[0], 3 * x)
        with pytest.raises(WorkerError, match="Function does not exist: nope"):
            worker.run_script(2, "nope", [x], 1)
        with pytest.raises(WorkerError, match="unexpected number of outputs - two_to_one"):
            worker.run_script(2, "two_to_one", [x, x], 2)
        with pytest.raises(WorkerError, match="Wrong number of inputs provided to function"):
            worker.run_script(2, "two_to_one", [x], 1)
        with pytest.raises(WorkerError, match="Function nope does not exist in the given script"):
            worker.load_script(3, SCRIPT, entry_points=["nope"])
        with pytest.raises(WorkerError, match="Wrong number of inputs in function two_to_one"):
            worker.load_script(3, SCRIPT, entry_points=["two_to_one"])
        # UNLOAD drops an object: a later run reports it unknown
        worker.load_model(5, "TORCH", blob)
        assert isinstance(worker.request(protocol.Unload(50, 5)), protocol.Pong)
        assert isinstance(worker.run_model(5, [x]), protocol.Unknown)
        # the worker survives bad input and keeps serving
        with pytest.raises(WorkerError):
            worker.load_model(4, "TORCH", b"not a model")
        assert isinstance(worker.run_model(1, [x]), protocol.Result)


@pytest.mark.onnx
def test_worker_runs_onnx_ml_models_and_skips_non_tensor_outputs() -> None:
    from smartsim_ai.worker.samples import onnx_linear_regression, onnx_logistic_regression

    blob, model = onnx_linear_regression()
    x = np.random.default_rng(2).random((5, 3), dtype=np.float32)
    with WorkerClient() as worker:
        loaded = worker.load_model(1, "ONNX", blob)
        assert len(loaded.inputs) == 1 and len(loaded.outputs) == 1
        out = worker.run_model(1, [x]).tensors[0]
        np.testing.assert_allclose(out.reshape(-1), model.predict(x), rtol=1e-5)

        blob, clf = onnx_logistic_regression()
        loaded = worker.load_model(2, "ONNX", blob)
        assert len(loaded.outputs) == 2
        x4 = np.random.default_rng(3).random((6, 4), dtype=np.float32)
        label, probabilities = worker.run_model(2, [x4]).tensors
        np.testing.assert_array_equal(label, clf.predict(x4))
        assert probabilities is None  # ZipMap output: not a tensor, left unwritten
        with pytest.raises(WorkerError):
            worker.load_model(3, "ONNX", b"garbage")


# ---------------------------------------------------------------------------------------------
# Shared memory regions (the module's SHM_THRESHOLD path), over real memfds


def _sealed_region() -> protocol.SharedRegion:
    """A region made as the module makes one: a memfd sealed against shrinking."""
    import fcntl
    import os

    fd = os.memfd_create("test-region", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    return protocol.SharedRegion(fd)


SHM_DTYPES = ["<f4", "<f8", "i1", "<i2", "<i4", "<i8", "u1", "<u2", "?"]


@pytest.mark.parametrize("dtype", SHM_DTYPES)
def test_result_tensors_at_the_threshold_go_through_the_region(dtype: str) -> None:
    import os

    out = _sealed_region()
    try:
        worker_side = protocol.SharedMemory(_sealed_region(), out, threshold=4096)
        itemsize = np.dtype(dtype).itemsize
        rng = np.random.default_rng(0)
        arrays = [
            (rng.random(n) * 100).astype(dtype)
            for n in (4096 // itemsize - 1, 4096 // itemsize, 4096 // itemsize + 1, 300_000)
        ]
        frame = b"".join(
            bytes(b) for b in protocol.encode(protocol.Result(3, 1, arrays), worker_side)
        )
        # below the threshold the bytes are in the frame, at and above only (offset, length)
        assert len(frame) < 4096 // itemsize * itemsize + 1024
        module_side = protocol.SharedMemory(protocol.SharedRegion(out.fd), out, threshold=4096)
        back = protocol.decode(bytearray(frame[8:]), module_side)
        assert isinstance(back, protocol.Result)
        for arr, got in zip(arrays, back.tensors):
            assert got.dtype == arr.dtype and got.shape == arr.shape
            assert got.tobytes() == arr.tobytes()
        assert os.fstat(out.fd).st_size >= 300_000 * itemsize
    finally:
        os.close(out.fd)


def test_region_content_is_converted_in_one_pass_and_strings_fit() -> None:
    import os

    out = _sealed_region()
    try:
        shm = protocol.SharedMemory(_sealed_region(), out, threshold=64)
        big_endian = np.arange(5000, dtype=">i4")
        strided = np.arange(20000, dtype=np.float64).reshape(100, 200)[:, ::2]
        strings = np.array(["x" * 50, "", "yz"] * 20, dtype=object)
        frame = b"".join(
            bytes(b)
            for b in protocol.encode(protocol.Result(1, 1, [big_endian, strided, strings]), shm)
        )
        back = protocol.decode(bytearray(frame[8:]), protocol.SharedMemory(out, out, 64))
        np.testing.assert_array_equal(back.tensors[0], big_endian)
        assert back.tensors[0].dtype == np.dtype("<i4")
        np.testing.assert_array_equal(back.tensors[1], strided)
        assert list(back.tensors[2]) == list(strings)
    finally:
        os.close(out.fd)


def test_region_cannot_shrink_and_out_of_range_is_a_protocol_error() -> None:
    import os

    region = _sealed_region()
    try:
        region.reserve(1 << 20)
        with pytest.raises(PermissionError):
            os.ftruncate(region.fd, 4096)  # the seal: no mapping of either side can fault
        with pytest.raises(protocol.ProtocolError, match="outside its shared region"):
            region.view(os.fstat(region.fd).st_size - 8, 64)
        # a frame naming the region without one is refused, not read from anywhere
        head = protocol._HEAD.pack(protocol.MSG_RUN_MODEL, 1) + protocol._U64.pack(9)
        tensor = protocol._U32.pack(1) + protocol._TENSOR_HEAD.pack(protocol.SHM, 1)
        frame = head + tensor + np.array([4], "<q").tobytes() + np.array([0, 16], "<Q").tobytes()
        with pytest.raises(protocol.ProtocolError, match="no region"):
            protocol.decode(bytearray(frame))
    finally:
        os.close(region.fd)
