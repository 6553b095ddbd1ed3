"""Helpers of SmartRedis 0.6.1's public module ``smartredis.util``, for code that imports them.

``Dtypes`` maps numpy arrays to the type names of the wire format and back;
``exception_handler`` names the calling method in a ``RedisReplyError`` as the official
client's wrappers do; ``typecheck`` and ``init_default`` check and default arguments.
"""

from __future__ import annotations

import inspect
import typing as t
from functools import wraps

import numpy as np

from smartredis.error import RedisReplyError

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])


class Dtypes:
    """Type names of tensors and metadata fields for numpy arrays, and numpy types for names."""

    @staticmethod
    def tensor_from_numpy(array: np.ndarray) -> str:
        """The tensor type name (``"FLOAT"``...) of ``array``; ``TypeError`` if unsupported."""
        mapping = {
            "float64": "DOUBLE",
            "float32": "FLOAT",
            "uint8": "UINT8",
            "uint16": "UINT16",
            "int8": "INT8",
            "int16": "INT16",
            "int32": "INT32",
            "int64": "INT64",
        }
        dtype = str(array.dtype)
        if dtype in mapping:
            return mapping[dtype]
        raise TypeError(f"Incompatible tensor type provided {dtype}")

    @staticmethod
    def metadata_from_numpy(array: np.ndarray) -> str:
        """The metadata type name of ``array``'s dtype; ``TypeError`` if unsupported."""
        mapping = {
            "float64": "DOUBLE",
            "float32": "FLOAT",
            "uint32": "UINT32",
            "uint64": "UINT64",
            "int32": "INT32",
            "int64": "INT64",
        }
        dtype = str(array.dtype)
        if dtype in mapping:
            return mapping[dtype]
        raise TypeError(f"Incompatible metadata type provided {dtype}")

    @staticmethod
    def from_string(type_name: str) -> type:
        """The numpy type (or ``str``) for a type name; ``TypeError`` if unknown.

        ``"FLOAT"`` is ``numpy.float32`` (SmartRedis 0.6.1 says ``numpy.float64``: see the
        README's list of upstream bugs we do not copy).
        """
        mapping: dict[str, type] = {
            "DOUBLE": np.double,
            "FLOAT": np.float32,
            "UINT8": np.uint8,
            "UINT16": np.uint16,
            "UINT32": np.uint32,
            "UINT64": np.uint64,
            "INT8": np.int8,
            "INT16": np.int16,
            "INT32": np.int32,
            "INT64": np.int64,
            "STRING": str,
        }
        if type_name in mapping:
            return mapping[type_name]
        raise TypeError(f"Unrecognized type name {type_name}")


def init_default(default: t.Any, init_value: t.Any, expected_type: t.Any | None = None) -> t.Any:
    """``default`` when ``init_value`` is None, else ``init_value`` (type-checked if asked)."""
    if init_value is None:
        return default
    if expected_type is not None and not isinstance(init_value, expected_type):
        raise TypeError(f"Argument was of type {type(init_value)}, not {expected_type}")
    return init_value


def exception_handler(func: _F) -> _F:
    """Raise a ``RedisReplyError`` from ``func`` as ``<Class>.<func> execution failed``.

    The class is that of the first argument (the instance, or the class itself for a
    classmethod), as in SmartRedis 0.6.1.  ``TypeError`` and ``ValueError`` pass through.
    """

    @wraps(func)
    def smartredis_api_wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return func(*args, **kwargs)
        except RedisReplyError as exc:
            if not args:
                raise
            src_class = args[0] if isinstance(args[0], type) else type(args[0])
            method_name = f"{src_class.__name__}.{func.__name__}"
            raise type(exc)(exc.detail, method_name, exc.key) from None

    return smartredis_api_wrapper  # type: ignore[return-value]


def _handle_exceptions(cls: type) -> type:
    """Apply :func:`exception_handler` to the public methods ``cls`` defines, as the official
    client decorates each of them (``Dataset.get_tensor execution failed``)."""
    for name, attr in list(vars(cls).items()):
        if not name.startswith("_") and inspect.isfunction(attr):
            setattr(cls, name, exception_handler(attr))
    return cls


def typecheck(arg: t.Any, name: str, _type: tuple | type) -> None:
    """``TypeError`` unless ``arg`` is an instance of ``_type``."""
    if not isinstance(arg, _type):
        raise TypeError(f"Argument {name} is of type {type(arg)}, not {_type}")
