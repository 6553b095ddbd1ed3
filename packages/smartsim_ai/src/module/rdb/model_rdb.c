/*
 * AI__MODEL loaders, chosen by encoding version:
 *   v2-v4: uint backend, string device (NUL), string tag, uint batchsize,
 *          uint minbatchsize, uint minbatchtimeout, uint ninputs + names (NUL),
 *          uint noutputs + names (NUL), uint total_len, uint n_chunks, chunks.
 *   v1:    as v2 without minbatchtimeout.
 *   v0:    tag saved with its NUL, no minbatchtimeout, one blob string.
 * The model is then handed to ai_model_prepare_hook (model.h) when one is set.
 */
#include <stdio.h>

#include "model_type.h"
#include "rdb_util.h"

typedef struct {
    int has_minbatchtimeout;
    int chunked;
} layout;

static void *fail(RedisModuleIO *io, const char *why) {
    RedisModule_LogIOError(io, "warning", "ai: cannot load a model from RDB: %s", why);
    return NULL;
}

/* The blob: either one string (v0) or total_len + n_chunks + chunks. */
static char *load_blob(RedisModuleIO *io, int chunked, size_t *blob_len) {
    if (!chunked) {
        char *blob = RedisModule_LoadStringBuffer(io, blob_len);
        if (RedisModule_IsIOError(io)) {
            if (blob) RedisModule_Free(blob);
            return NULL;
        }
        return blob;
    }
    uint64_t total = RedisModule_LoadUnsigned(io);
    uint64_t n_chunks = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io)) return NULL;
    char *blob = NULL;
    size_t have = 0;
    for (uint64_t i = 0; i < n_chunks; i++) {
        size_t len = 0;
        char *chunk = RedisModule_LoadStringBuffer(io, &len);
        if (!chunk || RedisModule_IsIOError(io) || have + len > total) {
            if (chunk) RedisModule_Free(chunk);
            if (blob) ai_free(blob);
            return NULL;
        }
        if (!blob && len == total) { /* the usual single chunk: keep its buffer */
            blob = chunk;
        } else {
            blob = ai_realloc(blob, have + len ? have + len : 1);
            if (len) memcpy(blob + have, chunk, len);
            RedisModule_Free(chunk);
        }
        have += len;
    }
    if (have != total) {
        if (blob) ai_free(blob);
        return NULL;
    }
    if (!blob) blob = ai_alloc(1);
    *blob_len = have;
    return blob;
}

static void *load(RedisModuleIO *io, int encver, layout lay) {
    uint64_t backend = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io)) return fail(io, "short read");
    if (backend >= AI_BACKEND_COUNT) return fail(io, "unknown backend id");
    char *device = rdb_load_cstring(io, NULL);
    if (!device) return fail(io, "short read");
    size_t tag_len = 0;
    char *tag = rdb_load_cstring(io, &tag_len); /* v0 kept the NUL: stripped here */
    uint64_t batchsize = RedisModule_LoadUnsigned(io);
    uint64_t minbatchsize = RedisModule_LoadUnsigned(io);
    uint64_t minbatchtimeout = lay.has_minbatchtimeout ? RedisModule_LoadUnsigned(io) : 0;
    uint64_t ninputs = RedisModule_LoadUnsigned(io);
    int failed = !tag || RedisModule_IsIOError(io);
    char **inputs = failed ? NULL : rdb_load_names(io, ninputs, &failed);
    uint64_t noutputs = failed ? 0 : RedisModule_LoadUnsigned(io);
    char **outputs = NULL;
    if (!failed && !RedisModule_IsIOError(io)) outputs = rdb_load_names(io, noutputs, &failed);
    else failed = 1;
    size_t blob_len = 0;
    char *blob = failed ? NULL : load_blob(io, lay.chunked, &blob_len);
    if (failed || !blob) {
        ai_free(device);
        if (tag) ai_free(tag);
        if (inputs) ai_free_names(inputs, ninputs);
        if (outputs) ai_free_names(outputs, noutputs);
        return fail(io, "short read or inconsistent lengths");
    }
    ai_model *m = ai_model_new((ai_backend)backend, device, tag, tag_len, batchsize, minbatchsize,
                               minbatchtimeout, ninputs, inputs, noutputs, outputs, blob, blob_len);
    ai_free(device);
    ai_free(tag);
    ai_free_names(inputs, ninputs);
    ai_free_names(outputs, noutputs);
    char *err = NULL;
    RedisModuleCtx *ctx = RedisModule_GetContextFromIO(io);
    if (ai_model_prepare_hook &&
        ai_model_prepare_hook(ctx, RedisModule_GetKeyNameFromIO(io), m, &err) != 0) {
        rdb_log_refused(io, "model", encver, err);
        ai_model_decref(m);
        return NULL;
    }
    return m;
}

void *ai_model_rdb_load(RedisModuleIO *io, int encver) {
    switch (encver) {
        case 0:
            return load(io, encver, (layout){.has_minbatchtimeout = 0, .chunked = 0});
        case 1:
            return load(io, encver, (layout){.has_minbatchtimeout = 0, .chunked = 1});
        case 2:
        case 3:
        case 4:
            return load(io, encver, (layout){.has_minbatchtimeout = 1, .chunked = 1});
        default:
            RedisModule_LogIOError(io, "warning",
                                   "ai: model RDB encoding %d is newer than this module's 4; "
                                   "upgrade the module to load it",
                                   encver);
            return NULL;
    }
}
