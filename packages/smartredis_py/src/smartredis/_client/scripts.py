"""TorchScript scripts: AI.SCRIPTSET / AI.SCRIPTRUN (the verbs SmartRedis 0.6.1 sends)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable

from smartredis import _commands as cmd
from smartredis._checks import name_list, typecheck
from smartredis._client.core import ClientCore
from smartredis._client.models import (
    all_gpu_copies,
    check_device,
    check_gpus,
    gpu_copy_key,
    gpu_keys,
)
from smartredis._settings import model_timeout_ms


def _source_of(function: Callable) -> str:
    if not callable(function):
        raise TypeError(f"Argument function is of type {type(function)}, not a function")
    return inspect.getsource(function)


def _file_text(path: str) -> str:
    typecheck(path, "file", str)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The file {path} does not exist.")
    with open(path, encoding="utf-8") as handle:
        return handle.read()


class ScriptMixin(ClientCore):
    """set_script*/set_function*, get_script, run_script*, delete_script*."""

    def _store_script(self, key: str, device: str, source: str) -> None:
        self._on_every_copy(key, lambda k: cmd.scriptset(k, device, source))

    def set_script(self, name: str, script: str, device: str = "CPU") -> None:
        """Store TorchScript source ``script`` as ``name`` on ``device``."""
        typecheck(name, "name", str)
        typecheck(script, "script", str)
        device = check_device(device)
        self._store_script(self._prefix.model_put(name), device, script)

    def set_script_from_file(self, name: str, file: str, device: str = "CPU") -> None:
        """set_script with the text of ``file``."""
        self.set_script(name, _file_text(file), device)

    def set_function(self, name: str, function: Callable, device: str = "CPU") -> None:
        """Store the source of a Python function (``inspect.getsource``) as script ``name``."""
        self.set_script(name, _source_of(function), device)

    def set_script_multigpu(self, name: str, script: str, first_gpu: int, num_gpus: int) -> None:
        """Store one copy per GPU (``name.GPU:i``) and one on ``GPU`` (``name``)."""
        typecheck(name, "name", str)
        typecheck(script, "script", str)
        check_gpus(first_gpu, num_gpus)
        key = self._prefix.model_put(name)
        for gkey, device in gpu_keys(key, first_gpu, num_gpus):
            self._store_script(gkey, device, script)
        self._store_script(key, "GPU", script)

    def set_script_from_file_multigpu(
        self, name: str, file: str, first_gpu: int, num_gpus: int
    ) -> None:
        """set_script_multigpu with the text of ``file``."""
        self.set_script_multigpu(name, _file_text(file), first_gpu, num_gpus)

    def set_function_multigpu(
        self, name: str, function: Callable, first_gpu: int, num_gpus: int
    ) -> None:
        """set_script_multigpu with the source of ``function``."""
        self.set_script_multigpu(name, _source_of(function), first_gpu, num_gpus)

    def get_script(self, name: str) -> str:
        """The source of script ``name``."""
        typecheck(name, "name", str)
        key = self._executor.model_copy(self._prefix.model_get(name))
        reply = self._executor.call(cmd.scriptget(key), key)
        return reply.decode() if isinstance(reply, bytes) else str(reply)

    def run_script(
        self,
        name: str,
        fn_name: str,
        inputs: str | list[str],
        outputs: str | list[str],
    ) -> None:
        """Run function ``fn_name`` of script ``name`` on ``inputs``, writing ``outputs``."""
        typecheck(name, "name", str)
        self._run_script_key(self._prefix.model_get(name), fn_name, inputs, outputs)

    def _run_script_key(
        self, key: str, fn_name: str, inputs: str | list[str], outputs: str | list[str]
    ) -> None:
        typecheck(fn_name, "fn_name", str)
        ins = [self._prefix.tensor_get(n) for n in name_list(inputs, "inputs")]
        outs = [self._prefix.tensor_put(n) for n in name_list(outputs, "outputs")]
        self._run_somewhere(
            key,
            ins,
            outs,
            lambda k, i, o: cmd.scriptrun(k, fn_name, i, o),
            self._run_timeout(model_timeout_ms()),
        )

    def run_script_multigpu(
        self,
        name: str,
        fn_name: str,
        inputs: str | list[str],
        outputs: str | list[str],
        offset: int,
        first_gpu: int,
        num_gpus: int,
    ) -> None:
        """Run the copy of script ``name`` on GPU ``first_gpu + offset % num_gpus``."""
        typecheck(name, "name", str)
        key = gpu_copy_key(self._prefix.model_get(name), offset, first_gpu, num_gpus)
        self._run_script_key(key, fn_name, inputs, outputs)

    def delete_script(self, name: str) -> None:
        """Delete script ``name`` (every shard's copy in a cluster)."""
        typecheck(name, "name", str)
        self._on_every_copy(self._prefix.model_get(name), cmd.scriptdel)

    def delete_script_multigpu(self, name: str, first_gpu: int, num_gpus: int) -> None:
        """Delete the GPU copies ``name.GPU:i`` and ``name``."""
        typecheck(name, "name", str)
        for key in all_gpu_copies(self._prefix.model_get(name), first_gpu, num_gpus):
            self._on_every_copy(key, cmd.scriptdel)
