"""TORCH models saved with ``torch.export.save`` (an ExportedProgram, a ``.pt2`` zip archive).

The TORCH backend (:mod:`.torch`) hands a blob here when its bytes are a ``.pt2`` archive
(:func:`is_exported_program`); TorchScript archives stay with ``torch.jit.load``.  The archive is
checked by :mod:`.pt2check` before torch deserializes it (no pickle, no native code, no Python
from the file), then run as ``ExportedProgram.module()``, like a TorchScript ``forward``.

An exported program has fixed input shapes except the dimensions exported as
``torch.export.Dim``: inputs are checked against them before each run, with an error that says
which dimension is fixed, and why it matters for BATCHSIZE (requests are concatenated along
dimension 0).
"""

from __future__ import annotations

import io
import logging
import os
from typing import Any

import numpy as np
import torch

from smartsim_ai.worker.backends import (
    BackendError,
    Options,
    one_line,
    outside_memory_limit,
    pt2check,
    torch_device,
)

logger = logging.getLogger(__name__)
_first_load = True

_ZIP_MAGIC = b"PK\x03\x04"
# record names only a .pt2 archive has: a damaged one is still recognised by them
_PT2_MARKERS = (b"/archive_format", b"/models/model.json", b"/model_weights_config.json")

BATCH_HINT = (
    "a torch.export program has fixed shapes except the dimensions exported with "
    "torch.export.Dim; with BATCHSIZE the engine concatenates requests along dim 0, so export "
    "it as dynamic_shapes={'<input>': {0: torch.export.Dim('batch', max=<n>)}} "
    "(docs/workers.md, 'torch.export programs')"
)


def open_archive(blob: bytes | memoryview) -> Any | None:
    """The blob as torch's zip reader when it is a .pt2 archive, else None (TorchScript or not
    a zip).  A damaged archive that still shows .pt2 record names raises torch's reader error."""
    head = bytes(blob[:4])
    if head != _ZIP_MAGIC:
        return None
    try:
        reader = torch._C.PyTorchFileReader(io.BytesIO(blob))
    except Exception as exc:
        data = blob if isinstance(blob, bytes) else bytes(blob)
        if any(marker in data for marker in _PT2_MARKERS):
            raise BackendError(one_line(exc)) from exc
        return None  # let torch.jit.load report it as it always has
    return reader if pt2check.is_pt2(reader) else None


def is_exported_program(blob: bytes | memoryview) -> bool:
    """Whether ``blob`` is a ``torch.export.save`` archive (decided from its bytes)."""
    try:
        return open_archive(blob) is not None
    except BackendError:
        return True


def _settle_inductor_cache_dir() -> None:
    """Point TORCHINDUCTOR_CACHE_DIR (unless set) at a directory that exists and that the
    worker cannot write: torch's own ``_inductor`` package folder.

    Importing the loader imports torch._dynamo, whose module code asks for inductor's cache
    directory and creates it (``$TMPDIR/torchinductor_<user>``): a write the Landlock sandbox
    refuses (PermissionError, the import half done).  The worker never compiles, so the cache
    is never written; an existing folder makes the ``makedirs`` a no-op, and one under torch's
    installation cannot hold a bisect file planted in /tmp that inductor would read."""
    if "TORCHINDUCTOR_CACHE_DIR" not in os.environ:
        folder = os.path.join(os.path.dirname(torch.__file__), "_inductor")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = folder
        logger.debug("TORCHINDUCTOR_CACHE_DIR set to %s (nothing is compiled)", folder)


def _dims(node: Any, ranges: dict[Any, Any]) -> list[tuple[int, int | None] | None]:
    """Per dimension of a placeholder: (min, max) allowed (max None: unbounded; min == max:
    fixed), or None where the size is an expression torch checks itself."""
    val = node.meta.get("val")
    out: list[tuple[int, int | None] | None] = []
    for size in getattr(val, "shape", ()):
        if isinstance(size, int):
            out.append((size, size))
            continue
        expr = size.node.expr
        bounds = ranges.get(expr)
        if bounds is None or not expr.is_Symbol:
            out.append(None)
            continue
        # sympy Integers; torch's int_oo (an unbounded Dim) is not one
        low = int(bounds.lower) if getattr(bounds.lower, "is_Integer", False) else 0
        high = int(bounds.upper) if getattr(bounds.upper, "is_Integer", False) else None
        out.append((low, high))
    return out


class ExportedModel:
    """One ExportedProgram, run on ``device`` with the inputs checked against its shapes."""

    def __init__(self, reader: Any, device: str, options: Options, size: int = 0) -> None:
        global _first_load
        if _first_load:  # torch.export's loader imports ~100 MB of torch on first use
            _settle_inductor_cache_dir()
            with outside_memory_limit(keep=2 * size):
                self._load(reader, device, options)
            _first_load = False
        else:
            self._load(reader, device, options)

    def _load(self, reader: Any, device: str, options: Options) -> None:
        from smartsim_ai.worker.backends.torch import configure

        configure(options)
        self.device = torch_device(device)
        try:
            serialized, state_dict, constants = pt2check.checked_program(reader)
            from torch._export.serde.serialize import ExportedProgramDeserializer

            program = ExportedProgramDeserializer().deserialize(serialized, state_dict, constants)
            pt2check.check_graph(program.graph_module)
            if self.device.type != "cpu":
                from torch.export.passes import move_to_device_pass

                program = move_to_device_pass(program, self.device)
        except BackendError:
            raise
        except Exception as exc:  # torch's own text, on one line, as for TorchScript
            raise BackendError(one_line(exc)) from exc
        spec = program.call_spec.in_spec
        if spec is not None and spec.num_leaves != len(program.graph_signature.user_inputs):
            raise BackendError("ERR the exported program's inputs are not a flat list of tensors")
        kwargs_spec = spec.children()[1] if spec is not None and spec.num_children == 2 else None
        if kwargs_spec is not None and kwargs_spec.num_leaves:
            raise BackendError(
                "ERR the exported program takes keyword arguments: export a forward that takes "
                "its tensors positionally"
            )
        placeholders = {n.name: n for n in program.graph.nodes if n.op == "placeholder"}
        self.inputs = list(program.graph_signature.user_inputs)
        for name in self.inputs:
            node = placeholders.get(name) if isinstance(name, str) else None
            if node is None or not isinstance(node.meta.get("val"), torch.Tensor):
                raise BackendError(
                    f"ERR the exported program takes a non-tensor input ({str(name)[:40]}): "
                    "RedisAI models take tensors only; export a forward whose inputs are all "
                    "tensors"
                )
        self.dims = [_dims(placeholders[name], program.range_constraints) for name in self.inputs]
        self.outputs = [""] * len(program.graph_signature.user_outputs)
        try:
            self.module = program.module()
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
        # our own check (below) gives the clearer error; torch's would repeat it per run
        self.module.validate_inputs = False

    def _check(self, tensors: list[torch.Tensor]) -> None:
        if len(tensors) != len(self.inputs):
            raise BackendError(
                f"ERR the exported program takes {len(self.inputs)} inputs, got {len(tensors)}"
            )
        for i, (tensor, dims) in enumerate(zip(tensors, self.dims)):
            shape = list(tensor.shape)
            if len(shape) != len(dims):
                raise BackendError(
                    f"ERR input {i} ('{self.inputs[i]}') of the exported program has "
                    f"{len(dims)} dimensions, got shape {shape}"
                )
            for d, (size, allowed) in enumerate(zip(shape, dims)):
                if allowed is None:
                    continue
                low, high = allowed
                if low == high and size != low:
                    raise BackendError(
                        f"ERR input {i} ('{self.inputs[i]}') of the exported program has "
                        f"dim {d} fixed at {low}, got shape {shape}"
                        + (f"; {BATCH_HINT}" if d == 0 else "")
                    )
                if size < low or (high is not None and size > high):
                    raise BackendError(
                        f"ERR input {i} ('{self.inputs[i]}') of the exported program has dim {d} "
                        f"in [{low}, {'inf' if high is None else high}] (its torch.export.Dim), "
                        f"got shape {shape}"
                    )

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray | None]:
        from smartsim_ai.worker.backends.torch import flatten, to_numpy, to_torch

        inputs = [to_torch(a, self.device) for a in arrays]
        self._check(inputs)
        try:
            result = self.module(*inputs)
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
        flat: list[Any] = []
        flatten(result, flat)
        return [to_numpy(t) for t in flat]
