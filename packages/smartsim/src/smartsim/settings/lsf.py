"""IBM LSF settings: ``jsrun`` (run command) and ``bsub`` (batch submission)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from smartsim.error import SSUnsupportedError
from smartsim.settings.base import (
    BatchSettings,
    EnvValue,
    RunSettings,
    check_positive_int,
    env_flag_args,
    format_dash_args,
    format_directives,
    hosts_to_str,
)


class JsrunSettings(RunSettings):
    """Settings for ``jsrun`` (resource sets, ERF files for MPMD)."""

    supports_mpmd = True

    def __init__(
        self,
        exe: str,
        exe_args: str | list[str] | None = None,
        run_args: Mapping[str, Any] | None = None,
        env_vars: Mapping[str, EnvValue] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exe, exe_args, run_command="jsrun", run_args=run_args, env_vars=env_vars, **kwargs
        )
        self.mpmd_preamble_lines: list[str] = []
        self.erf_sets: dict[str, str] = {}
        self.individual_suffix = ""

    def set_num_rs(self, num_rs: int | str) -> None:
        """``--nrs`` (an int, or ``"ALL_HOSTS"``)."""
        self.run_args["nrs"] = (
            num_rs if isinstance(num_rs, str) else check_positive_int(num_rs, "num_rs")
        )

    def set_cpus_per_rs(self, cpus_per_rs: int | str) -> None:
        """``--cpu_per_rs`` (an int, or ``"ALL_CPUS"``)."""
        self.run_args["cpu_per_rs"] = cpus_per_rs

    def set_gpus_per_rs(self, gpus_per_rs: int | str) -> None:
        """``--gpu_per_rs`` (an int, or ``"ALL_GPUS"``)."""
        self.run_args["gpu_per_rs"] = gpus_per_rs

    def set_rs_per_host(self, rs_per_host: int) -> None:
        """``--rs_per_host``."""
        self.run_args["rs_per_host"] = check_positive_int(rs_per_host, "rs_per_host")

    def set_tasks(self, tasks: int) -> None:
        """``--np``."""
        self.run_args["np"] = check_positive_int(tasks, "tasks")

    def set_tasks_per_rs(self, tasks_per_rs: int) -> None:
        """``--tasks_per_rs``."""
        self.run_args["tasks_per_rs"] = check_positive_int(tasks_per_rs, "tasks_per_rs")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """One resource set per host with this many tasks (as SmartSim does)."""
        self.set_tasks_per_rs(tasks_per_node)

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """CPUs per resource set."""
        self.set_cpus_per_rs(check_positive_int(cpus_per_task, "cpus_per_task"))

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """jsrun takes hosts through ERF files only."""
        raise SSUnsupportedError("jsrun does not take a host list; use set_erf_sets")

    def set_binding(self, binding: str) -> None:
        """``--bind``."""
        self.run_args["bind"] = str(binding)

    def set_mpmd_preamble(self, preamble_lines: list[str]) -> None:
        """Lines at the top of the ERF file of an MPMD launch."""
        self.mpmd_preamble_lines = list(preamble_lines)

    def set_erf_sets(self, erf_sets: dict[str, str]) -> None:
        """Resource lines of this program in the ERF file (e.g. ``{"cpu": "{0:4}"}``)."""
        self.erf_sets = dict(erf_sets)

    def set_individual_output(self, suffix: str | None = None) -> None:
        """One output file per task: ``--stdio_mode individual`` with ``suffix`` appended."""
        self.run_args["stdio_mode"] = "individual"
        self.individual_suffix = suffix or "_%t"

    def make_mpmd(self, settings: RunSettings | None = None) -> None:  # type: ignore[override]
        """Add a program to the MPMD launch (jsrun runs MPMD through an ERF file)."""
        if settings is None:
            return
        super().make_mpmd(settings)

    def format_run_args(self) -> list[str]:
        """``--key=v`` (``-k v`` for one letter); bare flags for None."""
        return format_dash_args(self.run_args)

    def format_env_vars(self) -> list[str]:
        """``-E KEY=VALUE`` (``-E KEY`` exports the current value)."""
        return env_flag_args("-E", self.env_vars)

    def env_forwarding(self, extra_keys: Iterable[str] = ()) -> list[str]:
        """Our variables, then the launcher's names (``-E SSDB``)."""
        return env_flag_args("-E", self.env_vars, extra_keys)

    def _rank_count(self) -> int:
        np_ = self.run_args.get("np", self.run_args.get("p"))
        if np_ is not None:
            return int(np_)
        nrs = self.run_args.get("nrs", self.run_args.get("n", 1))
        per = self.run_args.get("tasks_per_rs", self.run_args.get("a", 1))
        try:
            return int(nrs) * int(per)
        except (TypeError, ValueError):  # ALL_HOSTS and such: one rank per set is unknown
            return 1

    def _erf_rank_line(self, app: int) -> str:
        sets = self.erf_sets
        if "rank" in sets:
            head = f"rank: {sets['rank']}"
        else:
            head = str(sets.get("rank_count", self._rank_count()))
        body = [f"host: {sets.get('host', '*')}", f"cpu: {sets.get('cpu', '*')}"]
        body += [f"{k}: {sets[k]}" for k in ("gpu", "memory") if k in sets]
        return f"{head} : {{ {'; '.join(body)} }} : app {app}"

    def erf_text(self) -> str:
        """The Explicit Resource File of this MPMD launch: this program is app 0, each
        :meth:`make_mpmd` one the next app; ranks per app from ``erf_sets`` (``rank``,
        ``rank_count``, ``host``, ``cpu``, ``gpu``, ``memory``), else from its task count."""
        parts: list[JsrunSettings] = [self, *self.mpmd]  # type: ignore[list-item]
        preamble = list(self.mpmd_preamble_lines)
        distribution = next(
            (ln.strip() for ln in preamble if ln.strip().startswith("launch_distribution")), ""
        )
        preamble = [ln for ln in preamble if ln.strip() != distribution]
        if not distribution:
            value = next(
                (p.run_args.get("launch_distribution", p.run_args.get("d")) for p in parts), None
            )
            distribution = f"launch_distribution : {value or 'packed'}"
        lines = [distribution, *preamble, ""]
        lines += [f"app {i} : {shlex.join(p._program_tokens())}" for i, p in enumerate(parts)]
        lines.append("")
        lines += [p._erf_rank_line(i) for i, p in enumerate(parts)]
        return "\n".join(lines) + "\n"

    def mpmd_launch_command(self, erf_file: str, extra_env_keys: Iterable[str] = ()) -> list[str]:
        """``jsrun <options> -E ... --erf_input <erf_file>``: the ERF file (see
        :meth:`erf_text`) places the programs, so resource-set options are left out."""
        options = {k: v for k, v in self.run_args.items() if k not in _RESOURCE_SET_ARGS}
        env = self.env_forwarding(extra_env_keys)
        for part in self.mpmd:
            env += part.format_env_vars()
        return [self.run_command or "jsrun", *format_dash_args(options), *env,
                "--erf_input", erf_file]  # fmt: skip

    def launch_command(self, extra_env_keys: Iterable[str] = ()) -> list[str]:
        """The jsrun command; an MPMD launch needs its ERF file (:meth:`mpmd_launch_command`)."""
        if self.mpmd:
            raise SSUnsupportedError(
                "jsrun runs MPMD through an ERF file: write erf_text() to a file and use "
                "mpmd_launch_command(path) (the LSF launcher does both)"
            )
        return super().launch_command(extra_env_keys)


#: jsrun options an ERF file replaces (jsrun refuses them together with --erf_input)
_RESOURCE_SET_ARGS = frozenset(
    {"nrs", "n", "tasks_per_rs", "a", "cpu_per_rs", "c", "gpu_per_rs", "g", "rs_per_host",
     "r", "np", "p", "launch_distribution", "d"}
)  # fmt: skip


class BsubBatchSettings(BatchSettings):
    """Settings for ``bsub``. ``smts`` sets ``-alloc_flags smtN``."""

    reserved_batch_args = frozenset({"o", "e", "J", "cwd", "nnodes"})

    def __init__(
        self,
        nodes: int | None = None,
        time: str | None = None,
        project: str | None = None,
        batch_args: Mapping[str, Any] | None = None,
        smts: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.expert_mode = False
        self.smts: int | None = None
        if "account" in kwargs and project is None:
            project = kwargs.pop("account")
        super().__init__("bsub", batch_args=batch_args, nodes=nodes, time=time, **kwargs)
        if project:
            self.set_project(project)
        if smts is not None:
            self.set_smts(smts)

    def set_walltime(self, walltime: str) -> None:
        """``-W hh:mm`` (an ``hh:mm:ss`` value drops its seconds)."""
        parts = str(walltime).split(":")
        if len(parts) == 3:
            parts = parts[:2]
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"bsub walltime must be hh:mm or hh:mm:ss, got {walltime!r}")
        self.batch_args["W"] = ":".join(parts)

    def set_smts(self, smts: int) -> None:
        """``-alloc_flags smtN`` (simultaneous multithreading level)."""
        self.smts = check_positive_int(smts, "smts")
        self.batch_args["alloc_flags"] = f"smt{smts}"

    def set_project(self, project: str) -> None:
        """``-P``."""
        self.batch_args["P"] = str(project)

    def set_account(self, account: str) -> None:
        """Same as :meth:`set_project`."""
        self.set_project(account)

    def set_nodes(self, num_nodes: int) -> None:
        """``-nnodes``."""
        self.batch_args["nnodes"] = check_positive_int(num_nodes, "nodes")

    def set_expert_mode_req(self, res_req: str, slots: int) -> None:
        """Expert mode: ``-R res_req -n slots`` instead of ``-nnodes``."""
        self.expert_mode = True
        self.batch_args["R"] = str(res_req)
        self.batch_args["n"] = check_positive_int(slots, "slots")
        self.batch_args.pop("nnodes", None)

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``-m "a b c"``."""
        self.batch_args["m"] = '"' + hosts_to_str(host_list).replace(",", " ") + '"'

    def set_tasks(self, tasks: int) -> None:
        """``-n``."""
        self.batch_args["n"] = check_positive_int(tasks, "tasks")

    def set_queue(self, queue: str) -> None:
        """``-q``."""
        self.batch_args["q"] = str(queue)

    def format_batch_args(self) -> list[str]:
        """``-key value`` strings (LSF uses single dashes)."""
        return format_directives(self.batch_args, long_prefix="-")
