"""Pure functions over Slurm's output: text in, ids, states and host names out.

Each parser is tested on captured output (``tests/test_slurm_parser.py``) with no Slurm.
"""

from __future__ import annotations

import re

from smartsim._core.launcher.batch import JobState
from smartsim._core.launcher.slurm.states import to_status
from smartsim.error import LauncherError

#: the squeue ``-O`` fields the launcher asks for, ``|``-terminated (see :func:`parse_squeue`)
SQUEUE_FIELDS = "JobID:40|,State:24|,exit_code:12|,Reason:200|"
#: the sacct fields the launcher asks for with ``-P`` (``|``-separated)
SACCT_FIELDS = "JobIDRaw,State,ExitCode,Reason"


def parse_sbatch_output(output: str) -> str:
    """The job id printed by ``sbatch --parsable`` (``123`` or ``123;cluster``)."""
    for line in output.splitlines():
        first = line.strip().split(";", 1)[0]
        if first.isdigit():
            return first
    raise LauncherError(f"sbatch printed no job id: {output.strip()!r}")


_SALLOC_ID = re.compile(r"job allocation (\d+)")


def parse_salloc_output(output: str) -> str:
    """The job id in salloc's messages (``salloc: Granted job allocation 123``)."""
    match = _SALLOC_ID.search(output)
    if not match:
        raise LauncherError(f"salloc printed no job id: {output.strip()!r}")
    return match.group(1)


def parse_exit_code(text: str) -> int | None:
    """``"2:0"`` -> 2, ``"0:15"`` -> -15 (killed by signal 15), ``"3"`` -> 3, ``""`` -> None."""
    text = text.strip()
    if not text:
        return None
    code, _, sig = text.partition(":")
    try:
        exit_code = int(code)
        signal_number = int(sig) if sig else 0
    except ValueError:
        return None
    if exit_code == 0 and signal_number:
        return -signal_number
    return exit_code


def parse_wait_status(text: str) -> int | None:
    """squeue's ``exit_code``, a raw wait status: ``768`` -> 3, ``9`` -> -9 (SIGKILL)."""
    text = text.strip()
    if not text.isdigit():
        return parse_exit_code(text)
    status = int(text)
    return -(status & 0x7F) if status & 0x7F else status >> 8


def _state(raw: str, exit_code: str, reason: str, wait_status: bool = False) -> JobState:
    raw = raw.strip()
    rc = parse_wait_status(exit_code) if wait_status else parse_exit_code(exit_code)
    status = to_status(raw)
    reason = reason.strip()
    if reason in ("None", "(null)"):
        reason = ""
    return JobState(status, raw, rc, reason)


def parse_sacct(output: str) -> dict[str, JobState]:
    """``sacct -n -P -X -o JobIDRaw,State,ExitCode,Reason`` lines to states by job id.

    Lines of steps (``123.batch``, ``123.0``) are skipped; the last line of a job id wins
    (a requeued job has several).
    """
    states: dict[str, JobState] = {}
    for line in output.splitlines():
        parts = line.split("|")
        if len(parts) < 3 or not parts[0].strip().isdigit():
            continue
        reason = parts[3] if len(parts) > 3 else ""
        states[parts[0].strip()] = _state(parts[1], parts[2], reason)
    return states


def parse_squeue(output: str) -> dict[str, JobState]:
    """``squeue -h -t all -O JobID:40|,State:24|,exit_code:12|,Reason:200|`` to states.

    squeue's ``exit_code`` is the raw wait status (``768`` for exit 3, ``9`` for SIGKILL).
    """
    states: dict[str, JobState] = {}
    for line in output.splitlines():
        parts = line.split("|")
        if len(parts) < 3 or not parts[0].strip().isdigit():
            continue
        reason = parts[3] if len(parts) > 3 else ""
        states[parts[0].strip()] = _state(parts[1], parts[2], reason, wait_status=True)
    return states


def parse_squeue_ids(output: str) -> set[str]:
    """Job ids, one per line (``squeue -h -o %i``)."""
    return {line.strip() for line in output.splitlines() if line.strip()}


def parse_step_names(output: str) -> dict[str, str]:
    """``squeue -h -s -o %i|%j`` lines to ``{step name: step id}``."""
    steps: dict[str, str] = {}
    for line in output.splitlines():
        step_id, sep, name = line.strip().partition("|")
        if sep and step_id and name:
            steps[name.strip()] = step_id.strip()
    return steps


def parse_scontrol_config(output: str) -> dict[str, str]:
    """``scontrol show config`` to ``{key: value}``."""
    config: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and " " not in key.strip():
            config[key.strip()] = value.strip()
    return config


def parse_scontrol_fields(output: str) -> dict[str, str]:
    """``scontrol show job ID`` (``Key=Value`` pairs separated by spaces and lines)."""
    fields: dict[str, str] = {}
    for token in output.split():
        key, sep, value = token.partition("=")
        if sep and key and key not in fields:
            fields[key] = value
    return fields


def parse_default_partition(output: str) -> str:
    """The partition marked ``*`` in ``sinfo -h -o %P`` output."""
    for line in output.splitlines():
        name = line.strip()
        if name.endswith("*"):
            return name[:-1]
    raise LauncherError(f"sinfo lists no default partition (no name ends with '*'): {output!r}")


def parse_sinfo_nodes(output: str) -> list[tuple[str, int, str]]:
    """``sinfo -h -N -o %N|%c|%t`` (one line per node) to ``[(node, cpus, state), ...]``."""
    nodes: list[tuple[str, int, str]] = []
    for line in output.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            nodes.append((parts[0].strip(), int(parts[1]), parts[2].strip()))
    return nodes


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if current:
        parts.append(current)
    return parts


def expand_hostlist(hostlist: str) -> list[str]:
    """Slurm host list syntax to names: ``n[1-3,5],gpu01`` -> n1 n2 n3 n5 gpu01.

    Zero padding is kept (``n[01-02]`` -> n01 n02); several bracket groups expand in order.
    """
    hosts: list[str] = []
    for part in _split_top(hostlist.strip()):
        part = part.strip()
        match = re.search(r"\[([^\]]*)\]", part)
        if not match:
            if part:
                hosts.append(part)
            continue
        prefix, suffix = part[: match.start()], part[match.end() :]
        for item in match.group(1).split(","):
            found = _RANGE.match(item.strip())
            if not found:
                raise ValueError(f"bad range {item!r} in host list {hostlist!r}")
            first, last = found.group(1), found.group(2) or found.group(1)
            width = len(first) if first.startswith("0") else 0
            for number in range(int(first), int(last) + 1):
                hosts += expand_hostlist(f"{prefix}{str(number).zfill(width)}{suffix}")
    return hosts
