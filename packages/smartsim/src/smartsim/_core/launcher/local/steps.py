"""Local steps: the full command, resolved executable and environment additions."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

from smartsim._core.launcher.step import Step, StepContext, step_name
from smartsim.error import LauncherError
from smartsim.settings.base import RunSettings


def resolve_program(program: str) -> str:
    """An absolute path for the first word of a command; LauncherError if it is missing."""
    if os.sep in program:
        path = os.path.abspath(os.path.expanduser(program))
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        raise LauncherError(f"{program} is not an executable file (looked at {path})")
    found = shutil.which(program)
    if not found:
        raise LauncherError(f"{program!r} was not found on PATH; install it or give its full path")
    return found


def environment_additions(settings: RunSettings, context: StepContext) -> dict[str, str]:
    """The variables a launch adds to the driver's environment (settings, then context)."""
    env = {k: str(v) for k, v in settings.env_vars.items() if v is not None}
    env.update(context.env)
    return env


def create_local_step(
    entity_name: str,
    settings: RunSettings,
    context: StepContext,
    wrap_command: Callable[[list[str]], list[str]] | None = None,
) -> Step:
    """A step that runs the settings' launch command in the entity's directory."""
    if not os.path.isdir(context.cwd):
        raise LauncherError(
            f"the directory of {entity_name} does not exist: {context.cwd} (create it, or "
            "call Experiment.generate first)"
        )
    command = settings.launch_command(context.env.keys())
    if wrap_command is not None:
        command = list(wrap_command(list(command)))
    if not command:
        raise LauncherError(f"empty command for {entity_name}")
    command[0] = resolve_program(command[0])
    return Step(
        name=step_name(entity_name),
        entity_name=entity_name,
        command=command,
        context=context,
        env=environment_additions(settings, context),
    )
