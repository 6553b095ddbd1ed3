/*
 * AI.DAGEXECUTE / AI.DAGEXECUTE_RO and the deprecated AI.DAGRUN / AI.DAGRUN_RO.
 * Names are DAG-local and SSA-versioned: each TENSORSET/output makes a new slot, later ops see
 * the latest slot defined before them.  TENSORSET ops are evaluated while parsing.
 */
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "args.h"
#include "bind.h"
#include "cmd_run.h"
#include "cmd_tensor.h"
#include "commands.h"
#include "errors.h"
#include "reply.h"
#include "submit.h"
#include "tensor_type.h"

typedef struct dag_kind {
    const char *name; /* for errors */
    int deprecated;
    int readonly;
} dag_kind;

static int is_sep(RedisModuleString *s) {
    return strcmp(RedisModule_StringPtrLen(s, NULL), "|>") == 0;
}

/* Parse one op argv[0..argc) into r->ops[k]; replies and returns -1 on error. */
static int parse_op(RedisModuleCtx *ctx, const dag_kind *kind, RedisModuleString **argv,
                    int argc, ai_request *r, ai_op *op, struct dag_names *names) {
    const char *cmd = RedisModule_StringPtrLen(argv[0], NULL);
    if (strcasecmp(cmd, "AI.TENSORSET") == 0) {
        if (argc < 4) return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_TENSORSET_ARITY), -1;
        const char *err = NULL;
        ai_tensor *t = ai_tensor_from_args(argv + 2, argc - 2, &err);
        if (!t) return RedisModule_ReplyWithError(ctx, err), -1;
        op->kind = AI_OP_TENSORSET;
        dag_binding *b = dag_names_new_binding(names, op);
        b->set = argv[1];
        b->set_slot = ai_request_slot(r, t);
        ai_tensor_decref(t);
        return 0;
    }
    if (strcasecmp(cmd, "AI.TENSORGET") == 0) {
        if (argc < 2 || argc > 4)
            return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_TENSORGET_ARITY), -1;
        int meta;
        ai_tensor_fmt fmt;
        const char *err = ai_tensor_parse_format(argv + 2, argc - 2, &meta, &fmt);
        if (err) return RedisModule_ReplyWithError(ctx, err), -1;
        op->kind = AI_OP_TENSORGET;
        dag_names_new_binding(names, op)->get = argv[1];
        op->get_fmt = (int)fmt | (meta ? AI_FMT_META : 0);
        return 0;
    }
    static const struct {
        const char *name;
        ai_run_op which;
        int deprecated;
    } run_ops[] = {{"AI.MODELEXECUTE", AI_RUN_MODELEXECUTE, 0},
                   {"AI.SCRIPTEXECUTE", AI_RUN_SCRIPTEXECUTE, 0},
                   {"AI.MODELRUN", AI_RUN_MODELRUN, 1},
                   {"AI.SCRIPTRUN", AI_RUN_SCRIPTRUN, 1}};
    for (size_t k = 0; k < sizeof run_ops / sizeof *run_ops; k++) {
        if (strcasecmp(cmd, run_ops[k].name) != 0) continue;
        if (run_ops[k].deprecated != kind->deprecated) /* MODELRUN in DAGEXECUTE and so on */
            return ai_reply_errorf(ctx,
                                   kind->deprecated ? AI_ERR_DAGRUN_NEW_OP_FMT
                                                    : AI_ERR_DAG_DEPRECATED_OP_FMT,
                                   run_ops[k].name),
                   -1;
        if (run_ops[k].which == AI_RUN_SCRIPTEXECUTE && kind->readonly)
            return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_SCRIPTEXECUTE_RO), -1;
        return ai_build_run_op(ctx, argv, argc, r, op, names, run_ops[k].which);
    }
    return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_UNSUPPORTED_OP), -1;
}

static int dag_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                       const dag_kind *kind) {
    if (ai_run_refused(ctx)) return REDISMODULE_OK;
    if (kind->deprecated ? argc < 4 : argc < 6) {
        if (kind->deprecated) return ai_reply_arity(ctx, kind->name);
        return ai_reply_errorf(ctx, AI_ERR_DAG_MISSING_ARGS_FMT, kind->name);
    }
    struct dag_names names = {0};
    struct dag_names persist_seen = {0};
    ai_request *r = ai_request_new(AI_REPLY_DAG, 0);
    int seen_load = 0, seen_persist = 0, seen_routing = 0, seen_timeout = 0;
    int persist_at = -1;
    long long npersist = 0;
    /* ops: [start, end) of argv, one per "|>" that is not the last argument */
    int *op_start = ai_calloc((size_t)argc, 2 * sizeof(int));
    int *op_end = op_start + argc;
    size_t nops = 0;
#define FAIL(stmt)     \
    do {               \
        stmt;          \
        goto fail;     \
    } while (0)
    /* RedisAI's DAGInitialParsing: header keywords until the first op, each once; LOAD and
     * PERSIST take their keys from everything that follows ("|>" included) */
    int i = 1;
    while (i < argc) {
        if (nops == 0 && ai_arg_is(argv[i], "LOAD") && !seen_load) {
            seen_load = 1;
            long long n;
            if (argc - i < 3) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_LOAD_MISSING));
            if (RedisModule_StringToLongLong(argv[i + 1], &n) != REDISMODULE_OK || n <= 0)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_LOAD_COUNT));
            long long k = 0;
            for (; k < n && i + 2 + k < argc; k++) { /* each key read before the count check */
                RedisModuleString *key = argv[i + 2 + k];
                ai_tensor *t = ai_tensor_get_from_key(ctx, key);
                if (!t) goto fail;
                dag_names_add(&names, key, ai_request_slot(r, t));
                ai_tensor_decref(t);
            }
            if (k != n) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_LOAD_MISMATCH));
            i += 2 + (int)n;
        } else if (nops == 0 && ai_arg_is(argv[i], "PERSIST") && !seen_persist) {
            seen_persist = 1;
            if (kind->readonly) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_RO));
            if (argc - i < 3)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_MISSING));
            if (RedisModule_StringToLongLong(argv[i + 1], &npersist) != REDISMODULE_OK ||
                npersist <= 0)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_COUNT));
            long long k = 0;
            for (; k < npersist && i + 2 + k < argc; k++) { /* unique, then enough */
                if (dag_names_lookup(&persist_seen, argv[i + 2 + k]) >= 0)
                    FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_UNIQUE));
                dag_names_add(&persist_seen, argv[i + 2 + k], 0);
            }
            if (k != npersist)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_MISMATCH));
            persist_at = i + 2;
            i += 2 + (int)npersist;
        } else if (nops == 0 && ai_arg_is(argv[i], "ROUTING") && !kind->deprecated &&
                   !seen_routing) {
            seen_routing = 1;
            if (i + 1 >= argc) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_ROUTING_MISSING));
            i += 2;
        } else if (nops == 0 && ai_arg_is(argv[i], "TIMEOUT") && !seen_timeout) {
            seen_timeout = 1;
            if (i + 1 >= argc) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_MISSING));
            if (RedisModule_StringToLongLong(argv[i + 1], &r->timeout_ms) != REDISMODULE_OK)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_INVALID));
            if (r->timeout_ms < 0) r->timeout_ms = 0; /* RedisAI: <= 0 is no timeout */
            r->timeout_ms = ai_clamp_timeout(r->timeout_ms);
            i += 2;
        } else if (is_sep(argv[i]) && i < argc - 1) {
            int end = i + 1;
            while (end < argc && !is_sep(argv[end])) end++;
            op_start[nops] = i + 1;
            op_end[nops++] = end;
            i = end;
        } else {
            FAIL(ai_reply_errorf(ctx, AI_ERR_DAG_UNEXPECTED_FMT,
                                 RedisModule_StringPtrLen(argv[i], NULL)));
        }
    }
    if (!kind->deprecated && !seen_load && !seen_persist && !seen_routing)
        FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_NEEDS_KEYWORD));
    if (nops == 0) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_EMPTY));
    r->ops = ai_realloc(r->ops, nops * sizeof(ai_op));
    memset(r->ops, 0, nops * sizeof(ai_op));
    r->nops = nops;
    /* every op parses (keys of models and scripts included) before any name is bound */
    const char *device = NULL;
    for (size_t k = 0; k < nops; k++) {
        ai_op *op = &r->ops[k];
        /* an empty op ("|> |>") is its "|>": RedisAI's "Unsupported command within DAG" */
        if (parse_op(ctx, kind, argv + op_start[k], op_end[k] - op_start[k], r, op, &names) != 0)
            goto fail;
        if (!device && op->model) device = op->model->device;
        if (!device && op->script) device = op->script->device;
    }
    if (dag_names_bind_all(ctx, &names, r) != 0) goto fail;
    for (long long p = 0; p < npersist; p++) {
        RedisModuleString *key = argv[persist_at + p];
        int slot = dag_names_lookup(&names, key);
        if (slot < 0) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_NOT_FOUND));
        size_t n = r->npersist++;
        r->persist_keys = ai_realloc(r->persist_keys, r->npersist * sizeof(RedisModuleString *));
        r->persist_slots = ai_realloc(r->persist_slots, r->npersist * sizeof(int));
        RedisModule_RetainString(ctx, key);
        r->persist_keys[n] = key;
        r->persist_slots[n] = slot;
    }
#undef FAIL
    dag_names_free(&names);
    dag_names_free(&persist_seen);
    ai_free(op_start);
    return ai_request_submit(ctx, r, device ? device : "CPU");
fail:
    dag_names_free(&names);
    dag_names_free(&persist_seen);
    ai_free(op_start);
    ai_request_free(ctx, r);
    return REDISMODULE_OK;
}

int ai_cmd_dagexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    static const dag_kind k = {"AI.DAGEXECUTE", 0, 0};
    return dag_command(ctx, argv, argc, &k);
}

int ai_cmd_dagexecute_ro(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    static const dag_kind k = {"AI.DAGEXECUTE_RO", 0, 1};
    return dag_command(ctx, argv, argc, &k);
}

int ai_cmd_dagrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    static const dag_kind k = {"AI.DAGRUN", 1, 0};
    return dag_command(ctx, argv, argc, &k);
}

int ai_cmd_dagrun_ro(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    static const dag_kind k = {"AI.DAGRUN_RO", 1, 1};
    return dag_command(ctx, argv, argc, &k);
}
