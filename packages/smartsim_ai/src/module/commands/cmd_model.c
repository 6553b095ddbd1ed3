/*
 * AI.MODELSTORE / MODELSET / MODELGET / MODELDEL (MODELEXECUTE and MODELRUN: cmd_run.c).
 * The arguments parse in parse_store.c; a parsed model goes to a worker through its device's
 * run queue to be loaded, and is published under its key once loaded.
 */
#include <string.h>

#include "alloc.h"
#include "args.h"
#include "cmd_stored.h"
#include "commands.h"
#include "config.h"
#include "errors.h"
#include "keyspace.h"
#include "parse.h"
#include "reply.h"
#include "run_queue.h"

/* ---------------------------------------------------------------- store */

/* Reply callback of a store: the names the backend derived (TF's were given), then the
 * model published under its key. */
static int modelstore_reply(RedisModuleCtx *ctx, ai_request *r) {
    ai_op *op = &r->ops[0];
    if (op->status < 0) return RedisModule_ReplyWithError(ctx, op->error);
    ai_model *m = op->model;
    if (m->backend != AI_BACKEND_TF)
        ai_model_set_names(m, op->n_in_names, (const char *const *)op->in_names, op->n_out_names,
                           (const char *const *)op->out_names);
    return ai_store_publish(ctx, r, &ai_model_kind, m, ai_backend_names[m->backend], m->device,
                            m->tag, m->tag_len);
}

/* The BLOB's parts in one allocation (RedisAI takes a model in several arguments). */
static char *concat_blob(RedisModuleString **parts, size_t n, size_t *total) {
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        RedisModule_StringPtrLen(parts[i], &len);
        *total += len;
    }
    char *blob = ai_alloc(*total ? *total : 1);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *p = RedisModule_StringPtrLen(parts[i], &len);
        memcpy(blob + off, p, len);
        off += len;
    }
    return blob;
}

/* After the arity check: the parse, then the model built from its arguments and queued for
 * loading. */
static int store_model(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                       const char *(*parse)(RedisModuleString **, int, ai_model_store_args *)) {
    ai_model_store_args a;
    const char *err = parse(argv, argc, &a);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    char **in = ai_arg_dup_all(a.in, a.nin), **out = ai_arg_dup_all(a.out, a.nout);
    size_t blob_len;
    char *blob = concat_blob(a.blob, a.nblob, &blob_len);
    ai_model *m = ai_model_new(a.backend, a.device, a.tag, a.tag_len, a.batch, a.minbatch,
                               a.minbatchtimeout, a.nin, in, a.nout, out, blob, blob_len);
    ai_free_names(in, a.nin);
    ai_free_names(out, a.nout);
    ai_exec_model_id(m);
    return ai_store_submit(ctx, argv, argc, AI_OP_LOAD_MODEL, m, m->device, modelstore_reply);
}

int ai_cmd_modelstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 6) return ai_reply_arity(ctx, "AI.MODELSTORE");
    return store_model(ctx, argv, argc, ai_parse_modelstore);
}

int ai_cmd_modelset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return ai_reply_arity(ctx, "AI.MODELSET");
    return store_model(ctx, argv, argc, ai_parse_modelset);
}

/* ---------------------------------------------------------------- get / del */

static void reply_names(RedisModuleCtx *ctx, char **names, size_t n) {
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) RedisModule_ReplyWithCString(ctx, names[i]);
}

static void reply_blob(RedisModuleCtx *ctx, const ai_model *m) {
    size_t chunk = (size_t)ai_config.model_chunk_size;
    if (chunk == 0 || m->blob_len < chunk) {
        RedisModule_ReplyWithStringBuffer(ctx, m->blob, m->blob_len);
        return;
    }
    size_t n = m->blob_len / chunk + 1;
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        size_t off = i * chunk;
        size_t len = i + 1 < n ? chunk : m->blob_len - off;
        RedisModule_ReplyWithStringBuffer(ctx, m->blob + off, len);
    }
}

int ai_cmd_modelget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return ai_reply_arity(ctx, "AI.MODELGET");
    ai_model *m = ai_key_get_value(ctx, argv[1], ai_model_type, AI_ERR_MODEL_KEY_EMPTY);
    if (!m) return REDISMODULE_OK;
    int meta = 0, blob = 0;
    for (int i = 2; i < argc; i++) {
        if (ai_arg_is(argv[i], "META")) meta = 1;
        if (ai_arg_is(argv[i], "BLOB")) blob = 1;
    }
    if (!meta && !blob) meta = blob = 1;
    if (!meta) {
        reply_blob(ctx, m);
        return REDISMODULE_OK;
    }
    RedisModule_ReplyWithArray(ctx, blob ? 18 : 16);
    RedisModule_ReplyWithCString(ctx, "backend");
    RedisModule_ReplyWithCString(ctx, ai_backend_names[m->backend]);
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, m->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    RedisModule_ReplyWithStringBuffer(ctx, m->tag, m->tag_len);
    RedisModule_ReplyWithCString(ctx, "batchsize");
    RedisModule_ReplyWithLongLong(ctx, (long long)m->batchsize);
    RedisModule_ReplyWithCString(ctx, "minbatchsize");
    RedisModule_ReplyWithLongLong(ctx, (long long)m->minbatchsize);
    RedisModule_ReplyWithCString(ctx, "inputs");
    reply_names(ctx, m->inputs, m->ninputs);
    RedisModule_ReplyWithCString(ctx, "outputs");
    reply_names(ctx, m->outputs, m->noutputs);
    RedisModule_ReplyWithCString(ctx, "minbatchtimeout");
    RedisModule_ReplyWithLongLong(ctx, (long long)m->minbatchtimeout);
    if (blob) {
        RedisModule_ReplyWithCString(ctx, "blob");
        reply_blob(ctx, m);
    }
    return REDISMODULE_OK;
}

int ai_cmd_modeldel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return ai_stored_del(ctx, argv, argc, &ai_model_kind, "AI.MODELDEL");
}
