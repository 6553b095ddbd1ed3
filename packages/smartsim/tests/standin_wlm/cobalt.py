"""The Cobalt stand-in: ``qsub`` (script mode, ``#COBALT`` lines), ``qstat``, ``qdel``, and
Cray ALPS ``aprun`` inside a job (Cobalt as on ALCF's Theta).

Formats follow Cobalt's clients: qsub prints the job id on its last line and refuses a job
without ``-t`` and ``-n`` (``Not all required arguments provided: time,nodecount needed``),
a bad time (``invalid time specification``), an unknown queue, or a script that is not
executable; ``qstat`` prints a table (``--header`` picks the columns, ``:``-separated) with
an ``=`` rule under the header, lists only jobs still in the queue (queued, user_hold,
starting, running, exiting) and exits 1 with no output when none of the ids it was given is
there; ``qdel`` prints ``Deleted Jobs`` and a JobID/User table, or ``qdel: Job <id> not
found``. Each job writes ``<id>.cobaltlog`` (or ``--debuglog``) and, when its script ends,
``task completed normally with an exit code of N; initiating job cleanup and removal``.

Jobs run on this machine: ``COBALT_PARTNAME`` lists this host's node id per node and
``COBALT_NODEFILE`` this host once per node. The job gets the submission environment.
``aprun`` runs ``-n`` copies of each program (``a : b`` for MPMD) with ``ALPS_APP_PE``.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import sys
import time
import uuid
from pathlib import Path

from standin_wlm._apps import App, run_apps
from standin_wlm.core import ACTIVE, EXITING, HELD, QUEUED, RUNNING, Ctx, Job

NAME = "cobalt"
SUBMIT_COMMANDS = ("qsub",)
FAILURES = {
    "qsub": ("Failed to connect to queue manager", 1),
    "qstat": ("Failed to connect to queue manager", 1),
    "qdel": ("Failed to connect to queue manager", 1),
}
QUEUES = ("default", "debug-cache-quad", "debug-flat-quad", "backfill")
VERSION = "1.0.30"

_VALUE = {
    "n": "nodecount", "nodecount": "nodecount", "t": "time", "time": "time", "A": "project",
    "project": "project", "q": "queue", "queue": "queue", "O": "outputprefix",
    "outputprefix": "outputprefix", "o": "output", "output": "output", "e": "error",
    "error": "error", "cwd": "cwd", "env": "env", "jobname": "jobname",
    "debuglog": "debuglog", "proccount": "proccount", "mode": "mode", "attrs": "attrs",
    "M": "notify", "notify": "notify", "dependencies": "dependencies", "i": "inputfile",
    "K": "kerneloptions", "kernel": "kernel", "u": "umask", "geometry": "geometry",
}  # fmt: skip
_FLAG = {"h": "held", "held": "held", "v": "verbose", "d": "debug", "preemptable": "preemptable"}


def _error(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _parse(argv: list[str]) -> tuple[dict[str, str], list[str]] | str:
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-") or token == "-":
            return opts, argv[i:]
        key, eq, value = token.lstrip("-").partition("=")
        if key == "I" or key == "interactive":
            return "qsub: interactive jobs are not run by this stand-in"
        if key in _FLAG:
            opts[_FLAG[key]] = "1"
            i += 1
            continue
        if key not in _VALUE:
            return f"qsub: error: no such option: {token}"
        if not eq:
            if i + 1 >= len(argv):
                return f"qsub: error: {token} option requires an argument"
            value = argv[i + 1]
            i += 1
        opts[_VALUE[key]] = value
        i += 1
    return opts, []


def _directives(script: str) -> list[str]:
    words: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("#COBALT"):
            words += shlex.split(stripped[len("#COBALT") :])
        elif stripped and not stripped.startswith("#"):
            break
    return words


def _minutes(text: str) -> int | None:
    """Cobalt's time: minutes, or ``[[HH:]MM:]SS``-style ``HH:MM:SS``/``MM:SS``."""
    if text.isdigit():
        return int(text)
    parts = text.split(":")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
        seconds = 0
        for p in parts:
            seconds = seconds * 60 + int(p)
        return max(1, -(-seconds // 60)) if len(parts) == 3 else int(parts[0]) * 60 + int(parts[1])
    return None


def _stamp() -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime()) + " +00:00 (UTC)"


def qsub(ctx: Ctx, argv: list[str]) -> int:
    """``qsub [options] script [args]``: options on the command line win over ``#COBALT``."""
    if "--version" in argv:
        print(f'version: "qsub" {VERSION}, Cobalt {VERSION}')
        return 0
    parsed = _parse(argv)
    if isinstance(parsed, str):
        return _error(parsed)
    opts, command = parsed
    if not command:
        return _error("Command required")
    cwd = opts.get("cwd") or os.getcwd()
    script_path = Path(command[0] if os.path.isabs(command[0]) else os.path.join(cwd, command[0]))
    if not script_path.is_file():
        return _error(f"command {script_path} not found, or is not a file")
    text = script_path.read_text()
    from_script = _parse(_directives(text))
    if isinstance(from_script, str):
        return _error(from_script)
    opts = {**from_script[0], **opts}
    cwd = opts.get("cwd") or cwd
    needed = [f for f in ("time", "nodecount") if not opts.get(f)]
    if needed:
        return _error(f"Not all required arguments provided: {','.join(needed)} needed")
    if not opts["nodecount"].isdigit() or int(opts["nodecount"]) < 1:
        return _error("Error: non-integer node count specified with -n option")
    minutes = _minutes(opts["time"])
    if minutes is None:
        return _error(f"invalid time specification: {opts['time']}")
    if not os.path.isdir(cwd):
        return _error(f"Error: dir '{cwd}' is not a directory")
    if not os.access(script_path, os.X_OK):
        return _error(f"Script {script_path} is not executable")
    queue = opts.get("queue", "default")
    if queue not in QUEUES:
        return _error(f"'{queue}' is not a valid queue; queues: {', '.join(QUEUES)}")
    nodes = int(opts["nodecount"])
    host = socket.gethostname()
    root = Path(ctx.store.root)
    nodefile = str(root / "nodefiles" / uuid.uuid4().hex)
    # the job runs a copy of the script (as qsub keeps it), then notes its exit in the cobaltlog
    copy = root / "cobalt-scripts" / uuid.uuid4().hex
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(text)
    copy.chmod(0o755)

    def place(job: Job, key: str, suffix: str) -> str:
        if opts.get(key):
            path = opts[key]
        elif opts.get("outputprefix"):
            path = f"{opts['outputprefix']}.{suffix}"
        else:
            path = f"{job['seq']}.{suffix}"
        return path if os.path.isabs(path) else os.path.join(cwd, path)

    def env(job: Job) -> dict[str, str]:
        extra = {}
        for pair in re.split(r":(?=\w+=)", opts.get("env", "")) if opts.get("env") else []:
            key, _, value = pair.partition("=")
            extra[key] = value
        return {
            **os.environ,
            **extra,
            "COBALT_JOBID": str(job["seq"]),
            "COBALT_PARTNAME": ",".join(str(i) for i in range(nodes)),
            "COBALT_PARTSIZE": str(nodes),
            "COBALT_JOBSIZE": str(nodes),
            "COBALT_NODEFILE": nodefile,
            "COBALT_QUEUE": queue,
        }

    name = opts.get("jobname", "N/A")
    job = ctx.store.submit(
        "exit 0\n",  # placeholder, rewritten before the supervisor can start it (held)
        name=name,
        env=env,
        cwd=cwd,
        stdout=lambda job: place(job, "output", "output"),
        stderr=lambda job: place(job, "error", "error"),
        held=True,
        lost=ctx.lose_new_job,
        queue=queue,
        walltime=minutes,
        nodes=nodes,
        project=opts.get("project"),
        nodefile=nodefile,
        hosts=[host] * nodes,
        cobalt_hold="held" in opts,
    )
    log = place(job, "debuglog", "cobaltlog")
    script = (
        f"{shlex.quote(str(copy))} {shlex.join(command[1:])}\n"
        "rc=$?\n"
        f'echo "$(date -u "+%a %b %d %H:%M:%S %Y") +00:00 (UTC) Info: task completed normally '
        f'with an exit code of $rc; initiating job cleanup and removal" >> {shlex.quote(log)}\n'
        "exit $rc\n"
    )
    Path(job["script"]).write_text(script)
    Path(log).write_text(
        f"Jobid: {job['seq']}\n$ qsub {shlex.join(argv)}\n"
        f"{_stamp()} submitted with cwd set to: {cwd}\n"
    )
    ctx.store.update(job["seq"], cobaltlog=log)
    if "held" not in opts:
        ctx.store.release(job["seq"])
    print(job["seq"])
    return 0


# ---- qstat / qdel ---------------------------------------------------------------------------
def state(job: Job) -> str | None:
    """The job's Cobalt state (None once it has left the queue)."""
    return {QUEUED: "queued", HELD: "user_hold", RUNNING: "running", EXITING: "exiting"}.get(
        job["state"]
    )


def _walltime(job: Job) -> str:
    minutes = int(job.get("walltime") or 0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


COLUMNS = {
    "jobid": lambda j: str(j["seq"]),
    "user": lambda j: j["user"],
    "walltime": _walltime,
    "nodes": lambda j: str(j.get("nodes", 1)),
    "state": lambda j: state(j) or "done",
    "location": lambda j: j["host"] if j["state"] in (RUNNING, EXITING) else "None",
    "queue": lambda j: j.get("queue", "default"),
    "jobname": lambda j: j["name"],
    "project": lambda j: j.get("project") or "-",
}


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(rows[0], widths)).rstrip()]
    lines.append("=" * len(lines[0]))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows[1:]]
    return lines


def qstat(ctx: Ctx, argv: list[str]) -> int:
    """``qstat [-u user] [--header A:B] [-f] [jobid ...]``."""
    header = ["JobID", "User", "WallTime", "Nodes", "State", "Location"]
    user = None
    ids: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-u", "--user", "--header", "--sort"):
            if i + 1 >= len(argv):
                return _error(f"qstat: error: {arg} option requires an argument")
            if arg == "--header":
                header = argv[i + 1].split(":")
            elif arg in ("-u", "--user"):
                user = argv[i + 1]
            i += 2
            continue
        if arg in ("-f", "--full", "-l", "--long", "--reverse", "-d", "--debug"):
            i += 1
            continue
        if arg.startswith("-"):
            return _error(f"qstat: error: no such option: {arg}")
        if not arg.isdigit():
            return _error(f"{arg} is not a valid jobid or queue name")
        ids.append(arg)
        i += 1
    for column in header:
        if column.lower() not in COLUMNS:
            return _error(f"qstat: error: unknown header field {column}")
    jobs = [j for j in ctx.store.jobs() if j["state"] in ACTIVE]
    if user and user != "*":
        jobs = [j for j in jobs if j["user"] == user]
    if ids:
        jobs = [j for j in jobs if str(j["seq"]) in ids]
        if not jobs:
            return 1
    rows = [header] + [[COLUMNS[c.lower()](j) for c in header] for j in jobs]
    for line in _table(rows):
        print(line)
    return 0


def qdel(ctx: Ctx, argv: list[str]) -> int:
    """``qdel [-f] jobid ...``."""
    ids = [a for a in argv if a != "-f"]
    if not ids or any(a.startswith("-") for a in ids):
        print("Usage:\nqdel [--version] [-f] <jobid> <jobid>")
        return 1
    if not all(a.isdigit() for a in ids):
        return _error("jobid must be an integer")
    deleted = []
    for job_id in ids:
        job = ctx.store.get(job_id)
        if job is not None and not job["lost"] and job["state"] in ACTIVE:
            ctx.store.delete(int(job_id))
            deleted.append(job)
    if deleted:
        print("      Deleted Jobs")
        for line in _table([["JobID", "User"]] + [[str(j["seq"]), j["user"]] for j in deleted]):
            print(line)
    else:
        print(f"qdel: Job {ids[-1]} not found")
    return 0


# ---- aprun (inside a job) -------------------------------------------------------------------
_AP_VALUE = {
    "n": "pes", "pes": "pes", "N": "pes-per-node", "pes-per-node": "pes-per-node",
    "d": "cpus-per-pe", "cpus-per-pe": "cpus-per-pe", "cc": "cpu-binding",
    "cpu-binding": "cpu-binding", "j": "cpus-per-cu", "L": "node-list", "node-list": "node-list",
    "E": "exclude-node-list", "exclude-node-list": "exclude-node-list", "t": "cpu-time-limit",
    "e": "environment-override", "S": "pes-per-numa-node", "m": "memory-per-pe",
    "a": "architecture", "r": "specialized-cpus", "p": "protection-domain",
    "wdir": "wdir",
}  # fmt: skip
_AP_FLAG = {"b", "q", "quiet", "B", "batch-args", "F", "sync-output", "T", "R"}


def _aprun_apps(argv: list[str]) -> tuple[list[App], str | None] | str:
    apps: list[App] = []
    groups: list[list[str]] = [[]]
    for token in argv:
        if token == ":":
            groups.append([])
        else:
            groups[-1].append(token)
    wdir = None
    for group in groups:
        pes, env, i = 1, {}, 0
        while i < len(group) and group[i].startswith("-"):
            token = group[i]
            key, eq, value = token.lstrip("-").partition("=")
            if key in _AP_FLAG:
                i += 1
                continue
            if key not in _AP_VALUE:
                return f"aprun: unrecognized option '{token}'"
            if not eq:
                if i + 1 >= len(group):
                    return f"aprun: option '{token}' requires an argument"
                value = group[i + 1]
                i += 1
            name = _AP_VALUE[key]
            if name == "pes":
                if not value.isdigit() or int(value) < 1:
                    return f"aprun: -n {value}: the number of PEs must be a positive integer"
                pes = int(value)
            elif name == "environment-override":
                k, _, v = value.partition("=")
                env[k] = v
            elif name == "wdir":
                wdir = value
            i += 1
        if i >= len(group):
            return "aprun: Missing command (an executable is required after the options)"
        apps.append((group[i:], pes, env))
    return apps, wdir


def aprun(ctx: Ctx, argv: list[str]) -> int:
    """``aprun [options] prog [args] [: [options] prog2 ...]``, inside a job only."""
    if not (os.environ.get("COBALT_JOBID") or os.environ.get("PBS_JOBID")):
        return _error("aprun: Error: not inside a batch job's reservation (no COBALT_JOBID)")
    parsed = _aprun_apps(argv)
    if isinstance(parsed, str):
        return _error(parsed)
    apps, wdir = parsed
    apid = f"{os.environ.get('COBALT_JOBID', '0')}{os.getpid()}"

    def rank_env(rank: int, size: int) -> dict[str, str]:
        return {"ALPS_APP_PE": str(rank), "ALPS_APP_ID": apid, "PMI_RANK": str(rank),
                "PMI_SIZE": str(size)}  # fmt: skip

    rc = run_apps(apps, rank_env, cwd=wdir)
    print(f"Application {apid} resources: utime ~0s, stime ~0s", file=sys.stderr)
    return rc


COMMANDS = {"qsub": qsub, "qstat": qstat, "qdel": qdel, "aprun": aprun}
