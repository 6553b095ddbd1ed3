"""Small real models and scripts, built on the spot (tests, benchmarks, docs).

Each builder imports its framework lazily, so importing this module costs nothing.
"""

from __future__ import annotations

import io

import numpy as np


def torch_linear_bytes(n_in: int = 10, n_out: int = 1, seed: int = 0) -> tuple[bytes, object]:
    """A TorchScript ``nn.Linear`` model: its archive bytes and the scripted module."""
    import torch

    class Linear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = torch.nn.Linear(n_in, n_out)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer(x)

    torch.manual_seed(seed)
    module = torch.jit.script(Linear())
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    return buf.getvalue(), module


def torch_two_outputs_bytes() -> bytes:
    """forward(a, b) -> (a + b, a * b)."""
    import torch

    class Two(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return a + b, a * b

    return torch_script_bytes(Two())


def torch_scale_bytes() -> bytes:
    """forward(x) -> 2 * x, any shape (for moving big tensors through a model)."""
    import torch

    class Scale(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2

    return torch_script_bytes(Scale())


def torch_cnn_module(channels: tuple[int, int] = (8, 16)) -> object:
    """A small CNN for 1x28x28 images, 10 classes (``channels``: the two conv widths), seeded."""
    import torch

    c1, c2 = channels

    class CNN(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, c1, 3)
            self.conv2 = torch.nn.Conv2d(c1, c2, 3)
            self.fc = torch.nn.Linear(c2 * 5 * 5, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = torch.nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
            x = torch.nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
            return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)

    torch.manual_seed(0)
    return CNN().eval()


def torch_cnn_bytes(channels: tuple[int, int] = (8, 16)) -> bytes:
    """:func:`torch_cnn_module` as a TorchScript archive."""
    return torch_script_bytes(torch_cnn_module(channels))


def torch_mnist_module() -> object:
    """The MNIST CNN of SmartSim's examples (convs of 32 and 64 channels, 9216 -> 128 -> 10,
    log-softmax) for 1x28x28 images, seeded."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
            return F.log_softmax(self.fc2(F.relu(self.fc1(torch.flatten(x, 1)))), dim=1)

    torch.manual_seed(0)
    return Net().eval()


def torch_script_bytes(module: object) -> bytes:
    """``module`` scripted and saved as a TorchScript archive."""
    import torch

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(module), buf)
    return buf.getvalue()


def torch_export_bytes(
    module: object,
    example: tuple[object, ...],
    batch_dim: bool = True,
    max_batch: int | None = 1024,
) -> bytes:
    """``module`` as a ``torch.export.save`` archive (.pt2) traced on ``example``; with
    ``batch_dim`` every input's dim 0 is exported as ``torch.export.Dim("batch")`` (up to
    ``max_batch``; None: unbounded), as auto-batching needs; without it every shape is fixed."""
    import torch

    dynamic = None
    if batch_dim:
        batch = torch.export.Dim("batch", max=max_batch)
        dynamic = tuple({0: batch} for _ in example)
    program = torch.export.export(module, example, dynamic_shapes=dynamic)  # type: ignore[arg-type]
    buf = io.BytesIO()
    torch.export.save(program, buf)
    return buf.getvalue()


def torch_cnn_export_bytes(channels: tuple[int, int] = (8, 16), batch_dim: bool = True) -> bytes:
    """:func:`torch_cnn_module` as a .pt2 archive (example batch of 2 images)."""
    import torch

    return torch_export_bytes(
        torch_cnn_module(channels), (torch.zeros(2, 1, 28, 28),), batch_dim=batch_dim
    )


def onnx_linear_regression() -> tuple[bytes, object]:
    """skl2onnx LinearRegression on 3 features (ONNX-ML ops)."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    x = rng.random((20, 3)).astype(np.float32)
    y = x @ np.array([1.0, 2.0, 3.0], dtype=np.float32) + 0.5
    model = LinearRegression().fit(x, y)
    return to_onnx(model, x[:1]).SerializeToString(), model


def onnx_logistic_regression() -> tuple[bytes, object]:
    """skl2onnx LogisticRegression (label tensor + ZipMap probabilities, a non-tensor)."""
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = rng.random((40, 4)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    model = LogisticRegression().fit(x, y)
    return to_onnx(model, x[:1]).SerializeToString(), model


def onnx_expand_model(n: int) -> bytes:
    """ONNX graph ``y = Expand(x, [n])``: a float32[1] input becomes an ``n``-element output."""
    import onnx
    from onnx import TensorProto, helper

    shape = helper.make_tensor("shape", TensorProto.INT64, [1], [n])
    node = helper.make_node("Expand", ["x", "shape"], ["y"])
    graph = helper.make_graph(
        [node],
        "expand",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n])],
        initializer=[shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def tf_frozen_graph() -> tuple[bytes, str, str, object]:
    """A frozen TF graph (Keras dense layer) as SmartSim's freeze_model makes it."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    tf.random.set_seed(0)
    dense = tf.keras.layers.Dense(2)
    dense.build((None, 4))

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x")])
    def fn(x: tf.Tensor) -> tf.Tensor:
        return tf.identity(dense(x), name="y")

    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    graph_def = frozen.graph.as_graph_def()
    inputs = [op.name for op in frozen.graph.get_operations() if op.type == "Placeholder"]
    return graph_def.SerializeToString(), inputs[0], "y", frozen


def tflite_model() -> bytes:
    """A .tflite flatbuffer computing ``2 * x + 1`` on float32[1, 4]."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="x")])
    def fn(x: tf.Tensor) -> tf.Tensor:
        return 2.0 * x + 1.0

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    return converter.convert()


SCRIPT = '''
def one_to_one(data):
    """SmartRedis-style function."""
    return data.max(1)[0]

def two_to_one(a, b):
    return a + b

def concat_all(tensors: List[Tensor]):
    return torch.cat(tensors, dim=0)

def first_and_rest(first, rest: List[Tensor]):
    return first * len(rest)

def ep(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * int(args[0]), tensors[1]

def hog(x):
    return torch.ones(200000000) + x.sum()

def spin(x):
    y = x
    for i in range(2000000000):
        y = y + 1
    return y
'''
