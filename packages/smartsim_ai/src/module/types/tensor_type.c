/*
 * AI_TENSOR type methods: RDB save (encoding 4), AOF rewrite as AI.TENSORSET,
 * MEMORY USAGE, COPY (a new reference: a shared tensor is never changed) and free.
 */
#include "tensor_type.h"

#include "errors.h"
#include "keyspace.h"

RedisModuleType *ai_tensor_type = NULL;

static void tensor_rdb_save(RedisModuleIO *io, void *value) {
    const ai_tensor *t = value;
    RedisModule_SaveUnsigned(io, ai_dtypes[t->dtype].code);
    RedisModule_SaveUnsigned(io, ai_dtypes[t->dtype].bits);
    RedisModule_SaveSigned(io, t->ndims);
    for (int i = 0; i < t->ndims; i++) RedisModule_SaveSigned(io, t->dims[i]);
    RedisModule_SaveStringBuffer(io, t->data, t->nbytes);
    if (t->dtype == AI_DTYPE_STRING) {
        const uint64_t *offsets = ai_tensor_offsets(t);
        for (size_t i = 0; i < t->len; i++) RedisModule_SaveUnsigned(io, offsets[i]);
    }
}

/* The dims as server strings (for AI.TENSORSET in the AOF and the replication stream). */
static RedisModuleString **dims_strings(const ai_tensor *t) {
    if (t->ndims == 0) return NULL;
    RedisModuleString **dims = RedisModule_Alloc(sizeof(*dims) * (size_t)t->ndims);
    for (int i = 0; i < t->ndims; i++) dims[i] = RedisModule_CreateStringFromLongLong(NULL, t->dims[i]);
    return dims;
}

static void free_dims_strings(const ai_tensor *t, RedisModuleString **dims) {
    if (!dims) return;
    for (int i = 0; i < t->ndims; i++) RedisModule_FreeString(NULL, dims[i]);
    RedisModule_Free(dims);
}

static void tensor_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    const ai_tensor *t = value;
    RedisModuleString **dims = dims_strings(t);
    RedisModule_EmitAOF(aof, "AI.TENSORSET", "scvcb", key, ai_dtypes[t->dtype].name, dims,
                        (size_t)t->ndims, "BLOB", t->data, t->nbytes);
    free_dims_strings(t, dims);
}

int ai_tensor_replicate(RedisModuleCtx *ctx, RedisModuleString *keyname, const ai_tensor *t) {
    RedisModuleString **dims = dims_strings(t);
    int rc = RedisModule_Replicate(ctx, "AI.TENSORSET", "scvcb", keyname, ai_dtypes[t->dtype].name,
                                   dims, (size_t)t->ndims, "BLOB", t->data, t->nbytes);
    free_dims_strings(t, dims);
    return rc;
}

/* DEBUG DIGEST / DIGEST-VALUE: dtype, shape and bytes, so a replica can be compared. */
static void tensor_digest(RedisModuleDigest *md, void *value) {
    const ai_tensor *t = value;
    RedisModule_DigestAddLongLong(md, t->dtype);
    for (int i = 0; i < t->ndims; i++) RedisModule_DigestAddLongLong(md, t->dims[i]);
    RedisModule_DigestAddStringBuffer(md, t->data, t->nbytes);
    RedisModule_DigestEndSequence(md);
}

static size_t tensor_mem_usage(const void *value) { return ai_tensor_mem_usage(value); }

static void tensor_free(void *value) { ai_tensor_decref(value); }

static void *tensor_copy(RedisModuleString *fromkey, RedisModuleString *tokey, const void *value) {
    (void)fromkey;
    (void)tokey;
    return ai_tensor_incref((ai_tensor *)value);
}

static void release_owner(void *owner) { RedisModule_FreeString(NULL, owner); }
static size_t owner_size(void *owner) { return RedisModule_MallocSizeString(owner); }

int ai_tensor_type_register(RedisModuleCtx *ctx) {
    ai_tensor_owner_release = release_owner;
    ai_tensor_owner_size = owner_size;
    RedisModuleTypeMethods methods = {
        .version = AI_TYPE_METHOD_VERSION,
        .rdb_load = ai_tensor_rdb_load,
        .rdb_save = tensor_rdb_save,
        .aof_rewrite = tensor_aof_rewrite,
        .mem_usage = tensor_mem_usage,
        .digest = tensor_digest,
        .free = tensor_free,
        .copy = tensor_copy,
    };
    ai_tensor_type = RedisModule_CreateDataType(ctx, AI_TENSOR_TYPE_NAME, AI_ENCODING_VERSION, &methods);
    return ai_tensor_type ? REDISMODULE_OK : REDISMODULE_ERR;
}

ai_tensor *ai_tensor_get_from_key(RedisModuleCtx *ctx, RedisModuleString *keyname) {
    ai_tensor *t = ai_key_get_value(ctx, keyname, ai_tensor_type, AI_ERR_TENSOR_KEY_EMPTY);
    return t ? ai_tensor_incref(t) : NULL;
}

int ai_tensor_store(RedisModuleCtx *ctx, RedisModuleString *keyname, ai_tensor *t) {
    ai_tensor_incref(t);
    if (ai_key_set_value(ctx, keyname, ai_tensor_type, t) == REDISMODULE_OK) return REDISMODULE_OK;
    ai_tensor_decref(t);
    return REDISMODULE_ERR;
}
