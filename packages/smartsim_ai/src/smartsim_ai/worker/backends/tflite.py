"""TFLITE backend: ``.tflite`` flatbuffers through ``tf.lite.Interpreter``."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from smartsim_ai.worker.backends import BackendError, Options, filecheck, one_line

VERSION = tf.__version__


class TFLiteModel:
    def __init__(self, blob: bytes | memoryview, device: str, options: Options) -> None:
        try:
            self.interp = tf.lite.Interpreter(
                model_content=bytes(blob),
                num_threads=options.intra_op_threads if options.intra_op_threads > 0 else None,
            )
            self._refuse_file_ops()
            self.interp.allocate_tensors()
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError("Failed to load model from buffer") from exc
        self._in = self.interp.get_input_details()
        self._out = self.interp.get_output_details()
        self.inputs = [d["name"] for d in self._in]
        self.outputs = [d["name"] for d in self._out]

    def _refuse_file_ops(self) -> None:
        """Select TF ops (``Flex<Op>``, run by TF's kernels where the Flex delegate is linked)
        that read or write files are refused like in TF graphs."""
        try:
            names = {d["op_name"] for d in self.interp._get_ops_details()}
        except Exception:  # private API: the sandbox still denies the files
            return
        found = sorted(n for n in names if n.startswith("Flex") and n[4:] in filecheck.TF_FILE_OPS)
        if found:
            raise BackendError(
                f"ERR the model uses {', '.join(found)}, which reads or writes files: refused; "
                + filecheck.HINT
            )

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
        try:
            resized = False
            for detail, arr in zip(self._in, arrays):
                if arr.dtype != detail["dtype"]:
                    raise BackendError(
                        "Input tensor type doesn't match the type expected by the model definition"
                    )
                if tuple(detail["shape"]) != arr.shape:
                    self.interp.resize_tensor_input(detail["index"], arr.shape)
                    resized = True
            if resized:
                self.interp.allocate_tensors()
                self._in = self.interp.get_input_details()
            for detail, arr in zip(self._in, arrays):
                self.interp.set_tensor(detail["index"], arr)
            self.interp.invoke()
            return [self.interp.get_tensor(d["index"]).copy() for d in self._out]
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc


def load(
    blob: bytes | memoryview, device: str, inputs: list[str], outputs: list[str], options: Options
) -> TFLiteModel:
    return TFLiteModel(blob, device, options)
