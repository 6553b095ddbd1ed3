"""The stand-in scheduler core: a job store that really runs the jobs on this machine.

Test infrastructure only (psij-python's fake-scheduler pattern, taken further). Each
scheduler is a thin module next to this one (``pbs.py``, ``sge.py``, ``lsf.py``,
``cobalt.py``) that parses its tools' real argument syntax, refuses what they refuse and
prints their documented formats; this module does everything they share:

* a **job store** under ``$STANDIN_WLM_DIR``: ``jobs/<n>.json`` per job (written whole and
  renamed, under one ``flock``), ``scripts/<n>`` (the script as it was at submit time, as
  qsub/bsub copy it), ``counter``;
* a **supervisor** per job (a detached ``python core.py --supervise`` process) that keeps the
  job queued (``STANDIN_WLM_QUEUE_SECONDS``, or held until released), runs the script with
  bash as its own process group in its own session with the environment the scheduler module
  chose, kills what the script left behind when it ends, passes through ``exiting``
  (``STANDIN_WLM_EXIT_SECONDS``) and records the exit code or the signal;
* **deletes**: SIGTERM to the job's process group at once, SIGKILL after
  ``STANDIN_WLM_KILL_DELAY`` seconds (PBS ``kill_delay``, LSF ``JOB_TERMINATE_INTERVAL``);
* a **call log**: every invocation's argv as one JSON line in ``calls.log``;
* **fault injection** from ``STANDIN_WLM_FAULTS`` (or the file ``faults`` in the state dir,
  which a test may rewrite while a driver runs): ``;``-separated ``command=kind[*N]``, kind
  one of ``fail`` (the tool's "cannot connect" error and exit code), ``hang`` (sleeps until
  killed), ``garbage`` (unparsable output, exit 0) or ``lose`` (on a submit command: the job
  id is printed but the scheduler forgets the job; on any other command: every job not yet
  finished is forgotten and its processes die, as after a server crash that lost its
  database); ``*N`` limits the fault to the next N calls of that command.

Job states in the store are ``queued``, ``held``, ``running``, ``exiting`` and
``finished``; the scheduler modules turn them into their tools' letters and words.

A scheduler module defines ``NAME``, ``COMMANDS`` (command name -> ``fn(Ctx, argv) -> rc``)
and optionally ``FAILURES`` (command -> (message, exit code) for the ``fail`` fault; the
default is ``"<cmd>: cannot connect to server"``, 1) and ``SUBMIT_COMMANDS`` (commands whose
``lose`` fault forgets the job being submitted). :func:`install` writes a ``bin/`` folder of
small wrappers, one per command; the ``standin_wlm`` pytest fixture (``tests/conftest.py``)
puts it first on PATH.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIR_ENV = "STANDIN_WLM_DIR"
FAULTS_ENV = "STANDIN_WLM_FAULTS"
QUEUE_SECONDS_ENV = "STANDIN_WLM_QUEUE_SECONDS"
EXIT_SECONDS_ENV = "STANDIN_WLM_EXIT_SECONDS"
KILL_DELAY_ENV = "STANDIN_WLM_KILL_DELAY"

QUEUED, HELD, RUNNING, EXITING, FINISHED = "queued", "held", "running", "exiting", "finished"
ACTIVE = (QUEUED, HELD, RUNNING, EXITING)

Job = dict[str, Any]


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def group_alive(pgid: int) -> bool:
    """True while any process of process group (or session) ``pgid`` runs (zombies do not
    count)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in ("Z", "X") and pgid in (int(fields[2]), int(fields[3])):
            return True
    return False


def _session_members(sid: int) -> list[int]:
    """Pids in session ``sid`` (a job's processes that moved to process groups of their
    own, as Open MPI's ranks do, stay in its session)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            pids.append(int(entry))
    return pids


def kill_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to process group ``pgid`` and, since jobs start as their own session
    (sid == pgid), to every process left in that session: a scheduler's cgroup takes them
    all."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
    for pid in _session_members(pgid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class Store:
    """The jobs of one stand-in scheduler, in a directory (safe across processes)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.jobs_dir = self.root / "jobs"
        self.scripts_dir = self.root / "scripts"
        self._depth = 0
        for d in (self.jobs_dir, self.scripts_dir):
            d.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_env(cls) -> Store:
        """The store named by ``$STANDIN_WLM_DIR``."""
        root = os.environ.get(DIR_ENV)
        if not root:
            raise SystemExit(f"stand-in scheduler: {DIR_ENV} is not set")
        return cls(root)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock (one writer at a time across all commands; re-entrant)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        with open(self.root / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- records -------------------------------------------------------------------------
    def _path(self, seq: int) -> Path:
        return self.jobs_dir / f"{seq}.json"

    def _write(self, job: Job) -> None:
        path = self._path(job["seq"])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job))
        os.replace(tmp, path)

    def get(self, seq: int | str) -> Job | None:
        """The job with sequence number ``seq`` (None if there is none)."""
        try:
            return json.loads(self._path(int(seq)).read_text())
        except (OSError, ValueError):
            return None

    def jobs(self, include_lost: bool = False) -> list[Job]:
        """Every job in submission order (forgotten ones only when asked)."""
        out = []
        for path in self.jobs_dir.glob("*.json"):
            with contextlib.suppress(OSError, ValueError):
                job = json.loads(path.read_text())
                if include_lost or not job.get("lost"):
                    out.append(job)
        return sorted(out, key=lambda j: j["seq"])

    def update(self, seq: int, **fields: Any) -> Job | None:
        """Change fields of a job under the lock; the new record (None if it is gone)."""
        with self.locked():
            job = self.get(seq)
            if job is None:
                return None
            job.update(fields)
            self._write(job)
            return job

    # --- lifecycle -----------------------------------------------------------------------
    def submit(
        self,
        script_text: str,
        *,
        name: str,
        env: dict[str, str] | Callable[[Job], dict[str, str]],
        cwd: str,
        stdout: str | Callable[[Job], str],
        stderr: str | Callable[[Job], str] | None,
        held: bool = False,
        lost: bool = False,
        **fields: Any,
    ) -> Job:
        """Record a job and start its supervisor; the new record.

        ``env`` is the job's whole environment, or a function of the record (which holds
        ``seq``) that returns it; so may ``stdout`` and ``stderr`` be (PBS names its files
        after the job id). ``stderr=None`` joins it into ``stdout``. Extra ``fields``
        (queue, account, nodes, resources, options...) are kept for the status commands.
        """
        with self.locked():
            counter = self.root / "counter"
            seq = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(seq))
            script = self.scripts_dir / str(seq)
            script.write_text(script_text)
            job: Job = {
                "seq": seq,
                "name": name,
                "script": str(script),
                "cwd": cwd,
                "state": HELD if held else QUEUED,
                "held": held,
                "lost": lost,
                "deleted": False,
                "submit_time": time.time(),
                "queue_seconds": _env_float(QUEUE_SECONDS_ENV, 0.0),
                "exit_seconds": _env_float(EXIT_SECONDS_ENV, 0.0),
                "kill_delay": _env_float(KILL_DELAY_ENV, 2.0),
                "start_time": None,
                "end_time": None,
                "returncode": None,  # the script's exit code (bash: 128+n if a child died of n)
                "signal": None,  # the signal that ended the script itself, if one did
                "pgid": None,
                "supervisor": None,
                "user": os.environ.get("USER") or _user(),
                "host": socket.gethostname(),
                **fields,
            }
            job["stdout"] = stdout(job) if callable(stdout) else stdout
            job["stderr"] = stderr(job) if callable(stderr) else stderr
            job["env"] = env(job) if callable(env) else dict(env)
            self._write(job)
        if not lost:
            sup = subprocess.Popen(
                [
                    sys.executable,
                    str(Path(__file__).resolve()),
                    "--supervise",
                    str(self.root),
                    str(seq),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
            job = self.update(seq, supervisor=sup.pid) or job
        return job

    def delete(self, seq: int, sig: int = signal.SIGTERM) -> Job | None:
        """Delete a job: a queued or held one ends without running; a running one gets
        ``sig`` at once and SIGKILL after its kill delay (from its supervisor)."""
        with self.locked():
            job = self.get(seq)
            if job is None:
                return None
            job["deleted"] = True
            job["delete_time"] = time.time()
            self._write(job)
        if job["state"] in (RUNNING, EXITING) and job.get("pgid"):
            kill_group(job["pgid"], sig)
        return job

    def hold(self, seq: int) -> Job | None:
        """Put a queued job on hold (a running one is not affected, as with qhold)."""
        with self.locked():
            job = self.get(seq)
            if job is None:
                return None
            job["held"] = True
            if job["state"] == QUEUED:
                job["state"] = HELD
            self._write(job)
            return job

    def release(self, seq: int) -> Job | None:
        """Release a hold."""
        with self.locked():
            job = self.get(seq)
            if job is None:
                return None
            job["held"] = False
            if job["state"] == HELD:
                job["state"] = QUEUED
            self._write(job)
            return job

    def lose(self, seq: int) -> None:
        """The scheduler forgets a job; whatever of it runs dies (no exit code is kept)."""
        job = self.update(seq, lost=True)
        if job and job.get("pgid"):
            kill_group(job["pgid"], signal.SIGKILL)

    def kill_everything(self) -> list[int]:
        """Kill every supervisor and job process group still alive (test teardown);
        the pids that were alive."""
        found = []
        for job in self.jobs(include_lost=True):
            for key in ("pgid", "supervisor"):
                pid = job.get(key)
                if pid and (alive(pid) or (key == "pgid" and group_alive(pid))):
                    found.append(pid)
                    kill_group(pid, signal.SIGKILL)
        return found

    # --- call log --------------------------------------------------------------------------
    def log_call(self, command: str, argv: list[str]) -> None:
        """Append one invocation to ``calls.log``."""
        line = json.dumps({"t": time.time(), "cmd": command, "argv": [command, *argv]})
        fd = os.open(self.root / "calls.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    def calls(self, command: str | None = None) -> list[list[str]]:
        """Every logged argv (of ``command`` only, if given), oldest first."""
        path = self.root / "calls.log"
        if not path.exists():
            return []
        out = []
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if command is None or entry["cmd"] == command:
                out.append(entry["argv"])
        return out


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


# --- the supervisor ---------------------------------------------------------------------------


def supervise(store: Store, seq: int) -> None:
    """Take job ``seq`` through queued/held -> running -> exiting -> finished."""
    job = store.get(seq)
    assert job is not None
    pause = 0.02  # grows to 0.5 s: hundreds of supervisors must not keep the CPUs busy
    while True:
        job = store.get(seq)
        if job is None or job["lost"]:
            return
        if job["deleted"]:  # deleted before it ran
            store.update(seq, state=FINISHED, end_time=time.time())
            return
        if not job["held"] and time.time() - job["submit_time"] >= job["queue_seconds"]:
            break
        left = job["queue_seconds"] - (time.time() - job["submit_time"])
        time.sleep(pause if job["held"] else max(0.01, min(pause, left)))
        pause = min(0.5, pause * 1.5)
    nodefile = job.get("nodefile")
    if nodefile:
        hosts = job.get("hosts") or [job["host"]]
        Path(nodefile).parent.mkdir(parents=True, exist_ok=True)
        Path(nodefile).write_text("".join(f"{h}\n" for h in hosts))
    out = open(job["stdout"], "ab")
    err = open(job["stderr"], "ab") if job["stderr"] else subprocess.STDOUT
    with store.locked():
        current = store.get(seq)
        if current is None or current["lost"] or current["deleted"]:
            if current is not None:
                store.update(seq, state=FINISHED, end_time=time.time())
            return
        try:
            proc = subprocess.Popen(
                ["/bin/bash", job["script"]],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=job["cwd"],
                env=job["env"],
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:  # e.g. the working directory is gone
            os.write(out.fileno(), f"stand-in: cannot start the job: {exc}\n".encode())
            current.update(
                state=FINISHED, returncode=254, start_time=time.time(), end_time=time.time()
            )
            store._write(current)
            return
        current.update(state=RUNNING, start_time=time.time(), pgid=proc.pid)
        store._write(current)
    killed_at = None
    pause = 0.02
    while True:
        try:
            proc.wait(timeout=pause)  # returns as soon as the script ends
            break
        except subprocess.TimeoutExpired:
            pass
        current = store.get(seq)
        if current is None or current["lost"]:
            kill_group(proc.pid, signal.SIGKILL)
        elif current["deleted"]:
            if killed_at is None:
                killed_at = time.time()
                kill_group(proc.pid, signal.SIGTERM)
            elif time.time() - killed_at >= current["kill_delay"]:
                kill_group(proc.pid, signal.SIGKILL)
        pause = 0.05 if current and current["deleted"] else min(0.5, pause * 1.5)
    rc = proc.returncode
    store.update(seq, state=EXITING)
    # the job's end takes whatever it left running with it (as cgroups/cpusets do)
    kill_group(proc.pid, signal.SIGKILL)
    time.sleep(job["exit_seconds"])
    store.update(
        seq,
        state=FINISHED,
        end_time=time.time(),
        returncode=rc if rc >= 0 else None,
        signal=-rc if rc < 0 else None,
    )


# --- faults -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One injected fault for a command."""

    kind: str  # fail | hang | garbage | lose
    times: int | None  # None: every call


def parse_faults(text: str) -> dict[str, Fault]:
    """``"qstat=hang;qsub=fail*1"`` -> ``{"qstat": Fault("hang", None), ...}``."""
    out = {}
    for item in text.replace("\n", ";").split(";"):
        item = item.strip()
        if not item:
            continue
        command, _, spec = item.partition("=")
        kind, _, times = spec.partition("*")
        if kind not in ("fail", "hang", "garbage", "lose"):
            raise SystemExit(f"stand-in scheduler: unknown fault {kind!r} in {item!r}")
        out[command.strip()] = Fault(kind, int(times) if times else None)
    return out


def _active_fault(store: Store, command: str) -> Fault | None:
    text = os.environ.get(FAULTS_ENV, "")
    path = store.root / "faults"
    if path.exists():
        text += ";" + path.read_text()
    fault = parse_faults(text).get(command)
    if fault is None or fault.times is None:
        return fault
    with store.locked():
        used_path = store.root / f"faults.used.{command}"
        used = int(used_path.read_text()) if used_path.exists() else 0
        if used >= fault.times:
            return None
        used_path.write_text(str(used + 1))
    return fault


GARBAGE = "\x1b[0m<<<<\x00 Segmentation fault (core dumped) }{ ,,, \xff\n%%%% 7 ]] qq\n"


@dataclass
class Ctx:
    """What a stand-in command gets: the store, its own name, and the fault in force."""

    store: Store
    command: str
    fault: Fault | None = None

    @property
    def lose_new_job(self) -> bool:
        """Whether a submit command must print an id but forget the job (``lose`` fault)."""
        return self.fault is not None and self.fault.kind == "lose"


def main(scheduler: str, command: str, argv: list[str]) -> int:
    """Run stand-in ``command`` of ``scheduler`` with ``argv`` (the wrappers call this)."""
    module = importlib.import_module(f"standin_wlm.{scheduler}")
    store = Store.from_env()
    store.log_call(command, argv)
    fault = _active_fault(store, command)
    if fault is not None:
        if fault.kind == "fail":
            message, code = getattr(module, "FAILURES", {}).get(
                command, (f"{command}: cannot connect to server", 1)
            )
            print(message, file=sys.stderr)
            return code
        if fault.kind == "hang":
            while True:
                time.sleep(3600)
        if fault.kind == "garbage":
            sys.stdout.write(GARBAGE)
            return 0
        if fault.kind == "lose" and command not in getattr(module, "SUBMIT_COMMANDS", ()):
            for job in store.jobs():
                if job["state"] != FINISHED:
                    store.lose(job["seq"])
    handler = module.COMMANDS.get(command)
    if handler is None:
        print(f"{command}: not a {scheduler} stand-in command", file=sys.stderr)
        return 127
    return handler(Ctx(store, command, fault), argv)


# --- installing a scheduler's commands ----------------------------------------------------------


def scheduler_module(scheduler: str) -> Any:
    """The stand-in module of ``scheduler`` (``pbs``, ``sge``, ``lsf``, ``cobalt``...)."""
    if "standin_wlm" not in sys.modules:
        _ensure_importable()
    return importlib.import_module(f"standin_wlm.{scheduler}")


def install(scheduler: str, bin_dir: str | os.PathLike[str]) -> Path:
    """Write one wrapper per command of ``scheduler`` into ``bin_dir``; the folder."""
    module = scheduler_module(scheduler)
    bin_path = Path(bin_dir)
    bin_path.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve()
    for command in module.COMMANDS:
        wrapper = bin_path / command
        wrapper.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{here}" "{scheduler}" "{command}" "$@"\n'
        )
        wrapper.chmod(0o755)
    return bin_path


def _ensure_importable() -> None:
    """Make ``standin_wlm`` importable as a package (tests run in importlib mode)."""
    parent = str(Path(__file__).resolve().parent.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)


if __name__ == "__main__":
    _ensure_importable()
    if sys.argv[1] == "--supervise":
        supervise(Store(sys.argv[2]), int(sys.argv[3]))
        sys.exit(0)
    try:
        sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
    except BrokenPipeError:
        sys.exit(1)
