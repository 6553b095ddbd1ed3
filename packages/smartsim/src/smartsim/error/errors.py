"""The exception hierarchy of smartsim (names and bases as in SmartSim 0.4)."""

from __future__ import annotations

from collections.abc import Sequence


class SmartSimError(Exception):
    """Base of the errors a user can act on (bad input, failed launches)."""


class EntityExistsError(SmartSimError):
    """An entity with this name is already registered or exists on disk."""


class UserStrategyError(SmartSimError):
    """A user-supplied permutation strategy returned something other than a list of dicts."""

    def __init__(self, perm_strat: object) -> None:
        self.perm_strat = perm_strat
        super().__init__(
            f"user-provided permutation strategy {perm_strat!r} failed: it must return a "
            "list of dicts, one dict of parameter values per model"
        )


class ParameterWriterError(SmartSimError):
    """A tagged configuration file could not be read or written."""

    def __init__(self, file_path: str, read: bool = True) -> None:
        self.file_path = file_path
        action = "read" if read else "write"
        super().__init__(f"failed to {action} configuration file {file_path}")


class SSUnsupportedError(Exception):
    """A feature or combination of options that smartsim does not support."""


class SSInternalError(Exception):
    """Errors from smartsim's own machinery (configuration, launchers)."""


class SSConfigError(SSInternalError):
    """The installation or configuration is incomplete (missing binary, module, path)."""


class LauncherError(SSInternalError):
    """A launcher could not launch, poll or stop a step."""


class AllocationError(LauncherError):
    """An allocation could not be obtained or released."""


class ShellError(LauncherError):
    """A command run by a launcher failed."""

    def __init__(
        self,
        message: str,
        shell_error: str = "",
        command_list: Sequence[str] | str | None = None,
    ) -> None:
        if isinstance(command_list, str):
            command = command_list
        else:
            command = " ".join(command_list or ())
        self.shell_error = shell_error
        self.command = command
        details = f"\nCommand: {command}" if command else ""
        details += f"\nError from shell: {shell_error}" if shell_error else ""
        super().__init__(message + details)
