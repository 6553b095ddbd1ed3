/*
 * Module configuration: load-time arguments (RedisAI's names plus ours) and the
 * runtime knobs of AI.CONFIG.  One global, read by every layer.
 */
#ifndef SMARTSIM_AI_CONFIG_H
#define SMARTSIM_AI_CONFIG_H

#include "model.h"
#include "rm_api.h"

#define AI_DEFAULT_MODEL_CHUNK_SIZE (511LL * 1024 * 1024)

/* Upper bounds of the numeric module arguments (engine.md, "Bounds on client input"). */
#define AI_CONFIG_MAX_THREADS 1024LL        /* THREADS_PER_QUEUE, INTRA/INTER_OP_PARALLELISM */
#define AI_CONFIG_MAX_MS 1000000000000LL    /* timeouts and delays: 10^12 ms, 31 years */
#define AI_CONFIG_MAX_MEMORY_MB (1LL << 30) /* BACKEND_MEMORY_LIMIT: 1 PB */

typedef struct {
    long long threads_per_queue;       /* THREADS_PER_QUEUE: workers per device queue */
    long long intra_op_parallelism;    /* INTRA_OP_PARALLELISM: 0 = backend default */
    long long inter_op_parallelism;    /* INTER_OP_PARALLELISM: 0 = backend default */
    long long model_chunk_size;        /* MODEL_CHUNK_SIZE (also AI.CONFIG) */
    long long model_execution_timeout; /* MODEL_EXECUTION_TIMEOUT, ms (>= 1000) */
    long long backend_memory_limit;    /* BACKEND_MEMORY_LIMIT, MB (0 = none) */
    long long model_load_timeout;      /* MODEL_LOAD_TIMEOUT (ours), ms (0 = none) */
    long long tensor_compaction_delay; /* TENSOR_COMPACTION_DELAY (ours), ms (-1 = off) */
    long long run_timeout;             /* RUN_TIMEOUT (ours), ms (0 = none) */
    long long workers_max;             /* WORKERS_MAX (ours): worker processes in all */
    long long worker_idle_timeout;     /* WORKER_IDLE_TIMEOUT (ours), ms (0 = never) */
    long long shm_threshold;           /* SHM_THRESHOLD (ours), bytes (0 = never shared memory) */
    char *backends_path;               /* BACKENDSPATH (also AI.CONFIG) */
    char *worker_python;               /* WORKER_PYTHON (ours): the workers' interpreter; NULL = default */
    char *backend_paths[AI_BACKEND_COUNT]; /* backends requested at load or by LOADBACKEND */

    /* Resolved from the above when the execution layer starts (exec_main.c), then read-only. */
    char worker_exe[4096];      /* the workers' interpreter: WORKER_PYTHON, else found */
    char log_file[4096];        /* the server's log file; empty: workers log to stderr */
    int worker_intra_op;        /* INTRA_OP_PARALLELISM, 0: this server's cores shared */
    int worker_inter_op;        /* INTER_OP_PARALLELISM, likewise */
    int exec_timeout_explicit;  /* MODEL_EXECUTION_TIMEOUT was given: it bounds every backend */
} ai_config_t;

extern ai_config_t ai_config;

/* Parses the module arguments (KEY VALUE pairs, case-insensitive keys).  Logs the
 * reason and returns REDISMODULE_ERR on an odd count, an unknown key or a bad value. */
int ai_config_load_args(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
