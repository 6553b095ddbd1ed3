"""Deprecated alias of :mod:`smartsim.status` (kept for SmartSim 0.4 drivers)."""

import warnings

from smartsim.status import *  # noqa: F403
from smartsim.status import LIVE_STATUSES, SMARTSIM_STATUS, TERMINAL_STATUSES  # noqa: F401

warnings.warn(
    "smartsim.constants is deprecated; import from smartsim.status instead",
    DeprecationWarning,
    stacklevel=2,
)
