"""Experiment add-ons that live in their own packages (``smartsim.exp.ray``: smartsim_ray)."""
