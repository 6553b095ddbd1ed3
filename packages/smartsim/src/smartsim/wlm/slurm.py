"""Slurm allocations from Python: get one, list its hosts, check a partition, release it.

Every call goes through the launchers' command runner: a timeout per try and a bounded
number of tries (``SMARTSIM_WLM_TIMEOUT``, ``SMARTSIM_WLM_TRIES``); ``salloc`` is tried
once and may wait in the queue up to ``timeout`` seconds (default 3600).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from smartsim._core.launcher.shell import CommandRunner, RetryPolicy
from smartsim._core.launcher.slurm import commands, parser
from smartsim.error import AllocationError, LauncherError, ShellError
from smartsim.log import get_logger
from smartsim.settings.base import format_dash_args

logger = get_logger(__name__)
_RUNNER = CommandRunner("slurm")
_DOWN = ("down", "drain", "drng", "fail", "failg", "maint", "unk", "npc", "inval", "futr")


def _options(options: Mapping[str, Any] | None) -> list[str]:
    if options is None:
        return []
    if not isinstance(options, Mapping):
        raise TypeError("options must be a dict of salloc options, e.g. {'partition': 'debug'}")
    return format_dash_args({str(k).lstrip("-"): v for k, v in options.items()})


def get_allocation(
    nodes: int = 1,
    time: str | None = None,
    account: str | None = None,
    options: Mapping[str, Any] | None = None,
    timeout: float = 3600.0,
) -> str:
    """Allocate ``nodes`` nodes with ``salloc --no-shell`` and return the job id.

    ``options`` are more salloc options (``{"partition": "debug", "exclusive": None}``;
    None gives a bare flag). Pass the id to ``SrunSettings(alloc=...)`` and release it with
    :func:`release_allocation`. AllocationError carries Slurm's message when it refuses.
    """
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise ValueError(f"nodes must be an int >= 1, got {nodes!r}")
    argv = commands.salloc(nodes, time, account, _options(options))
    try:
        result = _RUNNER.run(argv, "allocating nodes", policy=RetryPolicy(timeout, 1))
    except ShellError as exc:
        raise AllocationError(f"Slurm refused the allocation: {exc.shell_error}") from exc
    alloc_id = parser.parse_salloc_output(result.output)
    logger.info("allocation %s granted (%d node(s))", alloc_id, nodes)
    return alloc_id


def release_allocation(alloc_id: str | int, wait: float = 60.0) -> None:
    """Cancel the allocation and wait (up to ``wait`` s) until Slurm no longer lists it."""
    alloc = str(alloc_id)
    try:
        _RUNNER.run(
            commands.scancel([alloc]),
            f"releasing allocation {alloc}",
            accept=("already completing or completed",),
        )
    except ShellError as exc:
        raise AllocationError(f"could not release allocation {alloc}: {exc}") from exc
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        out = _RUNNER.run(commands.squeue_queued(), "checking the allocation is gone").stdout
        if alloc not in parser.parse_squeue_ids(out):
            logger.info("allocation %s released", alloc)
            return
        time.sleep(0.2)
    raise AllocationError(f"allocation {alloc} is still listed {wait:g} s after scancel")


def get_default_partition() -> str:
    """The cluster's default partition (marked ``*`` by sinfo)."""
    out = _RUNNER.run(commands.sinfo_partitions(), "listing partitions").stdout
    return parser.parse_default_partition(out)


def validate(nodes: int = 1, ppn: int = 1, partition: str | None = None) -> bool:
    """Whether ``partition`` (default: the default one) has ``nodes`` usable nodes with at
    least ``ppn`` CPUs each. LauncherError if the partition does not exist."""
    part = partition or get_default_partition()
    out = _RUNNER.run(commands.sinfo_nodes(part), f"listing the nodes of {part}").stdout
    listed = parser.parse_sinfo_nodes(out)
    if not listed:
        known = _RUNNER.run(commands.sinfo_partitions(), "listing partitions").stdout.split()
        raise LauncherError(
            f"partition {part!r} does not exist or has no nodes; partitions: "
            f"{', '.join(p.rstrip('*') for p in known) or 'none'}"
        )
    usable = {
        name
        for name, cpus, state in listed
        if cpus >= ppn and state.rstrip("*~#$@^-!") not in _DOWN
    }
    if len(usable) < nodes:
        logger.info(
            "partition %s has %d usable node(s) with >= %d CPUs; %d requested",
            part,
            len(usable),
            ppn,
            nodes,
        )
        return False
    return True


def get_hosts(alloc: str | int | None = None) -> list[str]:
    """The host names of an allocation (default: the one the driver runs in)."""
    if alloc is None:
        nodelist = os.environ.get("SLURM_JOB_NODELIST") or os.environ.get("SLURM_NODELIST")
        if not nodelist:
            raise LauncherError(
                "not inside an allocation (no SLURM_JOB_NODELIST); pass alloc=<job id>"
            )
    else:
        out = _RUNNER.run(commands.scontrol_job(str(alloc)), f"reading job {alloc}").stdout
        nodelist = parser.parse_scontrol_fields(out).get("NodeList", "")
        if not nodelist or nodelist == "(null)":
            raise LauncherError(f"allocation {alloc} has no nodes yet (is it still pending?)")
    return parser.expand_hostlist(nodelist)
