"""HPE PALS ``mpiexec`` settings (PBS sites such as Polaris/Aurora; ``launcher="pals"``).

PALS's ``mpiexec`` is not Open MPI's: ``--np``, ``--ppn``, ``--depth``, ``--cpu-bind``,
``--hosts``, ``--hostfile``, ``--env K=V`` and ``--envlist A,B``; it forwards the caller's
environment by default (``--envall``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from smartsim.error import SSUnsupportedError
from smartsim.settings.base import check_positive_int, hosts_to_str
from smartsim.settings.mpi import _OpenMPISettings

logger = logging.getLogger(__name__)


class PalsMpiexecSettings(_OpenMPISettings):
    """Settings for PALS ``mpiexec`` (SmartSim 0.8's class of the same name)."""

    default_run_command = "mpiexec"
    reserved_run_args = frozenset({"wdir", "wd"})

    def _not_in_pals(self, what: str) -> SSUnsupportedError:
        return SSUnsupportedError(f"PALS mpiexec has no {what}; set run_args directly if needed")

    def set_task_map(self, task_mapping: str) -> None:
        """Not in PALS."""
        raise self._not_in_pals("task map (--map-by)")

    def set_cpus_per_task(self, cpus_per_task: int) -> None:
        """``--depth``: CPUs per rank."""
        self.run_args["depth"] = check_positive_int(cpus_per_task, "cpus_per_task")

    def set_cpu_binding_type(self, bind_type: str) -> None:
        """``--cpu-bind`` (``none``, ``core``, ``depth``, ``list:...``)."""
        self.run_args["cpu-bind"] = str(bind_type)

    def set_tasks(self, tasks: int) -> None:
        """``--np``: the number of ranks."""
        self.run_args["np"] = check_positive_int(tasks, "tasks")

    def set_tasks_per_node(self, tasks_per_node: int) -> None:
        """``--ppn``: ranks per node."""
        self.run_args["ppn"] = check_positive_int(tasks_per_node, "tasks_per_node")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--hosts a,b``."""
        self.run_args["hosts"] = hosts_to_str(host_list)

    def set_hostlist_from_file(self, file_path: str) -> None:
        """``--hostfile``."""
        self.run_args["hostfile"] = str(file_path)

    def set_broadcast(self, dest_path: str | None = None) -> None:
        """``--transfer``: copy the executable to the nodes first."""
        if dest_path:
            logger.warning("PALS mpiexec --transfer takes no destination; %s ignored", dest_path)
        self.run_args["transfer"] = None

    def set_quiet_launch(self, quiet: bool) -> None:
        """Not in PALS (a warning, as in SmartSim 0.8)."""
        logger.warning("PALS mpiexec has no quiet launch; ignored")

    def set_verbose_launch(self, verbose: bool) -> None:
        """``--verbose`` on or off."""
        if verbose:
            self.run_args["verbose"] = None
        else:
            self.run_args.pop("verbose", None)

    def set_walltime(self, walltime: str | int) -> None:
        """Not in PALS (the PBS job's walltime applies)."""
        raise self._not_in_pals("walltime; set it on the batch job")

    def format_run_args(self) -> list[str]:
        """``--key value`` (``--key`` alone for None)."""
        out: list[str] = []
        for key, value in self.run_args.items():
            out.append(f"--{key}")
            if value is not None:
                out.append(str(value))
        return out

    def format_env_vars(self) -> list[str]:
        """``--env K=V`` per set variable, ``--envlist A,B`` for those exported as they are."""
        out: list[str] = []
        passthrough: list[str] = []
        for key, value in self.env_vars.items():
            if value is None:
                passthrough.append(key)
            else:
                out += ["--env", f"{key}={value}"]
        if passthrough:
            out += ["--envlist", ",".join(passthrough)]
        return out

    def env_forwarding(self, extra_keys: Iterable[str] = ()) -> list[str]:
        """PALS forwards the whole environment itself; only our own variables are named."""
        return self.format_env_vars()
