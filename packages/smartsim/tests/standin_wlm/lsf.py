"""The LSF stand-in: ``bsub``, ``bjobs``, ``bkill``, and ``jsrun``, ``jslist``, ``jskill``
inside a job (IBM Spectrum LSF 10.1 with CSM/JSM, as on Summit and Lassen).

Formats follow the documented outputs: ``Job <12> is submitted to queue <batch>.``;
``bjobs`` states PEND, PSUSP, RUN, DONE, EXIT; ``bjobs -o "field[:width] ... delimiter='x'"``
with ``-noheader`` and ``-json`` (``{"COMMAND": "bjobs", "JOBS": n, "RECORDS": [...]}``, an
unknown id as a record with ``ERROR: Job <12> is not found``); ``bkill``'s ``Job <12> is
being terminated`` / ``Job has already finished`` / ``No matching job found``; ``jslist``'s
table (ID, parent ID, nrs, cpus and gpus per RS, exit status, status: Running, Complete,
Killed). Refusal messages for a bad queue, run limit, node count or job name are modelled on
LSF's ``...: <reason>. Job not submitted.``; those of jsrun/jskill are the stand-in's own
wording of what the real tools refuse.

Every job runs on this machine: the launch host and the compute hosts are this host, so
``LSB_HOSTS`` is this host once for the launch slot and once per slot of the job,
``LSB_MCPU_HOSTS`` is ``<host> 1 <host> <slots>`` and ``LSB_DJOB_HOSTFILE`` lists it per slot.
The job gets the submission environment (LSF copies it), as a job on a real system does.
``bkill`` sends SIGINT, then SIGKILL after ``STANDIN_WLM_KILL_DELAY`` seconds (LSF's
``JOB_TERMINATE_INTERVAL``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

from standin_wlm._apps import App, run_apps
from standin_wlm.core import FINISHED, HELD, QUEUED, Ctx, Job

NAME = "lsf"
SUBMIT_COMMANDS = ("bsub",)
FAILURES = {
    "bsub": (
        "LSF is down. Please wait ...\nbatch system daemon not responding ... still trying",
        255,
    ),
    "bjobs": ("LSF is down. Please wait ...", 255),
    "bkill": ("LSF is down. Please wait ...", 255),
}
QUEUES = ("batch", "debug", "killable")
DEFAULT_QUEUE = "batch"
#: LSF keeps job names of up to 4094 characters
MAX_JOB_NAME = 4094
CORES_PER_NODE = 42  # Summit's usable cores per node (what -nnodes gives each node)

_VALUE = {
    "J", "o", "oo", "e", "eo", "cwd", "q", "P", "W", "nnodes", "alloc_flags", "n", "R", "m",
    "w", "G", "i", "L", "app", "env", "outdir", "U", "b", "t", "M", "c", "u", "sp", "g",
    "E", "Ep", "We", "sla", "ext", "C", "D", "F", "S", "v", "k", "T", "gpu", "csm", "step_cgroup",
}  # fmt: skip
_FLAG = {"H", "K", "N", "B", "r", "x", "rn", "hl", "ul"}
_INTERACTIVE = {"I", "Ip", "Is", "IS", "ISp", "ISs", "IX", "Ix"}
_RUNLIMIT = re.compile(r"^(\d+:)?\d+(/\S+)?$")


def _refuse(message: str) -> int:
    print(f"{message}. Job not submitted.", file=sys.stderr)
    return 255


def _parse_bsub(argv: list[str]) -> tuple[dict[str, str | None], list[str]] | str:
    """Options (LSF style: one dash, words) and the command; an error text if bad."""
    opts: dict[str, str | None] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-") or token == "-":
            return opts, argv[i:]
        key = token[1:]
        if key in _INTERACTIVE:
            return "bsub: interactive jobs (-I...) are not run by this stand-in"
        if key in _FLAG:
            opts[key] = None
            i += 1
        elif key in _VALUE:
            if i + 1 >= len(argv):
                return f"bsub: option requires an argument -- {key}"
            opts[key] = argv[i + 1]
            i += 2
        else:
            return f"bsub: illegal option -- {key}"
    return opts, []


def _directives(script: str) -> list[str]:
    """The words of the ``#BSUB`` lines before the script's first command."""
    words: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("#BSUB"):
            words += shlex.split(stripped[len("#BSUB") :])
        elif stripped and not stripped.startswith("#"):
            break
    return words


def bsub(ctx: Ctx, argv: list[str]) -> int:
    """``bsub [options] script`` (its ``#BSUB`` lines are read) or ``bsub [options] < script``."""
    parsed = _parse_bsub(argv)
    if isinstance(parsed, str):
        print(parsed, file=sys.stderr)
        return 255
    opts, command = parsed
    if command and len(command) == 1 and Path(command[0]).is_file():
        script = Path(command[0]).read_text()
    elif command:
        script = "#!/bin/sh\n" + shlex.join(command) + "\n"
    elif not sys.stdin.isatty():
        script = sys.stdin.read()
    else:
        print("bsub: no command or script given", file=sys.stderr)
        return 255
    from_script = _parse_bsub(_directives(script))
    if isinstance(from_script, str):
        print(from_script.replace("bsub:", "bsub: in #BSUB line:"), file=sys.stderr)
        return 255
    opts = {**from_script[0], **opts}  # the command line wins
    queue = opts.get("q") or DEFAULT_QUEUE
    if queue not in QUEUES:
        return _refuse(f"{queue}: No such queue")
    if opts.get("W") is not None and not _RUNLIMIT.match(str(opts["W"])):
        return _refuse(f"{opts['W']}: Bad RUNLIMIT specification")
    nnodes = opts.get("nnodes")
    if nnodes is not None and (not str(nnodes).isdigit() or int(nnodes) < 1):
        return _refuse(f"{nnodes}: Bad argument for -nnodes")
    name = opts.get("J") or (command[0] if command else "STDIN")
    if len(name) > MAX_JOB_NAME:
        return _refuse(f"Job name is longer than {MAX_JOB_NAME} characters")
    cwd = opts.get("cwd") or os.getcwd()
    if not os.path.isdir(cwd):
        return _refuse(f"{cwd}: Bad -cwd directory")
    slots = int(nnodes) * CORES_PER_NODE if nnodes else int(opts.get("n") or 1)
    host = socket.gethostname()
    hostfile = str(Path(ctx.store.root) / "hostfiles" / uuid.uuid4().hex)

    def out_path(key: str) -> object:
        path = opts.get(key) or opts.get(key * 2)
        if path is None:
            return None
        return lambda job: os.path.join(cwd, str(path).replace("%J", str(job["seq"])))

    def env(job: Job) -> dict[str, str]:
        return {
            **os.environ,
            "LSB_JOBID": str(job["seq"]),
            "LSB_JOBNAME": name,
            "LSB_QUEUE": queue,
            "LSB_HOSTS": " ".join([host] * (1 + slots)),
            "LSB_MCPU_HOSTS": f"{host} 1 {host} {slots}",
            "LSB_DJOB_HOSTFILE": hostfile,
            "LSB_DJOB_NUMPROC": str(slots),
            "LSB_JOBINDEX": "0",
            "LS_SUBCWD": cwd,
            "LSB_SUB_HOST": host,
        }

    stdout = out_path("o") or (lambda job: str(Path(ctx.store.root) / f"mail.{job['seq']}"))
    job = ctx.store.submit(
        script,
        name=name,
        env=env,
        cwd=cwd,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=out_path("e"),  # type: ignore[arg-type]
        held="H" in opts,
        lost=ctx.lose_new_job,
        queue=queue,
        project=opts.get("P"),
        nnodes=nnodes,
        options={k: v for k, v in opts.items()},
        nodefile=hostfile,
        hosts=[host] * slots,
    )
    print(f"Job <{job['seq']}> is submitted to queue <{queue}>.")
    return 0


# ---- bjobs ----------------------------------------------------------------------------------
def stat(job: Job) -> str:
    """The job's LSF state."""
    state = job["state"]
    if state == QUEUED:
        return "PEND"
    if state == HELD:
        return "PSUSP"
    if state != FINISHED:
        return "RUN"  # LSF has no "exiting": a job runs until it is DONE or EXIT
    if job["deleted"] or job["returncode"] not in (0, None) or job["signal"]:
        return "EXIT"
    return "DONE" if job["returncode"] == 0 else "EXIT"


def exit_code(job: Job) -> str:
    """bjobs' EXIT_CODE: empty unless the job is EXIT with a code (128+n for signal n)."""
    if stat(job) != "EXIT":
        return ""
    if job["returncode"] is not None:
        return str(job["returncode"])
    return str(128 + job["signal"]) if job["signal"] else ""


def _fmt_time(t: float | None) -> str:
    return time.strftime("%b %d %H:%M", time.localtime(t)) if t else "-"


FIELDS = {
    "jobid": lambda j: str(j["seq"]),
    "stat": stat,
    "exit_code": exit_code,
    "job_name": lambda j: j["name"],
    "name": lambda j: j["name"],
    "queue": lambda j: j.get("queue", DEFAULT_QUEUE),
    "user": lambda j: j["user"],
    "from_host": lambda j: j["host"],
    "exec_host": lambda j: j["host"] if j["start_time"] else "-",
    "submit_time": lambda j: _fmt_time(j["submit_time"]),
    "start_time": lambda j: _fmt_time(j["start_time"]),
    "finish_time": lambda j: _fmt_time(j["end_time"]),
    "project": lambda j: j.get("project") or "default",
    "nexec_host": lambda j: str(len(j.get("hosts") or [])) if j["start_time"] else "-",
}
_DEFAULT = ["jobid", "user", "stat", "queue", "from_host", "exec_host", "job_name", "submit_time"]


def _parse_format(text: str) -> tuple[list[str], str | None] | str:
    fields: list[str] = []
    delimiter = None
    match = re.search(r"delimiter='(.)'", text)
    if match:
        delimiter = match.group(1)
        text = text[: match.start()] + text[match.end() :]
    for word in text.split():
        field = word.split(":", 1)[0].lower()
        if field not in FIELDS:
            return f"{word}: Illegal field in the -o output format"
        fields.append(field)
    return fields, delimiter


def bjobs(ctx: Ctx, argv: list[str]) -> int:
    """``bjobs [-a] [-w] [-noheader] [-o fmt] [-json] [-u user] [jobid ...]``."""
    show_all = noheader = as_json = False
    fmt: str | None = None
    ids: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-a":
            show_all = True
        elif arg in ("-w", "-W"):
            pass
        elif arg == "-noheader":
            noheader = True
        elif arg == "-json":
            as_json = True
        elif arg in ("-o", "-u", "-q"):
            if i + 1 >= len(argv):
                print(f"bjobs: option requires an argument -- {arg[1:]}", file=sys.stderr)
                return 255
            if arg == "-o":
                fmt = argv[i + 1]
            i += 1
        elif arg.startswith("-"):
            print(f"bjobs: illegal option -- {arg[1:]}", file=sys.stderr)
            return 255
        else:
            ids.append(arg)
        i += 1
    if as_json and fmt is None:
        print("bjobs: the -json option must be used together with the -o option", file=sys.stderr)
        return 255
    fields, delimiter = _DEFAULT, None
    if fmt is not None:
        parsed = _parse_format(fmt)
        if isinstance(parsed, str):
            print(parsed, file=sys.stderr)
            return 255
        fields, delimiter = parsed
    known = {str(j["seq"]): j for j in ctx.store.jobs()}
    if ids:
        jobs = [known.get(j) for j in ids]
    else:
        jobs = [j for j in known.values() if show_all or j["state"] != FINISHED]
    missing = [j for j, job in zip(ids, jobs) if job is None]
    if as_json:
        records = []
        for wanted, job in zip(ids or [str(j["seq"]) for j in jobs], jobs):
            if job is None:
                records.append({"JOBID": wanted, "ERROR": f"Job <{wanted}> is not found"})
            else:
                records.append({f.upper(): FIELDS[f](job) for f in fields})
        print(json.dumps({"COMMAND": "bjobs", "JOBS": len(records), "RECORDS": records}, indent=2))
        return 255 if missing else 0
    found = [j for j in jobs if j is not None]
    if not found and not missing:
        print("No unfinished job found" if not show_all else "No job found", file=sys.stderr)
        return 255
    rows = [[FIELDS[f](j) for f in fields] for j in found]
    header = [f.upper() for f in fields]
    if delimiter is not None:
        lines = ([] if noheader else [delimiter.join(header)]) + [delimiter.join(r) for r in rows]
    else:
        table = ([] if noheader else [header]) + rows
        widths = [max(len(r[k]) for r in table) for k in range(len(fields))] if table else []
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    for line in lines:
        print(line)
    for job_id in missing:
        print(f"Job <{job_id}> is not found", file=sys.stderr)
    return 255 if missing else 0


def bkill(ctx: Ctx, argv: list[str]) -> int:
    """``bkill [-s signal] jobid ... | 0`` (0: every job of the user)."""
    sig = signal.SIGINT
    ids: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "-s" and i + 1 < len(argv):
            name = argv[i + 1].upper()
            sig = int(name) if name.isdigit() else signal.Signals["SIG" + name.removeprefix("SIG")]
            i += 2
            continue
        if argv[i].startswith("-"):
            print(f"bkill: illegal option -- {argv[i][1:]}", file=sys.stderr)
            return 255
        ids.append(argv[i])
        i += 1
    if not ids:
        print("bkill: no job id given\nUsage: bkill [-s signal] jobId ...", file=sys.stderr)
        return 255
    if ids == ["0"]:
        ids = [str(j["seq"]) for j in ctx.store.jobs() if j["state"] != FINISHED]
    rc = 0
    for job_id in ids:
        job = ctx.store.get(job_id) if job_id.isdigit() else None
        if job is None or job["lost"]:
            print(f"Job <{job_id}>: No matching job found", file=sys.stderr)
            rc = 255
        elif job["state"] == FINISHED:
            print(f"Job <{job_id}>: Job has already finished", file=sys.stderr)
            rc = 255
        else:
            ctx.store.delete(int(job_id), sig)
            print(f"Job <{job_id}> is being terminated")
    return rc


# ---- jsrun, jslist, jskill (inside a job) -------------------------------------------------
_JS_SHORT = {
    "n": "nrs", "a": "tasks_per_rs", "c": "cpu_per_rs", "g": "gpu_per_rs", "r": "rs_per_host",
    "p": "np", "d": "launch_distribution", "b": "bind", "E": "env", "h": "chdir",
    "o": "stdio_stdout", "k": "stdio_stderr", "e": "stdio_mode", "U": "erf_input",
    "l": "latency_priority", "m": "memory_per_rs", "M": "smpiargs",
}  # fmt: skip
_JS_LONG = set(_JS_SHORT.values()) | {"exit_on_error", "use_reservation", "progress"}
_RESOURCE_SET = {"nrs", "tasks_per_rs", "cpu_per_rs", "gpu_per_rs", "rs_per_host", "np",
                 "launch_distribution"}  # fmt: skip


def _allocation() -> str | None:
    alloc = os.environ.get("LSB_JOBID")
    if not alloc:
        print(
            "jsrun: Error: not inside an LSF job allocation (LSB_JOBID is not set)", file=sys.stderr
        )
    return alloc


def _steps_file(ctx: Ctx, alloc: str) -> Path:
    return Path(ctx.store.root) / "jsm" / f"{alloc}.json"


def _steps(ctx: Ctx, alloc: str) -> list[dict[str, object]]:
    path = _steps_file(ctx, alloc)
    return json.loads(path.read_text()) if path.exists() else []


def _save_steps(ctx: Ctx, alloc: str, steps: list[dict[str, object]]) -> None:
    path = _steps_file(ctx, alloc)
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(steps))
    os.replace(tmp, path)


def _parse_jsrun(argv: list[str]) -> tuple[dict[str, list[str]], list[str]] | str:
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("-") or token == "-":
            return opts, argv[i:]
        if token.startswith("--"):
            key, eq, value = token[2:].partition("=")
            if key not in _JS_LONG:
                return f"jsrun: unrecognized option '--{key}'"
        else:
            key, value, eq = _JS_SHORT.get(token[1:2], ""), token[2:], token[2:]
            if not key:
                return f"jsrun: invalid option -- '{token[1:2]}'"
        if not eq:
            if i + 1 >= len(argv):
                return f"jsrun: option '{token}' requires an argument"
            value = argv[i + 1]
            i += 1
        opts.setdefault(key, []).append(value)
        i += 1
    return opts, []


def _count(text: str) -> int:
    total = 0
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        total += int(last) - int(first) + 1 if last else 1
    return total


_ERF_APP = re.compile(r"^app\s+(\d+)\s*:\s*(.+)$")
_ERF_RS = re.compile(
    r"^(?:rank\s*:\s*(?P<ranks>[\d,\s-]+?)|(?P<count>\d+))\s*:\s*\{(?P<res>.*)\}\s*:\s*app\s+(?P<app>\d+)$"
)
_ERF_SETTING = re.compile(r"^[a-z_]+\s*:\s*\S+$")


def _read_erf(path: str) -> list[App] | str:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        return f"jsrun: Error: cannot read ERF file {path}: {exc.strerror}"
    apps: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        app, rs = _ERF_APP.match(line), _ERF_RS.match(line)
        if app:
            apps[int(app.group(1))] = shlex.split(app.group(2))
        elif rs:
            n = _count(rs.group("ranks")) if rs.group("ranks") else int(rs.group("count"))
            counts[int(rs.group("app"))] = counts.get(int(rs.group("app")), 0) + n
        elif not _ERF_SETTING.match(line):
            return f"jsrun: Error: ERF file {path}, line {number}: cannot parse {line!r}"
    for app_id in counts:
        if app_id not in apps:
            return f"jsrun: Error: ERF file {path}: app {app_id} has ranks but no command"
    if not counts:
        return f"jsrun: Error: ERF file {path} places no ranks"
    return [(apps[a], n, {}) for a, n in sorted(counts.items())]


def jsrun(ctx: Ctx, argv: list[str]) -> int:
    """``jsrun [options] program [args]`` or ``jsrun [options] --erf_input file``."""
    alloc = _allocation()
    if not alloc:
        return 1
    parsed = _parse_jsrun(argv)
    if isinstance(parsed, str):
        print(parsed, file=sys.stderr)
        return 1
    opts, program = parsed
    one = {k: v[-1] for k, v in opts.items()}
    env: dict[str, str] = {}
    for item in opts.get("env", []):
        key, eq, value = item.partition("=")
        env[key] = value if eq else os.environ.get(key, "")
    if "erf_input" in one:
        clash = sorted(_RESOURCE_SET & set(one))
        if clash or program:
            what = ", ".join(f"--{c}" for c in clash) or "a program"
            print(f"jsrun: Error: --erf_input cannot be combined with {what}", file=sys.stderr)
            return 1
        apps = _read_erf(one["erf_input"])
        if isinstance(apps, str):
            print(apps, file=sys.stderr)
            return 1
    else:
        if not program:
            print("jsrun: Error: no program to run", file=sys.stderr)
            return 1
        try:
            nrs = 1 if one.get("nrs", "1") == "ALL_HOSTS" else int(one.get("nrs", "1"))
            ranks = int(one["np"]) if "np" in one else nrs * int(one.get("tasks_per_rs", "1"))
        except ValueError as exc:
            print(f"jsrun: Error: bad resource set count: {exc}", file=sys.stderr)
            return 1
        apps = [(program, ranks, {})]
    nrs_shown = sum(n for _, n, _ in apps)
    with ctx.store.locked():
        steps = _steps(ctx, alloc)
        step_id = max((int(s["id"]) for s in steps), default=0) + 1
        steps.append({"id": step_id, "pid": os.getpid(), "nrs": nrs_shown,
                      "cpus": one.get("cpu_per_rs", "1"), "gpus": one.get("gpu_per_rs", "0"),
                      "exit": 0, "status": "Running"})  # fmt: skip
        _save_steps(ctx, alloc, steps)

    def rank_env(rank: int, size: int) -> dict[str, str]:
        return {
            **env,
            "JSM_NAMESPACE_RANK": str(rank),
            "JSM_NAMESPACE_SIZE": str(size),
            "JSM_NAMESPACE_LOCAL_RANK": str(rank),
            "OMPI_COMM_WORLD_RANK": str(rank),
            "OMPI_COMM_WORLD_SIZE": str(size),
            "PMIX_RANK": str(rank),
        }

    rc = run_apps(
        apps, rank_env, cwd=one.get("chdir"), stdout=one.get("stdio_stdout"),
        stderr=one.get("stdio_stderr"),
    )  # fmt: skip
    with ctx.store.locked():
        steps = _steps(ctx, alloc)
        for step in steps:
            if step["id"] == step_id:
                step["exit"] = rc
                if step["status"] == "Running":
                    step["status"] = "Complete"
        _save_steps(ctx, alloc, steps)
    return rc


def jslist(ctx: Ctx, argv: list[str]) -> int:
    """The jsrun steps of this allocation, as jslist prints them."""
    alloc = _allocation()
    if not alloc:
        return 1
    print("   parent                cpus      gpus      exit")
    print("ID   ID       nrs    per RS    per RS    status         status")
    print("=" * 79)
    for s in _steps(ctx, alloc):
        print(f"{s['id']:>5}{0:>5}{s['nrs']:>10}{s['cpus']:>10}{s['gpus']:>10}"
              f"{s['exit']:>10}{s['status']:>15}")  # fmt: skip
    return 0


def jskill(ctx: Ctx, argv: list[str]) -> int:
    """``jskill <step id>... | all``: kill jsrun steps of this allocation."""
    alloc = _allocation()
    if not alloc:
        return 1
    if not argv:
        print("jskill: Error: no job step id given (jskill <id> | all)", file=sys.stderr)
        return 1
    rc = 0
    with ctx.store.locked():
        steps = _steps(ctx, alloc)
        running = {str(s["id"]): s for s in steps if s["status"] == "Running"}
        wanted = list(running) if argv == ["all"] else argv
        for step_id in wanted:
            step = running.get(step_id)
            if step is None:
                print(f"jskill: Error: job step {step_id} is not running", file=sys.stderr)
                rc = 1
                continue
            step["status"] = "Killed"
            try:
                os.kill(int(step["pid"]), signal.SIGTERM)  # jsrun passes it on to its tasks
            except ProcessLookupError:
                pass
        _save_steps(ctx, alloc, steps)
    return rc


COMMANDS = {
    "bsub": bsub,
    "bjobs": bjobs,
    "bkill": bkill,
    "jsrun": jsrun,
    "jslist": jslist,
    "jskill": jskill,
}
