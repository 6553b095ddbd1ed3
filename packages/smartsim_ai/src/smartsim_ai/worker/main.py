"""The worker process: a loop that loads objects and runs requests from the private channel.

One request at a time, in arrival order; the ``ai`` module runs several workers per device for
parallelism (THREADS_PER_QUEUE).  The worker exits when the channel closes or the server dies.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import resource
import signal
import socket
import sys
import time
from typing import Any

from smartsim_ai.worker import backends, protocol, sandbox
from smartsim_ai.worker.backends import BackendError, Options, one_line

logger = logging.getLogger("smartsim_ai.worker")
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL us when the server exits (Linux), and check it did not already."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: channel EOF still ends the loop
        pass
    if parent_pid and os.getppid() != parent_pid:
        sys.exit(0)


class ServerLink:
    """Scripts' calls into the server, made over the channel while a RUN_SCRIPT is running."""

    def __init__(self, sock: socket.socket, worker: Worker) -> None:
        self.sock = sock
        self.worker = worker

    def _ask(self, msg: protocol.Message) -> protocol.Message:
        protocol.send(self.sock, msg)
        reply = protocol.receive(self.sock)
        if isinstance(reply, protocol.Error):
            raise RuntimeError(reply.message)
        return reply

    def execute(self, argv: list[str]) -> Any:
        reply = self._ask(protocol.Call(0, argv))
        assert isinstance(reply, protocol.CallReply)
        if isinstance(reply.value, protocol.RedisReplyError):
            raise RuntimeError(f"Redis command returned an error: {reply.value}")
        return reply.value

    def model_execute(self, key: str, inputs: list[Any], num_outputs: int) -> list[Any]:
        import torch

        info = self._ask(protocol.ModelLookup(0, key))
        assert isinstance(info, protocol.ModelInfo)
        entry = self.worker.objects.get(info.obj_id)
        if entry is None:
            info = self._ask(protocol.ModelFetch(0, info.obj_id))
            assert isinstance(info, protocol.ModelInfo) and info.blob is not None
            module = self.worker._backend(info.backend.upper())
            model = module.load(
                info.blob, info.device, info.inputs, info.outputs, self.worker.options
            )
            entry = (protocol.KIND_MODEL, model)
            self.worker.objects[info.obj_id] = entry
        arrays = [t.detach().cpu().contiguous().numpy() for t in inputs]
        outputs = entry[1].run(arrays)
        return [torch.from_numpy(o.copy()) for o in outputs if o is not None][:num_outputs]


class Worker:
    """Holds the compiled objects of one worker process and answers messages."""

    def __init__(self, device: str, options: Options, memory_limit_mb: int = 0) -> None:
        self.device = device
        self.options = options
        self.memory_limit = memory_limit_mb * 1024 * 1024
        self.objects: dict[int, tuple[int, Any]] = {}
        self.link: ServerLink | None = None
        self._backends_seen: set[str] = set()

    def _backend(self, name: str) -> Any:
        if name in self._backends_seen:
            return backends.get(name)
        # a new backend imports under no limit (its import is not the models' memory), then
        # the limit is set again above what the process holds with it
        self._lift_memory_limit()
        try:
            module = backends.get(name)
        finally:
            self._apply_memory_limit()
        self._backends_seen.add(name)
        return module

    def _lift_memory_limit(self) -> None:
        """Raise the soft RLIMIT_DATA back to the hard one (always allowed)."""
        if self.memory_limit <= 0:
            return
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        resource.setrlimit(resource.RLIMIT_DATA, (hard, hard))

    def _apply_memory_limit(self) -> None:
        """BACKEND_MEMORY_LIMIT: cap the data segment at what the backends need plus the limit.

        Only the soft limit is lowered: the hard one stays where it was, so the next backend's
        import can lift the soft limit again (lowering the hard limit cannot be undone by an
        unprivileged process: "not allowed to raise maximum limit").
        """
        if self.memory_limit <= 0:
            return
        _soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        limit = backends.vm_data_bytes() + self.memory_limit
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))

    def handle(self, msg: protocol.Message) -> protocol.Message:
        try:
            return self._handle(msg)
        except BackendError as exc:
            return protocol.Error(msg.req_id, one_line(exc))
        except MemoryError:
            return protocol.Error(
                msg.req_id,
                "ERR backend memory limit exceeded, memory allocation failed "
                "(raise BACKEND_MEMORY_LIMIT)",
            )
        except Exception as exc:  # any backend failure is a reply, never a dead worker
            logger.warning("request failed: %s", one_line(exc))
            return protocol.Error(msg.req_id, "ERR " + one_line(exc))

    def _handle(self, msg: protocol.Message) -> protocol.Message:
        if isinstance(msg, protocol.RunModel):
            entry = self.objects.get(msg.obj_id)
            if entry is None:
                return protocol.Unknown(msg.req_id)
            start = time.perf_counter()
            outputs = entry[1].run(msg.tensors)
            return protocol.Result(msg.req_id, int((time.perf_counter() - start) * 1e6), outputs)
        if isinstance(msg, protocol.RunScript):
            entry = self.objects.get(msg.obj_id)
            if entry is None:
                return protocol.Unknown(msg.req_id)
            start = time.perf_counter()
            outputs = entry[1].run(msg.function, msg.tensors, msg.keys, msg.args, msg.n_outputs)
            return protocol.Result(msg.req_id, int((time.perf_counter() - start) * 1e6), outputs)
        if isinstance(msg, protocol.Load):
            return self._load(msg)
        if isinstance(msg, protocol.Unload):
            self.objects.pop(msg.obj_id, None)
            return protocol.Pong(msg.req_id)
        if isinstance(msg, protocol.Ping):
            return protocol.Pong(msg.req_id)
        raise BackendError(f"ERR unexpected message {type(msg).__name__} on the worker channel")

    def _load(self, msg: protocol.Load) -> protocol.Message:
        if msg.kind == protocol.KIND_SCRIPT:
            module = self._backend("TORCHSCRIPT")
            module.set_server(self.link)
            source = bytes(msg.blob).decode(errors="replace")
            obj = module.load(source, msg.device, msg.entry_points, self.options)
            self.objects[msg.obj_id] = (msg.kind, obj)
            return protocol.Loaded(msg.req_id, [], [], module.VERSION)
        module = self._backend(msg.backend.upper())
        obj = module.load(msg.blob, msg.device, msg.inputs, msg.outputs, self.options)
        self.objects[msg.obj_id] = (msg.kind, obj)
        return protocol.Loaded(msg.req_id, list(obj.inputs), list(obj.outputs), module.VERSION)


def serve(sock: socket.socket, worker: Worker, shm: protocol.SharedMemory | None = None) -> int:
    """Answer messages until the channel closes; returns the process exit status."""
    worker.link = ServerLink(sock, worker)
    while True:
        try:
            payload = protocol.read_frame(sock)
        except (protocol.ProtocolError, OSError):
            return 0  # the server closed the channel or exited
        try:
            msg = protocol.decode(payload, shm)
        except protocol.ProtocolError as exc:
            logger.error("bad frame from the server: %s", exc)
            return 2
        reply = worker.handle(msg)
        try:
            try:
                encoded = protocol.encode(reply, shm)
            except OSError as exc:  # the out region cannot grow (memory): use the socket
                logger.warning("shared memory unavailable for a result (%s)", exc)
                encoded = protocol.encode(reply)
        except protocol.UnsupportedDtypeError as exc:
            encoded = protocol.encode(protocol.Error(msg.req_id, str(exc)))
        del payload, msg
        try:
            protocol.send_buffers(sock, encoded)
        except OSError:
            return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m smartsim_ai.worker", description=__doc__)
    p.add_argument("--fd", type=int, required=True, help="inherited socket to the server")
    p.add_argument("--device", default="CPU")
    p.add_argument("--intra-op", type=int, default=0)
    p.add_argument("--inter-op", type=int, default=0)
    p.add_argument("--memory-limit-mb", type=int, default=0)
    p.add_argument("--parent-pid", type=int, default=0)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--log-file", help="append log lines here (the server's log file)")
    p.add_argument("--shm-fds", help="IN,OUT: inherited memfds shared with the server")
    p.add_argument(
        "--shm-threshold", type=int, default=0, help="tensors this big (bytes) use the regions"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # lines look like the server's own: "<pid>:W <date> <level> ai-worker[<device>] <message>"
    logging.basicConfig(
        level=args.log_level.upper(),
        filename=args.log_file,
        format=f"{os.getpid()}:W %(asctime)s.%(msecs)03d %(levelname)s ai-worker[{args.device}] "
        "%(message)s",
        datefmt="%d %b %Y %H:%M:%S",
    )
    _die_with_parent(args.parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C on the server's terminal is the server's
    sandbox.apply_and_log()  # no files outside Python and its libraries (docs/security.md)
    sock = socket.socket(fileno=args.fd)
    options = Options(args.intra_op, args.inter_op, args.memory_limit_mb)
    worker = Worker(args.device, options, args.memory_limit_mb)
    shm = None
    if args.shm_fds and args.shm_threshold > 0:
        in_fd, out_fd = (int(fd) for fd in args.shm_fds.split(","))
        shm = protocol.SharedMemory.from_fds(in_fd, out_fd, args.shm_threshold)
    try:
        return serve(sock, worker, shm)
    finally:
        sock.close()
