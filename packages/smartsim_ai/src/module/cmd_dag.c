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

int dag_names_lookup(struct dag_names *d, RedisModuleString *name) {
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

int dag_names_define(struct dag_names *d, ai_request *r, RedisModuleString *name) {
    int slot = ai_request_slot(r, NULL);
    names_add(d, name, slot);
    return slot;
}

static void names_free(struct dag_names *d) {
    ai_free(d->name);
    ai_free(d->len);
    ai_free(d->slot);
    ai_free(d->index);
}

/* Whether argv[0..n) holds a name twice (PERSIST keys must be unique). */
static int has_duplicate(RedisModuleString **argv, long long n) {
    struct dag_names seen = {0};
    int dup = 0;
    for (long long k = 0; k < n && !dup; k++) {
        if (dag_names_lookup(&seen, argv[k]) >= 0) dup = 1;
        else names_add(&seen, argv[k], 0);
    }
    names_free(&seen);
    return dup;
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
        int slot = ai_request_slot(r, t);
        ai_tensor_decref(t);
        names_add(names, argv[1], slot);
        return 0;
    }
    if (strcasecmp(cmd, "AI.TENSORGET") == 0) {
        if (argc < 2 || argc > 4)
            return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_TENSORGET_ARITY), -1;
        int meta;
        ai_tensor_fmt fmt;
        const char *err = ai_tensor_parse_format(argv + 2, argc - 2, &meta, &fmt);
        if (err) return RedisModule_ReplyWithError(ctx, err), -1;
        int slot = dag_names_lookup(names, argv[1]);
        if (slot < 0) return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_INPUT_NOT_FOUND), -1;
        op->kind = AI_OP_TENSORGET;
        op->get_slot = slot;
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
    if (kind->deprecated ? argc < 4 : argc < 6) {
        if (kind->deprecated) return ai_reply_arity(ctx, kind->name);
        return ai_reply_errorf(ctx, AI_ERR_DAG_MISSING_ARGS_FMT, kind->name);
    }
    struct dag_names names = {0};
    ai_request *r = ai_request_new(AI_REPLY_DAG, 0);
    int seen_load = 0, seen_persist = 0, seen_routing = 0, seen_timeout = 0;
    int persist_at = -1;
    long long npersist = 0;
    int i = 1;
#define FAIL(stmt)     \
    do {               \
        stmt;          \
        goto fail;     \
    } while (0)
    while (i < argc && !is_sep(argv[i])) {
        if (ai_arg_is(argv[i], "LOAD") && !seen_load++) {
            long long n;
            if (i + 1 >= argc) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_LOAD_MISSING));
            if (RedisModule_StringToLongLong(argv[i + 1], &n) != REDISMODULE_OK || n <= 0)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_LOAD_COUNT));
            if (!ai_count_fits(n, argc, i + 2))
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_LOAD_MISMATCH));
            for (long long k = 0; k < n; k++) {
                RedisModuleString *key = argv[i + 2 + k];
                ai_tensor *t = ai_tensor_get_from_key(ctx, key);
                if (!t) goto fail;
                names_add(&names, key, ai_request_slot(r, t));
                ai_tensor_decref(t);
            }
            i += 2 + (int)n;
        } else if (ai_arg_is(argv[i], "PERSIST") && !seen_persist++) {
            if (kind->readonly) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_RO));
            if (i + 1 >= argc)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_MISSING));
            if (RedisModule_StringToLongLong(argv[i + 1], &npersist) != REDISMODULE_OK ||
                npersist <= 0)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_COUNT));
            if (!ai_count_fits(npersist, argc, i + 2))
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_MISMATCH));
            if (has_duplicate(argv + i + 2, npersist))
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_PERSIST_UNIQUE));
            persist_at = i + 2;
            i += 2 + (int)npersist;
        } else if (ai_arg_is(argv[i], "ROUTING") && !kind->deprecated && !seen_routing++) {
            if (i + 1 >= argc || is_sep(argv[i + 1]))
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_ROUTING_MISSING));
            i += 2;
        } else if (ai_arg_is(argv[i], "TIMEOUT") && !seen_timeout++) {
            if (i + 1 >= argc) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_MISSING));
            if (RedisModule_StringToLongLong(argv[i + 1], &r->timeout_ms) != REDISMODULE_OK)
                FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_INVALID));
            if (r->timeout_ms < 0) r->timeout_ms = 0;
            r->timeout_ms = ai_clamp_timeout(r->timeout_ms);
            i += 2;
        } else {
            FAIL(ai_reply_errorf(ctx, AI_ERR_DAG_UNEXPECTED_FMT,
                                 RedisModule_StringPtrLen(argv[i], NULL)));
        }
    }
    if (!kind->deprecated && !seen_load && !seen_persist && !seen_routing)
        FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_NEEDS_KEYWORD));
    /* count ops */
    size_t nops = 0;
    for (int j = i; j < argc; j++)
        if (is_sep(argv[j]) && j + 1 < argc && !is_sep(argv[j + 1])) nops++;
    if (nops == 0) FAIL(RedisModule_ReplyWithError(ctx, AI_ERR_DAG_EMPTY));
    r->ops = ai_realloc(r->ops, nops * sizeof(ai_op));
    memset(r->ops, 0, nops * sizeof(ai_op));
    r->nops = nops;
    const char *device = NULL;
    size_t k = 0;
    while (i < argc) {
        int start = i + 1, end = start;
        while (end < argc && !is_sep(argv[end])) end++;
        i = end;
        if (end == start) continue;
        ai_op *op = &r->ops[k++];
        if (parse_op(ctx, kind, argv + start, end - start, r, op, &names) != 0) goto fail;
        if (!device && op->model) device = op->model->device;
        if (!device && op->script) device = op->script->device;
    }
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
    return ai_request_submit(ctx, r, device ? device : "CPU");
fail:
    names_free(&names);
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
