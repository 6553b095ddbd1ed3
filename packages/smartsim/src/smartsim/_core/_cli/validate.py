"""``smart validate``: start a real database, move a tensor, run a small model, report.

The database is launched the way a driver launches it (an Orchestrator through an
Experiment on the local launcher) in a temporary directory, and stopped at the end. Each
check prints OK, FAILED (with the error) or UNAVAILABLE (the installation lacks the piece,
e.g. torch is not installed or the engine does not execute models yet). Exit status: 0 when
nothing FAILED.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import socket
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

OK, FAILED, UNAVAILABLE = "OK", "FAILED", "UNAVAILABLE"
_MISSING_COMMAND = ("unknown command", "unknown subcommand", "not implemented")


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Report:
    """Collects check results and prints them as they arrive."""

    def __init__(self) -> None:
        self.results: list[tuple[str, str, str]] = []

    def add(self, name: str, status: str, detail: str = "") -> None:
        self.results.append((name, status, detail))
        print(f"  {name:<28} {status:<12} {detail}", flush=True)

    def run(self, name: str, func: Callable[[], str]) -> bool:
        try:
            detail = func()
        except _Unavailable as exc:
            self.add(name, UNAVAILABLE, str(exc))
            return False
        except Exception as exc:
            text = " ".join(str(exc).split())
            if any(m in text.lower() for m in _MISSING_COMMAND):
                self.add(name, UNAVAILABLE, f"the engine does not support it yet: {text}")
            else:
                self.add(name, FAILED, f"{type(exc).__name__}: {text}")
            return False
        self.add(name, OK, detail)
        return True

    @property
    def failed(self) -> bool:
        return any(status == FAILED for _, status, _ in self.results)


class _Unavailable(Exception):
    """A check that cannot run on this installation."""


def _start_database(exp: Any, port: int, workdir: str) -> Any:
    db = exp.create_database(port=port, interface="lo", path=workdir)
    exp.start(db)
    return db


def _tensor_round_trip(client: Any) -> str:
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    client.put_tensor("smart_validate_in", data)
    back = client.get_tensor("smart_validate_in")
    if not np.array_equal(back, data) or back.dtype != data.dtype:
        raise AssertionError(f"tensor changed on the way: sent {data!r}, got {back!r}")
    client.delete_tensor("smart_validate_in")
    return "put_tensor/get_tensor of a 3x4 float32 tensor"


def _torch_model(client: Any, device: str) -> str:
    try:
        import torch
    except ImportError as exc:
        raise _Unavailable("torch is not installed (pip install smartsim_ai[torch])") from exc

    class Net(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x * 2.0 - 3.0)

    if device == "gpu" and not torch.cuda.is_available():
        raise _Unavailable("no GPU visible to torch on this machine")
    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Net()), buffer)
    data = np.linspace(-2, 2, 8, dtype=np.float32).reshape(2, 4)
    client.set_model("smart_validate_model", buffer.getvalue(), "TORCH", device.upper())
    client.put_tensor("smart_validate_x", data)
    client.run_model("smart_validate_model", ["smart_validate_x"], ["smart_validate_y"])
    out = client.get_tensor("smart_validate_y")
    expected = np.maximum(data * 2.0 - 3.0, 0)
    if not np.allclose(out, expected):
        raise AssertionError(f"model output {out!r} differs from torch's {expected!r}")
    return f"TorchScript model stored and run on {device.upper()}"


def _torch_script(client: Any, device: str) -> str:
    try:
        import torch  # the engine runs scripts with torch
    except ImportError as exc:
        raise _Unavailable("torch is not installed (pip install smartsim_ai[torch])") from exc
    if device == "gpu" and not torch.cuda.is_available():
        raise _Unavailable("no GPU visible to torch on this machine")
    source = "def double(x):\n    return x * 2\n"
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    client.set_script("smart_validate_script", source, device.upper())
    client.put_tensor("smart_validate_sx", data)
    client.run_script(
        "smart_validate_script", "double", ["smart_validate_sx"], ["smart_validate_sy"]
    )
    out = client.get_tensor("smart_validate_sy")
    if not np.allclose(out, data * 2):
        raise AssertionError(f"script output {out!r} differs from {data * 2!r}")
    return f"TorchScript function stored and run on {device.upper()}"


def validate(args: argparse.Namespace) -> int:
    """Run the checks and print a report."""
    from smartsim import Experiment

    logging.getLogger("smartsim").setLevel(logging.WARNING)
    report = Report()
    print("smart validate: checking this installation")
    port = args.port or free_port()
    with tempfile.TemporaryDirectory(prefix="smart-validate-") as workdir:
        exp = Experiment("smart-validate", exp_path=workdir, launcher="local")
        db: Any = None

        def start() -> str:
            nonlocal db
            t0 = time.monotonic()
            db = _start_database(exp, port, workdir)
            return f"listening on {db.get_address()[0]} ({time.monotonic() - t0:.1f} s)"

        try:
            if report.run("database start", start):
                from smartredis import Client

                client = Client(address=db.get_address()[0], cluster=False)
                report.run("tensor round trip", lambda: _tensor_round_trip(client))
                report.run("model store and run", lambda: _torch_model(client, args.device))
                report.run("script store and run", lambda: _torch_script(client, args.device))
        finally:
            if db is not None:
                with contextlib.suppress(Exception):
                    exp.stop(db)
    if report.failed:
        print("smart validate: some checks FAILED (see above)")
        return 1
    print("smart validate: no check failed")
    return 0
