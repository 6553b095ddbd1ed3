"""Errors raised by smartsim (re-exported from :mod:`smartsim.error.errors`)."""

from smartsim.error.errors import (
    AllocationError,
    EntityExistsError,
    LauncherError,
    ParameterWriterError,
    ShellError,
    SmartSimError,
    SSConfigError,
    SSInternalError,
    SSUnsupportedError,
    UserStrategyError,
)

__all__ = [
    "AllocationError",
    "EntityExistsError",
    "LauncherError",
    "ParameterWriterError",
    "SSConfigError",
    "SSInternalError",
    "SSUnsupportedError",
    "ShellError",
    "SmartSimError",
    "UserStrategyError",
]
