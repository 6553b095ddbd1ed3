"""Start one worker process from Python and talk to it (tests, debugging, benchmarks).

The ``ai`` module does the same in C; this client exists so the workers can be tested
through the protocol without a server.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
from collections.abc import Sequence

import numpy as np

from smartsim_ai.worker import protocol


class WorkerError(RuntimeError):
    """The worker answered a request with an error."""


class WorkerClient:
    """A worker process on the other end of a socketpair."""

    def __init__(self, device: str = "CPU", extra_args: Sequence[str] = (), timeout: float = 120):
        parent, child = socket.socketpair()
        parent.settimeout(timeout)
        self.sock = parent
        self._ids = itertools.count(1)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smartsim_ai.worker", "--fd", str(child.fileno()),
             "--device", device, "--parent-pid", str(os.getpid()), *extra_args],
            pass_fds=(child.fileno(),),
        )  # fmt: skip
        child.close()

    def request(self, msg: protocol.Message) -> protocol.Message:
        protocol.send(self.sock, msg)
        reply = protocol.receive(self.sock)
        if isinstance(reply, protocol.Error):
            raise WorkerError(reply.message)
        return reply

    def load_model(
        self,
        obj_id: int,
        backend: str,
        blob: bytes,
        inputs: Sequence[str] = (),
        outputs: Sequence[str] = (),
        device: str = "CPU",
    ) -> protocol.Loaded:
        msg = protocol.Load(
            next(self._ids), obj_id, protocol.KIND_MODEL, backend, device,
            list(inputs), list(outputs), [], blob,
        )  # fmt: skip
        return self.request(msg)  # type: ignore[return-value]

    def load_script(
        self, obj_id: int, source: str, entry_points: Sequence[str] = (), device: str = "CPU"
    ) -> protocol.Loaded:
        msg = protocol.Load(
            next(self._ids), obj_id, protocol.KIND_SCRIPT, "TORCH", device,
            [], [], list(entry_points), source.encode(),
        )  # fmt: skip
        return self.request(msg)  # type: ignore[return-value]

    def run_model(self, obj_id: int, arrays: Sequence[np.ndarray]) -> protocol.Message:
        return self.request(protocol.RunModel(next(self._ids), obj_id, list(arrays)))

    def run_script(
        self,
        obj_id: int,
        function: str,
        arrays: Sequence[np.ndarray],
        n_outputs: int,
        keys: Sequence[str] = (),
        args: Sequence[str] = (),
    ) -> protocol.Message:
        msg = protocol.RunScript(
            next(self._ids), obj_id, function, list(keys), list(args), n_outputs, list(arrays)
        )
        return self.request(msg)

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> WorkerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
