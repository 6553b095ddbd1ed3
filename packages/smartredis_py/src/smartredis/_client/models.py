"""Models: store (chunked), get, run, delete, with their multi-GPU forms.

In a cluster every model is stored on every shard as ``{P}.<key>`` (see ClientCore).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from smartredis import _commands as cmd
from smartredis._checks import name_list, typecheck
from smartredis._client.core import ClientCore
from smartredis._settings import model_timeout_ms
from smartredis.error import RedisRuntimeError

BACKENDS = ("TF", "TFLITE", "TORCH", "ONNX")

#: Printed on stderr, word for word as SmartRedis 0.6.1 prints it, when a model is stored
#: with a min_batch_size but no min_batch_timeout.
BATCH_TIMEOUT_WARNING = (
    "WARNING: min_batch_timeout was not set when a non-zero min_batch_size was selected. \n"
    "Setting a small value (~10ms) for min_batch_timeout may improve performance\n"
)


def _warn_batching(opts: dict) -> None:
    """The official client's warning about batching without ``min_batch_timeout``."""
    if opts["min_batch_size"] > 0 and opts["min_batch_timeout"] == 0:
        sys.stderr.write(BATCH_TIMEOUT_WARNING)
        sys.stderr.flush()


def check_backend(backend: str) -> str:
    typecheck(backend, "backend", str)
    upper = backend.upper()
    if upper not in BACKENDS:
        raise TypeError(f"Backend type {backend} unsupported; use one of {', '.join(BACKENDS)}")
    return upper


def check_device(device: str) -> str:
    typecheck(device, "device", str)
    upper = device.upper()
    if not upper.startswith(("CPU", "GPU")):
        raise TypeError(f"Device argument {device} must start with CPU or GPU")
    return upper


def check_gpus(first_gpu: int, num_gpus: int) -> None:
    typecheck(first_gpu, "first_gpu", int)
    typecheck(num_gpus, "num_gpus", int)
    if first_gpu < 0:
        raise ValueError(f"first_gpu must be 0 or more, not {first_gpu}")
    if num_gpus < 1:
        raise ValueError(f"num_gpus must be 1 or more, not {num_gpus}")


def gpu_keys(key: str, first_gpu: int, num_gpus: int) -> list[tuple[str, str]]:
    """(key, device) of each GPU copy: ``key.GPU:i`` on ``GPU:i`` for the ``num_gpus`` GPUs
    from ``first_gpu`` (upstream stops at ``num_gpus`` instead: a known bug)."""
    return [(f"{key}.GPU:{i}", f"GPU:{i}") for i in range(first_gpu, first_gpu + num_gpus)]


def pick_gpu(offset: int, first_gpu: int, num_gpus: int) -> int:
    return first_gpu + (offset % num_gpus)


def gpu_copy_key(key: str, offset: int, first_gpu: int, num_gpus: int) -> str:
    """The copy that run_*_multigpu uses: ``key.GPU:i`` for ``i = pick_gpu(offset, ...)``."""
    typecheck(offset, "offset", int)
    check_gpus(first_gpu, num_gpus)
    return f"{key}.GPU:{pick_gpu(offset, first_gpu, num_gpus)}"


def all_gpu_copies(key: str, first_gpu: int, num_gpus: int) -> list[str]:
    """Every key set_*_multigpu stores: each GPU copy ``key.GPU:i``, then ``key`` itself."""
    check_gpus(first_gpu, num_gpus)
    return [gkey for gkey, _ in gpu_keys(key, first_gpu, num_gpus)] + [key]


class ModelMixin(ClientCore):
    """set_model*, get_model, run_model*, delete_model*, model_exists, poll_model."""

    def _chunk_size_now(self) -> int:
        if self._chunk_size is not None:
            return self._chunk_size
        reply = self._executor.call(cmd.get_chunk_size())
        if not isinstance(reply, int):
            raise RedisRuntimeError(
                f"An unexpected type was returned for the model chunk size: {reply!r}"
            )
        return reply

    def _model_args(
        self,
        name: str,
        model: bytes,
        backend: str,
        batch_size: int,
        min_batch_size: int,
        min_batch_timeout: int,
        tag: str,
        inputs: str | Sequence[str] | None,
        outputs: str | Sequence[str] | None,
    ) -> dict:
        typecheck(name, "name", str)
        typecheck(model, "model", (bytes, bytearray, memoryview))
        backend = check_backend(backend)
        for value, label in (
            (batch_size, "batch_size"),
            (min_batch_size, "min_batch_size"),
            (min_batch_timeout, "min_batch_timeout"),
        ):
            typecheck(value, label, int)
        typecheck(tag, "tag", str)
        ins, outs = name_list(inputs, "inputs"), name_list(outputs, "outputs")
        if backend != "TF" and (ins or outs):
            raise ValueError("INPUTS and OUTPUTS may be given only for TF models")
        if batch_size <= 0 and (min_batch_size > 0 or min_batch_timeout > 0):
            raise RedisRuntimeError(
                "batch_size must be non-zero if min_batch_size or min_batch_timeout is used; "
                "otherwise batching will not be performed."
            )
        if min_batch_size <= 0 and min_batch_timeout > 0:
            raise RedisRuntimeError(
                "min_batch_size must be non-zero if min_batch_timeout is used; "
                "otherwise the min_batch_timeout parameter is ignored."
            )
        return {
            "backend": backend,
            "tag": tag,
            "batch_size": batch_size,
            "min_batch_size": min_batch_size,
            "min_batch_timeout": min_batch_timeout,
            "inputs": ins,
            "outputs": outs,
        }

    def _store(self, key: str, device: str, model: bytes, opts: dict, chunk_size: int) -> None:
        chunks = cmd.chunk(model, chunk_size)
        backend = opts["backend"]
        rest = {k: v for k, v in opts.items() if k != "backend"}
        self._on_every_copy(key, lambda k: cmd.modelstore(k, backend, device, chunks, **rest))

    def set_model(
        self,
        name: str,
        model: bytes,
        backend: str,
        device: str = "CPU",
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """Store a serialized model (TF, TFLITE, TORCH or ONNX) on ``device``."""
        opts = self._model_args(
            name,
            model,
            backend,
            batch_size,
            min_batch_size,
            min_batch_timeout,
            tag,
            inputs,
            outputs,
        )
        device = check_device(device)
        _warn_batching(opts)
        self._store(self._prefix.model_put(name), device, model, opts, self._chunk_size_now())

    def set_model_from_file(
        self,
        name: str,
        model_file: str,
        backend: str,
        device: str = "CPU",
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """set_model with the bytes of ``model_file``."""
        self.set_model(
            name, _read(model_file, "model_file"), backend, device, batch_size,
            min_batch_size, min_batch_timeout, tag, inputs, outputs,
        )  # fmt: skip

    def set_model_multigpu(
        self,
        name: str,
        model: bytes,
        backend: str,
        first_gpu: int,
        num_gpus: int,
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """Store one copy per GPU (``name.GPU:i``) and one on ``GPU`` (``name``)."""
        opts = self._model_args(
            name,
            model,
            backend,
            batch_size,
            min_batch_size,
            min_batch_timeout,
            tag,
            inputs,
            outputs,
        )
        check_gpus(first_gpu, num_gpus)
        _warn_batching(opts)
        key = self._prefix.model_put(name)
        size = self._chunk_size_now()
        for gkey, device in gpu_keys(key, first_gpu, num_gpus):
            self._store(gkey, device, model, opts, size)
        self._store(key, "GPU", model, opts, size)

    def set_model_from_file_multigpu(
        self,
        name: str,
        model_file: str,
        backend: str,
        first_gpu: int,
        num_gpus: int,
        batch_size: int = 0,
        min_batch_size: int = 0,
        min_batch_timeout: int = 0,
        tag: str = "",
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """set_model_multigpu with the bytes of ``model_file``."""
        self.set_model_multigpu(
            name, _read(model_file, "model_file"), backend, first_gpu, num_gpus, batch_size,
            min_batch_size, min_batch_timeout, tag, inputs, outputs,
        )  # fmt: skip

    def get_model(self, name: str) -> bytes:
        """The serialized model ``name`` (chunked replies are joined in order)."""
        typecheck(name, "name", str)
        key = self._executor.model_copy(self._prefix.model_get(name))
        with self._explain_missing("model", name):
            reply = self._executor.call(cmd.modelget(key), key)
        if isinstance(reply, list):
            return b"".join(reply)
        return bytes(reply)  # type: ignore[arg-type]

    def run_model(
        self,
        name: str,
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """Run model ``name`` on tensors ``inputs`` (read prefix), writing ``outputs``."""
        typecheck(name, "name", str)
        self._run_model_key(self._prefix.model_get(name), inputs, outputs)

    def _run_model_key(
        self, key: str, inputs: str | list[str] | None, outputs: str | list[str] | None
    ) -> None:
        ins = [self._prefix.tensor_get(n) for n in name_list(inputs, "inputs")]
        outs = [self._prefix.tensor_put(n) for n in name_list(outputs, "outputs")]
        timeout = model_timeout_ms()
        self._run_somewhere(
            key,
            ins,
            outs,
            lambda k, i, o: cmd.modelexecute(k, i, o, timeout),
            self._run_timeout(timeout),
        )

    def run_model_multigpu(
        self,
        name: str,
        offset: int,
        first_gpu: int,
        num_gpus: int,
        inputs: str | list[str] | None = None,
        outputs: str | list[str] | None = None,
    ) -> None:
        """Run the copy of model ``name`` on GPU ``first_gpu + offset % num_gpus``."""
        typecheck(name, "name", str)
        key = gpu_copy_key(self._prefix.model_get(name), offset, first_gpu, num_gpus)
        self._run_model_key(key, inputs, outputs)

    def delete_model(self, name: str) -> None:
        """Delete model ``name`` (every shard's copy in a cluster)."""
        typecheck(name, "name", str)
        self._on_every_copy(self._prefix.model_get(name), cmd.modeldel)

    def delete_model_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        """Delete the GPU copies ``name.GPU:i`` and ``name``."""
        typecheck(name, "name", str)
        for key in all_gpu_copies(self._prefix.model_get(name), first_gpu, num_gpus):
            self._on_every_copy(key, cmd.modeldel)

    def model_exists(self, name: str) -> bool:
        """Whether model (or script) ``name`` exists."""
        typecheck(name, "name", str)
        key = self._executor.model_copy(self._prefix.model_get(name))
        return bool(self._executor.call(cmd.exists(key), key))

    def poll_model(self, name: str, poll_frequency_ms: int, num_tries: int) -> bool:
        """Check up to ``num_tries`` times, ``poll_frequency_ms`` apart, for model ``name``."""
        typecheck(name, "name", str)
        typecheck(poll_frequency_ms, "poll_frequency_ms", int)
        typecheck(num_tries, "num_tries", int)
        return self._poll(lambda: self.model_exists(name), poll_frequency_ms, num_tries)

    def set_model_chunk_size(self, chunk_size: int) -> None:
        """Set the server's MODEL_CHUNK_SIZE and use it for later set_model calls."""
        typecheck(chunk_size, "chunk_size", int)
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, not {chunk_size}")
        self._executor.call(cmd.set_chunk_size(chunk_size))
        self._chunk_size = chunk_size


def _read(path: str, label: str) -> bytes:
    typecheck(path, label, str)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The file {path} does not exist.")
    with open(path, "rb") as handle:
        return handle.read()
