"""Run an application with a database beside it, and tear the database down with it.

What a colocated Model runs (``Model.colocate_db_tcp`` / ``colocate_db_uds``)::

    python colocated.py --config '<json>' -- <app> [app args]

The first process on a node to take the lock (one per port or socket) starts the
server with the ``ai`` module, waits until it answers, then every process runs the
application with ``SSDB`` pointing at it (``127.0.0.1:<port>`` or ``unix://<socket>``).
When the application exits, or this process is signalled, the database is stopped and
its socket file removed; the exit status is the application's.  The database also dies
with this process if it is killed outright (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any, BinaryIO

try:  # run as a script: the sibling file
    import dbnode as _shard  # type: ignore[import-not-found]
except ImportError:  # imported as a package module (tests)
    from smartsim._core.entrypoints import dbnode as _shard

START_TIMEOUT = float(os.environ.get("SMARTSIM_DB_START_TIMEOUT", "60"))
#: The database's password, from the model's environment (never the command line).
PASSWORD_ENV = "SMARTSIM_COLO_DB_PASSWORD"
#: Client settings of another database that must not reach the application.
_CLIENT_SECURITY_ENV = ("SR_DB_PASSWORD", "SR_DB_USERNAME", "SR_DB_TLS", "SR_DB_TLS_CA")


def _password() -> str | None:
    return os.environ.get(PASSWORD_ENV) or None


def app_env(cfg: dict[str, Any]) -> dict[str, str]:
    """The application's environment: ``SSDB`` of this database, its password if any."""
    env = {k: v for k, v in os.environ.items() if k not in _CLIENT_SECURITY_ENV}
    env.pop(PASSWORD_ENV, None)
    env.update(SSDB=ssdb(cfg), SR_DB_TYPE="Standalone")
    password = _password()
    if password:
        env["SR_DB_PASSWORD"] = password
    return env


def server_argv(
    cfg: dict[str, Any], log_file: str, workdir: str, secret_file: str | None = None
) -> list[str]:
    """The server's command line for a colocated database (the password in ``secret_file``)."""
    argv = [cfg["server"], *([secret_file] if secret_file else [])]
    argv += ["--dir", workdir, "--logfile", log_file, "--daemonize", "no"]
    argv += ["--save", "", "--appendonly", "no", "--protected-mode", "yes"]
    if cfg.get("unix_socket"):
        argv += ["--port", "0", "--unixsocket", cfg["unix_socket"]]
        argv += ["--unixsocketperm", str(cfg.get("socket_permissions", 755))]
    else:
        addresses = _shard.resolve_interfaces(["lo", *cfg.get("ifname", [])])
        argv += ["--port", str(cfg["port"]), "--bind", *addresses]
    for key, value in cfg.get("db_conf", {}).items():
        argv += [f"--{key}", str(value)]
    argv += ["--loadmodule", cfg["module"]]
    for key, value in cfg.get("module_args", {}).items():
        argv += [key, str(value)]
    return argv


def ssdb(cfg: dict[str, Any]) -> str:
    if cfg.get("unix_socket"):
        return f"unix://{cfg['unix_socket']}"
    return f"127.0.0.1:{cfg['port']}"


def _answers(cfg: dict[str, Any]) -> bool:
    """PING (after AUTH when the database has a password) answers PONG."""
    password = _password()
    auth = b""
    if password:
        secret = password.encode()
        auth = b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret)
    try:
        if cfg.get("unix_socket"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(0.5)
            sock.connect(cfg["unix_socket"])
        else:
            sock = socket.create_connection(("127.0.0.1", int(cfg["port"])), timeout=0.5)
        with sock:
            sock.sendall(auth + b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while data.count(b"\r\n") < (2 if auth else 1):
                chunk = sock.recv(256)
                if not chunk:
                    break
                data += chunk
            lines = data.split(b"\r\n")
            index = 1 if auth else 0
            return len(lines) > index and lines[index].startswith(b"+PONG")
    except OSError:
        return False


def _cpu_set(cfg: dict[str, Any]) -> list[int] | None:
    pinning = cfg.get("custom_pinning")
    if pinning:
        return [int(c) for c in pinning]
    cpus = sorted(os.sched_getaffinity(0))
    db_cpus = int(cfg.get("db_cpus", 1))
    if len(cpus) <= db_cpus:
        return None
    return cpus[-db_cpus:]


def _lock(cfg: dict[str, Any]) -> BinaryIO | None:
    """Take this node's lock for the database; None when another process holds it.

    The lock file's name carries the host name: nodes that share one /tmp (containers,
    network namespaces) still start one database each.
    """
    ident = f"{socket.gethostname()}-{cfg.get('unix_socket') or 'tcp-' + str(cfg['port'])}"
    digest = hashlib.sha1(str(ident).encode()).hexdigest()[:16]
    handle = open(os.path.join(tempfile.gettempdir(), f"smartsim-colo-{digest}.lock"), "wb")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


class ColocatedDB:
    """The database process of this node (started here, stopped here)."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.workdir = tempfile.mkdtemp(prefix="smartsim-colo-")
        self.keep_log = bool(cfg.get("debug"))
        self.log_file = cfg.get("log_file") or os.path.join(self.workdir, "db.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cpus = _cpu_set(self.cfg)

        def child_setup() -> None:
            _shard._die_with_parent()
            if cpus:
                os.sched_setaffinity(0, cpus)

        socket_path = self.cfg.get("unix_socket")
        if socket_path and os.path.exists(socket_path) and not _answers(self.cfg):
            os.unlink(socket_path)  # a stale socket file of a killed database
        password = _password()
        secret = None
        if password:
            secret = _shard.write_secret_config(os.path.join(self.workdir, "secret.conf"), password)
        argv = server_argv(self.cfg, self.log_file, self.workdir, secret)
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=child_setup
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(self.cfg):
            if self.proc.poll() is not None:
                raise RuntimeError(self._failure(f"exited with status {self.proc.returncode}"))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(self._failure(f"did not answer within {START_TIMEOUT:.0f} s"))
            time.sleep(0.01)

    def _failure(self, what: str) -> str:
        try:
            with open(self.log_file, errors="replace") as f:
                log = f.read().splitlines()[-12:]
        except OSError:
            log = []
        err = (
            self.proc.stderr.read().decode(errors="replace")
            if self.proc and self.proc.stderr
            else ""
        )
        lines = "\n".join(f"    {ln}" for ln in [*log, *err.splitlines()] if ln.strip())
        return f"colocated database ({ssdb(self.cfg)}) {what}:\n{lines}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        socket_path = self.cfg.get("unix_socket")
        if socket_path and os.path.exists(socket_path):
            os.unlink(socket_path)
        if not self.keep_log and os.path.exists(self.log_file):
            os.unlink(self.log_file)
        for name in os.listdir(self.workdir):
            os.unlink(os.path.join(self.workdir, name))
        os.rmdir(self.workdir)


def run(cfg: dict[str, Any], app: Sequence[str]) -> int:
    _shard._become_subreaper()  # the database's workers are reaped here when it stops
    lock = _lock(cfg)
    db = ColocatedDB(cfg) if lock is not None else None
    app_proc: subprocess.Popen[bytes] | None = None
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if app_proc is not None and app_proc.poll() is None:
            app_proc.send_signal(signum)
        else:
            raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(sig, on_signal)
    try:
        if db is not None:
            db.start()
        else:
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(cfg):
                if time.monotonic() > deadline:
                    print(f"colocated database {ssdb(cfg)} never answered", file=sys.stderr)
                    return 1
                time.sleep(0.05)
        env = app_env(cfg)
        app_proc = subprocess.Popen(list(app), env=env, preexec_fn=_shard._die_with_parent)
        code = app_proc.wait()
        return 128 - code if code < 0 else code
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130 if stopping else 1
    finally:
        if app_proc is not None and app_proc.poll() is None:
            app_proc.kill()
            app_proc.wait()
        if db is not None:
            db.stop()
        _shard.reap_leftovers()
        if lock is not None:
            lock.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="JSON settings of the database")
    parser.add_argument("app", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    app = args.app[1:] if args.app[:1] == ["--"] else args.app
    if not app:
        parser.error("no application command given after --")
    return run(json.loads(args.config), app)


if __name__ == "__main__":
    sys.exit(main())
