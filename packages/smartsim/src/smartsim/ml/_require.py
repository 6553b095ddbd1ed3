"""A clear error when an ML framework that a helper wraps is not installed."""

from __future__ import annotations

import importlib
from types import ModuleType


def require(module: str, helper: str, pip_name: str) -> ModuleType:
    """Import ``module`` or raise ImportError saying what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{helper} needs {module}, which is not installed here: `pip install {pip_name}` "
            f"(or `pip install smartsim_py[ml]` for torch, TensorFlow and ONNX). ({exc})"
        ) from exc
