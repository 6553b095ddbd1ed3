"""A toy scheduler on the stand-in core: the smallest complete module, for the core's own
tests and as the pattern for real ones (``pbs.py``, ``sge.py``, ``lsf.py``, ``cobalt.py``).

``toysub [-h] [-N name] [-o file] script`` prints the job id (output to ``name.o<id>``); ``toystat [id...]`` prints
``id state returncode signal`` per job; ``toydel id...``, ``toyhold id``, ``toyrls id``;
``toyrun -n N command...`` runs N ranks inside a job (``TOY_RANK``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from standin_wlm._apps import run_apps
from standin_wlm.core import FINISHED, Ctx, Job

NAME = "toy"
SUBMIT_COMMANDS = ("toysub",)
FAILURES = {"toystat": ("toystat: cannot connect to toy server (errno=111)", 2)}


def _env(job: Job) -> dict[str, str]:
    return {**os.environ, "TOY_JOBID": str(job["seq"]), "TOY_JOBNAME": job["name"]}


def toysub(ctx: Ctx, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="toysub", add_help=False)
    parser.add_argument("-h", dest="hold", action="store_true")
    parser.add_argument("-N", dest="name")
    parser.add_argument("-o", dest="out")
    parser.add_argument("script")
    args = parser.parse_args(argv)
    script = Path(args.script)
    if not script.is_file():
        print(f"toysub: script file {args.script} does not exist", file=sys.stderr)
        return 2
    name = args.name or script.name
    job = ctx.store.submit(
        script.read_text(),
        name=name,
        env=_env,
        cwd=os.getcwd(),
        stdout=args.out or (lambda job: os.path.join(job["cwd"], f"{name}.o{job['seq']}")),
        stderr=None,
        held=args.hold,
        lost=ctx.lose_new_job,
    )
    print(job["seq"])
    return 0


def toystat(ctx: Ctx, argv: list[str]) -> int:
    wanted = set(argv)
    for job in ctx.store.jobs():
        if not wanted or str(job["seq"]) in wanted:
            print(job["seq"], job["state"], job["returncode"], job["signal"])
            wanted.discard(str(job["seq"]))
    for missing in sorted(wanted):
        print(f"toystat: Unknown Job Id {missing}", file=sys.stderr)
    return 1 if wanted else 0


def _each(ctx: Ctx, argv: list[str], action: str) -> int:
    rc = 0
    for job_id in argv:
        job = ctx.store.get(job_id)
        if job is None or job["lost"]:
            print(f"{ctx.command}: Unknown Job Id {job_id}", file=sys.stderr)
            rc = 1
        elif action == "delete" and job["state"] == FINISHED:
            print(f"{ctx.command}: Job has finished {job_id}", file=sys.stderr)
            rc = 1
        else:
            getattr(ctx.store, action)(int(job_id))
    return rc


def toyrun(ctx: Ctx, argv: list[str]) -> int:
    if "TOY_JOBID" not in os.environ:
        print("toyrun: not inside a job", file=sys.stderr)
        return 1
    n = 1
    if argv[:1] == ["-n"]:
        n, argv = int(argv[1]), argv[2:]
    return run_apps([(argv, n, {})], lambda rank, _size: {"TOY_RANK": str(rank)})


COMMANDS = {
    "toysub": toysub,
    "toystat": toystat,
    "toydel": lambda ctx, argv: _each(ctx, argv, "delete"),
    "toyhold": lambda ctx, argv: _each(ctx, argv, "hold"),
    "toyrls": lambda ctx, argv: _each(ctx, argv, "release"),
    "toyrun": toyrun,
}
