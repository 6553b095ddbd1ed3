"""The workload managers' state tables (pure: native state text in, status out)."""

from __future__ import annotations

import logging

import pytest

from smartsim._core.launcher.cobalt import states as cobalt
from smartsim._core.launcher.lsf import states as lsf
from smartsim._core.launcher.pbs import states as pbs
from smartsim._core.launcher.slurm import states as slurm
from smartsim.status import SmartSimStatus as S


@pytest.mark.parametrize(
    "module,raw,expected",
    [
        (slurm, "PENDING", S.STATUS_QUEUED),
        (slurm, "RUNNING", S.STATUS_RUNNING),
        (slurm, "COMPLETED", S.STATUS_COMPLETED),
        (slurm, "CANCELLED by 0", S.STATUS_CANCELLED),
        (slurm, "CANCELLED+", S.STATUS_CANCELLED),
        (slurm, "TIMEOUT", S.STATUS_FAILED),
        (slurm, "OUT_OF_MEMORY", S.STATUS_FAILED),
        (slurm, "suspended", S.STATUS_PAUSED),
        (pbs, "Q", S.STATUS_QUEUED),
        (pbs, "R", S.STATUS_RUNNING),
        (pbs, "F", S.STATUS_COMPLETED),
        (pbs, "H", S.STATUS_PAUSED),
        (lsf, "PEND", S.STATUS_QUEUED),
        (lsf, "RUN", S.STATUS_RUNNING),
        (lsf, "DONE", S.STATUS_COMPLETED),
        (lsf, "EXIT", S.STATUS_FAILED),
        (cobalt, "queued", S.STATUS_QUEUED),
        (cobalt, "running", S.STATUS_RUNNING),
        (cobalt, "user_hold", S.STATUS_PAUSED),
    ],
)
def test_known_states(module, raw, expected):
    assert module.to_status(raw) is expected


@pytest.mark.parametrize("module", [slurm, pbs, lsf, cobalt])
def test_unknown_state_is_a_logged_live_fallback(module, caplog):
    with caplog.at_level(logging.WARNING, logger="smartsim"):
        logging.getLogger("smartsim").addHandler(caplog.handler)
        try:
            assert module.to_status("BRAND_NEW_STATE") is S.STATUS_RUNNING
        finally:
            logging.getLogger("smartsim").removeHandler(caplog.handler)
    assert "BRAND_NEW_STATE" in caplog.text
