"""Model backends behind one load/run interface, imported lazily.

A backend module defines ``load(blob, device, inputs, outputs, options) -> LoadedModel``.
A :class:`LoadedModel` has ``inputs`` and ``outputs`` (names, as AI.MODELGET reports them) and
``run(arrays) -> list[array | None]`` (``None``: an output that is not a tensor, left unwritten).
Adding a backend is one file here and one line in :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
import logging
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def vm_data_bytes() -> int:
    """The process's data segment (VmData), what RLIMIT_DATA limits; 0 when unknown."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextmanager
def outside_memory_limit(keep: int = 0) -> Iterator[None]:
    """Run the block the way the worker imports a backend: outside BACKEND_MEMORY_LIMIT.

    For a part of a backend that imports on its first use (torch.export's loader pulls in
    torch._dynamo, sympy, ...): the soft RLIMIT_DATA is lifted to the hard one for the block,
    then set back raised by what the block took, less ``keep`` bytes (what the block made
    that should still count against the limit: the model being loaded)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if soft == resource.RLIM_INFINITY or soft == hard:
        yield
        return
    before = vm_data_bytes()
    resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))
    try:
        yield
    finally:
        limit = soft + max(0, vm_data_bytes() - before - keep)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


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
