"""Stand-in workload managers that really run the jobs (test infrastructure, not smartsim).

``core.py`` is the shared scheduler (job store, supervisor, call log, faults); one thin
module per workload manager (``pbs.py``, ``sge.py``, ...) supplies its commands.
:class:`StandIn` is what tests use; the ``standin_wlm`` fixture in ``tests/conftest.py``
makes one per scheduler and puts its commands first on PATH::

    def test_x(standin_wlm):
        pbs = standin_wlm("pbs")          # qsub/qstat/qdel of the PBS stand-in on PATH
        ...
        assert pbs.calls("qstat") == [["qstat", "-f", "-F", "json", "-x", "1.standin"]]
        pbs.fault("qstat", "hang")        # every later qstat hangs
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from standin_wlm.core import DIR_ENV, FAULTS_ENV, Job, Store, install, scheduler_module

__all__ = ["DIR_ENV", "FAULTS_ENV", "StandIn", "Store"]


class StandIn:
    """One stand-in scheduler: its state directory and its ``bin/`` of commands."""

    def __init__(self, scheduler: str, root: str | os.PathLike[str]) -> None:
        self.scheduler = scheduler
        self.root = Path(root)
        self.store = Store(self.root / "state")
        self.bin = install(scheduler, self.root / "bin")
        self.module: Any = scheduler_module(scheduler)

    @property
    def commands(self) -> list[str]:
        """The stand-in commands of this scheduler."""
        return list(self.module.COMMANDS)

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) with this scheduler's commands
        first on PATH and its state directory set."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env[DIR_ENV] = str(self.store.root)
        return env

    def calls(self, command: str | None = None) -> list[list[str]]:
        """Every invocation (argv, command name first), of ``command`` only if given."""
        return self.store.calls(command)

    def jobs(self, include_lost: bool = False) -> list[Job]:
        """The job records, in submission order."""
        return self.store.jobs(include_lost)

    def job(self, seq: int | str) -> Job | None:
        """One job record by sequence number."""
        return self.store.get(seq)

    def fault(self, command: str, kind: str, times: int | None = None) -> None:
        """Inject a fault into later calls of ``command`` (``fail``, ``hang``, ``garbage``,
        ``lose``), for every call or the next ``times`` ones; replaces earlier ones."""
        path = self.store.root / "faults"
        lines = [ln for ln in (path.read_text().split(";") if path.exists() else []) if ln]
        lines = [ln for ln in lines if ln.split("=", 1)[0] != command]
        lines.append(f"{command}={kind}" + (f"*{times}" if times else ""))
        for used in self.store.root.glob(f"faults.used.{command}"):
            used.unlink()
        path.write_text(";".join(lines))

    def clear_faults(self) -> None:
        """No more injected faults (those from ``STANDIN_WLM_FAULTS`` stay)."""
        (self.store.root / "faults").unlink(missing_ok=True)

    def close(self) -> list[int]:
        """Kill whatever of the jobs still runs; the pids that were alive."""
        return self.store.kill_everything()
