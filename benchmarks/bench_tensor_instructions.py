"""Instructions per command (valgrind callgrind) of SET, a no-op module command and
AI.TENSORSET with a 1 KB blob, and of GET, a no-op read and AI.TENSORGET BLOB, on one server:
a deterministic cost, unlike ops/s on a shared machine.

The no-op commands (``NOOP.SET`` replies +OK; ``NOOP.GET`` replies a 1 KB bulk string; neither
looks up a key) are the floor any module command pays for dispatch and its reply. Each runs
twice: with the plain command's arguments (NOOP3: ``key value``; NOOPGET2: ``key``) and with
the tensor command's (NOOP6: ``key UINT8 1024 BLOB value``; NOOPGET3: ``key BLOB``). The
difference is what the server itself spends on parsing, allocating and freeing the extra
arguments before and after any module runs: a ceiling no module code can raise. The no-op
module is built on the fly (``_noop_module.py``); the ``ai`` module never contains it.
The load is ``redis-benchmark`` (pipelined, one connection); counters are zeroed after a
warm-up and dumped after the measured batch with ``callgrind_control``.

    .venv/bin/python benchmarks/bench_tensor_instructions.py [--engine valkey|redis]
        [--commands 20000] [--profile-dir DIR]   # keep the callgrind files for callgrind_annotate

Needs valgrind (callgrind_control), redis-benchmark, redis-cli and a C compiler.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from _engines import ENGINES, engine_binary
from _noop_module import build_noop_module

from smartsim_ai.locate import module_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=60
    )


def load(port: int, n: int, command: list[str]) -> None:
    subprocess.run(
        ["redis-benchmark", "-p", str(port), "-c", "1", "-P", "64", "-n", str(n), "-q", *command],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, default="valkey")
    parser.add_argument("--commands", type=int, default=20000)
    parser.add_argument("--profile-dir", type=Path, default=None)
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (apt-get install valgrind redis-tools)")
    binary = engine_binary(args.engine)
    data = "x" * 1024
    commands = {
        "SET": ["SET", "kS", data],
        "NOOP3": ["NOOP.SET", "kN", data],
        "NOOP6": ["NOOP.SET", "kN", "UINT8", "1024", "BLOB", data],
        "TENSORSET": ["AI.TENSORSET", "kT", "UINT8", "1024", "BLOB", data],
        "GET": ["GET", "kS"],
        "NOOPGET2": ["NOOP.GET", "kN2"],
        "NOOPGET3": ["NOOP.GET", "kN2", "BLOB"],
        "TENSORGET": ["AI.TENSORGET", "kT", "BLOB"],
    }
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
        workdir = Path(tmp)
        out = args.profile_dir or workdir
        out.mkdir(parents=True, exist_ok=True)
        noop = build_noop_module(workdir)
        port = free_port()
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/callgrind.%p",
             str(binary.path), "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--loadmodule", str(module_path()), "--loadmodule", str(noop)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while cli(port, "PING").stdout.strip() != "PONG":
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the server did not start under valgrind")
                time.sleep(0.5)
            for name, command in commands.items():
                load(port, 2000, command)  # warm-up: allocator and key in steady state
                subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True,
                               capture_output=True, timeout=120)  # fmt: skip
                load(port, args.commands, command)
                subprocess.run(["callgrind_control", "-d", name, str(server.pid)], check=True,
                               capture_output=True, timeout=120)  # fmt: skip
        finally:
            cli(port, "SHUTDOWN", "NOSAVE")
            try:
                server.wait(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        per_command = {}
        for name in commands:
            for dump in out.glob(f"callgrind.{server.pid}.*"):
                text = dump.read_text(errors="replace")
                if re.search(rf"^desc: Trigger: .*\b{name}\b", text, re.M):
                    total = int(re.search(r"^summary: (\d+)", text, re.M).group(1))
                    per_command[name] = total / args.commands
        print(f"{args.engine} ({binary.path}), 1 KB value, {args.commands} commands each")
        for name, ir in per_command.items():
            plain = "GET" if "GET" in name else "SET"
            print(
                f"{name:>10}: {ir:8.0f} instructions/command   "
                f"{plain}/this {per_command[plain] / ir:.3f}"
            )
        for plain, short, long, extra in (
            ("SET", "NOOP3", "NOOP6", 3),
            ("GET", "NOOPGET2", "NOOPGET3", 1),
        ):
            if not {plain, short, long} <= per_command.keys():
                continue
            wire = per_command[long] - per_command[short]
            print(
                f"{plain}: the server's own cost of the {extra} argument(s) more that the tensor "
                f"command carries: {wire:.0f} instructions; {plain}/({plain} + that) "
                f"{per_command[plain] / (per_command[plain] + wire):.3f} is the ceiling for any "
                "command with those arguments"
            )
        if args.profile_dir:
            print(f"callgrind files in {out} (callgrind_annotate --inclusive=yes FILE)")


if __name__ == "__main__":
    main()
