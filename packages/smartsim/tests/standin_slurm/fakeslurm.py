"""A stand-in Slurm for the batch base's tests (psij's fake-scheduler pattern).

``sbatch``, ``squeue``, ``scancel`` and ``scontrol`` in this folder are links to this file;
state lives in ``$FAKE_SLURM_DIR``. ``sbatch`` runs the script with bash in its own session
(stdout/stderr to its ``#SBATCH --output/--error``); ``squeue`` prints the launcher's
``-O`` format or plain ids; ``scancel`` kills the job's process group. It only knows what
the launcher asks; it is not a scheduler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_SLURM_DIR"])


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def sbatch(args: list[str]) -> int:
    script = Path(args[-1])
    opts = {}
    for line in script.read_text().splitlines():
        if line.startswith("#SBATCH --"):
            key, _, value = line[len("#SBATCH --") :].partition("=")
            opts[key] = value
    if opts.get("partition") == "nope":
        print(
            "sbatch: error: Batch job submission failed: Invalid partition name specified",
            file=sys.stderr,
        )
        return 1
    counter = STATE / "counter"
    job = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(job))
    rc_file = STATE / f"{job}.rc"
    wrapper = f"bash {script}; echo $? > {rc_file}.tmp; mv {rc_file}.tmp {rc_file}"
    with open(opts["output"], "wb") as out, open(opts["error"], "wb") as err:
        proc = subprocess.Popen(
            ["bash", "-c", wrapper],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=opts.get("chdir"),
        )
    (STATE / f"{job}.pid").write_text(str(proc.pid))
    print(job)
    return 0


def _state(job: str) -> tuple[str, str]:
    if (STATE / f"{job}.cancelled").exists():
        return "CANCELLED", "0:15"
    if (STATE / f"{job}.rc").exists():
        rc = int((STATE / f"{job}.rc").read_text())
        return ("COMPLETED" if rc == 0 else "FAILED"), f"{rc}:0"
    pid = int((STATE / f"{job}.pid").read_text())
    return ("RUNNING", "0:0") if _alive(pid) else ("FAILED", "1:0")


def squeue(args: list[str]) -> int:
    jobs = sorted(p.stem for p in STATE.glob("*.pid"))
    if "-O" in args:
        for job in jobs:
            state, code = _state(job)
            wait_status = int(code.split(":")[0]) << 8  # squeue prints the raw wait status
            print(f"{job:<40}|{state:<24}|{wait_status:<12}|None|")
    else:
        for job in jobs:
            if _state(job)[0] == "RUNNING":
                print(job)
    return 0


def scancel(args: list[str]) -> int:
    for job in args:
        pidfile = STATE / f"{job}.pid"
        if not pidfile.exists():
            print("scancel: error: Invalid job id specified", file=sys.stderr)
            return 1
        pid = int(pidfile.read_text())
        if _alive(pid):
            (STATE / f"{job}.cancelled").touch()
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return 0


def scontrol(args: list[str]) -> int:
    print("AccountingStorageType   = accounting_storage/none")
    print("JobCompType             = jobcomp/none")
    return 0


if __name__ == "__main__":
    commands = {"sbatch": sbatch, "squeue": squeue, "scancel": scancel, "scontrol": scontrol}
    sys.exit(commands[os.path.basename(sys.argv[1])](sys.argv[2:]))
