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
        super().__init__(self.create_message(perm_strat))

    def create_message(self, perm_strat: object) -> str:
        """The message (SmartSim 0.4 exposed this builder)."""
        return (
            f"user-provided permutation strategy {perm_strat!r} failed: it must return a "
            "list of dicts, one dict of parameter values per model"
        )


class ParameterWriterError(SmartSimError):
    """A tagged configuration file could not be read or written."""

    def __init__(self, file_path: str, read: bool = True) -> None:
        self.file_path = file_path
        super().__init__(self.create_message(file_path, read))

    def create_message(self, fp: str, read: bool) -> str:
        """The message (SmartSim 0.4 exposed this builder)."""
        return f"failed to {'read' if read else 'write'} configuration file {fp}"


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
        super().__init__(self.create_message(message, shell_error, command))

    def create_message(
        self, message: str, shell_error: str, command_list: Sequence[str] | str | None
    ) -> str:
        """The message (SmartSim 0.4 exposed this builder)."""
        if not isinstance(command_list, str):
            command_list = " ".join(command_list or ())
        details = f"\nCommand: {command_list}" if command_list else ""
        details += f"\nError from shell: {shell_error}" if shell_error else ""
        return message + details
