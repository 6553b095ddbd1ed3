"""Deprecated: use :mod:`smartsim.ml.tf` (SmartSim 0.4 kept this alias for ``freeze_model``)."""

import warnings

from smartsim.ml.tf import freeze_model

warnings.warn(
    "smartsim.tf is deprecated; import freeze_model from smartsim.ml.tf",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["freeze_model"]
