"""The official SmartRedis/SmartSim distributions next to ours are reported (real metadata)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartredis._original import original_distribution, warn_if_original_installed

OFFICIAL_METADATA = """Metadata-Version: 2.1
Name: {name}
Version: {version}
Summary: RedisAI clients for SmartSim
Home-page: https://github.com/CrayLabs/SmartRedis
Author: CrayLabs, a Hewlett Packard Enterprise OSS Organization
Author-email: craylabs@hpe.com
"""

OURS_OLD_NAME = """Metadata-Version: 2.4
Name: smartsim
Version: 0.1.0
Summary: Launch simulations, ensembles and a tensor database on a laptop or an HPC system
"""


def _site(tmp_path: Path, name: str, version: str, text: str) -> Path:
    info = tmp_path / "site" / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(text.format(name=name, version=version))
    return info.parent


def test_nothing_reported_without_the_originals(caplog):
    assert original_distribution("smartredis") is None
    with caplog.at_level(logging.WARNING):
        assert warn_if_original_installed() is False
    assert not caplog.records


def test_official_client_is_reported_with_the_fix(tmp_path, monkeypatch, caplog):
    monkeypatch.syspath_prepend(str(_site(tmp_path, "smartredis", "0.6.1", OFFICIAL_METADATA)))
    assert original_distribution("smartredis").version == "0.6.1"
    with caplog.at_level(logging.WARNING):
        assert warn_if_original_installed() is True
    (record,) = caplog.records
    assert record.name == "smartredis"
    assert "the original smartredis 0.6.1 (CrayLabs)" in record.getMessage()
    assert "`pip uninstall -y smartredis smartredis_py`" in record.getMessage()


def test_a_leftover_of_this_project_under_the_old_name_is_not_the_original(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(_site(tmp_path, "smartsim", "0.1.0", OURS_OLD_NAME)))
    assert original_distribution("smartsim") is None
    monkeypatch.syspath_prepend(str(_site(tmp_path / "b", "smartsim", "0.8.0", OFFICIAL_METADATA)))
    assert original_distribution("smartsim").version == "0.8.0"


@pytest.mark.parametrize(
    ("module", "original", "ours"),
    [("smartredis", "smartredis", "smartredis_py"), ("smartsim", "smartsim", "smartsim_py")],
)
def test_importing_ours_next_to_the_original_warns(tmp_path, module, original, ours):
    site = _site(tmp_path, original, "0.6.1", OFFICIAL_METADATA)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *sys.path])
    out = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert f"the original {original} 0.6.1 (CrayLabs) is installed" in out.stderr
    assert f"next to {ours}" in out.stderr
