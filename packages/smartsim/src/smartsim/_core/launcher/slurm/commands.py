"""Slurm command lines (argv lists only; the launcher runs them through its CommandRunner)."""

from __future__ import annotations

import getpass

from smartsim._core.launcher.slurm.parser import SACCT_FIELDS, SQUEUE_FIELDS


def user() -> str:
    """The user whose jobs squeue lists."""
    return getpass.getuser()


def sbatch(script: str, batch_cmd: str = "sbatch") -> list[str]:
    """Submit ``script``; ``--parsable`` prints just the job id."""
    return [batch_cmd, "--parsable", script]


def scancel(ids: list[str], signal: str | None = None) -> list[str]:
    """Cancel jobs or steps (``123``, ``123.4``) in one call; with ``signal`` (``"TERM"``)
    only send it (a plain scancel SIGKILLs a step's tasks at once)."""
    return ["scancel", *([f"--signal={signal}"] if signal else []), *ids]


def sacct_jobs(ids: list[str], completion: bool = False) -> list[str]:
    """One sacct call for the allocation lines of every job (``-c``: the jobcomp records)."""
    cmd = ["sacct", "-n", "-P", "-X", "-j", ",".join(ids), "-o", SACCT_FIELDS]
    return cmd[:1] + ["-c"] + cmd[1:] if completion else cmd


def squeue_all_states() -> list[str]:
    """Every job of this user that slurmctld still holds, finished ones included."""
    return ["squeue", "-h", "-t", "all", "-u", user(), "-O", SQUEUE_FIELDS]


def squeue_queued() -> list[str]:
    """Ids of this user's pending, running and completing jobs."""
    return ["squeue", "-h", "-u", user(), "-o", "%i"]


def squeue_steps() -> list[str]:
    """This user's running steps as ``id|name``."""
    return ["squeue", "-h", "-s", "-u", user(), "-o", "%i|%j"]


def scontrol_config() -> list[str]:
    """The controller's configuration."""
    return ["scontrol", "show", "config"]


def scontrol_job(job_id: str) -> list[str]:
    """One job's fields."""
    return ["scontrol", "show", "job", job_id]


def salloc(nodes: int, time: str | None, account: str | None, options: list[str]) -> list[str]:
    """An allocation with no shell (salloc returns once it is granted)."""
    cmd = ["salloc", "--no-shell", f"--nodes={nodes}"]
    if time:
        cmd.append(f"--time={time}")
    if account:
        cmd.append(f"--account={account}")
    return cmd + options


def sinfo_partitions() -> list[str]:
    """Partition names, the default one marked ``*``."""
    return ["sinfo", "-h", "-o", "%P"]


def sinfo_nodes(partition: str | None) -> list[str]:
    """One line per node: name, CPUs, state."""
    cmd = ["sinfo", "-h", "-N", "-o", "%N|%c|%t"]
    return cmd + ["-p", partition] if partition else cmd
