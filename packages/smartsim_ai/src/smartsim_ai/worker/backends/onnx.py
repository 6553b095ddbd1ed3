"""ONNX backend (also ONNX-ML models such as skl2onnx's) through onnxruntime."""

from __future__ import annotations

import os

# no usage telemetry: a worker has no business calling out (and cannot write its state file)
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import logging

import numpy as np
import onnxruntime as ort

from smartsim_ai.worker.backends import BackendError, Options, filecheck, one_line

logger = logging.getLogger(__name__)
_unchecked_logged = False

VERSION = ort.__version__

_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int8)": np.int8,
    "tensor(int16)": np.int16,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(bool)": np.bool_,
}


class OnnxModel:
    def __init__(self, blob: bytes | memoryview, device: str, options: Options) -> None:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if options.intra_op_threads > 0:
            opts.intra_op_num_threads = options.intra_op_threads
        if options.inter_op_threads > 0:
            opts.inter_op_num_threads = options.inter_op_threads
        providers = ["CPUExecutionProvider"]
        if device.upper().startswith("GPU"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendError("GPU requested but ONNX couldn't find CUDA")  # RedisAI's text
            index = device.partition(":")[2] or "0"
            providers = [("CUDAExecutionProvider", {"device_id": int(index)})]
        data = bytes(blob)
        if not filecheck.refuse_onnx(data):
            global _unchecked_logged
            if not _unchecked_logged:
                _unchecked_logged = True
                logger.warning(
                    "the onnx package is not installed: ONNX models with external data are "
                    "not refused at load (the worker's sandbox still denies the files)"
                )
        try:
            self.session = ort.InferenceSession(data, opts, providers=providers)
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
        self.memory_limited = options.memory_limit_mb > 0
        self._in = self.session.get_inputs()
        self.inputs = [i.name for i in self._in]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
        if len(arrays) != len(self._in):
            raise BackendError(f"ERR Expected {len(self._in)} inputs but got {len(arrays)}")
        feed = {}
        for meta, arr in zip(self._in, arrays):
            if arr.dtype == object:
                arr = arr.astype(str)
            feed[meta.name] = arr
        try:
            results = self.session.run(None, feed)
        except Exception as exc:
            text = one_line(exc)
            if self.memory_limited and ("alloc" in text.lower() or "memory" in text.lower()):
                # RedisAI's text for a run past BACKEND_MEMORY_LIMIT
                raise BackendError(
                    "Onnxruntime memory limit exceeded, memory allocation failed."
                ) from exc
            raise BackendError(text) from exc
        # ONNX-ML ZipMap outputs are lists of dicts: not tensors, left unwritten (as RedisAI).
        return [r if isinstance(r, np.ndarray) else None for r in results]


def load(
    blob: bytes | memoryview, device: str, inputs: list[str], outputs: list[str], options: Options
) -> OnnxModel:
    return OnnxModel(blob, device, options)
