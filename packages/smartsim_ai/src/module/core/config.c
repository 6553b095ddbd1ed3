/*
 * Module arguments (loadmodule ai.so KEY VALUE ...) and AI.CONFIG.
 *
 * Backends are Python packages run by the workers, not shared libraries: a backend
 * path (TF/TFLITE/TORCH/ONNX args, AI.CONFIG LOADBACKEND) is recorded and handed to
 * the execution layer (hooks.h), which may check that the backend can be imported.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "commands.h"
#include "errors.h"
#include "hooks.h"
#include "reply.h"

#ifndef AI_BUILD_PYTHON
#define AI_BUILD_PYTHON "" /* setup.py passes the interpreter of a checkout build */
#endif

ai_config_t ai_config = {
    .threads_per_queue = 1,
    .intra_op_parallelism = 0,
    .inter_op_parallelism = 0,
    .model_chunk_size = AI_DEFAULT_MODEL_CHUNK_SIZE,
    .model_execution_timeout = 5000,
    .backend_memory_limit = 0,
    .model_load_timeout = 600000,
    .tensor_compaction_delay = 1000,
    .run_timeout = 60000,
    .workers_max = 16,
    .worker_idle_timeout = 600000,
    .shm_threshold = 256 * 1024,
    .worker_exe = AI_BUILD_PYTHON,
};

static void set_string(char **slot, const char *value, size_t len) {
    if (*slot) ai_free(*slot);
    *slot = ai_strndup(value, len);
}

/* RedisAI's default: <directory of the module .so>/backends. */
static void default_backends_path(void) {
    Dl_info info;
    const char *dir = ".";
    size_t dirlen = 1;
    if (dladdr((void *)default_backends_path, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash) {
            dir = info.dli_fname;
            dirlen = (size_t)(slash - info.dli_fname);
        }
    }
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "%.*s/backends", (int)dirlen, dir);
    set_string(&ai_config.backends_path, buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0);
}

/* A relative backend path is joined to BACKENDSPATH, as RedisAI does. */
static void record_backend(ai_backend b, const char *path, size_t len) {
    if (len > 0 && path[0] != '/' && ai_config.backends_path) {
        char buf[4096];
        int n = snprintf(buf, sizeof(buf), "%s/%.*s", ai_config.backends_path, (int)len, path);
        if (n > 0 && (size_t)n < sizeof(buf)) {
            set_string(&ai_config.backend_paths[b], buf, (size_t)n);
            return;
        }
    }
    set_string(&ai_config.backend_paths[b], path, len);
}

static int name_is(const char *name, const char *word) { return strcasecmp(name, word) == 0; }

/* Whether n is an integer in [lo, hi].  The upper bounds keep every value inside what its
 * users compute with (an int thread count, now + a timeout in ms) without overflow. */
static int in_range(int is_int, long long n, long long lo, long long hi) {
    return is_int && n >= lo && n <= hi;
}

/* One KEY VALUE argument; returns 0, or -1 for an unknown key or a bad value. */
static int apply_arg(RedisModuleCtx *ctx, const char *name, RedisModuleString *value) {
    size_t vlen;
    const char *v = RedisModule_StringPtrLen(value, &vlen);
    long long n = 0;
    int is_int = RedisModule_StringToLongLong(value, &n) == REDISMODULE_OK;
    ai_backend backend;
    if (name_is(name, "BACKENDSPATH")) set_string(&ai_config.backends_path, v, vlen);
    else if (name_is(name, "WORKER_PYTHON")) set_string(&ai_config.worker_python, v, vlen);
    else if (ai_backend_parse(name, strlen(name), &backend) == 0) record_backend(backend, v, vlen);
    else if (name_is(name, "THREADS_PER_QUEUE")) {
        if (!in_range(is_int, n, 1, AI_CONFIG_MAX_THREADS)) return -1;
        ai_config.threads_per_queue = n;
    } else if (name_is(name, "INTRA_OP_PARALLELISM")) {
        if (!in_range(is_int, n, 0, AI_CONFIG_MAX_THREADS)) return -1;
        ai_config.intra_op_parallelism = n;
    } else if (name_is(name, "INTER_OP_PARALLELISM")) {
        if (!in_range(is_int, n, 0, AI_CONFIG_MAX_THREADS)) return -1;
        ai_config.inter_op_parallelism = n;
    } else if (name_is(name, "MODEL_CHUNK_SIZE")) {
        if (!is_int || n <= 0) return -1;
        ai_config.model_chunk_size = n;
    } else if (name_is(name, "MODEL_EXECUTION_TIMEOUT")) {
        if (!in_range(is_int, n, 1000, AI_CONFIG_MAX_MS)) return -1;
        ai_config.model_execution_timeout = n;
    } else if (name_is(name, "BACKEND_MEMORY_LIMIT")) {
        if (!in_range(is_int, n, 0, AI_CONFIG_MAX_MEMORY_MB)) return -1;
        ai_config.backend_memory_limit = n;
    } else if (name_is(name, "MODEL_LOAD_TIMEOUT")) {
        if (!in_range(is_int, n, 0, AI_CONFIG_MAX_MS)) return -1;
        ai_config.model_load_timeout = n;
    } else if (name_is(name, "RUN_TIMEOUT")) {
        if (!is_int || n < 0) return -1;
        ai_config.run_timeout = n;
    } else if (name_is(name, "WORKERS_MAX")) {
        if (!is_int || n < 1 || n > 100000) return -1;
        ai_config.workers_max = n;
    } else if (name_is(name, "WORKER_IDLE_TIMEOUT")) {
        if (!is_int || n < 0) return -1;
        ai_config.worker_idle_timeout = n;
    } else if (name_is(name, "SHM_THRESHOLD")) {
        if (!in_range(is_int, n, 0, 1LL << 40)) return -1;
        ai_config.shm_threshold = n;
    } else if (name_is(name, "TENSOR_COMPACTION_DELAY")) {
        if (!in_range(is_int, n, -1, AI_CONFIG_MAX_MS)) return -1;
        ai_config.tensor_compaction_delay = n;
    } else {
        return -1;
    }
    (void)ctx;
    return 0;
}

int ai_config_load_args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    default_backends_path();
    if (argc % 2 != 0) {
        RedisModule_Log(ctx, "warning",
                        "ai: module arguments must be KEY VALUE pairs; got %d arguments", argc);
        return REDISMODULE_ERR;
    }
    /* BACKENDSPATH first, so relative backend paths given before it still resolve. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < argc; i += 2) {
            const char *name = RedisModule_StringPtrLen(argv[i], NULL);
            if ((pass == 0) != name_is(name, "BACKENDSPATH")) continue;
            if (apply_arg(ctx, name, argv[i + 1]) != 0) {
                RedisModule_Log(ctx, "warning", "ERR error processing argument: %s %s", name,
                                RedisModule_StringPtrLen(argv[i + 1], NULL));
                return REDISMODULE_ERR;
            }
        }
    }
    return REDISMODULE_OK;
}

static int config_loadbackend(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return ai_reply_arity(ctx, "AI.CONFIG");
    size_t len;
    const char *name = RedisModule_StringPtrLen(argv[2], &len);
    ai_backend backend;
    if (ai_backend_parse(name, len, &backend) != 0) {
        return RedisModule_ReplyWithError(ctx, AI_ERR_UNSUPPORTED_BACKEND);
    }
    if (ai_config.backend_paths[backend]) { /* RedisAI refuses to load a backend twice */
        return RedisModule_ReplyWithError(ctx, AI_ERR_LOADING_BACKEND);
    }
    const char *path = RedisModule_StringPtrLen(argv[3], &len);
    record_backend(backend, path, len);
    RedisModule_Log(ctx, "notice", "ai: backend %s requested (%s); workers import it on first use",
                    ai_backend_names[backend], ai_config.backend_paths[backend]);
    return ai_reply_ok(ctx);
}

int ai_cmd_config(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2) return ai_reply_arity(ctx, "AI.CONFIG");
    const char *sub = RedisModule_StringPtrLen(argv[1], NULL);
    if (name_is(sub, "LOADBACKEND")) return config_loadbackend(ctx, argv, argc);
    if (name_is(sub, "BACKENDSPATH")) {
        if (argc < 3) return RedisModule_ReplyWithError(ctx, AI_ERR_BACKENDSPATH_MISSING);
        size_t len;
        const char *path = RedisModule_StringPtrLen(argv[2], &len);
        set_string(&ai_config.backends_path, path, len);
        return ai_reply_ok(ctx);
    }
    if (name_is(sub, "MODEL_CHUNK_SIZE")) {
        if (argc < 3) return RedisModule_ReplyWithError(ctx, AI_ERR_CHUNK_SIZE_MISSING);
        long long n;
        if (RedisModule_StringToLongLong(argv[2], &n) != REDISMODULE_OK || n <= 0) {
            return RedisModule_ReplyWithError(ctx, AI_ERR_CHUNK_SIZE_INVALID);
        }
        ai_config.model_chunk_size = n;
        return ai_reply_ok(ctx);
    }
    if (name_is(sub, "GET")) {
        if (argc < 3) return ai_reply_arity(ctx, "AI.CONFIG");
        const char *what = RedisModule_StringPtrLen(argv[2], NULL);
        if (name_is(what, "BACKENDSPATH")) {
            return RedisModule_ReplyWithCString(ctx, ai_config.backends_path ? ai_config.backends_path : "");
        }
        if (name_is(what, "MODEL_CHUNK_SIZE")) {
            return RedisModule_ReplyWithLongLong(ctx, ai_config.model_chunk_size);
        }
        return RedisModule_ReplyWithNull(ctx);
    }
    return RedisModule_ReplyWithError(ctx, AI_ERR_UNSUPPORTED_SUBCOMMAND);
}
