"""Our public API against the official SmartRedis 0.6.1 wheel's, name by name.

``api_surface_probe.py`` runs in both environments (the official wheel's own virtual
environment, and ours) and prints every public module, class, function, method, property,
signature and exception base class.  Every difference must be a row of the table
"Differences from the official API" in this package's README, with its reason; a row that no
longer matches a difference fails too, so the table and the code cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import smartredis

HERE = Path(__file__).parent
PROBE = HERE / "api_surface_probe.py"
README = HERE.parent / "README.md"
TABLE_TITLE = "## Differences from the official API"
KINDS = ("missing", "extra", "changed")


def official_environment() -> dict[str, str]:
    """The environment without PYTHONPATH: a development checkout puts our ``smartredis``
    there, which would shadow the official package."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def probe(python: str, env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [python, str(PROBE)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert proc.returncode == 0, f"{python} {PROBE.name} failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def covered(path: str, side: dict) -> bool:
    """Whether an ancestor of ``path`` is itself absent from ``side`` (then only the ancestor
    is reported: a missing module implies its missing classes)."""
    parts = path.split(".")
    return any(".".join(parts[:i]) not in side for i in range(2, len(parts)))


def differences(official: dict, ours: dict) -> dict[tuple[str, str], str]:
    """``{(path, kind): detail}`` for every difference, kind one of KINDS."""
    found: dict[tuple[str, str], str] = {}
    for path in sorted(set(official) | set(ours)):
        if path not in ours:
            if not covered(path, ours):
                found[(path, "missing")] = f"official: {official[path]}"
        elif path not in official:
            if not covered(path, official):
                found[(path, "extra")] = f"ours: {ours[path]}"
        elif official[path] != ours[path]:
            found[(path, "changed")] = f"official: {official[path]}\n    ours: {ours[path]}"
    return found


def documented() -> dict[tuple[str, str], str]:
    """The README table's rows: ``{(path, kind): reason}``."""
    text = README.read_text()
    assert TABLE_TITLE in text, f"{README} has no section {TABLE_TITLE!r}"
    section = text.split(TABLE_TITLE, 1)[1].split("\n## ", 1)[0]
    rows: dict[tuple[str, str], str] = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`([\w.]+)`\s*\|\s*(\w+)\s*\|(.*)\|\s*$", line)
        if match:
            path, kind, reason = match.groups()
            assert kind in KINDS, f"README row {path}: kind {kind!r} is not one of {KINDS}"
            assert reason.strip(), f"README row {path} gives no reason"
            rows[(path, kind)] = reason.strip()
    assert rows, f"no rows parsed from the README section {TABLE_TITLE!r}"
    return rows


@pytest.fixture(scope="module")
def surfaces() -> tuple[dict, dict]:
    official = probe(os.environ["SMARTREDIS_OFFICIAL_PYTHON"], official_environment())
    ours = probe(sys.executable, dict(os.environ))
    # each probe looked at the package it was meant to
    assert "smartredis.smartredisPy" in official["surface"], official["file"]
    assert Path(ours["file"]).resolve() == Path(smartredis.__file__).resolve()
    return official["surface"], ours["surface"]


@pytest.mark.interop
def test_every_difference_is_documented(surfaces):
    official, ours = surfaces
    found = differences(official, ours)
    rows = documented()
    undocumented = {k: v for k, v in found.items() if k not in rows}
    stale = [k for k in rows if k not in found]
    message = []
    if undocumented:
        message.append(
            f"differences not in the table of {README.name} (fix them, or add a row "
            "| `path` | kind | reason |):"
        )
        message += [
            f"  {path} [{kind}]\n    {detail}" for (path, kind), detail in undocumented.items()
        ]
    if stale:
        message.append(f"rows of {README.name} that match no difference any more (remove them):")
        message += [f"  {path} [{kind}]" for path, kind in stale]
    assert not message, "\n".join(message)


@pytest.mark.interop
def test_the_comparison_sees_what_users_import(surfaces):
    """The probe reports what user code touches: a module, a class with its methods and
    signatures, an exception's bases (so a comparison of empty surfaces cannot pass)."""
    official, ours = surfaces
    for side in (official, ours):
        assert side["smartredis.util.Dtypes.tensor_from_numpy"]["kind"] == "staticmethod"
        assert side["smartredis.Client"] == {"kind": "alias", "of": "smartredis.client.Client"}
        assert side["smartredis.client.Client.put_tensor"]["signature"] == [
            ["self", "POSITIONAL_OR_KEYWORD", None],
            ["name", "POSITIONAL_OR_KEYWORD", None],
            ["data", "POSITIONAL_OR_KEYWORD", None],
        ]
        assert side["smartredis.error.RedisKeyError"]["bases"] == [
            "smartredis.error.RedisReplyError",
            "RuntimeError",
            "Exception",
            "BaseException",
        ]
    assert len(official) > 150 and len(ours) > 150


def test_a_changed_signature_is_reported():
    """The comparison itself: a renamed parameter, a new default and a missing class show."""
    official = {
        "smartredis.m": {"kind": "module"},
        "smartredis.m.f": {"kind": "function", "signature": [["a", "POSITIONAL_OR_KEYWORD", None]]},
        "smartredis.m.C": {"kind": "class", "bases": []},
        "smartredis.m.C.g": {"kind": "method", "signature": []},
    }
    ours = {
        "smartredis.m": {"kind": "module"},
        "smartredis.m.f": {"kind": "function", "signature": [["b", "POSITIONAL_OR_KEYWORD", "1"]]},
    }
    assert set(differences(official, ours)) == {
        ("smartredis.m.f", "changed"),
        ("smartredis.m.C", "missing"),
    }
