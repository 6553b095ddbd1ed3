"""TF backend: frozen GraphDefs (variables folded into constants) with named inputs/outputs."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

from smartsim_ai.worker.backends import BackendError, Options, filecheck, one_line

VERSION = tf.__version__


class TFModel:
    def __init__(
        self,
        blob: bytes | memoryview,
        device: str,
        inputs: list[str],
        outputs: list[str],
        options: Options,
    ) -> None:
        graph_def = tf.compat.v1.GraphDef()
        try:
            graph_def.ParseFromString(bytes(blob))
        except Exception as exc:
            raise BackendError("Invalid GraphDef") from exc
        filecheck.refuse_tf(graph_def)
        self.graph = tf.Graph()
        dev = (
            "/GPU:" + (device.partition(":")[2] or "0")
            if device.upper().startswith("GPU")
            else "/CPU:0"
        )
        try:
            with self.graph.as_default(), tf.device(dev):
                tf.graph_util.import_graph_def(graph_def, name="")
        except Exception as exc:
            raise BackendError("Invalid GraphDef") from exc
        ops = {op.name: op for op in self.graph.get_operations()}
        for name in inputs:
            op = ops.get(name)
            if op is None or op.type != "Placeholder":
                raise BackendError(f'ERR Input node named "{name}" not found in TF graph.')
        for name in outputs:
            if name not in ops:
                raise BackendError(f'ERR Output node named "{name}" not found in TF graph')
        if device.upper().startswith("GPU") and not tf.config.list_physical_devices("GPU"):
            raise BackendError("GPU requested but TF couldn't find CUDA")  # RedisAI's text
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self._feeds = [self.graph.get_tensor_by_name(n + ":0") for n in inputs]
        self._fetches = [self.graph.get_tensor_by_name(n + ":0") for n in outputs]
        config = tf.compat.v1.ConfigProto(
            intra_op_parallelism_threads=max(options.intra_op_threads, 0),
            inter_op_parallelism_threads=max(options.inter_op_threads, 0),
        )
        config.gpu_options.allow_growth = True
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
        feed = {}
        for t, arr in zip(self._feeds, arrays):
            feed[t] = arr.astype(bytes) if arr.dtype == object else arr
        try:
            results = self.session.run(self._fetches, feed_dict=feed)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise BackendError(one_line(message)) from exc
        return [np.asarray(r) for r in results]


def load(
    blob: bytes | memoryview, device: str, inputs: list[str], outputs: list[str], options: Options
) -> TFModel:
    if not inputs:
        raise BackendError("ERR INPUTS not specified for TF")
    return TFModel(blob, device, inputs, outputs, options)
