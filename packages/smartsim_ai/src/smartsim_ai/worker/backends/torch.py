"""TORCH backend: TorchScript archives (``torch.jit.save``) run through ``forward``, and
``torch.export.save`` programs (.pt2, told apart by their bytes: :mod:`.torch_export`)."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from smartsim_ai.worker.backends import BackendError, Options, filecheck, one_line, torch_device

if TYPE_CHECKING:
    from smartsim_ai.worker.backends.torch_export import ExportedModel

VERSION = torch.__version__

logger = logging.getLogger(__name__)
_threads_set = False


def configure(options: Options) -> None:
    """Apply INTRA/INTER_OP_PARALLELISM once per process (torch settings are global)."""
    global _threads_set
    if _threads_set:
        return
    _threads_set = True
    torch.set_grad_enabled(False)  # a worker only infers; saves a context manager per run
    if options.intra_op_threads > 0:
        torch.set_num_threads(options.intra_op_threads)
    if options.inter_op_threads > 0:
        try:
            torch.set_num_interop_threads(options.inter_op_threads)
        except RuntimeError as exc:  # already started
            logger.warning("could not set torch inter-op threads: %s", exc)


def _count_tensors(type_: Any) -> int:
    kind = type_.kind()
    if kind == "TupleType":
        return sum(_count_tensors(t) for t in type_.elements())
    return 1 if kind == "TensorType" else 0


def flatten(value: Any, out: list[Any]) -> None:
    """Tensors of a returned value in order (Tensor, or nested tuples/lists of them)."""
    if isinstance(value, torch.Tensor):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for item in value:
            flatten(item, out)
    else:
        out.append(value)


def to_numpy(value: Any) -> np.ndarray:
    if not isinstance(value, torch.Tensor):
        raise BackendError("ERR model returned a non-tensor value")
    if value.requires_grad:
        value = value.detach()
    if value.device.type != "cpu":
        value = value.cpu()
    if not value.is_contiguous():
        value = value.contiguous()
    return value.numpy()


def to_torch(arr: np.ndarray, device: torch.device) -> torch.Tensor:
    if arr.dtype == object:
        raise BackendError("Unsupported code 7")
    if arr.dtype == np.uint16:
        raise BackendError("Unsupported kUInt bits 16")
    tensor = torch.from_numpy(arr)
    return tensor if device.type == "cpu" else tensor.to(device)


class TorchModel:
    def __init__(self, blob: bytes | memoryview, device: str, options: Options) -> None:
        configure(options)
        self.device = torch_device(device)
        try:
            self.module = torch.jit.load(io.BytesIO(blob), map_location=self.device)
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
        self.module.eval()
        filecheck.refuse_torch(filecheck.module_graphs(self.module), "model")
        try:
            schema = self.module.forward.schema
        except AttributeError as exc:
            raise BackendError("ERR the TorchScript module has no forward method") from exc
        self.inputs = [a.name for a in schema.arguments[1:]]
        rets = schema.returns
        self.outputs = [""] * (sum(_count_tensors(r.type) for r in rets) or len(rets))

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
        inputs = [to_torch(a, self.device) for a in arrays]
        try:
            result = self.module.forward(*inputs)
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
        flat: list[Any] = []
        flatten(result, flat)
        return [to_numpy(t) for t in flat]


def load(
    blob: bytes | memoryview, device: str, inputs: list[str], outputs: list[str], options: Options
) -> TorchModel | ExportedModel:
    from smartsim_ai.worker.backends import torch_export

    data = blob if isinstance(blob, bytes) else bytes(blob)  # BytesIO(bytes) shares, no copy
    reader = torch_export.open_archive(data)
    if reader is None:
        return TorchModel(data, device, options)
    return torch_export.ExportedModel(reader, device, options, len(data))
