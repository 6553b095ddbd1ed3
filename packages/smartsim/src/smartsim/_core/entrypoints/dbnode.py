"""Start one database shard on the node it runs on, and watch it.

This is what a :class:`~smartsim.entity.DBNode` runs, through whatever launcher
(local, srun, mpirun, ...) the Orchestrator was given::

    python dbnode.py --ifname lo --name orchestrator_0 --port 6379 \
        --log-file <dir>/orchestrator_0.log -- <server> [server options] --loadmodule ai.so ...

It resolves the network interface(s) *on the node* (the driver cannot know the IP
of a compute node), adds ``--bind <ip>...`` and ``--protected-mode`` to the server's
command line, writes one ``SMARTSIM_SHARD_INFO {json}`` line into the shard's log
file, then runs the server with its log going to that same file.  When the server
exits it appends ``SMARTSIM_SHARD_EXIT {json}`` and exits with the server's status,
so the launcher reports a crashed shard as failed and the Orchestrator can fail fast
with the server's own log lines.

The file is run as a script (``python .../dbnode.py``) and uses only the standard
library and psutil, so a shard starts in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence

INFO_TAG = "SMARTSIM_SHARD_INFO"
EXIT_TAG = "SMARTSIM_SHARD_EXIT"
LOOPBACK_NAMES = ("lo", "lo0", "loopback")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


class InterfaceError(ValueError):
    """A network interface name that cannot be turned into an address on this node."""


def _interfaces() -> dict[str, list[str]]:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of smartsim
        return {"lo": ["127.0.0.1"]}
    return {
        name: [a.address for a in addrs if a.family == socket.AF_INET]
        for name, addrs in psutil.net_if_addrs().items()
    }


def interface_names() -> list[str]:
    """Names of this node's network interfaces that carry an IPv4 address."""
    return sorted(name for name, addrs in _interfaces().items() if addrs)


def resolve_interfaces(names: str | Sequence[str]) -> list[str]:
    """IPv4 addresses for interface names (or literal IP addresses), in order.

    ``lo`` is 127.0.0.1 on every node.  A literal address is kept as it is.
    An unknown name raises :class:`InterfaceError` listing the interfaces there are.
    """
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    table: dict[str, list[str]] | None = None
    found: list[str] = []
    for raw in names:
        name = raw.strip()
        try:
            found.append(str(ipaddress.IPv4Address(name)))
            continue
        except ValueError:
            pass
        if name in LOOPBACK_NAMES:
            found.append("127.0.0.1")
            continue
        table = table if table is not None else _interfaces()
        addrs = table.get(name)
        if not addrs:
            known = ", ".join(f"{n} ({', '.join(a)})" for n, a in sorted(table.items()) if a)
            raise InterfaceError(
                f"network interface {name!r} has no IPv4 address on host "
                f"{socket.gethostname()}; interfaces here: {known}"
            )
        found.append(addrs[0])
    if not found:
        raise InterfaceError("no network interface given")
    return list(dict.fromkeys(found))


def is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


def advertised_host(addresses: Sequence[str]) -> str:
    """The address clients should use: the first bound one (0.0.0.0 maps to a real IP)."""
    first = addresses[0]
    if first != "0.0.0.0":
        return first
    for addrs in _interfaces().values():
        for addr in addrs:
            if not is_loopback(addr):
                return addr
    return "127.0.0.1"


_PARENT_PID = os.getpid()


def _die_with_parent() -> None:
    """Have the kernel send SIGTERM to this child if its parent goes away (Linux).

    Runs in the child between fork and exec; if the parent died before the request was
    made, the child ends itself at once.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != _PARENT_PID:
        os._exit(1)


def _become_subreaper() -> None:
    """Adopt the server's orphaned children (its model workers) so they can be reaped here."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def reap_leftovers(grace: float = 2.0) -> None:
    """Terminate and reap every process still below this one (workers of a dead server)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency of smartsim
        return
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)


def config_quote(value: str) -> str:
    """A server config-file string (``sdssplitargs`` syntax): double quotes, ``\\xHH``."""
    out = []
    for byte in value.encode():
        if chr(byte) in '"\\':
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + "".join(out) + '"'


def write_secret_config(path: str | os.PathLike[str], password: str) -> str:
    """Write ``requirepass``/``masterauth`` to a config file only this user can read.

    The server reads it as its config file, so the password is on no command line.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        quoted = config_quote(password)
        out.write(f"requirepass {quoted}\nmasterauth {quoted}\n")
    return str(path)


def append_line(path: str, tag: str, payload: dict[str, object]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{tag} {json.dumps(payload)}\n")


def bind_options(addresses: Sequence[str]) -> list[str]:
    """``--bind`` on exactly these addresses.

    Protected mode stays on when every address is a loopback one.  On a network
    interface it would refuse every client from another host (no password is set),
    so there the restriction is the bind address itself.
    """
    protected = "yes" if all(is_loopback(a) for a in addresses) else "no"
    return ["--bind", *addresses, "--protected-mode", protected]


def run_server(
    server_argv: Sequence[str],
    *,
    name: str,
    port: int,
    addresses: Sequence[str],
    log_file: str,
    extra_info: dict[str, object] | None = None,
) -> int:
    """Run the server until it exits; forward termination signals; return its status."""
    argv = [*server_argv, *bind_options(addresses)]
    _become_subreaper()
    proc = subprocess.Popen(argv, preexec_fn=_die_with_parent)
    info: dict[str, object] = {
        "name": name,
        "host": advertised_host(addresses),
        "bind": list(addresses),
        "port": port,
        "hostname": socket.gethostname(),
        "pid": proc.pid,
        "supervisor_pid": os.getpid(),
        "started": time.time(),
        "command": argv,
        **(extra_info or {}),
    }
    append_line(log_file, INFO_TAG, info)
    print(f"IPADDRESS: {info['host']}", flush=True)

    def forward(signum: int, _frame: object) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            code = proc.wait()
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries already
            continue
    reap_leftovers()
    died_by = -code if code < 0 else None
    append_line(log_file, EXIT_TAG, {"name": name, "returncode": code, "signal": died_by})
    return 128 + died_by if died_by else code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ifname", required=True, help="interface name(s) or IPs, comma list")
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-file", required=True)
    parser.add_argument("server", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    server = args.server[1:] if args.server[:1] == ["--"] else args.server
    if not server:
        parser.error("no server command given after --")
    try:
        addresses = resolve_interfaces(args.ifname)
    except InterfaceError as exc:
        append_line(args.log_file, EXIT_TAG, {"name": args.name, "error": str(exc)})
        print(f"smartsim dbnode {args.name}: {exc}", file=sys.stderr, flush=True)
        return 2
    return run_server(
        server, name=args.name, port=args.port, addresses=addresses, log_file=args.log_file
    )


if __name__ == "__main__":
    sys.exit(main())
