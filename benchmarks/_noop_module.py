"""A test-only module of two commands that do nothing but answer, built on the fly.

``NOOP.SET ...`` replies +OK and remembers the length of its last argument; ``NOOP.GET ...``
replies a bulk string of that length. Neither touches the keyspace, whatever its arguments.
Sent with AI.TENSORSET's / AI.TENSORGET's arguments, they cost what the server itself spends
on such a command (reading, parsing and freeing its arguments, module dispatch, the reply):
the most any module command with those arguments can reach. The ``ai`` module never
contains them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

MODULE_SRC = (
    Path(__file__).resolve().parents[1] / "packages" / "smartsim_ai" / "src" / "module" / "core"
)

NOOP_C = r"""
#include <string.h>
#include "rm_api.h"
static char *noop_value;
static size_t noop_len, noop_cap;
static int noop_set(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    RedisModule_StringPtrLen(argv[argc - 1], &noop_len);
    if (noop_len > noop_cap) {
        noop_value = RedisModule_Realloc(noop_value, noop_len);
        memset(noop_value, 1, noop_len);
        noop_cap = noop_len;
    }
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}
static int noop_get(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv; (void)argc;
    return RedisModule_ReplyWithStringBuffer(ctx, noop_value ? noop_value : "", noop_len);
}
int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv; (void)argc;
    if (rm_api_init(ctx, "noopbench", 1, REDISMODULE_APIVER_1) != REDISMODULE_OK)
        return REDISMODULE_ERR;
    if (RedisModule_CreateCommand(ctx, "noop.set", noop_set, "write deny-oom", 1, 1, 1) !=
        REDISMODULE_OK)
        return REDISMODULE_ERR;
    return RedisModule_CreateCommand(ctx, "noop.get", noop_get, "readonly", 1, 1, 1);
}
"""


def build_noop_module(workdir: Path) -> Path:
    """Compiles the module into ``workdir``; returns the shared library's path."""
    src, lib = workdir / "noop.c", workdir / "noop.so"
    src.write_text(NOOP_C)
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise SystemExit("a C compiler (cc) is needed to build the no-op module")
    subprocess.run(
        [cc, "-O2", "-fPIC", "-shared", f"-I{MODULE_SRC}", str(src), str(MODULE_SRC / "rm_api.c"),
         "-o", str(lib)],
        check=True,
    )  # fmt: skip
    return lib
