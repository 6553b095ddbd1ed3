/*
 * The execution layer's entry points (hooks.h): start the CPU run queue and its workers at
 * load, prepare models/scripts loaded from RDB, release worker state when objects are freed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "config.h"
#include "exec_ids.h"
#include "execute.h"
#include "hooks.h"
#include "info.h"
#include "request.h"
#include "run_queue.h"
#include "stats.h"
#include "submit.h"
#include "worker_channel.h"

#define DEFAULT_EXEC_TIMEOUT_MS 5000

/* The release hooks (model.h, script.h): workers drop the object, its AI.INFO entry goes. */
static void release_model(ai_model *m) {
    stats_unregister(m);
    if (ai_exec_release(&m->exec)) run_queue_wake(m->device);
}

static void release_script(ai_script *s) {
    stats_unregister(s);
    if (ai_exec_release(&s->exec)) run_queue_wake(s->device);
}

/* RESTORE of such a model: a command, so its main thread must not wait for a worker (a Python
 * start and a backend import: seconds); a worker names it in the background, as after a store
 * inside MULTI (submit.h: ai_request_detached_done). */
static void name_in_background(RedisModuleCtx *ctx, const RedisModuleString *key, ai_model *m) {
    ai_request *r = ai_request_new(AI_REPLY_STORE, 1);
    r->ops[0].kind = AI_OP_LOAD_MODEL;
    r->ops[0].model = ai_model_incref(m);
    r->argv = ai_calloc(1, sizeof *r->argv);
    r->argv[0] = RedisModule_CreateStringFromString(NULL, key);
    r->argc = 1;
    r->key = r->argv[0];
    r->detached_done = ai_request_detached_done;
    if (run_queue_push(ctx, m->device, r) != 0) ai_request_free(ctx, r);
}

static int prepare_model(RedisModuleCtx *ctx, const RedisModuleString *key, ai_model *m,
                         char **err) {
    int unnamed = m->backend != AI_BACKEND_TF && m->ninputs == 0 && m->noutputs == 0;
    int loading = (RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_LOADING) != 0;
    if (unnamed && loading && ai_model_derive_names(m, err) != 0) return -1;
    ai_exec_model_id(m);
    if (unnamed && !loading) name_in_background(ctx, key, m);
    size_t klen;
    const char *k = RedisModule_StringPtrLen(key, &klen);
    stats_register(k, klen, 0, ai_backend_names[m->backend], m->device, m->tag, m->tag_len, m);
    run_queue_ensure(m->device);
    return 0;
}

static int prepare_script(RedisModuleCtx *ctx, const RedisModuleString *key, ai_script *s,
                          char **err) {
    ai_exec_script_id(s);
    size_t klen;
    const char *k = RedisModule_StringPtrLen(key, &klen);
    stats_register(k, klen, 1, "TORCH", s->device, s->tag, s->tag_len, s);
    run_queue_ensure(s->device);
    return 0;
}

/* Workers append their log lines to the server's log file (when it has one). */
static void find_log_file(RedisModuleCtx *ctx) {
    RedisModuleCallReply *reply = RedisModule_Call(ctx, "CONFIG", "cc", "GET", "logfile");
    if (!reply) return;
    RedisModuleCallReply *value = RedisModule_CallReplyArrayElement(reply, 1);
    size_t len = 0;
    const char *path = value ? RedisModule_CallReplyStringPtr(value, &len) : NULL;
    if (path && len > 0 && len < sizeof ai_config.log_file) {
        memcpy(ai_config.log_file, path, len);
        ai_config.log_file[len] = '\0';
    }
    RedisModule_FreeCallReply(reply);
}

/* The Python of the environment this module is installed in: ai.so sits at
 * <prefix>/lib/pythonX.Y/site-packages/smartsim_ai/lib/ai.so (a venv, conda or system site),
 * so <prefix>/bin/pythonX.Y (then <prefix>/bin/python3) is the interpreter that imports
 * smartsim_ai.  Writes it to `out` and returns 1 when it exists. */
static int environment_python(char *out, size_t size) {
    Dl_info info;
    if (!dladdr((void *)environment_python, &info) || !info.dli_fname) return 0;
    const char *file = info.dli_fname;
    const char *lib = NULL;
    for (const char *p = strstr(file, "/lib"); p; p = strstr(p + 1, "/lib")) {
        if (strncmp(p, "/lib/python", 11) == 0 || strncmp(p, "/lib64/python", 13) == 0) lib = p;
    }
    if (!lib) return 0;
    const char *version = strchr(lib + 1, '/') + 1; /* "pythonX.Y/site-packages/..." */
    size_t vlen = strcspn(version, "/");
    int plen = (int)(lib - file);
    int n = snprintf(out, size, "%.*s/bin/%.*s", plen, file, (int)vlen, version);
    if (n > 0 && (size_t)n < size && access(out, X_OK) == 0) return 1;
    n = snprintf(out, size, "%.*s/bin/python3", plen, file);
    return n > 0 && (size_t)n < size && access(out, X_OK) == 0;
}

/* No WORKER_PYTHON: the interpreter this module was built for in a checkout (an editable or
 * in-place build records it), else the Python of the environment the module is installed in
 * (a wheel records none), else python3 from PATH. */
static void fallback_python(RedisModuleCtx *ctx) {
    if (ai_config.worker_exe[0] && access(ai_config.worker_exe, X_OK) == 0) return;
    char found[sizeof ai_config.worker_exe];
    if (environment_python(found, sizeof found)) {
        RedisModule_Log(ctx, "notice", "ai: workers use %s (the module's environment)", found);
        snprintf(ai_config.worker_exe, sizeof ai_config.worker_exe, "%s", found);
        return;
    }
    const char *path = getenv("PATH");
    char dir[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && n < sizeof dir - 16) {
            memcpy(dir, path, n);
            snprintf(dir + n, sizeof dir - n, "/python3");
            if (access(dir, X_OK) == 0) {
                RedisModule_Log(ctx, "warning",
                                "ai: no build-time Python%s%s and no Python beside the module; "
                                "workers use %s from PATH (set WORKER_PYTHON to choose)",
                                ai_config.worker_exe[0] ? " at " : "",
                                ai_config.worker_exe, dir);
                snprintf(ai_config.worker_exe, sizeof ai_config.worker_exe, "%s", dir);
                return;
            }
        }
        path += n + (path[n] == ':');
    }
}

/* INTRA_OP_PARALLELISM / INTER_OP_PARALLELISM left at 0: the cores this server may use
 * (its affinity mask: a Slurm or cgroup cpuset counts) but one, for the server's own thread,
 * shared by the CPU queue's THREADS_PER_QUEUE workers, at least 1 each.  The backends' own
 * default (every core, in every worker) oversubscribes the cores as soon as two workers, or a
 * worker and the server, run at once (benchmarks/bench_threads.py). */
static void default_thread_counts(RedisModuleCtx *ctx) {
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (cores <= 0) cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (cores <= 0) cores = 1;
    int share = (int)((cores - 1) / ai_config.threads_per_queue);
    if (share < 1) share = 1;
    if (ai_config.worker_intra_op == 0) ai_config.worker_intra_op = share;
    if (ai_config.worker_inter_op == 0) ai_config.worker_inter_op = share;
    (void)ctx;
}

int ai_exec_onload(RedisModuleCtx *ctx) {
    find_log_file(ctx);
    if (ai_config.worker_python && ai_config.worker_python[0])
        snprintf(ai_config.worker_exe, sizeof ai_config.worker_exe, "%s",
                 ai_config.worker_python);
    else
        fallback_python(ctx);
    ai_config.worker_intra_op = (int)ai_config.intra_op_parallelism;
    ai_config.worker_inter_op = (int)ai_config.inter_op_parallelism;
    /* RedisAI bounds only ONNX runs; a value given explicitly bounds every backend */
    ai_config.exec_timeout_explicit = ai_config.model_execution_timeout != DEFAULT_EXEC_TIMEOUT_MS;
    default_thread_counts(ctx);
    ai_model_prepare_hook = prepare_model;
    ai_script_prepare_hook = prepare_script;
    ai_model_release_hook = release_model;
    ai_script_release_hook = release_script;
    if (run_queue_ensure_eager("CPU") != 0) {
        RedisModule_Log(ctx, "warning", "ai: cannot start the CPU run queue");
        return -1;
    }
    RedisModule_Log(ctx, "notice",
                    "ai: %d worker(s) per device, at most %d in all, python %s, %d intra-op and "
                    "%d inter-op thread(s) per worker",
                    (int)ai_config.threads_per_queue, (int)ai_config.workers_max,
                    ai_config.worker_exe, ai_config.worker_intra_op, ai_config.worker_inter_op);
    return 0;
}

void ai_exec_info_cpu(RedisModuleInfoCtx *ctx) { run_queue_info_cpu(ctx); }

/* ai_backends_info: the backends a worker has loaded (or LOADBACKEND/module args named). */
void ai_exec_info_backends(RedisModuleInfoCtx *ctx) {
    static const char *const fields[AI_BACKEND_COUNT] = {
        "TensorFlow_version", "TensorFlowLite_version", "Torch_version", "onnxruntime_version"};
    for (int b = 0; b < AI_BACKEND_COUNT; b++) {
        char version[64];
        if (execute_backend_version((ai_backend)b, version, sizeof version))
            ai_info_add_field(ctx, fields[b], version); /* reported by a worker */
        else if (ai_config.backend_paths[b])
            RedisModule_InfoAddFieldCString(ctx, fields[b], "NA");
    }
}
