"""Stand-in PBS Professional: ``qsub``, ``qstat``, ``qdel``, ``qhold``, ``qrls``, plus the
PALS ``mpiexec`` and ALPS ``aprun`` found on Cray PBS sites.

Follows the PBS Professional Reference Guide (qsub, qstat, qdel; "Job States"; "Job
Exit Status"): job ids ``<seq>.<server>``; states ``Q H R E F`` (``F`` only with ``-x``);
``Exit_status`` is the script's exit code, or 256 + the signal when PBS killed it
(``qdel`` sends SIGTERM, SIGKILL after ``kill_delay``); substates 10/20/42/50/92 (91 when
deleted). Errors carry PBS's texts and exit codes (``pbs_errno`` % 256): ``Unknown Job Id``
(153), ``Job has finished`` (35), ``Unknown queue`` (170), ``illegal -N value`` (2).

The job starts in ``$HOME`` (as PBS does: scripts ``cd $PBS_O_WORKDIR``), with only the
login environment plus ``-v`` variables unless ``-V``, and PBS's variables (``PBS_JOBID``,
``PBS_NODEFILE``, ``PBS_O_WORKDIR``, ``PBS_ENVIRONMENT``, ``NCPUS``, ``TMPDIR``...).
Output goes straight to ``-o``/``-e`` (default ``<name>.o<seq>``/``.e<seq>`` in the submit
directory) instead of being staged at the end.

Knobs: ``STANDIN_PBS_SERVER`` (default ``pbs-standin``), ``STANDIN_PBS_VERSION`` (default
``2022.1.3``; below 13 the server keeps job names to 15 characters),
``STANDIN_PBS_QUEUES`` (comma-separated, default ``workq``, the first is the default).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import sys
import time
from pathlib import Path

from standin_wlm import alps
from standin_wlm.alps import run_mpmd
from standin_wlm.core import (
    DIR_ENV,
    EXITING,
    FINISHED,
    HELD,
    QUEUED,
    RUNNING,
    Ctx,
    Job,
)

NAME = "pbs"
SUBMIT_COMMANDS = ("qsub",)
FAILURES = {
    cmd: (f"Connection refused\n{cmd}: cannot connect to server pbs-standin (errno=15010)", 1)
    for cmd in ("qsub", "qstat", "qdel", "qhold", "qrls")
}

UNKNOWN_JOB, JOB_FINISHED, UNKNOWN_QUEUE, UNKNOWN_RESOURCE, BAD_VALUE = 153, 35, 170, 187, 2
#: resources a default PBS server knows (job-wide and chunk-level)
RESOURCES = {
    "select", "place", "walltime", "ncpus", "mem", "nodes", "nodect", "cput", "host",
    "vnode", "ngpus", "mpiprocs", "ompthreads", "arch", "software", "file", "filesystems",
    "pcput", "pmem", "vmem", "debug",
}  # fmt: skip
LOGIN_ENV = ("HOME", "USER", "LOGNAME", "SHELL", "PATH", "LANG", "TZ", "MAIL", "TERM")


def server() -> str:
    return os.environ.get("STANDIN_PBS_SERVER", "pbs-standin")


def version() -> str:
    return os.environ.get("STANDIN_PBS_VERSION", "2022.1.3")


def name_limit() -> int:
    """PBS Pro servers before 13.0 keep job names to 15 characters; later ones to 236."""
    major = int(re.match(r"\d+", version()).group())  # type: ignore[union-attr]
    return 15 if major < 13 else 236


def queues() -> list[str]:
    return [q for q in os.environ.get("STANDIN_PBS_QUEUES", "workq").split(",") if q]


def job_id(job: Job) -> str:
    return f"{job['seq']}.{server()}"


def _seq(text: str) -> str:
    """``12.server`` or ``12`` -> ``12`` (a job id of another server -> ``""``)."""
    seq, _, srv = text.partition(".")
    return seq if seq.isdigit() and srv in ("", server()) else ""


def _err(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


# --- qsub ------------------------------------------------------------------------------------

_OPTS_WITH_VALUE = set("aAcCeJlmMNoPqrSuvWWjkp")
_FLAGS = set("hVIXfz")
_WALLTIME = re.compile(r"^(\d+:){0,2}\d+(\.\d+)?$")
_SELECT_CHUNK = re.compile(r"^(\d+)?(:?[A-Za-z_][\w]*=[^:+]+)*$")
_NAME_OK = re.compile(r"^[A-Za-z][\x21-\x7e]*$")


def _parse_args(argv: list[str], opts: dict[str, list[str]]) -> list[str] | str:
    """getopt-style parsing into ``opts``; the operands, or an error text."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[i + 1 :]
        if not arg.startswith("-") or arg == "-":
            return argv[i:]
        letter, rest = arg[1:2], arg[2:]
        if letter in _FLAGS and not rest:
            opts.setdefault(letter, []).append("")
        elif letter in _OPTS_WITH_VALUE:
            if not rest:
                i += 1
                if i >= len(argv):
                    return f"qsub: option requires an argument -- '{letter}'"
                rest = argv[i]
            opts.setdefault(letter, []).append(rest)
        else:
            return f"qsub: invalid option -- '{letter}'"
        i += 1
    return []


def _directives(text: str, prefix: str) -> list[str]:
    """The ``#PBS`` arguments before the first command line of the script."""
    args: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or (stripped.startswith("#") and not stripped.startswith(prefix)):
            continue
        if not stripped.startswith(prefix):
            break
        args += shlex.split(stripped[len(prefix) :], comments=True)
    return args


def _resources(values: list[str]) -> dict[str, str] | str:
    out: dict[str, str] = {}
    for value in values:
        for item in _split_resources(value):
            key, eq, val = item.partition("=")
            if not eq or not val:
                return "qsub: illegal -l value"
            out[key] = val
    return out


def _split_resources(value: str) -> list[str]:
    """``select=2:ncpus=4,walltime=1:00`` -> items (commas inside select chunks are rare)."""
    return [item for item in value.split(",") if item]


def _check_resources(res: dict[str, str]) -> tuple[str, int] | None:
    extra = {r for r in os.environ.get("STANDIN_PBS_RESOURCES", "").split(",") if r}
    for key, val in res.items():
        if key not in RESOURCES | extra:
            return f"qsub: Unknown resource Resource_List.{key}", UNKNOWN_RESOURCE
        if key == "walltime" and not _WALLTIME.match(val):
            return "qsub: illegal -l value", BAD_VALUE
        if key == "select":
            for chunk in val.split("+"):
                if not chunk or not _SELECT_CHUNK.match(chunk):
                    return (
                        "qsub: Illegal attribute or resource value Resource_List.select",
                        BAD_VALUE,
                    )
                for item in chunk.split(":")[1 if chunk.split(":")[0].isdigit() else 0 :]:
                    if item.partition("=")[0] not in RESOURCES | extra:
                        return (
                            f"qsub: Unknown resource Resource_List.{item.partition('=')[0]}",
                            UNKNOWN_RESOURCE,
                        )
        if key == "place":
            for part in val.split(":"):
                if part not in ("free", "pack", "scatter", "vscatter", "excl", "shared",
                                "exclhost") and not part.startswith("group="):  # fmt: skip
                    return "qsub: Illegal attribute or resource value Resource_List.place", 2
    return None


def _chunks(select: str) -> list[tuple[int, dict[str, str]]]:
    out = []
    for chunk in select.split("+"):
        parts = chunk.split(":")
        count = int(parts[0]) if parts[0].isdigit() else 1
        res = dict(p.split("=", 1) for p in parts if "=" in p)
        out.append((count, res))
    return out


def qsub(ctx: Ctx, argv: list[str]) -> int:
    if argv in (["--version"], ["--ver"]):
        print(f"pbs_version = {version()}")
        return 0
    cli: dict[str, list[str]] = {}
    operands = _parse_args(argv, cli)
    if isinstance(operands, str):
        return _err(operands + "\nusage: qsub [-a date_time] [-A account_string] ... [script]", 2)
    if "I" in cli:
        return _err("qsub: interactive jobs are not supported by the stand-in", 2)
    if "J" in cli:
        return _err("qsub: job arrays are not supported by the stand-in", 2)
    if not operands:
        return _err("qsub: the stand-in reads no script from stdin; give a script file", 2)
    script_path = Path(operands[0])
    if operands[1:]:
        return _err("qsub: arguments after the script need -- and an executable", 2)
    try:
        text = script_path.read_text()
    except OSError:
        return _err(f"qsub: script file:: No such file or directory: {script_path}", 2)
    prefix = (cli.get("C") or [os.environ.get("PBS_DPREFIX", "#PBS")])[-1]
    opts: dict[str, list[str]] = {}
    bad = _parse_args(_directives(text, prefix), opts)
    if isinstance(bad, str):
        return _err(bad.replace("qsub:", "qsub: directive error:"), 2)
    for key, values in cli.items():  # the command line wins over the directives
        opts[key] = opts.get(key, []) + values if key in ("l", "v") else values
    name = (opts.get("N") or [script_path.name])[-1]
    if len(name) > name_limit() or not _NAME_OK.match(name):
        return _err("qsub: illegal -N value\nusage: qsub [-a date_time] ... [script]", 2)
    queue = (opts.get("q") or [queues()[0]])[-1].split("@")[0]
    if queue not in queues():
        return _err("qsub: Unknown queue", UNKNOWN_QUEUE)
    res = _resources(opts.get("l", []))
    if isinstance(res, str):
        return _err(res, BAD_VALUE)
    problem = _check_resources(res)
    if problem:
        return _err(*problem)
    chunks = _chunks(res.get("select", "1:ncpus=1"))
    ncpus = int(chunks[0][1].get("ncpus", res.get("ncpus", "1")))
    mpiprocs = [(n, int(r.get("mpiprocs", r.get("ncpus", 1)))) for n, r in chunks]
    host = socket.gethostname()
    hosts = [host for n, procs in mpiprocs for _ in range(n) for _ in range(procs)]
    cwd = os.getcwd()
    join = (opts.get("j") or ["n"])[-1]
    variables = dict(
        kv.split("=", 1) if "=" in kv else (kv, os.environ.get(kv, ""))
        for v in opts.get("v", [])
        for kv in v.split(",")
        if kv
    )
    held = "h" in opts

    def env(job: Job) -> dict[str, str]:
        base = dict(os.environ) if "V" in opts else {
            k: os.environ[k] for k in LOGIN_ENV if k in os.environ
        }  # fmt: skip
        jid = job_id(job)
        aux = ctx.store.root / "aux"
        job["nodefile"] = str(aux / jid)  # the record is written after this returns
        tmp = ctx.store.root / "tmp" / f"pbs.{jid}"
        tmp.mkdir(parents=True, exist_ok=True)
        base.update(variables)
        base.update(
            {f"PBS_O_{k}": os.environ[k] for k in LOGIN_ENV[:-1] if k in os.environ},
        )
        base.update(
            PBS_JOBID=jid,
            PBS_JOBNAME=name,
            PBS_NODEFILE=str(aux / jid),
            PBS_O_WORKDIR=cwd,
            PBS_O_HOST=host,
            PBS_O_SYSTEM="Linux",
            PBS_O_QUEUE=queue,
            PBS_QUEUE=queue,
            PBS_SERVER=server(),
            PBS_ENVIRONMENT="PBS_BATCH",
            PBS_JOBDIR=os.environ.get("HOME", cwd),
            PBS_TASKNUM="1",
            PBS_NODENUM="0",
            PBS_MOMPORT="15003",
            ENVIRONMENT="BATCH",
            NCPUS=str(ncpus),
            OMP_NUM_THREADS=chunks[0][1].get("ompthreads", str(ncpus)),
            TMPDIR=str(tmp),
        )
        base[DIR_ENV] = str(ctx.store.root)  # the stand-in's own "PBS_CONF_FILE"
        return base

    def out_path(kind: str) -> object:
        given = (opts.get(kind) or [""])[-1]
        if given:
            path = given.split(":", 1)[1] if ":" in given and not given.startswith("/") else given
            path = path if os.path.isabs(path) else os.path.join(cwd, path)
            if os.path.isdir(path):
                return lambda job: os.path.join(
                    path, f"{job_id(job)}.{'OU' if kind == 'o' else 'ER'}"
                )
            return path
        return lambda job: os.path.join(cwd, f"{name}.{kind}{job['seq']}")

    stdout = out_path("o")
    stderr = None if join == "oe" else out_path("e")
    if join == "eo":
        stdout, stderr = out_path("e"), None
    job = ctx.store.submit(
        text,
        name=name,
        env=env,
        cwd=os.environ.get("HOME", cwd),
        stdout=stdout,  # type: ignore[arg-type]
        stderr=stderr,  # type: ignore[arg-type]
        held=held,
        lost=ctx.lose_new_job,
        queue=queue,
        account=(opts.get("A") or [None])[-1],
        resources=res,
        hosts=hosts,
        submit_args=" ".join(shlex.quote(a) for a in argv),
        variables=variables,
    )
    print(job_id(job))
    return 0


# --- qstat -----------------------------------------------------------------------------------


def _letter(job: Job) -> str:
    if job["state"] == FINISHED:
        return "F"
    if job["deleted"] and job["state"] in (RUNNING, EXITING):
        return "E"
    return {QUEUED: "Q", HELD: "H", RUNNING: "R", EXITING: "E"}[job["state"]]


def _substate(job: Job) -> int:
    letter = _letter(job)
    if letter == "F":
        return 91 if job["deleted"] else 92
    return {"Q": 10, "H": 20, "R": 42, "E": 51 if job["deleted"] else 50}[letter]


def exit_status(job: Job) -> int | None:
    """PBS's Exit_status: the script's code, 256 + signal when killed, None if it never ran."""
    if job["state"] != FINISHED or job.get("start_time") is None:
        return None
    if job["signal"] is not None:
        return 256 + int(job["signal"])
    return int(job["returncode"])


def _ctime(t: float | None) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t)) if t else ""


def _attributes(job: Job) -> dict[str, object]:
    res = job.get("resources") or {}
    chunks = _chunks(res.get("select", "1:ncpus=1"))
    rl: dict[str, object] = {
        "ncpus": sum(n * int(r.get("ncpus", 1)) for n, r in chunks),
        "nodect": sum(n for n, _ in chunks),
    }
    rl.update({k: (int(v) if v.isdigit() else v) for k, v in res.items() if k != "ncpus"})
    rl.setdefault("place", "pack")
    rl.setdefault("select", "1:ncpus=1")
    attrs: dict[str, object] = {
        "Job_Name": job["name"],
        "Job_Owner": f"{job['user']}@{job['host']}",
        "job_state": _letter(job),
        "queue": job.get("queue") or queues()[0],
        "server": server(),
        "Checkpoint": "u",
        "ctime": _ctime(job["submit_time"]),
        "Error_Path": f"{job['host']}:{job['stderr'] or job['stdout']}",
        "Hold_Types": "u" if job["held"] else "n",
        "Join_Path": "oe" if job["stderr"] is None else "n",
        "Keep_Files": "n",
        "Mail_Points": "a",
        "mtime": _ctime(job.get("end_time") or job.get("start_time") or job["submit_time"]),
        "Output_Path": f"{job['host']}:{job['stdout']}",
        "Priority": 0,
        "qtime": _ctime(job["submit_time"]),
        "Rerunable": "True",
        "Resource_List": rl,
        "substate": _substate(job),
        "Variable_List": {
            k: v
            for k, v in job["env"].items()
            if k.startswith("PBS_O_") or k in job.get("variables", {})
        },
        "euser": job["user"],
        "project": "_pbs_project_default",
        "Submit_arguments": job.get("submit_args", ""),
        "Submit_Host": job["host"],
    }
    if job.get("account"):
        attrs["Account_Name"] = job["account"]
    if job.get("start_time"):
        attrs["stime"] = _ctime(job["start_time"])
        attrs["exec_host"] = f"{job['host']}/0"
        attrs["exec_vnode"] = f"({job['host']}:ncpus={rl['ncpus']})"
        attrs["session_id"] = job.get("pgid") or 0
        attrs["jobdir"] = job["cwd"]
        attrs["run_count"] = 1
    if job["state"] == FINISHED:
        attrs["obittime"] = _ctime(job.get("end_time"))
        status = exit_status(job)
        if status is not None:
            attrs["Exit_status"] = status
    if job["held"] and job["state"] == HELD:
        attrs["comment"] = "Job held by " + job["user"] + " on " + _ctime(job["submit_time"])
    elif job.get("start_time"):
        attrs["comment"] = "Job run at " + _ctime(job["start_time"]) + " on (" + job["host"] + ")"
    return attrs


def _text_block(jid: str, attrs: dict[str, object]) -> str:
    lines = [f"Job Id: {jid}"]
    for key, value in attrs.items():
        if isinstance(value, dict):
            if key == "Variable_List":
                lines.append(f"    {key} = " + ",".join(f"{k}={v}" for k, v in value.items()))
            else:
                lines += [f"    {key}.{k} = {v}" for k, v in value.items()]
        else:
            lines.append(f"    {key} = {value}")
    return "\n".join(lines) + "\n"


def qstat(ctx: Ctx, argv: list[str]) -> int:
    full = history = json_out = False
    ids: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-F":
            i += 1
            fmt = argv[i] if i < len(argv) else ""
            if fmt not in ("json", "dsv"):
                return _err(f"qstat: unsupported -F format {fmt!r}", 2)
            json_out = fmt == "json"
        elif arg.startswith("-") and len(arg) > 1:
            for letter in arg[1:]:
                if letter == "f":
                    full = True
                elif letter in "xH":
                    history = True
                elif letter in "w1nsaT":
                    pass
                else:
                    return _err(f"qstat: invalid option -- '{letter}'", 2)
        else:
            ids.append(arg)
        i += 1
    if json_out and not full:
        return _err("qstat: -F is only valid with -f", 2)
    jobs = ctx.store.jobs()
    rc = 0
    chosen: list[Job] = []
    if ids:
        for jid in ids:
            job = ctx.store.get(_seq(jid)) if _seq(jid) else None
            if job is None or job["lost"]:
                print(f"qstat: Unknown Job Id {jid}", file=sys.stderr)
                rc = UNKNOWN_JOB
            elif job["state"] == FINISHED and not history:
                print(
                    f"qstat: {job_id(job)} Job has finished, use -x or -H to obtain "
                    "historical job information",
                    file=sys.stderr,
                )
                rc = JOB_FINISHED
            else:
                chosen.append(job)
    else:
        chosen = [j for j in jobs if history or j["state"] != FINISHED]
    if json_out:
        payload = {
            "timestamp": int(time.time()),
            "pbs_version": version(),
            "pbs_server": server(),
            "Jobs": {job_id(j): _attributes(j) for j in chosen},
        }
        if not payload["Jobs"]:
            del payload["Jobs"]
        print(json.dumps(payload, indent=4))
    elif full:
        sys.stdout.write("\n".join(_text_block(job_id(j), _attributes(j)) for j in chosen))
    elif chosen:
        print("Job id            Name             User              Time Use S Queue")
        print("----------------  ---------------- ----------------  -------- - -----")
        for j in chosen:
            print(
                f"{job_id(j)[:16]:<17} {j['name'][:16]:<16} {j['user'][:16]:<16}  "
                f"{'00:00:00':>8} {_letter(j)} {j.get('queue') or queues()[0]}"
            )
    return rc


# --- qdel / qhold / qrls -----------------------------------------------------------------------


def _each(ctx: Ctx, argv: list[str], action: str) -> int:
    ids = [a for a in argv if not a.startswith("-")]
    if not ids:
        return _err(f"usage: {ctx.command} [-W force|suppress_email=N] [-x] job_identifier...", 2)
    rc = 0
    for jid in ids:
        seq = _seq(jid)
        job = ctx.store.get(seq) if seq else None
        if job is None or job["lost"]:
            print(f"{ctx.command}: Unknown Job Id {jid}", file=sys.stderr)
            rc = UNKNOWN_JOB
        elif job["state"] == FINISHED:
            print(f"{ctx.command}: Job has finished {jid}", file=sys.stderr)
            rc = JOB_FINISHED
        elif action == "delete":
            ctx.store.delete(int(seq))
        elif action == "hold":
            if job["state"] != QUEUED and job["state"] != HELD:
                print(f"{ctx.command}: Request invalid for state of job {jid}", file=sys.stderr)
                rc = 168
            else:
                ctx.store.hold(int(seq))
        else:
            ctx.store.release(int(seq))
    return rc


# --- run commands inside a job ------------------------------------------------------------------


def _inside(tool: str) -> int | None:
    if "PBS_JOBID" not in os.environ:
        return _err(f"{tool}: not running inside a PBS job (no PBS_JOBID); use qsub", 1)
    return None


def mpiexec(ctx: Ctx, argv: list[str]) -> int:
    """PALS ``mpiexec``: ``-n/--np``, ``--ppn``, ``--depth/-d``, ``--cpu-bind``, ``--hosts``,
    ``--hostfile``, ``--env K=V``, ``--envall``, ``--envlist a,b``, ``--transfer``,
    ``--label``, ``--line-buffer``; MPMD with ``:``."""
    if (rc := _inside("mpiexec")) is not None:
        return rc
    with_value = {"-n", "--np", "--ppn", "--depth", "-d", "--cpu-bind", "--hosts",
                  "--hostfile", "--env", "--envlist", "--wdir", "--umask", "--rlimits",
                  "-genv", "--genv"}  # fmt: skip
    flags = {"--envall", "--noenvall", "--transfer", "--label", "-l", "--line-buffer",
             "--verbose", "-v", "--no-transfer", "--exclusive"}  # fmt: skip
    segments: list[tuple[int, list[str], dict[str, str]]] = []
    i, n, env, wdir = 0, 1, {}, None
    while i < len(argv):
        arg = argv[i]
        key, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if key in with_value:
            value = inline if eq else (argv[i + 1] if i + 1 < len(argv) else None)
            if value is None:
                return _err(f"mpiexec: option {key} needs a value", 1)
            i += 1 if eq else 2
            if key in ("-n", "--np"):
                n = int(value)
            elif key in ("--env", "-genv", "--genv"):
                k, _, v = value.partition("=")
                env[k] = v
            elif key == "--wdir":
                wdir = value
            continue
        if key in flags:
            i += 1
            continue
        if arg.startswith("-"):
            return _err(f"mpiexec: unrecognized argument {arg}", 1)
        end = argv.index(":", i) if ":" in argv[i:] else len(argv)
        segments.append((n, argv[i:end], env))
        i, n, env = end + 1, 1, {}
    if not segments:
        return _err("mpiexec: no executable given", 1)
    ranks = []
    for count, cmd, extra in segments:
        ranks += [(cmd, extra) for _ in range(count)]
    size = len(ranks)
    return run_mpmd(ranks, lambda r: _pals_rank(r, size), cwd=wdir)


def _pals_rank(rank: int, size: int) -> dict[str, str]:
    return {
        "PALS_RANKID": str(rank),
        "PALS_LOCAL_RANKID": str(rank),
        "PALS_NODEID": "0",
        "PMI_RANK": str(rank),
        "PMI_SIZE": str(size),
    }


def aprun(ctx: Ctx, argv: list[str]) -> int:
    """ALPS ``aprun``: ``-n``, ``-N``, ``-d``, ``-cc``, ``-e K=V``, ``-L``, ``--wdir``; MPMD
    with ``:``."""
    if (rc := _inside("aprun")) is not None:
        return rc
    return alps.aprun(argv)


COMMANDS = {
    "qsub": qsub,
    "qstat": qstat,
    "qdel": lambda ctx, argv: _each(ctx, argv, "delete"),
    "qhold": lambda ctx, argv: _each(ctx, argv, "hold"),
    "qrls": lambda ctx, argv: _each(ctx, argv, "release"),
    "mpiexec": mpiexec,
    "aprun": aprun,
}
