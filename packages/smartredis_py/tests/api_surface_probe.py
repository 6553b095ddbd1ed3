"""Print the public API surface of the importable ``smartredis`` package as JSON.

Run by ``test_api_surface.py`` under two interpreters: the official SmartRedis 0.6.1
environment and ours, so each package is introspected by the same code in its own
environment.  Standard library only (the official environment has numpy and nothing else).

The surface is a flat mapping ``"smartredis.<module>[.<name>[.<member>]]" -> description``:

* every public module (no path component starting with ``_``), found by walking the package;
* in each module, the names of its ``__all__``, or else the classes and functions defined in
  it (so ``import numpy as np`` is not part of ``smartredis.util``'s API); a class or
  function defined in another public module of the package is recorded as an alias of it
  (``smartredis.Client`` -> ``smartredis.client.Client``), so it is compared once;
* for a class: its public base classes in method resolution order (exception classes
  included), and every public member and overridden dunder, with its kind (method,
  staticmethod, classmethod, property, value) and, for callables, the signature: each
  parameter's name, kind and default (``repr``).  Annotations are not compared;
* the constructor forms of ``Client`` (``__init__(*a, **kw)`` dispatches to
  ``__address_construction`` / ``__standard_construction``): their parameters are what users
  pass, so each is recorded as ``...Client.__init__.address_form`` / ``standard_form``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import pkgutil
import re
import sys
import types

#: Dunders that are part of a class's API when the class (not ``object``) defines them.
DUNDERS = (
    "__init__",
    "__str__",
    "__repr__",
    "__len__",
    "__iter__",
    "__getitem__",
    "__contains__",
    "__enter__",
    "__exit__",
    "__call__",
    "__eq__",
)


def public(path: str) -> bool:
    """True when no component of the dotted ``path`` is private."""
    return not any(part.startswith("_") for part in path.split("."))


def signature(obj: object) -> list[list[str | None]] | None:
    """``[[name, kind, repr(default) or None], ...]``, or None when it has none to show."""
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, None if p.default is p.empty else repr(p.default)]
        for p in sig.parameters.values()
    ]


def class_name(cls: type) -> str:
    """``module.QualName``, with builtins bare (``RuntimeError``)."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_member(cls: type, name: str) -> dict[str, object] | None:
    for owner in cls.__mro__:
        if name in owner.__dict__:
            raw = owner.__dict__[name]
            break
    else:
        return None
    if owner is object or (name in DUNDERS and owner.__module__ == "builtins"):
        return None
    if isinstance(raw, staticmethod):
        return {"kind": "staticmethod", "signature": signature(raw.__func__)}
    if isinstance(raw, classmethod):
        return {"kind": "classmethod", "signature": signature(getattr(cls, name))}
    if isinstance(raw, property):
        return {"kind": "property", "setter": raw.fset is not None}
    if callable(raw):
        return {"kind": "method", "signature": signature(raw)}
    return {"kind": "value", "type": type(raw).__name__}


def describe_class(cls: type, out: dict[str, object], path: str) -> None:
    bases = [
        class_name(b)
        for b in cls.__mro__[1:]
        if b is not object and public(class_name(b)) and not b.__name__.startswith("_")
    ]
    out[path] = {"kind": "class", "bases": bases}
    names = [n for n in dir(cls) if not n.startswith("_")] + list(DUNDERS)
    for name in names:
        described = describe_member(cls, name)
        if described is not None:
            out[f"{path}.{name}"] = described
    # Client(*a, **kw) dispatches to one private method per constructor form: their
    # signatures are the keyword arguments users pass.
    mangled = re.compile(rf"^_{cls.__name__}__(\w+)_construction$")
    for name in dir(cls):
        match = mangled.match(name)
        if match:
            sig = signature(getattr(cls, name))
            params = [p for p in sig or [] if p[0] != "self"]
            out[f"{path}.__init__.{match.group(1)}_form"] = {"kind": "form", "signature": params}


def module_names(module: types.ModuleType) -> list[str]:
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return list(declared)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    ]


def describe_value(value: object) -> dict[str, object]:
    if isinstance(value, enum.Enum) or type(value).__module__ not in ("builtins",):
        return {"kind": "value", "type": type(value).__name__}
    return {"kind": "value", "type": type(value).__name__, "repr": repr(value)}


def surface(package_name: str = "smartredis") -> dict[str, object]:
    package = importlib.import_module(package_name)
    out: dict[str, object] = {}
    modules = [package_name] + [
        info.name
        for info in pkgutil.walk_packages(package.__path__, package_name + ".")
        if public(info.name)
    ]
    for modname in modules:
        module = importlib.import_module(modname)
        out[modname] = {"kind": "module"}
        for name in module_names(module):
            value = getattr(module, name)
            path = f"{modname}.{name}"
            home = getattr(value, "__module__", None)
            if (
                (inspect.isclass(value) or inspect.isfunction(value))
                and home != modname
                and home in modules
                and getattr(value, "__name__", None) == name
            ):
                out[path] = {"kind": "alias", "of": f"{home}.{name}"}
            elif inspect.isclass(value):
                describe_class(value, out, path)
            elif inspect.isroutine(value):
                out[path] = {"kind": "function", "signature": signature(value)}
            elif inspect.ismodule(value):
                out[path] = {"kind": "module"}
            else:
                out[path] = describe_value(value)
    return out


if __name__ == "__main__":
    pkg = importlib.import_module("smartredis")
    json.dump({"file": pkg.__file__, "surface": surface()}, sys.stdout, indent=1, sort_keys=True)
