"""Argument checks shared by the public classes (raise before anything is sent)."""

from __future__ import annotations

from collections.abc import Sequence


def typecheck(value: object, name: str, expected: type | tuple[type, ...]) -> None:
    """``TypeError`` unless ``value`` is an instance of ``expected`` (bool is not an int)."""
    wanted = expected if isinstance(expected, tuple) else (expected,)
    bad_bool = isinstance(value, bool) and bool not in wanted and int in wanted
    if bad_bool or not isinstance(value, expected):
        raise TypeError(f"Argument {name} is of type {type(value)}, not {expected}")


def name_list(value: str | Sequence[str] | None, name: str) -> list[str]:
    """A str or a list of str as a list (None -> [])."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(f"Argument {name} must be a str or a list of str, not {type(value)}")


def non_empty(value: str, name: str) -> None:
    if not value:
        raise ValueError(f"Argument {name} must not be empty.")
