"""SmartSim 0.4's ``smartsim.tf.utils``: ``freeze_model`` (now in :mod:`smartsim.ml.tf`)."""

from smartsim.ml.tf import freeze_model

__all__ = ["freeze_model"]
