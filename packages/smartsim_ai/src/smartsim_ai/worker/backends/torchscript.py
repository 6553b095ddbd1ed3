"""TorchScript scripts (AI.SCRIPTSTORE/SCRIPTSET): compiled with ``torch.jit.CompilationUnit``.

Two calling conventions, chosen by the function alone:

* entry points (listed at SCRIPTSTORE): ``f(tensors: List[Tensor], keys: List[str],
  args: List[str])`` gets every input tensor, KEYS and ARGS;
* any other function (every SCRIPTSET script): parameters bound positionally, a ``Tensor``
  takes the next input, a ``List[Tensor]`` takes all remaining inputs.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import torch

from smartsim_ai.worker.backends import BackendError, Options, one_line, torch_device
from smartsim_ai.worker.backends.torch import configure, flatten, to_numpy, to_torch

_EP_TYPES = ("List[Tensor]", "List[str]", "List[str]")


class TorchScript:
    def __init__(self, source: str, device: str, entry_points: list[str], options: Options):
        configure(options)
        self.device = torch_device(device)
        try:
            self.unit = torch.jit.CompilationUnit(textwrap.dedent(source))
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
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
        try:
            result = fn(*call_args)
        except Exception as exc:
            raise BackendError(one_line(exc)) from exc
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
