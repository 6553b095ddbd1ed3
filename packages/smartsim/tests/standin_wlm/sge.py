"""Stand-in (Son of) Grid Engine: ``qsub``, ``qstat`` (plain, ``-xml``, ``-j``), ``qdel``,
``qacct``, ``qhold``, ``qrls``.

Follows the Grid Engine man pages (qsub(1), qstat(1), qdel(1), qacct(1),
accounting(5)): job ids are plain numbers; ``qsub`` says ``Your job N ("name") has been
submitted`` (``-terse``: ``N``); ``qstat`` lists pending and running jobs only (``qw``,
``hqw``, ``r``, ``dr`` while a deleted job dies), finished ones leave it and appear in
``qacct`` (``failed``, ``exit_status``: 128 + n for a signal; ``failed 100 : assumedly
after job`` for a deleted job; a job deleted while pending gets no record). ``qdel`` kills
with SIGKILL at once. ``qsub -help``'s first line is the version (``SGE 8.1.9``).

The job starts in ``$HOME`` unless ``-cwd`` or ``-wd``; without ``-V`` it gets only the login
variables, ``-v`` ones and Grid Engine's (``JOB_ID``, ``JOB_NAME``, ``NSLOTS``, ``NHOSTS``,
``PE``, ``PE_HOSTFILE``, ``QUEUE``, ``SGE_O_WORKDIR``, ``SGE_TASK_ID``, ``TMPDIR``...).

Knobs: ``STANDIN_SGE_QUEUES`` (default ``all.q``), ``STANDIN_SGE_PES`` (default
``smp,mpi``), ``STANDIN_SGE_VERSION`` (default ``SGE 8.1.9``).
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

from standin_wlm.core import DIR_ENV, EXITING, FINISHED, HELD, QUEUED, RUNNING, Ctx, Job

NAME = "sge"
SUBMIT_COMMANDS = ("qsub",)
_DOWN = 'error: commlib error: got select error (Connection refused)\nerror: unable to send message to qmaster using port 6444 on host "sge-standin": got send error'
FAILURES = {cmd: (_DOWN, 1) for cmd in ("qsub", "qstat", "qdel", "qacct", "qhold", "qrls")}
FAILURES["qacct"] = ("error: unable to open accounting file /opt/sge/default/common/accounting", 1)

RESOURCES = {"h_rt", "s_rt", "h_vmem", "s_vmem", "mem_free", "h_cpu", "s_cpu", "arch",
             "hostname", "gpu", "exclusive", "m_mem_free", "h_data", "virtual_free"}  # fmt: skip
LOGIN_ENV = ("HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "MAIL", "TERM")
_BAD_NAME = "\n\t\r/:@\\*?"
_WITH_VALUE = {"-N", "-o", "-e", "-j", "-wd", "-v", "-q", "-l", "-A", "-P", "-S", "-b",
               "-hold_jid", "-m", "-M", "-r", "-now", "-p", "-C", "-a", "-ac", "-sc", "-dc",
               "-js", "-R", "-binding", "-shell", "-notify_time", "-c", "-ckpt"}  # fmt: skip
_FLAGS = {"-cwd", "-V", "-h", "-terse", "-notify", "-clear"}


def queues() -> list[str]:
    return [q for q in os.environ.get("STANDIN_SGE_QUEUES", "all.q").split(",") if q]


def pes() -> list[str]:
    return [p for p in os.environ.get("STANDIN_SGE_PES", "smp,mpi").split(",") if p]


def _reject(message: str) -> int:
    print(f"Unable to run job: {message}\nExiting.", file=sys.stderr)
    return 1


def _directives(text: str, prefix: str) -> list[str]:
    args: list[str] = []
    for line in text.splitlines():
        if line.startswith(prefix):
            args += shlex.split(line[len(prefix) :], comments=True)
    return args


def _parse(argv: list[str], opts: dict[str, list[list[str]]]) -> list[str] | str:
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-pe":
            if len(argv) - i < 3:
                return "qsub: ERROR! -pe option must have two arguments"
            opts.setdefault("-pe", []).append(argv[i + 1 : i + 3])
            i += 3
        elif arg in _WITH_VALUE:
            if i + 1 >= len(argv):
                return f"qsub: ERROR! {arg} option must have argument"
            opts.setdefault(arg, []).append([argv[i + 1]])
            i += 2
        elif arg in _FLAGS:
            opts.setdefault(arg, []).append([])
            i += 1
        elif arg in ("-t", "-sync", "-pty", "-I"):
            return f"qsub: the stand-in does not support {arg}"
        elif arg.startswith("-"):
            return f'qsub: ERROR! invalid option argument "{arg}"'
        else:
            return argv[i:]
    return []


def _last(opts: dict[str, list[list[str]]], key: str, default: str | None = None) -> str | None:
    return opts[key][-1][0] if opts.get(key) else default


def qsub(ctx: Ctx, argv: list[str]) -> int:
    if argv in (["-help"], ["-h"]) or argv[:1] == ["--version"]:
        version = os.environ.get("STANDIN_SGE_VERSION", "SGE 8.1.9")
        if argv[:1] == ["--version"]:
            print('qsub: ERROR! invalid option argument "--version"', file=sys.stderr)
            print(version, file=sys.stderr)
            return 7
        print(f"{version}\nusage: qsub [options] [script_file|-] [script_args]")
        return 0
    cli: dict[str, list[list[str]]] = {}
    operands = _parse(argv, cli)
    if isinstance(operands, str):
        print(operands, file=sys.stderr)
        return 7
    if not operands:
        print("qsub: the stand-in reads no script from stdin; give a script file", file=sys.stderr)
        return 7
    script = Path(operands[0])
    try:
        text = script.read_text()
    except OSError:
        print(
            f"Unable to read script file because of error: error opening {script}: No such file or directory",
            file=sys.stderr,
        )
        return 1
    opts: dict[str, list[list[str]]] = {}
    prefix = _last(cli, "-C") or "#$"
    bad = _parse(_directives(text, prefix), opts)
    if isinstance(bad, str):
        print(bad, file=sys.stderr)
        return 7
    for key, values in cli.items():
        opts[key] = opts.get(key, []) + values if key in ("-l", "-v") else values
    name = _last(opts, "-N", script.name) or script.name
    for ch in _BAD_NAME:
        if ch in name:
            print(f'qsub: ERROR! argument to -N option must not contain "{ch}"', file=sys.stderr)
            return 7
    if name[:1].isdigit():
        return _reject(f'job rejected: the job name "{name}" must not start with a digit')
    queue = _last(opts, "-q")
    if queue is not None and queue.split("@")[0] not in queues():
        return _reject(f'Job was rejected because job requests unknown queue "{queue}".')
    resources: dict[str, str] = {}
    for (value,) in opts.get("-l", []):
        for item in value.split(","):
            key, _, val = item.partition("=")
            if key not in RESOURCES:
                return _reject(f'unknown resource "{key}"')
            resources[key] = val
    pe, slots = None, 1
    if opts.get("-pe"):
        pe, slot_text = opts["-pe"][-1]
        if pe not in pes():
            return _reject(
                f'job rejected: the requested parallel environment "{pe}" does not exist.'
            )
        try:
            slots = int(slot_text.split("-")[-1] or slot_text.split("-")[0])
        except ValueError:
            print(f'qsub: ERROR! invalid slot range "{slot_text}"', file=sys.stderr)
            return 7
    submit_cwd = os.getcwd()
    home = os.environ.get("HOME", submit_cwd)
    workdir = _last(opts, "-wd") or (submit_cwd if "-cwd" in opts else home)
    join = (_last(opts, "-j", "n") or "n").lower() in ("y", "yes", "true")
    host = socket.gethostname()
    queue_name = (queue or queues()[0]).split("@")[0]
    variables: dict[str, str] = {}
    for (value,) in opts.get("-v", []):
        for kv in value.split(","):
            k, eq, v = kv.partition("=")
            variables[k] = v if eq else os.environ.get(k, "")

    def out_path(flag: str, letter: str):  # type: ignore[no-untyped-def]
        given = _last(opts, flag)
        if given:
            path = given.split(":", 1)[1] if ":" in given else given
            path = path if os.path.isabs(path) else os.path.join(workdir, path)
            if os.path.isdir(path):
                return lambda job: os.path.join(path, f"{name}.{letter}{job['seq']}")
            return lambda job: path.replace("$JOB_ID", str(job["seq"])).replace("$JOB_NAME", name)
        return lambda job: os.path.join(workdir, f"{name}.{letter}{job['seq']}")

    def env(job: Job) -> dict[str, str]:
        jid = str(job["seq"])
        base = (
            dict(os.environ)
            if "-V" in opts
            else {k: os.environ[k] for k in LOGIN_ENV if k in os.environ}
        )
        tmp = ctx.store.root / "tmp" / f"{jid}.1.{queue_name}"
        tmp.mkdir(parents=True, exist_ok=True)
        if "-V" not in opts:
            base["PATH"] = f"{tmp}:/usr/local/bin:/bin:/usr/bin"
        base.update(variables)
        base.update(
            {
                f"SGE_O_{k}": os.environ[k]
                for k in ("HOME", "LOGNAME", "MAIL", "PATH", "SHELL")
                if k in os.environ
            }
        )
        base.update(
            JOB_ID=jid,
            JOB_NAME=name,
            JOB_SCRIPT=job["script"],
            REQUEST=name,
            NSLOTS=str(slots),
            NHOSTS="1",
            NQUEUES="1",
            QUEUE=queue_name,
            SGE_O_HOST=host,
            SGE_O_WORKDIR=submit_cwd,
            SGE_CWD_PATH=workdir,
            SGE_STDOUT_PATH=job["stdout"],
            SGE_STDERR_PATH=job["stderr"] or job["stdout"],
            SGE_TASK_ID="undefined",
            SGE_ROOT=str(ctx.store.root),
            SGE_CELL="default",
            ENVIRONMENT="BATCH",
            RESTARTED="0",
            TMPDIR=str(tmp),
            HOSTNAME=host,
        )
        if pe:
            hostfile = ctx.store.root / "pe_hostfile" / jid
            hostfile.parent.mkdir(parents=True, exist_ok=True)
            hostfile.write_text(f"{host} {slots} {queue_name}@{host} UNDEFINED\n")
            base.update(PE=pe, PE_HOSTFILE=str(hostfile))
        base[DIR_ENV] = str(ctx.store.root)  # the stand-in's own SGE_ROOT/SGE_CELL
        return base

    job = ctx.store.submit(
        text,
        name=name,
        env=env,
        cwd=workdir,
        stdout=out_path("-o", "o"),
        stderr=None if join else out_path("-e", "e"),
        held="-h" in opts,
        lost=ctx.lose_new_job,
        queue=queue_name,
        pe=pe,
        slots=slots,
        account=_last(opts, "-A", "sge"),
        project=_last(opts, "-P", "NONE"),
        resources=resources,
    )
    if "-terse" in opts:
        print(job["seq"])
    else:
        print(f'Your job {job["seq"]} ("{name}") has been submitted')
    return 0


def _state(job: Job) -> str:
    if job["deleted"] and job["state"] in (RUNNING, EXITING):
        return "dr"
    return {QUEUED: "qw", HELD: "hqw", RUNNING: "r", EXITING: "r"}[job["state"]]


def _iso(t: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t)) if t else ""


def qstat(ctx: Ctx, argv: list[str]) -> int:
    xml = "-xml" in argv
    user = None
    i, detail = 0, None
    while i < len(argv):
        if argv[i] == "-u" and i + 1 < len(argv):
            user = argv[i + 1]
            i += 2
        elif argv[i] == "-j" and i + 1 < len(argv):
            detail = argv[i + 1]
            i += 2
        elif argv[i] in ("-xml", "-ext", "-r", "-t", "-urg", "-pri"):
            i += 1
        elif argv[i] == "-s" and i + 1 < len(argv):
            i += 2
        else:
            print(f'error: ERROR! invalid option argument "{argv[i]}"', file=sys.stderr)
            return 1
    jobs = [j for j in ctx.store.jobs() if j["state"] != FINISHED]
    if user not in (None, "*"):
        jobs = [j for j in jobs if j["user"] == user]
    if detail is not None:
        wanted = [j for j in jobs if str(j["seq"]) in detail.split(",")]
        if not wanted:
            print(f"Following jobs do not exist: \n{detail}", file=sys.stderr)
            return 1
        for j in wanted:
            print("=" * 62)
            print(
                f"job_number:                 {j['seq']}\njob_name:                   {j['name']}"
            )
            print(
                f"owner:                      {j['user']}\nsge_o_workdir:              {j['cwd']}"
            )
        return 0
    if xml:
        out = [
            "<?xml version='1.0'?>",
            '<job_info  xmlns:xsd="http://arc.liv.ac.uk/repos/darcs/sge/source/dist/util/resources/schemas/qstat/qstat.xsd">',
            "  <queue_info>",
        ]
        for j in (j for j in jobs if j["state"] in (RUNNING, EXITING)):
            out += _xml_job(j, "running")
        out += ["  </queue_info>", "  <job_info>"]
        for j in (j for j in jobs if j["state"] in (QUEUED, HELD)):
            out += _xml_job(j, "pending")
        out += ["  </job_info>", "</job_info>"]
        print("\n".join(out))
        return 0
    if jobs:
        print(
            "job-ID  prior   name       user         state submit/start at     queue                          slots ja-task-ID "
        )
        print("-" * 113)
        for j in jobs:
            when = time.strftime(
                "%m/%d/%Y %H:%M:%S", time.localtime(j.get("start_time") or j["submit_time"])
            )
            where = f"{j['queue']}@{j['host']}" if j["state"] in (RUNNING, EXITING) else ""
            print(
                f"{j['seq']:>7} 0.55500 {j['name'][:10]:<10} {j['user'][:12]:<12} {_state(j):<5} {when} {where:<30} {j['slots']:>5}        "
            )
    return 0


def _xml_job(j: Job, kind: str) -> list[str]:
    lines = [
        f'    <job_list state="{kind}">',
        f"      <JB_job_number>{j['seq']}</JB_job_number>",
        "      <JAT_prio>0.55500</JAT_prio>",
        f"      <JB_name>{escape(j['name'])}</JB_name>",
        f"      <JB_owner>{escape(j['user'])}</JB_owner>",
        f"      <state>{_state(j)}</state>",
    ]
    if kind == "running":
        lines += [
            f"      <JAT_start_time>{_iso(j['start_time'])}</JAT_start_time>",
            f"      <queue_name>{j['queue']}@{j['host']}</queue_name>",
        ]
    else:
        lines += [
            f"      <JB_submission_time>{_iso(j['submit_time'])}</JB_submission_time>",
            "      <queue_name></queue_name>",
        ]
    lines += [f"      <slots>{j['slots']}</slots>", "    </job_list>"]
    return lines


def qdel(ctx: Ctx, argv: list[str]) -> int:
    ids = [a for a in argv if not a.startswith("-")]
    if not ids:
        print("usage: qdel [options] job_task_list", file=sys.stderr)
        return 1
    rc = 0
    for jid in ids:
        job = ctx.store.get(jid) if jid.isdigit() else None
        if job is None or job["lost"] or job["state"] == FINISHED:
            print(f'denied: job "{jid}" does not exist', file=sys.stderr)
            rc = 1
            continue
        running = job["state"] in (RUNNING, EXITING)
        ctx.store.delete(int(jid), sig=signal.SIGKILL)
        if running:
            print(f"{job['user']} has registered the job {jid} for deletion")
        else:
            print(f"{job['user']} has deleted job {jid}")
    return rc


def _hold(ctx: Ctx, argv: list[str], hold: bool) -> int:
    rc = 0
    for jid in (a for a in argv if not a.startswith("-")):
        job = ctx.store.get(jid) if jid.isdigit() else None
        if job is None or job["lost"] or job["state"] == FINISHED:
            print(f'denied: job "{jid}" does not exist', file=sys.stderr)
            rc = 1
        elif hold:
            ctx.store.hold(int(jid))
            print(f"modified hold of job {jid}")
        else:
            ctx.store.release(int(jid))
            print(f"modified hold of job {jid}")
    return rc


def _ctime(t: float | None) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t)) if t else "-/-"


def _record(j: Job) -> str:
    deleted = j["deleted"]
    code = j["returncode"] if j["signal"] is None else 128 + int(j["signal"])
    fields = [
        ("qname", j["queue"]), ("hostname", j["host"]), ("group", "users"),
        ("owner", j["user"]), ("project", j.get("project") or "NONE"),
        ("department", "defaultdepartment"), ("jobname", j["name"]),
        ("jobnumber", j["seq"]), ("taskid", "undefined"), ("account", j.get("account") or "sge"),
        ("priority", 0), ("qsub_time", _ctime(j["submit_time"])),
        ("start_time", _ctime(j["start_time"])), ("end_time", _ctime(j["end_time"])),
        ("granted_pe", j.get("pe") or "NONE"), ("slots", j.get("slots", 1)),
        ("failed", "100 : assumedly after job" if deleted else 0),
        ("exit_status", code),
        ("ru_wallclock", f"{max(0.0, (j['end_time'] or 0) - (j['start_time'] or 0)):.3f}s"),
    ]  # fmt: skip
    return "=" * 62 + "\n" + "".join(f"{k:<13}{v}\n" for k, v in fields)


def qacct(ctx: Ctx, argv: list[str]) -> int:
    owner, begin, pattern, has_j = None, None, None, False
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "-j":
            has_j = True
            if i + 1 < len(argv) and not argv[i + 1].startswith("-"):
                pattern = argv[i + 1]
                i += 1
        elif arg == "-o" and i + 1 < len(argv):
            owner = argv[i + 1]
            i += 1
        elif arg == "-b" and i + 1 < len(argv):
            begin = _acct_time(argv[i + 1])
            if begin is None:
                print(
                    f"qacct: invalid time {argv[i + 1]!r}: use [[CC]YY]MMDDhhmm[.SS]",
                    file=sys.stderr,
                )
                return 1
            i += 1
        else:
            print(f'qacct: invalid option "{arg}"', file=sys.stderr)
            return 1
        i += 1
    if not has_j:
        print("qacct: the stand-in answers -j only", file=sys.stderr)
        return 1
    # a job deleted while pending never ran: Grid Engine writes no record for it
    done = [j for j in ctx.store.jobs() if j["state"] == FINISHED and j["start_time"] is not None]
    if owner:
        done = [j for j in done if j["user"] == owner]
    if begin is not None:
        done = [j for j in done if j["start_time"] >= begin]
    if pattern is not None:
        import fnmatch

        done = [
            j for j in done if str(j["seq"]) == pattern or fnmatch.fnmatchcase(j["name"], pattern)
        ]
        if not done:
            what = "job id" if pattern.isdigit() else "job name"
            print(f"error: {what} {pattern} not found", file=sys.stderr)
            return 1
    sys.stdout.write("".join(_record(j) for j in done))
    return 0


def _acct_time(text: str) -> float | None:
    """qacct's ``[[CC]YY]MMDDhhmm[.SS]``."""
    main, _, secs = text.partition(".")
    now = time.localtime()
    fmt = {8: "%m%d%H%M", 10: "%y%m%d%H%M", 12: "%Y%m%d%H%M"}.get(len(main))
    if fmt is None or not main.isdigit():
        return None
    try:
        parsed = time.strptime(
            main if len(main) > 8 else f"{now.tm_year}{main}",
            fmt if len(main) > 8 else "%Y%m%d%H%M",
        )
    except ValueError:
        return None
    return time.mktime(parsed) + (int(secs) if secs.isdigit() else 0)


COMMANDS = {
    "qsub": qsub,
    "qstat": qstat,
    "qdel": qdel,
    "qacct": qacct,
    "qhold": lambda ctx, argv: _hold(ctx, argv, True),
    "qrls": lambda ctx, argv: _hold(ctx, argv, False),
}
