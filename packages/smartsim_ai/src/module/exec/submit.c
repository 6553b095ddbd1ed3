/*
 * Submitting run requests (main thread): blocking the client and queueing the request on its
 * device's run queue (or, where a client cannot block, a store published at once and loaded
 * in the background), and the reply callback that stores outputs, replicates them as
 * AI.TENSORSET ... BLOB and records AI.INFO statistics.  The top of the execution layer
 * (submit.h).
 */
#include <string.h>

#include "alloc.h"
#include "cmd_tensor.h" /* ai_tensor_reply */
#include "errors.h"
#include "execute.h"
#include "reply.h"
#include "request.h"
#include "run_queue.h"
#include "script_calls.h"
#include "stats.h"
#include "submit.h"
#include "tensor_type.h"

static void record_stats(ai_request *r) {
    if (r->timed_out) return;
    for (size_t i = 0; i < r->nops; i++) {
        ai_op *op = &r->ops[i];
        if (op->status == 0) continue;
        if (op->kind == AI_OP_MODEL) {
            long long samples = 0;
            if (op->status > 0 && op->nout > 0) {
                ai_tensor *first = r->slots[op->out[0]];
                if (first && first->ndims > 0) samples = first->dims[0];
            }
            stats_record(op->model, op->duration_us, samples, op->status < 0);
        } else if (op->kind == AI_OP_SCRIPT) {
            stats_record(op->script, op->duration_us, -1, op->status < 0);
        }
    }
}

/* Store and replicate PERSIST outputs; returns -1 after replying an error (nothing else
 * may be replied then).  In a DAG the error is an extra array element instead. */
static int persist(RedisModuleCtx *ctx, ai_request *r) {
    for (size_t i = 0; i < r->npersist; i++) {
        ai_tensor *t = r->slots[r->persist_slots[i]];
        if (!t) continue; /* e.g. a non-tensor ONNX output: not written */
        if (ai_tensor_store(ctx, r->persist_keys[i], t) != REDISMODULE_OK) return -1;
        ai_tensor_replicate(ctx, r->persist_keys[i], t);
    }
    return 0;
}

static int first_error(ai_request *r) {
    for (size_t i = 0; i < r->nops; i++)
        if (r->ops[i].status < 0) return (int)i;
    return -1;
}

static int reply_dag(RedisModuleCtx *ctx, ai_request *r) {
    int err = first_error(r);
    long n = (long)r->nops;
    RedisModule_ReplyWithArray(ctx, REDISMODULE_POSTPONED_LEN);
    for (size_t i = 0; i < r->nops; i++) {
        ai_op *op = &r->ops[i];
        if (op->status < 0) {
            RedisModule_ReplyWithError(ctx, op->error);
        } else if (op->status == 0) {
            RedisModule_ReplyWithSimpleString(ctx, "NA");
        } else if (op->kind == AI_OP_TENSORGET) {
            ai_tensor *t = r->slots[op->get_slot];
            if (!t || (err >= 0 && (size_t)err < i))
                RedisModule_ReplyWithSimpleString(ctx, "NA");
            else
                ai_tensor_reply(ctx, t, (op->get_fmt & AI_FMT_META) != 0,
                                (ai_tensor_fmt)(op->get_fmt & ~AI_FMT_META));
        } else {
            ai_reply_ok(ctx);
        }
    }
    if (err < 0 && persist(ctx, r) != 0) n++; /* the WRONGTYPE error became an element */
    RedisModule_ReplySetArrayLength(ctx, n);
    return REDISMODULE_OK;
}

static int reply_cb(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    ai_request *r = RedisModule_GetBlockedClientPrivateData(ctx);
    record_stats(r);
    if (r->timed_out) return RedisModule_ReplyWithSimpleString(ctx, "TIMEDOUT");
    if (r->on_reply) return r->on_reply(ctx, r);
    if (r->reply == AI_REPLY_DAG) return reply_dag(ctx, r);
    int err = first_error(r);
    if (err >= 0) return RedisModule_ReplyWithError(ctx, r->ops[err].error);
    if (persist(ctx, r) != 0) return REDISMODULE_OK;
    return ai_reply_ok(ctx);
}

static void free_cb(RedisModuleCtx *ctx, void *privdata) { ai_request_free(ctx, privdata); }

/* Whether `key` holds `value` (the object a store just published). */
static int key_holds(RedisModuleCtx *ctx, RedisModuleString *key, void *value) {
    RedisModuleKey *k = RedisModule_OpenKey(ctx, key, REDISMODULE_READ);
    int holds = RedisModule_KeyType(k) == REDISMODULE_KEYTYPE_MODULE &&
                RedisModule_ModuleTypeGetValue(k) == value;
    RedisModule_CloseKey(k);
    return holds;
}

/* *STORE where the client cannot block (MULTI, Lua, a module's RedisModule_Call, AOF
 * loading, a replica applying its primary's stream): the main thread must not wait for a worker (its first load of a backend imports
 * it: seconds), so the object is published at once, as given, and answered +OK; the
 * request then goes to the device's queue without a client, so that a worker loads it in the
 * background (ai_request_detached_done).  A model that does not load fails its runs with the
 * backend's error (the run loads it again), and the server log says so at once. */
static int store_without_waiting(RedisModuleCtx *ctx, ai_request *r, const char *device) {
    ai_op *op = &r->ops[0];
    int rc = r->on_reply(ctx, r); /* op->status 0: published unchecked, or WRONGTYPE */
    void *obj = op->model ? (void *)op->model : (void *)op->script;
    r->on_reply = NULL;
    /* replaying the AOF: the server answers no client until it is done, so the model is named
     * here, before any client can read its META (names appear at once, as in RedisAI) */
    if ((RedisModule_GetContextFlags(ctx) & REDISMODULE_CTX_FLAGS_LOADING) && op->model &&
        op->model->backend != AI_BACKEND_TF && op->model->ninputs == 0 &&
        op->model->noutputs == 0 && key_holds(ctx, r->key, op->model)) {
        char *err = NULL;
        if (ai_model_derive_names(op->model, &err) != 0) {
            RedisModule_Log(ctx, "warning",
                            "ai: the model at key '%.200s' replayed from the AOF does not load: "
                            "%s; running it fails with this error",
                            RedisModule_StringPtrLen(r->key, NULL), err);
            ai_free(err);
        }
        ai_request_free(ctx, r);
        return rc;
    }
    r->bc = NULL; /* no client: run_queue_finish hands it to ai_request_detached_done */
    r->detached_done = ai_request_detached_done;
    if (!key_holds(ctx, r->key, obj) || run_queue_push(ctx, device, r) != 0)
        ai_request_free(ctx, r);
    return rc;
}

void ai_request_detached_done(ai_request *r) {
    RedisModuleCtx *ctx = RedisModule_GetThreadSafeContext(NULL);
    RedisModule_ThreadSafeContextLock(ctx);
    ai_op *op = &r->ops[0];
    const char *key = RedisModule_StringPtrLen(r->key, NULL);
    if (op->status < 0) {
        RedisModule_Log(ctx, "warning",
                        "ai: the %s stored at key '%.200s' without waiting (MULTI, Lua, AOF, replica, RESTORE) "
                        "does not load: %s; running it fails with this error",
                        op->kind == AI_OP_LOAD_MODEL ? "model" : "script", key, op->error);
    } else if (op->kind == AI_OP_LOAD_MODEL) {
        ai_model *m = op->model; /* the main thread reads the names: the GIL is held */
        if (m->backend != AI_BACKEND_TF && m->ninputs == 0 && m->noutputs == 0)
            ai_model_set_names(m, op->n_in_names, (const char *const *)op->in_names,
                               op->n_out_names, (const char *const *)op->out_names);
    }
    ai_request_free(ctx, r);
    RedisModule_ThreadSafeContextUnlock(ctx);
    RedisModule_FreeThreadSafeContext(ctx);
}

int ai_request_submit(RedisModuleCtx *ctx, ai_request *r, const char *device) {
    int flags = RedisModule_GetContextFlags(ctx);
    /* A client that cannot block: MULTI, Lua, or a module's RedisModule_Call (a script's
     * redis.execute("AI.MODELEXECUTE", ...)); blocking there would crash Redis 7.0.  The run
     * commands refuse these contexts before parsing (ai_run_refused); stores go on. */
    if (flags & (REDISMODULE_CTX_FLAGS_MULTI | REDISMODULE_CTX_FLAGS_LUA |
                 REDISMODULE_CTX_FLAGS_DENY_BLOCKING)) {
        if (r->reply == AI_REPLY_STORE) return store_without_waiting(ctx, r, device);
        ai_request_free(ctx, r);
        return RedisModule_ReplyWithError(ctx, AI_ERR_IN_TRANSACTION);
    }
    /* a replica's link to its primary cannot block either (Valkey 8 refuses it: the replica
     * then answered its primary an error and kept no model) */
    if (r->reply == AI_REPLY_STORE && (flags & REDISMODULE_CTX_FLAGS_REPLICATED))
        return store_without_waiting(ctx, r, device);
    for (size_t i = 0; i < r->nops && !r->user; i++)
        if (r->ops[i].kind == AI_OP_SCRIPT) r->user = script_calls_capture_user(ctx);
    r->bc = RedisModule_BlockClient(ctx, reply_cb, NULL, free_cb, 0);
    if (!r->bc && r->reply == AI_REPLY_STORE) return store_without_waiting(ctx, r, device);
    if (!r->bc) {
        ai_request_free(ctx, r);
        return RedisModule_ReplyWithError(ctx, AI_ERR_CANNOT_BLOCK);
    }
    RedisModule_BlockedClientMeasureTimeStart(r->bc);
    if (run_queue_push(ctx, device, r) != 0) {
        ai_op_fail(&r->ops[0], AI_ERR_NO_RUN_QUEUE_FMT, device);
        RedisModule_UnblockClient(r->bc, r);
    }
    return REDISMODULE_OK;
}
