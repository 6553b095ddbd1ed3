/*
 * AI.DAGEXECUTE / AI.DAGEXECUTE_RO and the deprecated AI.DAGRUN / AI.DAGRUN_RO.
 * Names are DAG-local and SSA-versioned: each TENSORSET/output makes a new slot, later ops see
 * the latest slot defined before them.  TENSORSET ops are evaluated while parsing.
 */
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "cmd_run.h"
#include "cmd_tensor.h"
#include "errors.h"
#include "module.h"
#include "tensor_type.h"

/* One op's names, bound once every op has parsed (in op order: SSA versions). */
typedef struct dag_binding {
    ai_op *op;
    RedisModuleString **ins, **outs; /* the op's arguments (the command's argv) */
    size_t nin, nout;
    RedisModuleString *get;   /* TENSORGET: the name read into op->get_slot */
    RedisModuleString *set;   /* TENSORSET: the name given set_slot */
    int set_slot;
} dag_binding;

/* Name -> latest slot, one entry per distinct name, found through an open-addressing hash
 * index: a DAG may name as many tensors as it has arguments (millions), so lookups must
 * not scan (a scan made LOAD n + PERSIST n quadratic). */
struct dag_names {
    size_t n, cap;
    const char **name;
    size_t *len;
    int *slot;
    size_t *index; /* index_cap buckets: entry + 1, or 0 when empty */
    size_t index_cap;
    dag_binding *bind; /* the ops' names, in op order */
    size_t nbind, bind_cap;
};

static uint64_t hash_bytes(const char *s, size_t len) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* The bucket holding `s`, or the empty bucket where it would go. */
static size_t *bucket(struct dag_names *d, const char *s, size_t len) {
    size_t mask = d->index_cap - 1;
    for (size_t b = (size_t)hash_bytes(s, len) & mask;; b = (b + 1) & mask) {
        size_t e = d->index[b];
        if (e == 0 || (d->len[e - 1] == len && memcmp(d->name[e - 1], s, len) == 0))
            return &d->index[b];
    }
}

static int lookup(struct dag_names *d, const char *s, size_t len) {
    if (d->n == 0) return -1;
    size_t e = *bucket(d, s, len);
    return e ? d->slot[e - 1] : -1;
}

static int dag_names_lookup(struct dag_names *d, RedisModuleString *name) {
    size_t len;
    const char *s = RedisModule_StringPtrLen(name, &len);
    return lookup(d, s, len);
}

static void grow_index(struct dag_names *d) {
    ai_free(d->index);
    d->index_cap = d->index_cap ? 2 * d->index_cap : 32;
    d->index = ai_calloc(d->index_cap, sizeof(size_t));
    for (size_t e = 0; e < d->n; e++) *bucket(d, d->name[e], d->len[e]) = e + 1;
}

/* Defines `name` as `slot` (a later definition replaces an earlier one). */
static void names_add(struct dag_names *d, RedisModuleString *name, int slot) {
    size_t len;
    const char *s = RedisModule_StringPtrLen(name, &len);
    if (2 * (d->n + 1) > d->index_cap) grow_index(d);
    size_t *b = bucket(d, s, len);
    if (*b) {
        d->slot[*b - 1] = slot;
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 16;
        d->name = ai_realloc(d->name, d->cap * sizeof(char *));
        d->len = ai_realloc(d->len, d->cap * sizeof(size_t));
        d->slot = ai_realloc(d->slot, d->cap * sizeof(int));
    }
    d->name[d->n] = s;
    d->len[d->n] = len;
    d->slot[d->n] = slot;
    *b = ++d->n;
}

static dag_binding *new_binding(struct dag_names *d, ai_op *op) {
    if (d->nbind == d->bind_cap) {
        d->bind_cap = d->bind_cap ? 2 * d->bind_cap : 8;
        d->bind = ai_realloc(d->bind, d->bind_cap * sizeof(dag_binding));
    }
    dag_binding *b = &d->bind[d->nbind++];
    memset(b, 0, sizeof *b);
    b->op = op;
    return b;
}

int dag_names_defer(struct dag_names *d, ai_op *op, RedisModuleString **ins, size_t nin,
                    RedisModuleString **outs, size_t nout) {
    op->nin = nin;
    op->nout = nout;
    op->in = ai_calloc(nin ? nin : 1, sizeof(int));
    op->out = ai_calloc(nout ? nout : 1, sizeof(int));
    dag_binding *b = new_binding(d, op);
    b->ins = ins, b->nin = nin;
    b->outs = outs, b->nout = nout;
    return 0;
}

/* Bind every op's names in op order (RedisAI's MapTensorsKeysToIndices): an input must be
 * LOADed or made by an earlier op.  Replies and returns -1 on the first that is not. */
static int bind_all(RedisModuleCtx *ctx, struct dag_names *d, ai_request *r) {
    for (size_t k = 0; k < d->nbind; k++) {
        dag_binding *b = &d->bind[k];
        if (b->set) {
            names_add(d, b->set, b->set_slot);
            continue;
        }
        if (b->get) {
            if ((b->op->get_slot = dag_names_lookup(d, b->get)) < 0)
                return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_INPUT_NOT_FOUND), -1;
            continue;
        }
        for (size_t i = 0; i < b->nin; i++)
            if ((b->op->in[i] = dag_names_lookup(d, b->ins[i])) < 0)
                return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_INPUT_NOT_FOUND), -1;
        for (size_t i = 0; i < b->nout; i++) {
            int slot = ai_request_slot(r, NULL);
            names_add(d, b->outs[i], slot);
            b->op->out[i] = slot;
        }
    }
    return 0;
}

static void names_free(struct dag_names *d) {
    ai_free(d->name);
    ai_free(d->len);
    ai_free(d->slot);
    ai_free(d->index);
    ai_free(d->bind);
}

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
    long long timeout = 0;
    if (strcasecmp(cmd, "AI.TENSORSET") == 0) {
        if (argc < 4) return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_TENSORSET_ARITY), -1;
        const char *err = NULL;
        ai_tensor *t = ai_tensor_from_args(argv + 2, argc - 2, &err);
        if (!t) return RedisModule_ReplyWithError(ctx, err), -1;
        op->kind = AI_OP_TENSORSET;
        dag_binding *b = new_binding(names, op);
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
        new_binding(names, op)->get = argv[1];
        op->get_fmt = (int)fmt | (meta ? AI_FMT_META : 0);
        return 0;
    }
    int is_me = strcasecmp(cmd, "AI.MODELEXECUTE") == 0;
    int is_se = strcasecmp(cmd, "AI.SCRIPTEXECUTE") == 0;
    int is_mr = strcasecmp(cmd, "AI.MODELRUN") == 0;
    int is_sr = strcasecmp(cmd, "AI.SCRIPTRUN") == 0;
    if (!kind->deprecated && (is_mr || is_sr))
        return ai_reply_errorf(ctx, AI_ERR_DAG_DEPRECATED_OP_FMT,
                               is_mr ? "AI.MODELRUN" : "AI.SCRIPTRUN"),
               -1;
    if (kind->deprecated && (is_me || is_se))
        return ai_reply_errorf(ctx, AI_ERR_DAGRUN_NEW_OP_FMT,
                               is_me ? "AI.MODELEXECUTE" : "AI.SCRIPTEXECUTE"),
               -1;
    if (is_se && kind->readonly)
        return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_SCRIPTEXECUTE_RO), -1;
    if (is_me) return ai_parse_modelexecute(ctx, argv, argc, r, op, names, &timeout);
    if (is_se) return ai_parse_scriptexecute(ctx, argv, argc, r, op, names, &timeout);
    if (is_mr) return ai_parse_modelrun(ctx, argv, argc, r, op, names, &timeout);
    if (is_sr) return ai_parse_scriptrun(ctx, argv, argc, r, op, names, &timeout);
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
                names_add(&names, key, ai_request_slot(r, t));
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
                names_add(&persist_seen, argv[i + 2 + k], 0);
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
    if (bind_all(ctx, &names, r) != 0) goto fail;
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
    names_free(&names);
    names_free(&persist_seen);
    ai_free(op_start);
    return ai_request_submit(ctx, r, device ? device : "CPU");
fail:
    names_free(&names);
    names_free(&persist_seen);
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
