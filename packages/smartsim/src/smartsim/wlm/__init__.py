"""Workload-manager helpers: :func:`detect_launcher` (reads the launcher registry) and the
per-WLM modules (:mod:`smartsim.wlm.slurm`)."""

from smartsim._core.launcher import detect_launcher

__all__ = ["detect_launcher"]
