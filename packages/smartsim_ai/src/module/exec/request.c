/*
 * Run requests, the data structure: building them (main thread), failing ops (any thread),
 * freeing them.  Submitting, blocking and replying: submit.c.
 */
#include "request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "reply.h"

ai_request *ai_request_new(ai_reply_kind reply, size_t nops) {
    ai_request *r = ai_calloc(1, sizeof *r);
    r->reply = reply;
    r->nops = nops;
    r->ops = ai_calloc(nops ? nops : 1, sizeof(ai_op));
    return r;
}

int ai_request_slot(ai_request *r, ai_tensor *t) {
    if (r->nslots == r->slot_cap) {
        r->slot_cap = r->slot_cap ? 2 * r->slot_cap : 8;
        r->slots = ai_realloc(r->slots, r->slot_cap * sizeof(ai_tensor *));
    }
    if (t) t->flags |= AI_TENSOR_F_LENT; /* read by a queue thread: see compact.h */
    r->slots[r->nslots] = t ? ai_tensor_incref(t) : NULL;
    return (int)r->nslots++;
}

void ai_request_keep_argv(RedisModuleCtx *ctx, ai_request *r, RedisModuleString **argv,
                          int argc) {
    r->argv = ai_calloc((size_t)argc, sizeof(RedisModuleString *));
    for (int i = 0; i < argc; i++) {
        RedisModule_RetainString(ctx, argv[i]);
        r->argv[i] = argv[i];
    }
    r->argc = argc;
}

static void free_strings(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) ai_free(s[i]);
    ai_free(s);
}

void ai_request_free(RedisModuleCtx *ctx, ai_request *r) {
    if (!r) return;
    for (size_t i = 0; i < r->nops; i++) {
        ai_op *op = &r->ops[i];
        if (op->model) ai_model_decref(op->model);
        if (op->script) ai_script_decref(op->script);
        ai_free(op->fn);
        free_strings(op->keys, op->nkeys);
        free_strings(op->args, op->nargs);
        ai_free(op->in);
        ai_free(op->out);
        ai_free(op->error);
        free_strings(op->in_names, op->n_in_names);
        free_strings(op->out_names, op->n_out_names);
    }
    ai_free(r->ops);
    for (size_t i = 0; i < r->nslots; i++) ai_tensor_decref(r->slots[i]);
    ai_free(r->slots);
    for (size_t i = 0; i < r->npersist; i++)
        if (r->persist_keys[i]) RedisModule_FreeString(ctx, r->persist_keys[i]);
    ai_free(r->persist_keys);
    ai_free(r->persist_slots);
    for (int i = 0; i < r->argc; i++) RedisModule_FreeString(ctx, r->argv[i]);
    ai_free(r->argv);
    ai_free(r->user);
    ai_free(r);
}

void ai_op_fail(ai_op *op, const char *fmt, ...) {
    char buf[16384];
    va_list ap;
    va_start(ap, fmt);
    ai_vformat_error(buf, sizeof buf, 0, fmt, ap);
    va_end(ap);
    ai_free(op->error);
    op->error = ai_strndup(buf, strlen(buf));
    op->status = -1;
}
