"""One Ray node: ``python -m smartsim_ray.entrypoint --role head|worker ...``.

Launched by the experiment (one process per node, through any launcher), it

* makes a short per-node temp dir (Ray's unix sockets live there: a socket path may not be
  longer than 107 bytes, which a temp dir under a deep experiment path easily breaks), one
  per node, so several nodes on one host never share socket names;
* sizes the object store to fit the free space of ``/dev/shm`` shared by the nodes of this
  host (Ray falls back to slow disk, or fails, when it does not fit);
* passes the node's fixed ports from the cluster's :class:`~smartsim_ray.ports.PortPlan`;
* head: runs ``ray start --head --block`` and, once the node is registered, writes the
  head's address to the head-info file that the workers wait for;
* worker: waits for that file, checks that the head's GCS port answers from this node, and
  only then runs ``ray start --address=<head> --block``;
* prints one marker line per state change, which the driver reads from the node's output
  (``SMARTSIM_RAY_TEMP``, ``SMARTSIM_RAY_READY``, ``SMARTSIM_RAY_ERROR``, ``SMARTSIM_RAY_EXIT``);
* on SIGTERM/SIGINT/SIGHUP stops every process it started (Ray's included) and removes its
  temp dir, so a stopped cluster leaves no Ray process behind, whatever the launcher does.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from smartsim_ray.ports import PortPlan

MARK_TEMP = "SMARTSIM_RAY_TEMP"
MARK_READY = "SMARTSIM_RAY_READY"
MARK_ERROR = "SMARTSIM_RAY_ERROR"
MARK_EXIT = "SMARTSIM_RAY_EXIT"
STARTED_LINE = "Ray runtime started."
#: Ray's own floor for the object store (ray_constants.OBJECT_STORE_MINIMUM_MEMORY_BYTES)
OBJECT_STORE_MINIMUM = 75 * 1024 * 1024
#: longest AF_UNIX path (sun_path is 108 bytes with the NUL)
UNIX_PATH_MAX = 107
#: what Ray appends to the temp dir for its longest socket path
_SOCKET_SUFFIX = "/session_2026-01-01_00-00-00_000000_4194304/sockets/plasma_store"
KEEP_TEMP_ENV = "SMARTSIM_RAY_KEEP_TEMP"
TMPDIR_ENV = "SMARTSIM_RAY_TMPDIR"


def emit(marker: str, **fields: object) -> None:
    """Print one marker line (flushed at once: the driver polls the output file)."""
    print(f"{marker} {json.dumps(fields, sort_keys=True)}", flush=True)


def short_temp_dir(ray_port: int, index: int) -> Path:
    """A new temp dir short enough for Ray's unix socket paths.

    ``$SMARTSIM_RAY_TMPDIR`` (else ``$TMPDIR``, else ``/tmp``) when a socket path under it
    fits in 107 bytes, ``/tmp`` otherwise.
    """
    room = UNIX_PATH_MAX - len(_SOCKET_SUFFIX) - len(f"/ssray{ray_port}_{index}_xxxxxxxx")
    prefix = f"ssray{ray_port}_{index}_"
    for base in (os.environ.get(TMPDIR_ENV), os.environ.get("TMPDIR"), "/tmp"):
        if base and len(os.path.abspath(base)) <= room and os.access(base, os.W_OK):
            # Node i of the cluster on these ports cannot run twice on one host (the ports
            # would collide): a dir of that name is left over from a node that was killed.
            for stale in Path(base).glob(prefix + "*"):
                shutil.rmtree(stale, ignore_errors=True)
            return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    raise SystemExit(f"no writable temp dir short enough for Ray's sockets (max {room} chars)")


def interface_ip(interface: str) -> str:
    """The IPv4 address of ``interface`` on this node."""
    import psutil

    addrs = psutil.net_if_addrs()
    for addr in addrs.get(interface, []):
        if addr.family == socket.AF_INET:
            return addr.address
    names = ", ".join(sorted(addrs))
    raise SystemExit(f"network interface {interface!r} has no IPv4 address here (have: {names})")


def object_store_bytes(requested: int | None, nodes_per_host: int) -> tuple[int, str]:
    """The object store size (bytes) and a note when it was reduced to fit ``/dev/shm``."""
    nodes = max(1, nodes_per_host)
    try:
        shm_free = shutil.disk_usage("/dev/shm").free
    except OSError:
        shm_free = 0
    try:
        import psutil

        mem = psutil.virtual_memory().available
    except Exception:  # pragma: no cover - psutil is a dependency of smartsim
        mem = shm_free
    budget = int(shm_free * 0.8 / nodes)
    default = int(min(0.3 * mem / nodes, budget))
    size = requested if requested is not None else default
    note = ""
    if requested is not None and requested > budget:
        size = budget
        note = (
            f"object store of {requested} bytes does not fit /dev/shm ({shm_free} bytes free "
            f"for {nodes} node(s) on this host): using {budget} bytes"
        )
    return max(size, OBJECT_STORE_MINIMUM), note


def parse_ray_args(items: list[str]) -> dict[str, str | None]:
    """``k=v`` / ``k`` items (``--ray-arg``) into a dict (``None`` for a flag)."""
    out: dict[str, str | None] = {}
    for item in items:
        key, sep, value = item.partition("=")
        out[key.lstrip("-")] = value if sep else None
    return out


def ray_command(
    args: argparse.Namespace, plan: PortPlan, temp: Path, head: dict | None
) -> list[str]:
    """The ``ray start`` command line of this node."""
    ray_args = parse_ray_args(args.ray_arg)
    requested = ray_args.pop("object-store-memory", None)
    size, note = object_store_bytes(int(requested) if requested else None, args.nodes_per_host)
    if note:
        print(f"smartsim_ray: {note}", flush=True)
    ray = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
    argv = [ray] if ray else [sys.executable, "-m", "ray.scripts.scripts"]
    argv += ["start", "--block", "--disable-usage-stats", f"--temp-dir={temp}"]
    argv.append(f"--object-store-memory={size}")
    if head is None:
        dashboard = ray_args.pop("include-dashboard", "false") or "true"
        argv += ["--head", f"--port={plan.gcs}", f"--ray-client-server-port={args.client_port}"]
        argv.append(f"--include-dashboard={dashboard}")
        if dashboard.lower() in ("true", "1", "yes"):
            argv += [f"--dashboard-port={args.dashboard_port}", "--dashboard-host=0.0.0.0"]
    else:
        ray_args.pop("include-dashboard", None)
        argv.append(f"--address={head['ip']}:{head['gcs_port']}")
    if args.ip:
        argv.append(f"--node-ip-address={args.ip}")
    for key, value in plan.node_options(args.index).items():
        argv.append(f"--{key}={value}")
    for key, value in ray_args.items():
        argv.append(f"--{key}" if value is None else f"--{key}={value}")
    return argv


def wait_for_head(path: Path, timeout: float) -> dict | None:
    """The head's address from its head-info file, or None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError):
            return json.loads(path.read_text())
        time.sleep(0.5)
    return None


def reach(ip: str, port: int, timeout: float) -> str:
    """'' when ``ip:port`` accepts a TCP connection within ``timeout`` s, else the error."""
    deadline = time.monotonic() + timeout
    error = "timed out"
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ip, port), timeout=3):
                return ""
        except OSError as exc:
            error = str(exc) or type(exc).__name__
        time.sleep(1)
    return error


class Node:
    """The ``ray start`` child of this entrypoint and its clean-up."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.temp: Path | None = None
        self.ready = False
        self.stopping = threading.Event()
        self.tail: deque[str] = deque(maxlen=30)

    def on_signal(self, signum: int, frame: object) -> None:
        """Stop Ray at once: the launcher's grace period before SIGKILL is short."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if not self.ready:
            print("\n".join(self.session_log_tails()), flush=True)
        self.cleanup()

    def stop_children(self) -> None:
        """TERM every descendant (ray start, gcs_server, raylet, workers), KILL after 1 s.

        Quick on purpose: launchers send SIGKILL a few seconds after SIGTERM (the local one
        after 3 s, Slurm after KillWait), and the temp dir is removed only after this.
        """
        import psutil

        try:
            children = psutil.Process().children(recursive=True)
        except psutil.Error:
            return
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.terminate()
        alive = _wait_gone(children, 1.0)
        for child in alive:
            with contextlib.suppress(psutil.Error):
                child.kill()
        _wait_gone(alive, 1.0)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=0.5)

    def session_log_tails(self, lines: int = 10) -> list[str]:
        """The last lines of Ray's own error logs in this node's session."""
        out: list[str] = []
        if self.temp is None:
            return out
        logs = self.temp / "session_latest" / "logs"
        return log_tails(logs, lines)

    def run(self) -> int:
        args = self.args
        plan = PortPlan(args.ray_port, args.num_nodes, args.worker_ports)
        head: dict | None = None
        host = socket.gethostname()
        if args.interface:
            args.ip = interface_ip(args.interface)
        if args.role == "worker":
            head = wait_for_head(Path(args.head_info), args.head_timeout)
            if head is None:
                emit(
                    MARK_ERROR,
                    host=host,
                    reason=f"the head did not write its address to {args.head_info} within "
                    f"{args.head_timeout:.0f} s",
                )
                return 3
            error = reach(head["ip"], int(head["gcs_port"]), args.connect_timeout)
            if error:
                emit(
                    MARK_ERROR,
                    host=host,
                    reason=f"cannot reach the Ray head at {head['ip']}:{head['gcs_port']} from "
                    f"host {host}: {error} (check the interface/firewall between the nodes)",
                )
                return 4
        code = 1
        for attempt in range(1, args.start_attempts + 1):
            if self.stopping.is_set():
                return 0
            code = self.start_once(plan, head, host, args.ip)
            if self.ready or self.stopping.is_set() or attempt == args.start_attempts:
                break
            # Ray gives a node 30 s (hard-coded) to register with the GCS: on a loaded host
            # that can fail although nothing is wrong; start again from scratch.
            print(f"smartsim_ray: ray start failed (attempt {attempt}); retrying", flush=True)
            self.cleanup()
        if not self.ready and not self.stopping.is_set():
            emit(
                MARK_ERROR,
                host=host,
                reason=f"ray start exited ({code}) before the node joined",
                log=list(self.tail)[-10:] + self.session_log_tails(),
            )
        return 0 if self.stopping.is_set() else (code or 0)

    def start_once(self, plan: PortPlan, head: dict | None, host: str, ip: str | None) -> int:
        """Run ``ray start --block`` until it exits; ``ray start``'s exit code."""
        args = self.args
        self.temp = short_temp_dir(args.ray_port, args.index)
        emit(MARK_TEMP, dir=str(self.temp), host=host)
        argv = ray_command(args, plan, self.temp, head)
        print("smartsim_ray: " + " ".join(argv), flush=True)
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            self.tail.append(line.rstrip())
            if "Local node IP:" in line:
                ip = line.rsplit("Local node IP:", 1)[1].strip().split()[0]
            if STARTED_LINE in line and not self.ready:
                self.ready = True
                self.on_ready(ip, host, plan)
        return self.proc.wait()

    def on_ready(self, ip: str | None, host: str, plan: PortPlan) -> None:
        args = self.args
        if args.role == "head":
            info = {
                "ip": ip,
                "host": host,
                "gcs_port": plan.gcs,
                "client_port": args.client_port,
                "dashboard_port": args.dashboard_port,
            }
            target = Path(args.head_info)
            tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(info))
            os.replace(tmp, target)
        emit(MARK_READY, role=args.role, ip=ip, host=host, index=args.index)

    def cleanup(self) -> None:
        """Stop every process this node started and remove its temp dir (once)."""
        self.stop_children()
        temp, self.temp = self.temp, None
        if temp is not None and not os.environ.get(KEEP_TEMP_ENV):
            shutil.rmtree(temp, ignore_errors=True)


def _wait_gone(procs: list, timeout: float) -> list:
    """The processes still running after up to ``timeout`` s (zombies count as gone: a
    grandchild stays a zombie until its own parent reaps it)."""
    import psutil

    def running(proc: psutil.Process) -> bool:
        try:
            return proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    deadline = time.monotonic() + timeout
    alive = [p for p in procs if running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.05)
        alive = [p for p in alive if running(p)]
    return alive


def log_tails(logs: Path, lines: int = 10) -> list[str]:
    """The last messages of Ray's own logs in a session's ``logs`` dir (no stack frames)."""
    out: list[str] = []
    for name in ("gcs_server.err", "raylet.err", "gcs_server.out", "raylet.out"):
        with contextlib.suppress(OSError):
            text = (logs / name).read_text(errors="replace").splitlines()
            text = [
                t for t in text if t.strip() and not t.startswith(("/", " ", "\t", "[state-dump]"))
            ]
            if text:
                out.append(f"--- {name} ---")
                out += text[-lines:]
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m smartsim_ray.entrypoint")
    p.add_argument("--role", choices=("head", "worker"), required=True)
    p.add_argument("--index", type=int, default=0, help="node index (0: the head)")
    p.add_argument("--num-nodes", type=int, required=True)
    p.add_argument("--ray-port", type=int, required=True)
    p.add_argument("--client-port", type=int, required=True)
    p.add_argument("--dashboard-port", type=int, required=True)
    p.add_argument("--worker-ports", type=int, required=True)
    p.add_argument("--head-info", required=True, help="file where the head writes its address")
    p.add_argument("--interface", default=None)
    p.add_argument("--nodes-per-host", type=int, default=1)
    p.add_argument("--head-timeout", type=float, default=600.0)
    p.add_argument("--connect-timeout", type=float, default=60.0)
    p.add_argument("--start-attempts", type=int, default=2)
    p.add_argument("--ray-arg", action="append", default=[], help="k=v passed to ray start")
    args = p.parse_args(argv)
    args.ip = None
    return args


def main(argv: list[str] | None = None) -> int:
    node = Node(parse_args(argv))
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, node.on_signal)
    code = 1
    try:
        code = node.run()
    finally:
        node.cleanup()
        emit(MARK_EXIT, code=code)
    return code


if __name__ == "__main__":
    sys.exit(main())
