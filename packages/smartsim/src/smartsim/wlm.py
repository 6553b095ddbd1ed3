"""Workload-manager helpers: :func:`detect_launcher` (reads the launcher registry)."""

from smartsim._core.launcher import detect_launcher

__all__ = ["detect_launcher"]
