/*
 * Names bound to a request's tensor slots: the keys of a single run op (read now, written when
 * the request completes) and a DAG's local names (bound in op order once every op has parsed).
 */
#include "bind.h"

#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "tensor_type.h"

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
void dag_names_add(struct dag_names *d, RedisModuleString *name, int slot) {
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

dag_binding *dag_names_new_binding(struct dag_names *d, ai_op *op) {
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
    dag_binding *b = dag_names_new_binding(d, op);
    /* copies: a parser's arrays may be gone by the time the names are bound (SCRIPTRUN's
     * lists are freed once its op is built) */
    b->names = ai_alloc((nin + nout ? nin + nout : 1) * sizeof(RedisModuleString *));
    if (nin) memcpy(b->names, ins, nin * sizeof(RedisModuleString *));
    if (nout) memcpy(b->names + nin, outs, nout * sizeof(RedisModuleString *));
    b->ins = b->names, b->nin = nin;
    b->outs = b->names + nin, b->nout = nout;
    return 0;
}

/* Bind every op's names in op order (RedisAI's MapTensorsKeysToIndices): an input must be
 * LOADed or made by an earlier op.  Replies and returns -1 on the first that is not. */
int dag_names_bind_all(RedisModuleCtx *ctx, struct dag_names *d, ai_request *r) {
    for (size_t k = 0; k < d->nbind; k++) {
        dag_binding *b = &d->bind[k];
        if (b->set) {
            dag_names_add(d, b->set, b->set_slot);
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
            dag_names_add(d, b->outs[i], slot);
            b->op->out[i] = slot;
        }
    }
    return 0;
}

void dag_names_free(struct dag_names *d) {
    ai_free(d->name);
    ai_free(d->len);
    ai_free(d->slot);
    ai_free(d->index);
    for (size_t k = 0; k < d->nbind; k++) ai_free(d->bind[k].names);
    ai_free(d->bind);
}

/* ---------------------------------------------------------------- run ops */

static int input_slot(RedisModuleCtx *ctx, ai_request *r, RedisModuleString *name) {
    ai_tensor *t = ai_tensor_get_from_key(ctx, name);
    if (!t) return -1;
    int slot = ai_request_slot(r, t);
    ai_tensor_decref(t);
    return slot;
}

static int output_slot(RedisModuleCtx *ctx, ai_request *r, RedisModuleString *name) {
    int slot = ai_request_slot(r, NULL);
    size_t i = r->npersist++;
    r->persist_keys = ai_realloc(r->persist_keys, r->npersist * sizeof(RedisModuleString *));
    r->persist_slots = ai_realloc(r->persist_slots, r->npersist * sizeof(int));
    RedisModule_RetainString(ctx, name);
    r->persist_keys[i] = name;
    r->persist_slots[i] = slot;
    return slot;
}

/* Binds op->in/op->out to slots; replies and returns -1 on a key error.  In a DAG the names
 * are recorded and bound once every op has parsed (dag_names_defer). */
int ai_bind_io(RedisModuleCtx *ctx, ai_request *r, ai_op *op, struct dag_names *dag,
               RedisModuleString **ins, size_t nin, RedisModuleString **outs, size_t nout) {
    if (dag) return dag_names_defer(dag, op, ins, nin, outs, nout);
    op->nin = nin;
    op->nout = nout;
    op->in = ai_calloc(nin ? nin : 1, sizeof(int));
    op->out = ai_calloc(nout ? nout : 1, sizeof(int));
    for (size_t i = 0; i < nin; i++)
        if ((op->in[i] = input_slot(ctx, r, ins[i])) < 0) return -1;
    for (size_t i = 0; i < nout; i++) op->out[i] = output_slot(ctx, r, outs[i]);
    return 0;
}
