"""Confine a worker process with Landlock (Linux >= 5.13): no power over the machine.

After :func:`restrict`, the process (and every thread and child it makes) can only read
Python, its packages and the system's libraries (what the backends import, also later, on
first use), and write nowhere but ``/dev/null`` and the GPU devices.  Files opened before stay
usable (the channel to the server, the log file).  Where the kernel offers them it also loses
TCP (bind, connect), signals to and abstract UNIX sockets of processes outside the sandbox.
A model or script that reaches for a file (``torch.from_file``, a TF ``ReadFile`` node, ...)
gets a permission error: the backends refuse such models at load already
(:mod:`smartsim_ai.worker.backends.filecheck`); this is the backstop.  The rules are in
docs/security.md.

``SMARTSIM_AI_WORKER_SANDBOX=0`` in the server's environment turns it off (logged);
``SMARTSIM_AI_WORKER_READ_PATHS`` (``os.pathsep``-separated) adds read-only paths, e.g. for a
backend library installed outside Python's prefix.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import sys
import tempfile
from dataclasses import dataclass, field

logger = logging.getLogger("smartsim_ai.worker")

DISABLE_ENV = "SMARTSIM_AI_WORKER_SANDBOX"
READ_PATHS_ENV = "SMARTSIM_AI_WORKER_READ_PATHS"

# <linux/landlock.h>
_SYS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446), "ppc64le": (444, 445, 446)}
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

READ = FS_READ_FILE | FS_READ_DIR | FS_EXECUTE
READ_WRITE_FILE = FS_READ_FILE | FS_WRITE_FILE  # ABI 3 adds FS_TRUNCATE where handled

# System libraries, and the few files the C libraries read at run time.  Not /etc as a whole
# (passwd, the host's keys), not /home, not the server's working directory.
SYSTEM_READ = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/os-release",  # onnxruntime
    "/etc/fonts",  # fontconfig and matplotlib's font cache: TF imports matplotlib
    "/var/cache/fontconfig",
    "/proc/self",  # the process's own /proc/<pid> (not other processes': their environ, maps)
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/sys",
    "/proc/driver",  # /proc/driver/nvidia
    "/sys",  # cores, caches, CPU quota, PCI devices (torch, onnxruntime, TF, CUDA)
    "/dev/urandom",
    "/dev/random",
)
DEVICE_READ_WRITE = ("/dev/null", "/dev/zero", "/dev/full")
GPU_DEVICE_PREFIXES = ("nvidia", "dri", "kfd")  # NVIDIA, and AMD's ROCm (/dev/kfd, /dev/dri)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass
class Result:
    """What :func:`restrict` did: ``abi`` 0 when the process is not sandboxed (``reason``)."""

    abi: int = 0
    reason: str = ""
    read: list[str] = field(default_factory=list)
    read_write: list[str] = field(default_factory=list)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi_version() -> tuple[int, str]:
    """The kernel's Landlock ABI version, or (0, why it is not available)."""
    numbers = _SYS.get(platform.machine())
    if sys.platform != "linux" or numbers is None:
        return 0, f"Landlock is Linux-only (this is {sys.platform} on {platform.machine()})"
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(
        ctypes.c_long(numbers[0]),
        None,
        ctypes.c_size_t(0),
        ctypes.c_uint32(_CREATE_RULESET_VERSION),
    )
    if abi < 0:
        err = ctypes.get_errno()
        why = {
            38: "the kernel was built without Landlock (ENOSYS)",
            95: "Landlock is disabled at boot (EOPNOTSUPP: add landlock to the lsm= list)",
        }.get(err, os.strerror(err))
        return 0, f"Landlock is not available: {why}"
    return int(abi), ""


def _python_paths() -> list[str]:
    """Python's installation, its packages, and the import path (minus the working directory)."""
    cwd = os.path.realpath(os.getcwd())
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths.append(os.path.dirname(os.path.realpath(sys.executable)))
    for entry in sys.path:
        real = os.path.realpath(entry or ".")
        if real != cwd:
            paths.append(real)
    # Keras's settings (TF reads them at import when they exist)
    keras_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    paths.append(os.path.join(keras_dir, "keras.json"))
    # matplotlib's settings and font cache (read only: rebuilding the cache costs seconds)
    home = os.path.expanduser("~")
    xdg_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    xdg_config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    paths += [os.path.join(xdg_cache, "matplotlib"), os.path.join(xdg_config, "matplotlib")]
    if os.environ.get("MPLCONFIGDIR"):
        paths.append(os.environ["MPLCONFIGDIR"])
    extra = os.environ.get(READ_PATHS_ENV, "")
    paths.extend(p for p in extra.split(os.pathsep) if p)
    return paths


def _gpu_devices() -> list[str]:
    try:
        names = os.listdir("/dev")
    except OSError:
        return []
    return [f"/dev/{n}" for n in sorted(names) if n.startswith(GPU_DEVICE_PREFIXES)]


def _add_rule(libc: ctypes.CDLL, add_rule: int, ruleset: int, path: str, access: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False  # absent here: nothing to allow
    try:
        if not os.path.isdir(path):  # files take file rights only
            access &= FS_READ_FILE | FS_WRITE_FILE | FS_EXECUTE | FS_TRUNCATE | FS_IOCTL_DEV
        attr = _PathBeneathAttr(access, fd)
        rc = libc.syscall(
            ctypes.c_long(add_rule),
            ctypes.c_int(ruleset),
            ctypes.c_int(_RULE_PATH_BENEATH),
            ctypes.byref(attr),
            ctypes.c_uint32(0),
        )
        if rc != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_add_rule({path}): {os.strerror(err)}")
        return True
    finally:
        os.close(fd)


def restrict() -> Result:
    """Confine this process for good; returns what was done (never raises for a missing
    Landlock: the result says why, and the caller logs it)."""
    if os.environ.get(DISABLE_ENV, "").strip().lower() in ("0", "no", "off", "false"):
        return Result(0, f"turned off by {DISABLE_ENV}={os.environ[DISABLE_ENV]}")
    abi, why = abi_version()
    if abi <= 0:
        return Result(0, why)
    create, add_rule, restrict_self = _SYS[platform.machine()]
    handled_fs = (1 << 13) - 1  # ABI 1: every right up to MAKE_SYM
    if abi >= 2:
        handled_fs |= FS_REFER
    if abi >= 3:
        handled_fs |= FS_TRUNCATE
    # FS_IOCTL_DEV (ABI 5) stays unhandled: GPUs are driven by ioctls on their device files
    handled_net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(handled_fs, handled_net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    ruleset = libc.syscall(
        ctypes.c_long(create), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
    )
    if ruleset < 0:
        err = ctypes.get_errno()
        return Result(0, f"landlock_create_ruleset failed: {os.strerror(err)}")
    # Settle the temporary directory while /tmp is writable: TF's import asks for it (and
    # only its name is used); later writes there are refused like every other.
    tempfile.gettempdir()
    os.environ.setdefault("JOBLIB_MULTIPROCESSING", "0")  # its probe makes a semaphore file
    result = Result(abi)
    write_access = READ_WRITE_FILE | (FS_TRUNCATE if abi >= 3 else 0)
    try:
        seen: set[str] = set()
        for path in [*_python_paths(), *SYSTEM_READ]:
            if path not in seen and _add_rule(libc, add_rule, ruleset, path, READ & handled_fs):
                result.read.append(path)
            seen.add(path)
        for path in [*DEVICE_READ_WRITE, *_gpu_devices()]:
            if _add_rule(libc, add_rule, ruleset, path, write_access | FS_READ_DIR):
                result.read_write.append(path)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            return Result(0, f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(err)}")
        if libc.syscall(ctypes.c_long(restrict_self), ctypes.c_int(ruleset), ctypes.c_uint32(0)):
            err = ctypes.get_errno()
            return Result(0, f"landlock_restrict_self failed: {os.strerror(err)}")
    except OSError as exc:
        return Result(0, str(exc))
    finally:
        os.close(ruleset)
    # The working directory (the server's: its RDB/AOF files) is no import location any more.
    cwd = os.path.realpath(os.getcwd())
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != cwd]
    return result


def apply_and_log() -> Result:
    """:func:`restrict`, then one log line saying what the worker may touch or why it may
    touch everything."""
    result = restrict()
    if result.abi:
        logger.warning(
            "sandboxed with Landlock (ABI %d): reads only Python and system libraries "
            "(%d paths), writes no files%s (docs/security.md)",
            result.abi,
            len(result.read),
            ", no TCP" if result.abi >= 4 else "",
        )
    else:
        logger.warning(
            "NOT sandboxed: %s; models and scripts in this worker can read and write every "
            "file the server's user can (docs/security.md)",
            result.reason,
        )
    return result
