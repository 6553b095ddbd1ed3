"""RunSettings and BatchSettings: pure data plus formatting.

Settings never look at ``PATH`` or the environment when they are built and never start
processes. Executables are resolved by :func:`smartsim.settings.create_run_settings` (which
checks that the executable exists) or by the launcher when the step is launched.
"""

from __future__ import annotations

import copy
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from smartsim.error import SSUnsupportedError

EnvValue = str | int | float | None


def _as_arg_list(args: str | Iterable[str] | None, what: str) -> list[str]:
    """Normalise exe_args-like input: a str is split like a shell would, a list is checked."""
    if args is None:
        return []
    if isinstance(args, str):
        return shlex.split(args)
    if isinstance(args, (list, tuple)):
        out: list[str] = []
        for item in args:
            if not isinstance(item, str):
                raise TypeError(
                    f"{what} must be a str or a list of str; got item {item!r} of type "
                    f"{type(item).__name__}"
                )
            out.append(item)
        return out
    raise TypeError(f"{what} must be a str or a list of str, not {type(args).__name__}")


def _check_mapping(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{what} keys must be str; got {key!r}")
    return dict(value)


class RunSettings:
    """How to run one executable: exe, its arguments, a run command and its arguments.

    ``exe`` is kept as given (a list of one string, as in SmartSim); ``exe_args`` may be a
    str (split like a shell) or a list of str. For MPMD (several programs in one launch) use
    :meth:`make_mpmd` with one settings object per program.
    """

    #: run_args keys that the library sets itself (the Orchestrator warns when users set them)
    reserved_run_args: frozenset[str] = frozenset()
    #: whether :meth:`make_mpmd` is supported
    supports_mpmd: bool = False

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_command: str = "",
        run_args: Mapping[str, Any] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(exe, str) or not exe.strip():
            raise TypeError(f"exe must be a non-empty str (the program to run), got {exe!r}")
        if not isinstance(run_command, str):
            raise TypeError(f"run_command must be a str, got {type(run_command).__name__}")
        self.exe: list[str] = [exe]
        self.exe_args: list[str] = _as_arg_list(exe_args, "exe_args")
        self.run_args: dict[str, Any] = _check_mapping(run_args, "run_args")
        self.env_vars: dict[str, EnvValue] = _check_mapping(env_vars, "env_vars")
        self._run_command = run_command.strip()
        self.mpmd: list[RunSettings] = []
        self.in_batch = False
        self.colocated_db_settings: dict[str, Any] | None = None
        if kwargs:
            self._apply_kwargs(kwargs)

    def _apply_kwargs(self, kwargs: dict[str, Any]) -> None:
        unknown = sorted(kwargs)
        raise TypeError(
            f"{type(self).__name__} got unexpected keyword arguments {unknown}; pass run "
            "command options in run_args"
        )

    # ---- properties -------------------------------------------------------------------
    @property
    def run_command(self) -> str | None:
        """The run command as given (e.g. ``"mpirun"``), or None when the exe runs directly.

        It is resolved on ``PATH`` when the step is launched, not here.
        """
        return self._run_command or None

    @property
    def exe_path(self) -> str:
        """The executable as given or as resolved by ``create_run_settings``."""
        return self.exe[0]

    # ---- setters shared by every run command -----------------------------------------
    def _unsupported(self, what: str) -> SSUnsupportedError:
        cmd = self.run_command or "no run command"
        return SSUnsupportedError(
            f"{what} is not supported by {type(self).__name__} ({cmd}); set the option "
            "directly in run_args or use the settings class of your run command "
            "(e.g. MpirunSettings, SrunSettings)"
        )

    def set_tasks(self, tasks: int) -> None:
        """Number of tasks (not supported without a run command)."""
        raise self._unsupported("set_tasks")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """Tasks per node (not supported without a run command)."""
        raise self._unsupported("set_tasks_per_node")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """CPUs per task (not supported without a run command)."""
        raise self._unsupported("set_cpus_per_task")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """Hosts to run on (not supported without a run command)."""
        raise self._unsupported("set_hostlist")

    def set_nodes(self, nodes: int) -> None:
        """Number of nodes (not supported without a run command)."""
        raise self._unsupported("set_nodes")

    def set_walltime(self, walltime: str) -> None:
        """Wall-time limit (not supported without a run command)."""
        raise self._unsupported("set_walltime")

    def set(self, arg: str, value: Any = None, condition: bool = True) -> None:
        """Set a run argument by name (``value=None`` gives a bare flag) when condition holds."""
        if not isinstance(arg, str) or not arg:
            raise TypeError(f"run argument name must be a non-empty str, got {arg!r}")
        if condition:
            self.run_args[arg.lstrip("-")] = value

    def update_env(self, env_vars: Mapping[str, EnvValue]) -> None:
        """Add or replace environment variables for the launched program."""
        for key, value in _check_mapping(env_vars, "env_vars").items():
            if value is not None and not isinstance(value, (str, int, float)):
                raise TypeError(
                    f"environment variable {key} must be a str, int or float, "
                    f"not {type(value).__name__}"
                )
            self.env_vars[key] = value

    def add_exe_args(self, args: str | list[str]) -> None:
        """Append arguments to the executable's arguments (a str is split like a shell)."""
        self.exe_args.extend(_as_arg_list(args, "exe_args"))

    def make_mpmd(self, settings: RunSettings) -> None:
        """Run ``settings`` as another program of the same MPMD launch."""
        if not self.supports_mpmd:
            raise self._unsupported("make_mpmd (MPMD)")
        if type(settings) is not type(self):
            raise TypeError(
                f"make_mpmd needs another {type(self).__name__}, got {type(settings).__name__}"
            )
        if settings.mpmd:
            raise SSUnsupportedError("the settings passed to make_mpmd are already MPMD")
        if self.colocated_db_settings:
            raise SSUnsupportedError("a colocated model cannot be MPMD")
        self.mpmd.append(settings)

    # ---- formatting --------------------------------------------------------------------
    def format_run_args(self) -> list[str]:
        """The run arguments as a list of tokens (base class: key and value literally)."""
        out: list[str] = []
        for key, value in self.run_args.items():
            out.append(key)
            if value is not None:
                out.append(str(value))
        return out

    def format_env_vars(self) -> list[str]:
        """The environment variables as ``KEY=VALUE`` strings."""
        return [f"{k}={v}" for k, v in self.env_vars.items() if v is not None]

    def env_forwarding(self, extra_keys: Iterable[str] = ()) -> list[str]:
        """Tokens the run command needs to forward the environment (none by default)."""
        return []

    def _program_tokens(self) -> list[str]:
        return [self.exe_path, *self.exe_args]

    def launch_command(self, extra_env_keys: Iterable[str] = ()) -> list[str]:
        """The full command line: run command, its arguments, then each MPMD program.

        ``extra_env_keys`` names variables the launcher adds to the environment (``SSDB``,
        ...) that the run command must forward to remote ranks.
        """
        extra = list(extra_env_keys)
        if not self.run_command:
            return self._program_tokens()
        cmd = [self.run_command]
        for i, part in enumerate([self, *self.mpmd]):
            if i:
                cmd.append(":")
            cmd += part.format_run_args() + part.env_forwarding(extra) + part._program_tokens()
        return cmd

    def copy(self) -> RunSettings:
        """A deep copy (ensemble members get one each)."""
        return copy.deepcopy(self)

    def __str__(self) -> str:
        lines = [f"Executable: {self.exe_path}", f"Executable arguments: {self.exe_args}"]
        if self.run_command:
            lines.append(f"Run command: {self.run_command}")
        if self.run_args:
            lines.append(f"Run arguments: {self.run_args}")
        if self.env_vars:
            lines.append(f"Environment: {self.env_vars}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(exe={self.exe_path!r}, exe_args={self.exe_args!r}, "
            f"run_command={self.run_command!r}, run_args={self.run_args!r})"
        )


class BatchSettings:
    """Settings of a batch submission (sbatch, qsub, bsub, Cobalt qsub); pure data."""

    #: batch argument keys the library sets itself (output, job name, ...)
    reserved_batch_args: frozenset[str] = frozenset()

    def __init__(
        self,
        batch_cmd: str,
        batch_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._batch_cmd = batch_cmd
        self.batch_args: dict[str, Any] = _check_mapping(batch_args, "batch_args")
        self._preamble: list[str] = []
        nodes = kwargs.pop("nodes", None)
        time = kwargs.pop("time", None)
        queue = kwargs.pop("queue", None)
        account = kwargs.pop("account", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {sorted(kwargs)}; "
                "pass other scheduler options in batch_args"
            )
        if nodes:
            self.set_nodes(nodes)
        if time:
            self.set_walltime(time)
        if queue:
            self.set_queue(queue)
        if account:
            self.set_account(account)

    @property
    def batch_cmd(self) -> str:
        """The submission command as given (resolved on PATH at submission)."""
        return self._batch_cmd

    def set_batch_command(self, command: str) -> None:
        """Use another submission command (e.g. a wrapper script)."""
        if not isinstance(command, str) or not command:
            raise TypeError("the batch command must be a non-empty str")
        self._batch_cmd = command

    def _not_here(self, what: str) -> SSUnsupportedError:
        return SSUnsupportedError(f"{what} is not supported by {type(self).__name__}")

    def set_nodes(self, num_nodes: int) -> None:
        """Number of nodes of the allocation."""
        raise self._not_here("set_nodes")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """Hosts the job may run on."""
        raise self._not_here("set_hostlist")

    def set_queue(self, queue: str) -> None:
        """The queue or partition."""
        raise self._not_here("set_queue")

    def set_walltime(self, walltime: str) -> None:
        """The wall-time limit."""
        raise self._not_here("set_walltime")

    def set_account(self, account: str) -> None:
        """The account or project charged."""
        raise self._not_here("set_account")

    def add_preamble(self, lines: str | list[str]) -> None:
        """Lines written into the batch script after the directives, before the steps."""
        if isinstance(lines, str):
            self._preamble.append(lines)
        elif isinstance(lines, list) and all(isinstance(x, str) for x in lines):
            self._preamble.extend(lines)
        else:
            raise TypeError("add_preamble takes a str or a list of str")

    @property
    def preamble(self) -> list[str]:
        """The preamble lines, in order."""
        return list(self._preamble)

    def format_batch_args(self) -> list[str]:
        """The directives' arguments, one string per directive."""
        raise NotImplementedError

    def __str__(self) -> str:
        return f"Batch command: {self.batch_cmd}\nBatch arguments: {self.batch_args}"


def check_positive_int(value: Any, what: str) -> int:
    """Return ``value`` as an int, or raise a TypeError/ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be >= 1, got {value}")
    return value


def hosts_to_str(host_list: str | list[str], what: str = "host_list") -> str:
    """A host list as ``a,b,c`` (a str is taken as one host or an already-joined list)."""
    if isinstance(host_list, str):
        hosts = [host_list.strip()]
    elif isinstance(host_list, list) and all(isinstance(h, str) for h in host_list):
        hosts = [h.strip() for h in host_list]
    else:
        raise TypeError(f"{what} must be a str or a list of str")
    if not hosts or not all(hosts):
        raise ValueError(f"{what} must name at least one host")
    return ",".join(hosts)


def format_dash_args(args: Mapping[str, Any]) -> list[str]:
    """Tokens of srun/aprun/jsrun style: ``-k v`` for one-letter keys, ``--key=v`` otherwise.

    A None value gives the bare flag (``-k`` or ``--key``).
    """
    out: list[str] = []
    for key, value in args.items():
        if len(key) == 1:
            out += [f"-{key}"] if value is None else [f"-{key}", str(value)]
        else:
            out.append(f"--{key}" if value is None else f"--{key}={value}")
    return out


def format_directives(args: Mapping[str, Any], long_prefix: str = "--") -> list[str]:
    """One string per batch directive: ``-k v`` for one-letter keys, ``<long_prefix>key v``
    otherwise; a None value gives the bare flag."""
    out: list[str] = []
    for key, value in args.items():
        prefix = "-" if len(key) == 1 else long_prefix
        out.append(f"{prefix}{key}" if value is None else f"{prefix}{key} {value}")
    return out


def env_flag_args(
    flag: str, env_vars: Mapping[str, EnvValue], extra_keys: Iterable[str] = ()
) -> list[str]:
    """``flag KEY=VALUE`` per variable (``flag KEY`` for None: the current value is passed),
    then ``flag KEY`` for each of ``extra_keys`` not in ``env_vars`` (mpirun ``-x``, jsrun ``-E``).
    """
    out: list[str] = []
    for key, value in env_vars.items():
        out += [flag, key if value is None else f"{key}={value}"]
    for key in extra_keys:
        if key not in env_vars:
            out += [flag, key]
    return out
