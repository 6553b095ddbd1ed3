"""Check a ``torch.export.save`` archive (.pt2) before torch reads any of it as code.

``torch.export.load`` is documented as unsafe for untrusted files, and it is: a crafted archive
runs Python in the loading process through

* pickles: weights or constants saved with ``use_pickle`` (``torch.load(weights_only=False)``),
  ``opaque_obj_*`` constants (``pickle.loads``), ``custom_obj_*`` constants (TorchScript's
  pickler), legacy ``data/weights/<model>.pt`` files, and the sample inputs (``torch.load``
  falls back to ``weights_only=False`` when the safe load fails);
* native code: ``data/aotinductor/`` holds shared libraries that ``load_pt2`` ``dlopen``\\ s;
* strings that become Python source: symbolic shape expressions go through ``sympy.sympify``
  (``eval``), ``guards_code`` is ``exec``\\ uted by ``ExportedProgram.module()``, and node,
  placeholder, argument and attribute names are pasted unquoted into the code FX generates;
* node targets resolved by ``getattr`` from ``torch``, ``operator`` or ``math``
  (``torch.os.system`` is one), called at run time.

:func:`checked_program` parses the archive itself, refuses what is listed above, strips node
metadata (free text), drops guard code, and only then hands plain tensors and a validated JSON
program to torch's deserializer; :func:`check_graph` then walks the loaded graph and allows
only aten/prims operators (minus the file ops of :mod:`filecheck`), a few higher-order
operators and pure Python arithmetic.  See docs/security.md.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from typing import Any

import torch

from smartsim_ai.worker.backends import BackendError, filecheck

HINT = "client models never run Python at load (docs/security.md)"

MODEL = "model"
FORMAT_RECORD, FORMAT_VALUE = "archive_format", b"pt2"
VERSION_RECORD = "archive_version"
MODEL_RECORD = f"models/{MODEL}.json"
WEIGHTS_CONFIG = f"data/weights/{MODEL}_weights_config.json"
CONSTANTS_CONFIG = f"data/constants/{MODEL}_constants_config.json"

# every record torch.export.save writes for one program; anything else is refused
_RECORDS = re.compile(
    r"(archive_format|archive_version|byteorder|version|\.data/[A-Za-z0-9_.]+"
    r"|models/model\.json|data/weights/model_weights_config\.json"
    r"|data/constants/model_constants_config\.json|data/sample_inputs/model\.pt"
    r"|data/weights/weight_[0-9]+|data/constants/tensor_[0-9]+|extra/[A-Za-z0-9_.\-]+)"
)
# strings outside free-text positions: identifiers, dotted names, versions
_SAFE = re.compile(r"[A-Za-z0-9_.+\-]*")
_FREE_TEXT_KEYS = {"as_string", "as_strings"}  # constants: FX writes them with repr()
_SPEC_KEYS = {"in_spec", "out_spec"}  # pytree specs, JSON inside a string

_ALLOWED_NAMESPACES = {"aten", "prims"}
_ALLOWED_HOPS = {"cond", "while_loop", "map_impl", "scan"}
_OPERATOR_FUNCS = {
    "getitem", "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "neg", "pos", "abs",
    "eq", "ne", "lt", "le", "gt", "ge", "and_", "or_", "xor", "not_", "invert", "lshift",
    "rshift",
}  # fmt: skip
_TARGET = re.compile(
    r"torch\.ops\.(?P<ns>[a-z_]+)\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?"
    r"|_operator\.(?P<op>[a-z_]+)|math\.[a-z0-9_]+|torch\._?sym_[a-z_]+"
)
_PY_FUNCS: set[Any] = {getattr(operator, name) for name in _OPERATOR_FUNCS}
_PY_FUNCS |= {v for k, v in vars(math).items() if callable(v) and not k.startswith("_")}
_PY_FUNCS |= {v for k, v in vars(torch).items() if re.fullmatch(r"_?sym_[a-z_]+", k)}

# names a symbolic shape expression may use (torch's deserializer's locals, sympy's basics)
_SYMPY_NAMES = {
    "Symbol", "Integer", "Rational", "Float", "Max", "Min", "Abs", "Mod", "Eq", "Ne", "Lt", "Le",
    "Gt", "Ge", "And", "Or", "Not", "Piecewise", "floor", "ceiling", "sqrt", "Pow", "Mul", "Add",
    "oo", "zoo", "nan", "true", "false", "True", "False", "int_oo", "FloorDiv",
    "ModularIndexing", "Where", "PythonMod", "CleanDiv", "CeilToInt", "FloorToInt", "CeilDiv",
    "LShift", "RShift", "PowByNatural", "FloatPow", "FloatTrueDiv", "IntTrueDiv",
    "IsNonOverlappingAndDenseIndicator", "TruncToFloat", "TruncToInt", "RoundToInt",
    "RoundDecimal", "ToFloat", "Identity",
}  # fmt: skip
_SYMBOL_NAME = re.compile(r"[a-z]{1,4}[0-9]+")
_SYMPY_NODES = (
    ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Call, ast.keyword,
    ast.Name, ast.Load, ast.Constant, ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.Tuple,
)  # fmt: skip


def refuse(why: str) -> BackendError:
    return BackendError(f"ERR the torch.export program (.pt2) {why}: refused; {HINT}")


def is_pt2(reader: Any) -> bool:
    """Whether an open ``torch._C.PyTorchFileReader`` holds a torch.export archive."""
    return (
        bool(reader.has_record(FORMAT_RECORD))
        and bytes(reader.get_record(FORMAT_RECORD)).strip() == FORMAT_VALUE
    )


def _check_records(reader: Any) -> None:
    version = bytes(reader.get_record(VERSION_RECORD)) if reader.has_record(VERSION_RECORD) else b""
    from torch.export.pt2_archive import constants

    if version.decode(errors="replace").strip() != constants.ARCHIVE_VERSION_VALUE:
        raise BackendError(
            f"ERR the .pt2 archive's version {version[:20]!r} is not this torch's "
            f"({constants.ARCHIVE_VERSION_VALUE!r}, torch {torch.__version__}): save it again "
            "with torch.export.save under this torch version"
        )
    records = reader.get_all_records()
    if any(r.startswith("data/aotinductor/") for r in records):
        raise refuse("holds AOTInductor native code (data/aotinductor/)")
    odd = sorted(r for r in records if not _RECORDS.fullmatch(r))
    if odd:
        raise refuse(f"has records torch.export.save does not write ({', '.join(odd[:5])})")
    if not reader.has_record(MODEL_RECORD):
        raise BackendError(f"ERR the .pt2 archive has no {MODEL_RECORD} (one program, 'model')")


def _json(reader: Any, name: str) -> Any:
    if not reader.has_record(name):
        raise BackendError(f"ERR the .pt2 archive has no {name}")
    try:
        return json.loads(bytes(reader.get_record(name)))
    except ValueError as exc:
        raise BackendError(f"ERR the .pt2 archive's {name} is not valid JSON: {exc}") from None


def _numel(meta: dict[str, Any]) -> int:
    sizes = (meta.get("tensor_meta") or {}).get("sizes") or []
    n = 1
    for size in sizes:
        value = size.get("as_int") if isinstance(size, dict) else None
        if not isinstance(value, int):
            raise BackendError("ERR the .pt2 archive's weights have a non-integer size")
        n *= value
    return n


def _check_payloads(reader: Any, config: Any, what: str, folder: str) -> None:
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise BackendError(f"ERR the .pt2 archive's {what} config is malformed")
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or meta.get("use_pickle") is not False:
            raise refuse(f"stores {what} '{str(fqn)[:80]}' as a pickle")
        path = str(meta.get("path_name", ""))
        if not re.fullmatch(r"(weight|tensor)_[0-9]+", path):
            raise refuse(f"stores {what} '{str(fqn)[:80]}' as '{path[:80]}' (not a plain tensor)")
        _check_strings(meta, f"{what} config")
        if not _SAFE.fullmatch(str(fqn)):
            raise refuse(f"names a {what} {str(fqn)[:80]!r}")
        record = folder + path
        if not reader.has_record(record):
            raise BackendError(f"ERR the .pt2 archive has no {record} ({what} '{fqn}')")
        # torch makes a zero-filled tensor of the declared size for an empty record
        if reader.get_record_size(record) == 0 and _numel(meta) != 0:
            raise refuse(f"declares {what} '{fqn}' of {_numel(meta)} elements with no data")


def _check_sympy(text: str) -> None:
    """Allow ``text`` (a sympy expression torch will ``eval``) only if it is arithmetic over
    symbols and the functions torch itself serializes."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise refuse(f"has a shape expression that is not one: {text[:80]!r}") from None
    for node in ast.walk(tree):
        ok = isinstance(node, _SYMPY_NODES)
        if isinstance(node, ast.Name):
            ok = node.id in _SYMPY_NAMES or bool(_SYMBOL_NAME.fullmatch(node.id))
        elif isinstance(node, ast.Call):
            ok = isinstance(node.func, ast.Name) and node.func.id in _SYMPY_NAMES
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            ok = bool(_SYMBOL_NAME.fullmatch(node.value))
        elif isinstance(node, ast.keyword):
            ok = bool(node.arg and node.arg.isidentifier() and not node.arg.startswith("_"))
        if not ok:
            raise refuse(f"has a shape expression with code in it: {text[:80]!r}")


def _check_spec(text: str) -> None:
    try:
        spec = json.loads(text)
    except ValueError:
        raise refuse("has a malformed pytree spec") from None
    for value in _strings(spec):
        if value.startswith(("[", "{", "null")):  # a node's context: JSON again
            _check_spec(value)
        elif not _SAFE.fullmatch(value):
            raise refuse(f"has a pytree spec naming {value[:80]!r}")


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _check_target(target: str) -> None:
    match = _TARGET.fullmatch(target)
    ok = match is not None
    if match and match.group("ns"):
        ns = match.group("ns")
        name = target.split(".")[3]
        ok = (ns in _ALLOWED_NAMESPACES and f"{ns}::{name}" not in filecheck.TORCH_FILE_OPS) or (
            ns == "higher_order" and name in _ALLOWED_HOPS
        )
    elif match and match.group("op"):
        ok = match.group("op") in _OPERATOR_FUNCS
    if not ok:
        raise refuse(f"calls {target[:100]!r}, which is not an aten/prims operator")


def _check_strings(value: Any, where: str, key: str = "") -> Any:
    """Validate every string of a JSON value by its position; returns the value with node
    metadata (free text) removed."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str) or not _SAFE.fullmatch(k):
                raise refuse(f"has a name {str(k)[:80]!r} in {where}")
            if k == "metadata":
                out[k] = {}  # stack traces, module paths: text only, never needed to run
                continue
            if k == "guards_code":
                out[k] = []  # Python source; inputs are checked against shapes and ranges
                continue
            if k in _FREE_TEXT_KEYS:
                out[k] = v
                continue
            if k == "expr_str" and isinstance(v, str):
                _check_sympy(v)
                out[k] = v
                continue
            if k in _SPEC_KEYS and isinstance(v, str):
                _check_spec(v)
                out[k] = v
                continue
            if k == "target" and isinstance(v, str) and "inputs" in value:
                _check_target(v)
                out[k] = v
                continue
            out[k] = _check_strings(v, where, k)
        return out
    if isinstance(value, list):
        return [_check_strings(v, where, key) for v in value]
    if isinstance(value, str) and not _SAFE.fullmatch(value):
        raise refuse(f"has {key or 'a string'} {value[:80]!r} in {where}")
    return value


def checked_program(reader: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The archive's program (torch's schema dataclass), weights and constants, after the
    checks above.  No pickle is read: the sample inputs are left out."""
    from torch._export.serde import schema
    from torch._export.serde.serialize import _dict_to_dataclass
    from torch.export.pt2_archive import _package

    _check_records(reader)
    _check_payloads(reader, _json(reader, WEIGHTS_CONFIG), "weight", "data/weights/")
    _check_payloads(reader, _json(reader, CONSTANTS_CONFIG), "constant", "data/constants/")
    program = _check_strings(_json(reader, MODEL_RECORD), MODEL_RECORD)
    if program.get("graph_module", {}).get("graph", {}).get("custom_obj_values"):
        raise refuse("holds custom (TorchBind) objects")
    try:
        serialized = _dict_to_dataclass(schema.ExportedProgram, program)
    except Exception as exc:
        raise BackendError(f"ERR the .pt2 archive's {MODEL_RECORD} is malformed: {exc}") from None
    archive = _package.PT2ArchiveReader.__new__(_package.PT2ArchiveReader)
    archive.archive_file = reader
    state_dict = _package._load_state_dict(archive, MODEL)
    constants = _package._load_constants(archive, MODEL)
    return serialized, state_dict, constants  # type: ignore[return-value]


def check_graph(graph_module: Any) -> None:
    """Refuse a loaded program whose graphs call anything but allowed operators."""
    for module in graph_module.modules():
        graph = getattr(module, "graph", None)
        if graph is None:
            continue
        for node in graph.nodes:
            if node.op in ("placeholder", "output", "get_attr"):
                continue
            target = node.target
            if node.op != "call_function":
                raise refuse(f"has a {node.op} node")
            if isinstance(target, torch._ops.OpOverload):
                name = target._schema.name
                if name.split("::")[0] in _ALLOWED_NAMESPACES:
                    if name in filecheck.TORCH_FILE_OPS:
                        raise BackendError(
                            f"ERR the model uses {name}, which reads or writes files: refused; "
                            + filecheck.HINT
                        )
                    continue
            elif isinstance(target, torch._ops.HigherOrderOperator):
                if target.name() in _ALLOWED_HOPS:
                    continue
            elif target in _PY_FUNCS:
                continue
            raise refuse(f"calls {target!r}, which is not an aten/prims operator")
