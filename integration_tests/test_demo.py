"""The README's main demo runs as it is: database, simulation ensemble, model in the database."""

import re
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def test_main_demo_runs_and_leaves_nothing_behind():
    before = {p.pid for p in psutil.process_iter()}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = re.findall(r"heat_(\d): nu=(\S+)\s+steps=8 sum=(\S+) peak=(\S+)", out.stdout)
    assert [r[0] for r in rows] == ["0", "1", "2"]
    assert all(abs(float(r[2]) - 8.0) < 1e-3 for r in rows)  # diffusion conserves heat
    assert "database stopped" in out.stdout
    leftovers = [
        p
        for p in psutil.process_iter(["pid", "cmdline"])
        if p.pid not in before and "demo_output" in " ".join(p.info["cmdline"] or [])
    ]
    assert not leftovers, leftovers
