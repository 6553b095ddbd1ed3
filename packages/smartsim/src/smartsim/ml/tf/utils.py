"""Keras model to a frozen TF graph that the database's TF backend runs."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2,
)


def _frozen_graph(model: tf.keras.Model) -> tuple[tf.compat.v1.GraphDef, list[str], list[str]]:
    if not getattr(model, "inputs", None):
        raise ValueError(
            "the model has no defined inputs: build it first (a Functional or Sequential model "
            "with an Input layer, or call it once on data)"
        )
    specs = [tf.TensorSpec(t.shape, t.dtype, name=f"input_{i}") for i, t in enumerate(model.inputs)]

    @tf.function(input_signature=specs)
    def serve(*inputs: tf.Tensor) -> object:
        return model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

    frozen = convert_variables_to_constants_v2(serve.get_concrete_function())
    graph_def = frozen.graph.as_graph_def()
    inputs = [t.name.split(":")[0] for t in frozen.inputs]
    outputs = [t.name.split(":")[0] for t in frozen.outputs]
    return graph_def, inputs, outputs


def freeze_model(model: tf.keras.Model, output_dir: str, file_name: str) -> tuple[str, list, list]:
    """Write ``model`` as a frozen graph ``output_dir/file_name`` (``.pb`` added when missing).

    Returns the file's path and the graph's input and output names, to pass to
    ``Client.set_model_from_file(..., "TF", inputs=..., outputs=...)``.
    """
    graph_def, inputs, outputs = _frozen_graph(model)
    name = file_name if file_name.endswith(".pb") else file_name + ".pb"
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    tf.io.write_graph(graph_def, str(output_dir), name, as_text=False)
    return str(Path(output_dir) / name), inputs, outputs


def serialize_model(model: tf.keras.Model) -> tuple[bytes, list, list]:
    """The frozen graph of ``model`` as bytes, with its input and output names."""
    graph_def, inputs, outputs = _frozen_graph(model)
    return graph_def.SerializeToString(), inputs, outputs
