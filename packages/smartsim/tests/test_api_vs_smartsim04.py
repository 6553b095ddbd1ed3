"""SmartSim 0.4.0 as an oracle: its public surface and its settings formatting against ours.

Dev-only (marker ``slow``). The 0.4.0 sdist is fetched from PyPI's simple index (sha256 checked)
and cached in ``.cache/`` at the repository root, or taken from ``$SMARTSIM_04_SDIST``; when it
cannot be had the tests skip and say why. Every difference found must be listed, with its
reason, in the table of ``packages/smartsim/docs/compat-0.4.md``; the test parses that table, so
an undocumented difference fails and so does a listed one that no longer exists.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import importlib
import inspect
import os
import re
import shutil
import sys
import tarfile
import types
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SDIST = "smartsim-0.4.0.tar.gz"
SDIST_SHA256 = "5b893f8c8ba9aa09d358e42983ab518f8e3de8137d05e5093d8d737f2139d74e"
INDEX = "https://pypi.org/simple/smartsim/"
REPO = Path(__file__).resolve().parents[3]
DOC = Path(__file__).resolve().parents[1] / "docs" / "compat-0.4.md"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fetch_sdist() -> Path:
    """The verified 0.4.0 sdist: $SMARTSIM_04_SDIST, the cache, or PyPI (then cached)."""
    given = os.environ.get("SMARTSIM_04_SDIST")
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.skip(f"SMARTSIM_04_SDIST={given} does not exist")
        if _sha256(path) != SDIST_SHA256:
            pytest.fail(f"SMARTSIM_04_SDIST={given} is not smartsim 0.4.0 (sha256 differs)")
        return path
    cached = REPO / ".cache" / SDIST
    if cached.is_file() and _sha256(cached) == SDIST_SHA256:
        return cached
    try:
        with urllib.request.urlopen(INDEX, timeout=20) as resp:
            page = resp.read().decode()
        match = re.search(r'href="([^"]*' + re.escape(SDIST) + r'[^"]*)"', page)
        if not match:
            pytest.skip(f"{INDEX} does not link {SDIST}")
        url = urllib.parse.urljoin(INDEX, match.group(1).replace("&amp;", "&"))
        with urllib.request.urlopen(url, timeout=60) as resp:
            data = resp.read()
    except OSError as exc:
        pytest.skip(
            f"cannot fetch {SDIST} from {INDEX} ({exc}); set SMARTSIM_04_SDIST=/path/{SDIST}"
        )
    if hashlib.sha256(data).hexdigest() != SDIST_SHA256:
        pytest.fail(f"{SDIST} from {INDEX} does not have the expected sha256")
    cached.parent.mkdir(exist_ok=True)
    tmp = cached.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return cached


@pytest.fixture(scope="module")
def ss04_src(tmp_path_factory) -> Path:
    """0.4.0's ``smartsim`` source tree, extracted."""
    dest = tmp_path_factory.mktemp("ss04")
    with tarfile.open(_fetch_sdist()) as tf:
        tf.extractall(dest, filter="data")
    return dest / "smartsim-0.4.0" / "smartsim"


@pytest.fixture(scope="module")
def ss04_settings(ss04_src, tmp_path_factory) -> types.ModuleType:
    """0.4.0's ``smartsim.settings``, importable as ``smartsim04.settings``.

    Its settings modules use only relative imports; the package and ``_core`` ``__init__``
    files (which pull in the whole launcher and redis-py-cluster) are replaced by minimal ones,
    and ``coloredlogs`` (used by its ``log`` module only to colour output) is stubbed when absent.
    """
    root = tmp_path_factory.mktemp("ss04pkg")
    pkg = root / "smartsim04"
    shutil.copytree(ss04_src, pkg)
    (pkg / "__init__.py").write_text("")
    (pkg / "_core" / "__init__.py").write_text("")
    (pkg / "_core" / "utils" / "__init__.py").write_text(
        "from .helpers import colorize, delete_elements, init_default\n"
    )
    try:
        import coloredlogs  # noqa: F401
    except ImportError:
        stub = types.ModuleType("coloredlogs")
        stub.install = lambda *a, **k: None  # type: ignore[attr-defined]
        sys.modules["coloredlogs"] = stub
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("smartsim04.settings")
    finally:
        sys.path.remove(str(root))


def documented() -> dict[str, str]:
    """The ``| key | reason |`` rows of the differences table in docs/compat-0.4.md."""
    rows: dict[str, str] = {}
    in_table = False
    for line in DOC.read_text().splitlines():
        if line.startswith("<!-- differences:start -->"):
            in_table = True
        elif line.startswith("<!-- differences:end -->"):
            in_table = False
        elif in_table and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            key = cells[0].strip("`")
            assert cells[1], f"{DOC}: row {key} has no reason"
            rows[key] = cells[1]
    return rows


def check_against_doc(found: dict[str, str], prefix: str) -> None:
    """Every difference in ``found`` is documented; every documented one (under prefix) exists."""
    doc = {k: v for k, v in documented().items() if k.startswith(prefix)}
    # a row's key may end in ``*`` to cover every method of a class (one reason for all)
    missing = {k: v for k, v in found.items() if not any(fnmatch.fnmatchcase(k, d) for d in doc)}
    stale = sorted(d for d in doc if not any(fnmatch.fnmatchcase(k, d) for k in found))
    msg = []
    if missing:
        msg.append(
            f"differences from SmartSim 0.4.0 not listed in {DOC.name}:\n"
            + "\n".join(f"  {k}: {v}" for k, v in sorted(missing.items()))
        )
    if stale:
        msg.append(f"rows of {DOC.name} that no longer differ:\n  " + "\n  ".join(stale))
    assert not msg, "\n".join(msg)


# --------------------------------------------------------------------------- public surface


# 0.4.0 modules that are private (``_core`` except its config) are not part of the surface.
def _public_modules(src: Path) -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if "_core" in parts and not name.startswith("smartsim._core.config"):
            continue
        if any(p.startswith("_") and p != "_core" for p in parts) or name == "smartsim.version":
            continue
        mods[name] = path
    return mods


def _ast_sig(fn: ast.FunctionDef) -> list[tuple[str, str | None]]:
    """(name, default source) of each parameter, ``*args``/``**kw`` included, ``self`` not."""
    a = fn.args
    pos = a.posonlyargs + a.args
    defaults: list[str | None] = [None] * (len(pos) - len(a.defaults)) + [
        ast.unparse(d) for d in a.defaults
    ]
    out = list(zip([p.arg for p in pos], defaults))
    if a.vararg:
        out.append(("*" + a.vararg.arg, None))
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((p.arg, None if d is None else ast.unparse(d)))
    if a.kwarg:
        out.append(("**" + a.kwarg.arg, None))
    if out and out[0][0] in ("self", "cls"):
        out = out[1:]
    return out


def _our_sig(obj: Any) -> list[tuple[str, str | None]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    out = []
    for p in sig.parameters.values():
        name = p.name
        if p.kind is p.VAR_POSITIONAL:
            name = "*" + name
        elif p.kind is p.VAR_KEYWORD:
            name = "**" + name
        default = None if p.default is p.empty else repr(p.default)
        out.append((name, default))
    if out and out[0][0] in ("self", "cls"):
        out = out[1:]
    return out


def _norm(default: str | None) -> str | None:
    """Compare defaults by value where they are literals ('' vs "" and the like)."""
    if default is None:
        return None
    try:
        return repr(ast.literal_eval(default))
    except (ValueError, SyntaxError):
        return default


def _compare_sig(theirs: list, ours: list | None) -> str | None:
    """None when a 0.4 call is also a valid call of ours with the same meaning."""
    if ours is None:
        return "signature not introspectable"
    t_named = [(n, _norm(d)) for n, d in theirs if not n.startswith("*")]
    o_named = [(n, _norm(d)) for n, d in ours if not n.startswith("*")]
    o_names = [n for n, _ in o_named]
    if o_names[: len(t_named)] != [n for n, _ in t_named]:
        return f"0.4 {t_named} vs ours {o_named}"
    for (name, t_default), (_, o_default) in zip(t_named, o_named):
        # a parameter 0.4 requires may have a default in ours; one with a default keeps it
        if t_default is not None and t_default != o_default:
            return f"default of {name}: 0.4 {t_default} vs ours {o_default}"
    extra = o_named[len(t_named) :]
    if any(d is None for _, d in extra):
        return f"ours requires extra parameters {[n for n, d in extra if d is None]}"
    for star in ("*", "**"):
        t = any(n.startswith(star) and not n.startswith(star + "*") for n, _ in theirs)
        o = any(n.startswith(star) and not n.startswith(star + "*") for n, _ in ours)
        if t and not o:
            return f"0.4 takes {star}args, ours does not"
    return None


def _is_property(fn: ast.FunctionDef) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id in ("property", "cached_property"))
        or (isinstance(d, ast.Attribute) and d.attr in ("setter", "getter"))
        for d in fn.decorator_list
    )


def surface_differences(src: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for modname, path in _public_modules(src).items():
        tree = ast.parse(path.read_text())
        try:
            ours = importlib.import_module(modname)
        except ImportError as exc:
            found[modname] = f"module missing ({exc})"
            continue
        for node in tree.body:
            names: list[str] = []
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                names = [node.name]
            elif isinstance(node, ast.ImportFrom) and path.name == "__init__.py":
                # re-exports of the package's own submodules (``from .x import Y``)
                if node.level == 1:
                    names = [a.asname or a.name for a in node.names if a.name != "*"]
            elif isinstance(node, ast.Assign):
                # module constants (``CONFIG``, ``TF_VERSION``); lower-case names are internal
                names = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper()]
            for name in names:
                if name.startswith("_") or name in ("logger", "CONFIG_HELP"):
                    continue
                key = f"{modname}:{name}"
                if not hasattr(ours, name):
                    found[key] = "missing"
                    continue
                obj = getattr(ours, name)
                if isinstance(node, ast.FunctionDef):
                    diff = _compare_sig(_ast_sig(node), _our_sig(obj))
                    if diff:
                        found[key] = diff
                elif isinstance(node, ast.ClassDef):
                    found.update(_class_differences(key, node, obj))
    return found


def _class_differences(key: str, node: ast.ClassDef, ours: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    if not inspect.isclass(ours):
        return {key: "not a class"}
    for item in node.body:
        if not isinstance(item, ast.FunctionDef):
            continue
        if item.name.startswith("_") and item.name != "__init__":
            continue
        mkey = f"{key}.{item.name}"
        if not hasattr(ours, item.name) and not (
            _is_property(item) and item.name in getattr(ours, "__annotations__", {})
        ):
            found[mkey] = "property missing" if _is_property(item) else "method missing"
            continue
        if _is_property(item):
            attr = inspect.getattr_static(ours, item.name, None)
            setter = any(
                isinstance(d, ast.Attribute) and d.attr == "setter" for d in item.decorator_list
            )
            if setter and isinstance(attr, property) and attr.fset is None:
                found[mkey] = "property is read-only in ours"
            continue
        diff = _compare_sig(_ast_sig(item), _our_sig(getattr(ours, item.name)))
        if diff:
            found[mkey] = diff
    return found


def test_public_surface(ss04_src):
    """Modules, names, methods, properties and signatures of 0.4.0 exist in ours."""
    check_against_doc(surface_differences(ss04_src), "smartsim.")


def test_config_variables(ss04_src):
    """``smartsim._core.config.CONFIG`` reads the same ``SMARTSIM_*`` variables as 0.4.0."""
    from smartsim._core.config import CONFIG

    text = (ss04_src / "_core" / "config" / "config.py").read_text()
    theirs = set(re.findall(r'"(SMARTSIM_[A-Z_]+)"', text))
    assert theirs, "0.4.0's config names no SMARTSIM_ variables: the oracle changed"
    ours_text = Path(inspect.getsourcefile(type(CONFIG)) or "").read_text()
    missing = sorted(v for v in theirs if v not in ours_text)
    assert not missing, f"our CONFIG does not read {missing}"


def test_strategy_names(ss04_src):
    """Every ``perm_strategy`` name 0.4.0 accepts is accepted by ours."""
    from smartsim.entity.strategies import resolve_strategy

    text = (ss04_src / "entity" / "ensemble.py").read_text()
    body = text[text.index("def _set_strategy") :]
    names = re.findall(r'strategy == "(\w+)"', body)
    assert names, "0.4.0's Ensemble._set_strategy names no strategies: the oracle changed"
    # and the names its docstrings tell users to pass (options are "all_perm", "stepped", ...)
    for line in re.findall(r"options are (.*)", text):
        names += re.findall(r'"(\w+)"', line)
    assert "stepped" in names
    for name in names:
        assert callable(resolve_strategy(name)), name


# --------------------------------------------------------------------- settings differential

SAMPLES: dict[str, Any] = {
    "nodes": 2,
    "num_nodes": 2,
    "tasks": 4,
    "num_tasks": 4,
    "tasks_per_node": 2,
    "cpus_per_task": 3,
    "host_list": ["n1", "n2"],
    "walltime": "01:30:00",
    "account": "acct",
    "queue": "debug",
    "partition": "debug",
    "num_cpus": 8,
    "resource_name": "place",
    "value": "scatter",
    "smts": 2,
    "project": "proj",
    "res_req": "1*{select[type==any]}",
    "slots": 4,
    "task_mapping": "ppr:1:node",
    "binding": "packed:2",
    "cpus_per_rs": 2,
    "gpus_per_rs": 1,
    "num_rs": 3,
    "rs_per_host": 1,
    "tasks_per_rs": 2,
    "erf_sets": {"host": "1", "cpu": "2"},
    "suffix": "out",
    "preamble_lines": ["cpu_index_using: logical"],
    "command": "mybatch",
    "lines": ["module load gcc"],
    "args": ["--flag", "x"],
    "env_vars": {"B": "2"},
}
RUN = ["RunSettings", "MpirunSettings", "SrunSettings", "AprunSettings", "JsrunSettings"]
BATCH = ["SbatchSettings", "BsubBatchSettings", "QsubBatchSettings", "CobaltBatchSettings"]


def _outputs(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("format_run_args", "format_env_vars", "format_batch_args"):
        fn = getattr(obj, name, None)
        if fn is None:
            continue
        try:
            value = fn()
        except Exception as exc:
            value = f"raises {type(exc).__name__}"
        if name == "format_env_vars" and isinstance(value, tuple):
            # srun's (--export value, comma-separated vars): the inherited environment is the
            # user's and differs by process, so compare only what the settings added
            value = (_strip_inherited(value[0]), value[1])
        out[name] = value
    for attr in ("batch_cmd", "run_command"):
        if getattr(obj, attr, None):
            # 0.4 stored the resolved path of the tool; compare the tool
            out[attr] = os.path.basename(getattr(obj, attr))
    return out


def _strip_inherited(export: str) -> str:
    inherited = set(os.environ) | {"PATH", "LD_LIBRARY_PATH", "PYTHONPATH"}
    return ",".join(p for p in export.split(",") if p.split("=")[0] not in inherited)


def _make(cls: type, kind: str) -> Any:
    if kind == "run":
        kwargs: dict[str, Any] = {"run_args": {"verbose": None, "distribution": "block"}}
        kwargs["env_vars"] = {"A": "1"}
        if cls.__name__ == "RunSettings":
            kwargs["run_command"] = "mpiexec"
        return cls("echo", exe_args=["hello"], **kwargs)
    return cls(batch_args={"exclusive": None, "mem": "1G"})


def settings_differences(ss04: types.ModuleType) -> dict[str, str]:
    import smartsim.settings as ours_mod

    found: dict[str, str] = {}
    for kind, names in (("run", RUN), ("batch", BATCH)):
        for cname in names:
            theirs_cls, ours_cls = getattr(ss04, cname), getattr(ours_mod, cname)
            calls = [None] + sorted(
                m for m, f in vars(theirs_cls).items() if m.startswith(("set_", "add_", "update_"))
            )
            for base in theirs_cls.__mro__[1:]:
                calls += sorted(
                    m
                    for m in vars(base)
                    if m.startswith(("set_", "add_", "update_")) and m not in calls
                )
            for method in calls:
                results = []
                for cls in (theirs_cls, ours_cls):
                    try:
                        obj = _make(cls, kind)
                        if method is not None:
                            params = list(inspect.signature(getattr(theirs_cls, method)).parameters)
                            getattr(obj, method)(*[SAMPLES[p] for p in params[1:]])
                        results.append(_outputs(obj))
                    except Exception as exc:
                        results.append({"call": f"raises {type(exc).__name__}"})
                if results[0] != results[1]:
                    found[f"settings:{cname}.{method or '__init__'}"] = (
                        f"0.4 {results[0]} vs ours {results[1]}"
                    )
    return found


def test_settings_formatting(ss04_settings):
    """Each setter of each 0.4.0 settings class formats the same arguments in ours."""
    check_against_doc(settings_differences(ss04_settings), "settings:")


# ------------------------------------------------------------------------ summary and status

# What SmartSim 0.4.0's ``summary()`` printed for these runs: the output of tabulate 0.8.9
# (its pinned dependency) with 0.4's call ``tabulate(values, headers, showindex=True,
# tablefmt=format, missingval="None")``, recorded once (tabulate is not a dependency here).
SUMMARY_ROWS = [
    ("m", "Model", "12345", 0, 1.00523456, "Completed", 0),
    ("orchestrator_0", "DBNode", "12346", 1, 12.3, "Running", None),
    ("ens_1", "Model", "c8a1f", 0, 0.000123, "Failed", -15),
]
SUMMARY_04 = {
    "github": "|    | Name           | Entity-Type   | JobID   |   RunID |      Time | Status    |   Returncode |\n|----|----------------|---------------|---------|---------|-----------|-----------|--------------|\n|  0 | m              | Model         | 12345   |       0 |  1.00523  | Completed |            0 |\n|  1 | orchestrator_0 | DBNode        | 12346   |       1 | 12.3      | Running   |         None |\n|  2 | ens_1          | Model         | c8a1f   |       0 |  0.000123 | Failed    |          -15 |",
    "plain": "    Name            Entity-Type    JobID      RunID       Time  Status       Returncode\n 0  m               Model          12345          0   1.00523   Completed             0\n 1  orchestrator_0  DBNode         12346          1  12.3       Running            None\n 2  ens_1           Model          c8a1f          0   0.000123  Failed              -15",
    "simple": "    Name            Entity-Type    JobID      RunID       Time  Status       Returncode\n--  --------------  -------------  -------  -------  ---------  ---------  ------------\n 0  m               Model          12345          0   1.00523   Completed             0\n 1  orchestrator_0  DBNode         12346          1  12.3       Running            None\n 2  ens_1           Model          c8a1f          0   0.000123  Failed              -15",
}


def test_summary_layout_is_04s(ss04_src):
    """``summary()`` has 0.4.0's headers and call, and lays the table out as tabulate did."""
    from smartsim._core.control.summary import HEADERS, format_table

    text = (ss04_src / "experiment.py").read_text()
    body = text[text.index("def summary") :]
    body = body[: body.index("\n    def ")]
    assert list(HEADERS) == re.findall(r'^\s+"([\w-]+)",$', body, flags=re.M)
    assert 'showindex=True, tablefmt=format, missingval="None"' in body
    for style, expected in SUMMARY_04.items():
        assert format_table(SUMMARY_ROWS, style=style) == expected, style
    # no runs: tabulate adds no index column
    assert format_table([], style="plain") == "    ".join(HEADERS)


def test_status_values(ss04_src):
    """The status strings and groups of ``smartsim.status`` are 0.4.0's."""
    import smartsim.status as ours

    tree = ast.parse((ss04_src / "status.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith("STATUS_"):
                assert getattr(ours, name) == ast.literal_eval(node.value), name
            elif name in ("TERMINAL_STATUSES", "LIVE_STATUSES"):
                theirs = {getattr(ours, e.id) for e in node.value.elts}
                mine = {str(s) for s in getattr(ours, name)}
                # SmartSim 0.5+ added Queued (live) and NeverStarted; see docs/compat-0.4.md
                assert theirs <= mine and mine - theirs <= {"Queued", "NeverStarted"}, name
            elif name == "SMARTSIM_STATUS":
                assert set(ours.SMARTSIM_STATUS) == {ast.literal_eval(k) for k in node.value.keys}


def state_differences(src: Path) -> dict[str, str]:
    """Each workload manager state 0.4.0 mapped (``*StepInfo.mapping``) against our table."""
    ours_mods = {"Slurm": "slurm", "PBS": "pbs", "Cobalt": "cobalt"}
    tree = ast.parse((src / "_core" / "launcher" / "stepInfo.py").read_text())
    status_tree = ast.parse((src / "status.py").read_text())
    values = {
        n.targets[0].id: ast.literal_eval(n.value)
        for n in status_tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
    }
    found: dict[str, str] = {}
    for cls in tree.body:
        if not (isinstance(cls, ast.ClassDef) and cls.name[:-8] in ours_mods):
            continue
        wlm = ours_mods[cls.name[:-8]]
        to_status = importlib.import_module(f"smartsim._core.launcher.{wlm}.states").to_status
        for item in cls.body:
            if isinstance(item, ast.Assign) and item.targets[0].id == "mapping":
                for key, val in zip(item.value.keys, item.value.values):
                    state, theirs = ast.literal_eval(key), values[val.id]
                    mine = str(to_status(state))
                    if mine != theirs:
                        found[f"status:{wlm}:{state}"] = f"0.4 {theirs} vs ours {mine}"
    return found


def test_wlm_states(ss04_src):
    """The status each Slurm/PBS/Cobalt state gets is 0.4.0's, or documented."""
    check_against_doc(state_differences(ss04_src), "status:")


def test_get_logger_takes_04s_arguments(capsys):
    """``get_logger(name, log_level, fmt)`` as 0.4 called it sets the level and the format."""
    from smartsim.log import get_logger

    logger = get_logger("compat04_probe", log_level="debug", fmt="%(levelname)s::%(message)s")
    logger.debug("hello")
    assert "DEBUG::hello" in capsys.readouterr().err
    with pytest.raises(ValueError, match="log_level 'loud'"):
        get_logger("compat04_probe", log_level="loud")
