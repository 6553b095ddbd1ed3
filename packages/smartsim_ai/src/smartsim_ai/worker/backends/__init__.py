"""Model backends behind one load/run interface, imported lazily.

A backend module defines ``load(blob, device, inputs, outputs, options) -> LoadedModel``.
A :class:`LoadedModel` has ``inputs`` and ``outputs`` (names, as AI.MODELGET reports them) and
``run(arrays) -> list[array | None]`` (``None``: an output that is not a tensor, left unwritten).
Adding a backend is one file here and one line in :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

REGISTRY: dict[str, str] = {
    "TORCH": "smartsim_ai.worker.backends.torch",
    "ONNX": "smartsim_ai.worker.backends.onnx",
    "TF": "smartsim_ai.worker.backends.tf",
    "TFLITE": "smartsim_ai.worker.backends.tflite",
    "TORCHSCRIPT": "smartsim_ai.worker.backends.torchscript",
}
_LOADED: dict[str, ModuleType] = {}


class BackendError(RuntimeError):
    """A backend failed; the message is sent back to the client as one line."""


@dataclass(frozen=True)
class Options:
    """Per-worker settings that backends honour."""

    intra_op_threads: int = 0
    inter_op_threads: int = 0
    memory_limit_mb: int = 0  # BACKEND_MEMORY_LIMIT (enforced by the worker with RLIMIT_DATA)


class LoadedModel(Protocol):
    inputs: list[str]
    outputs: list[str]

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray | None]: ...


def get(name: str) -> ModuleType:
    """The backend module for ``name``, importing it (and logging the cost) on first use."""
    module = _LOADED.get(name)
    if module is not None:
        return module
    path = REGISTRY.get(name.upper())
    if path is None:
        raise BackendError("ERR unsupported backend")
    start = time.perf_counter()
    try:
        module = importlib.import_module(path)
    except ImportError as exc:
        # RedisAI's reply, word for word; the reason goes to the server log
        logger.error("backend %s cannot be imported: %s", name, exc)
        raise BackendError("ERR Could not load backend") from exc
    logger.warning(
        "backend %s loaded in %.2f s (first use in this worker)", name, time.perf_counter() - start
    )
    _LOADED[name] = module
    return module


def one_line(exc: BaseException | str) -> str:
    """An exception's text on one line (newlines become spaces, as RedisAI does)."""
    text = exc if isinstance(exc, str) else (str(exc).strip() or type(exc).__name__)
    return text.replace("\r", " ").replace("\n", " ")


def torch_device(device: str) -> Any:
    """Map a RedisAI device string (CPU, GPU, GPU:1) to a torch device."""
    import torch

    dev = device.upper()
    if dev.startswith("GPU"):
        if not torch.cuda.is_available():
            raise BackendError("GPU requested but Torch couldn't find CUDA")
        index = dev.partition(":")[2]
        return torch.device(f"cuda:{index}" if index else "cuda")
    return torch.device("cpu")
