"""TorchScript scripts (AI.SCRIPTSTORE/SCRIPTSET): compiled with ``torch.jit.CompilationUnit``.

Two calling conventions, chosen by the function alone:

* entry points (listed at SCRIPTSTORE): ``f(tensors: List[Tensor], keys: List[str],
  args: List[str])`` gets every input tensor, KEYS and ARGS;
* any other function (every SCRIPTSET script): parameters bound positionally, a ``Tensor``
  takes the next input, a ``List[Tensor]`` takes all remaining inputs.

Inside a script, ``redis.execute(cmd, args)`` (or ``redis.execute(cmd, a, b, ...)``),
``redis.asList(x)`` and ``redisAI.model_execute(key, inputs, num_outputs)`` call back into
the server through the worker's channel (see :func:`set_server`).
"""

from __future__ import annotations

import textwrap
from typing import Any, Protocol

import numpy as np
import torch

from smartsim_ai.worker.backends import BackendError, Options, filecheck, one_line, torch_device
from smartsim_ai.worker.backends.torch import configure, flatten, to_numpy, to_torch

VERSION = torch.__version__

_EP_TYPES = ("List[Tensor]", "List[str]", "List[str]")


class ServerCalls(Protocol):
    """What scripts may ask of the server (implemented by the worker over its channel)."""

    def execute(self, argv: list[str]) -> Any: ...

    def model_execute(
        self, key: str, inputs: list[torch.Tensor], num_outputs: int
    ) -> list[torch.Tensor]: ...


_server: ServerCalls | None = None


def set_server(server: ServerCalls | None) -> None:
    """Route scripts' ``redis.*`` / ``redisAI.*`` calls to ``server``."""
    global _server
    _server = server


def _need_server() -> ServerCalls:
    if _server is None:
        raise RuntimeError("redis.execute is only available inside the server")
    return _server


def _normalize(value: Any) -> Any:
    """A reply TorchScript can hold as ``Any``: lists of one element type (else strings)."""
    if isinstance(value, list):
        items = [_normalize(v) for v in value]
        if len({type(v) for v in items}) > 1:
            items = [v if isinstance(v, str) else str(v) for v in items]
        return items
    return value


_callback_error: str | None = None  # the last redis/redisAI call failure, for a clean message


def _remember(exc: Exception) -> Exception:
    global _callback_error
    _callback_error = str(exc)
    return exc


def _execute(cmd: str, args: list[str]) -> Any:
    try:
        return _normalize(_need_server().execute([cmd, *args]))
    except Exception as exc:
        raise _remember(exc) from None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _model_execute(key: str, inputs: list[torch.Tensor], num_outputs: int) -> list[torch.Tensor]:
    try:
        return _need_server().model_execute(key, inputs, num_outputs)
    except Exception as exc:
        raise _remember(exc) from None


# Ops with side effects (CONSERVATIVE: never constant-folded nor dropped when unused).
_redis_lib = torch.library.Library("redis", "DEF")
_redis_lib.define("execute(str cmd, str[] args) -> Any", alias_analysis="CONSERVATIVE")
_redis_lib.impl("execute", _execute, "CompositeExplicitAutograd")
_redis_lib.define("asList(Any x) -> Any[]", alias_analysis="CONSERVATIVE")
_redis_lib.impl("asList", _as_list, "CompositeExplicitAutograd")
_redisai_lib = torch.library.Library("redisAI", "DEF")
_redisai_lib.define(
    "model_execute(str key, Tensor[] inputs, int num_outputs) -> Tensor[]",
    alias_analysis="CONSERVATIVE",
)
_redisai_lib.impl("model_execute", _model_execute, "CompositeExplicitAutograd")

# Names scripts resolve (torch.jit.CompilationUnit looks them up in this module's globals).
redis = torch.ops.redis
redisAI = torch.ops.redisAI
redisai = redisAI


class TorchScript:
    def __init__(self, source: str, device: str, entry_points: list[str], options: Options):
        configure(options)
        self.device = torch_device(device)
        try:
            self.unit = torch.jit.CompilationUnit(textwrap.dedent(source))
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
        filecheck.refuse_torch((fn.graph for fn in self.unit.get_functions()), "script")
        self.entry_points = set(entry_points)
        for name in entry_points:
            fn = self._function(name)
            if fn is None:
                raise BackendError(f"Function {name} does not exist in the given script.")
            params = fn.schema.arguments
            if len(params) != 3:
                raise BackendError(
                    f"Wrong number of inputs in function {name}. Expected 3 but was {len(params)}"
                )
            if tuple(str(p.type) for p in params) != _EP_TYPES:
                raise BackendError(
                    f"Wrong inputs type in function {name}. Expected signature similar to: "
                    f"def {name}(tensors: List[Tensor], keys: List[str], args: List[str])"
                )

    def _function(self, name: str) -> Any:
        try:
            return self.unit.find_function(name)
        except Exception:
            return None

    def run(
        self, name: str, arrays: list[np.ndarray], keys: list[str], args: list[str], n_outputs: int
    ) -> list[np.ndarray | None]:
        fn = self._function(name)
        if fn is None:
            raise BackendError(f"Function does not exist: {name}")
        tensors = [to_torch(a, self.device) for a in arrays]
        if name in self.entry_points:
            call_args: list[Any] = [tensors, list(keys), list(args)]
        else:
            params = fn.schema.arguments
            if len(params) > len(tensors):
                raise BackendError(f"Wrong number of inputs provided to function: {name}")
            call_args = []
            for i, param in enumerate(params):
                kind = str(param.type)
                if kind == "Tensor":
                    call_args.append(tensors[i])
                elif kind == "List[Tensor]":
                    call_args.append(tensors[i:])
                    break
                else:
                    raise BackendError(f"Unsupported input type in function definition: {name}")
        global _callback_error
        _callback_error = None
        try:
            result = fn(*call_args)
        except Exception as exc:
            # a failed server call: its own message, not the interpreter's traceback
            raise BackendError(one_line(_callback_error or exc)) from exc
        if n_outputs == 0:
            return []
        flat: list[Any] = []
        flatten(result, flat)
        if any(not isinstance(t, torch.Tensor) for t in flat):
            raise BackendError(f"Function returned non-tensor values{name}")
        if len(flat) != n_outputs:
            raise BackendError(f"Function returned unexpected number of outputs - {name}")
        return [to_numpy(t) for t in flat]


def load(source: str, device: str, entry_points: list[str], options: Options) -> TorchScript:
    return TorchScript(source, device, entry_points, options)
