"""The ``smart`` command line, run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def smart(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartsim._core._cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_info_reports_versions_server_module_backends():
    import smartsim_ai

    result = smart("info")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "smartsim" in out and "smartredis" in out
    assert str(smartsim_ai.find_server().path) in out
    assert str(smartsim_ai.module_path()) in out
    for backend in ("torch", "tensorflow", "onnxruntime"):
        assert backend in out


def test_dbcli_prints_an_executable():
    result = smart("dbcli")
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip()
    assert os.path.isfile(path) and os.access(path, os.X_OK)
    assert os.path.basename(path) in ("valkey-cli", "redis-cli")


@pytest.mark.parametrize("cmd", ["build", "clean"])
def test_build_and_clean_explain(cmd):
    result = smart(cmd)
    assert result.returncode == 0
    assert "nothing" in result.stdout.lower()


@pytest.mark.parametrize(
    "args",
    [
        ("--device", "cpu"),
        ("-v", "--device", "gpu", "--onnx", "--no_tf"),
        ("--device=CPU", "--torch_dir", "/opt/torch", "--skip-backends"),
    ],
)
def test_build_accepts_smartsim_options_of_site_scripts(args):
    result = smart("build", *args)
    assert result.returncode == 0, result.stderr
    assert "nothing needs building" in result.stdout
    if "--skip-backends" in args:
        assert "ignoring options of other SmartSim versions: --skip-backends" in result.stdout


def test_other_commands_still_refuse_unknown_options():
    result = smart("info", "--device", "cpu")
    assert result.returncode == 2 and "unrecognized arguments: --device cpu" in result.stderr


def test_site_and_help():
    assert smart("site").stdout.strip().endswith("smartsim")
    assert "validate" in smart().stdout
    assert smart("bogus").returncode == 2


@pytest.mark.slow
def test_validate_starts_a_database_and_reports(tmp_path):
    result = smart("validate", timeout=240)
    out = result.stdout
    assert "database start" in out and "OK" in out.split("database start", 1)[1].split("\n")[0]
    for check in ("tensor round trip", "model store and run", "script store and run"):
        line = next(ln for ln in out.splitlines() if check in ln)
        assert ("OK" in line) or ("UNAVAILABLE" in line), line
    assert result.returncode == (1 if "FAILED" in out else 0)
