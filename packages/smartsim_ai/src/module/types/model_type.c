/*
 * The AI__MODEL and AI_SCRIPT types: their methods (RDB save at encoding 4, AOF rewrite as
 * AI.MODELSTORE / AI.SCRIPTSTORE, MEMORY USAGE, COPY as a new reference, free), and the
 * keyspace access both kinds share (ai_stored_get / ai_stored_put through ai_stored_kind).
 */
#include "model_type.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "errors.h"
#include "keyspace.h"

RedisModuleType *ai_model_type = NULL;
RedisModuleType *ai_script_type = NULL;

/* ---- what both kinds share ---- */

int ai_stored_type_register(RedisModuleCtx *ctx, const ai_stored_kind *kind) {
    RedisModuleTypeMethods methods = kind->methods;
    methods.version = AI_TYPE_METHOD_VERSION;
    *kind->type = RedisModule_CreateDataType(ctx, kind->type_name, 4, &methods);
    return *kind->type ? REDISMODULE_OK : REDISMODULE_ERR;
}

void *ai_stored_get(RedisModuleCtx *ctx, const ai_stored_kind *kind, RedisModuleString *keyname) {
    void *value = ai_key_get_value(ctx, keyname, *kind->type, kind->empty_err);
    return value ? kind->retain(value) : NULL;
}

int ai_stored_put(RedisModuleCtx *ctx, const ai_stored_kind *kind, RedisModuleString *keyname,
                  void *value) {
    kind->retain(value);
    if (ai_key_set_value(ctx, keyname, *kind->type, value) == REDISMODULE_OK) return REDISMODULE_OK;
    kind->release(value);
    return REDISMODULE_ERR;
}

static void save_cstring(RedisModuleIO *io, const char *s) {
    RedisModule_SaveStringBuffer(io, s, strlen(s) + 1); /* RedisAI keeps the NUL */
}

/* A growable argv of server strings for AOF rewrite. */
typedef struct {
    RedisModuleString **v;
    size_t n, cap;
} argv_builder;

static void push(argv_builder *b, RedisModuleString *s) {
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 32;
        b->v = RedisModule_Realloc(b->v, b->cap * sizeof(*b->v));
    }
    b->v[b->n++] = s;
}

static void push_buf(argv_builder *b, const char *s, size_t len) {
    push(b, RedisModule_CreateString(NULL, s, len));
}

static void push_c(argv_builder *b, const char *s) { push_buf(b, s, strlen(s)); }

static void push_ll(argv_builder *b, long long v) {
    push(b, RedisModule_CreateStringFromLongLong(NULL, v));
}

static void emit_and_free(RedisModuleIO *aof, const char *cmd, RedisModuleString *key,
                          argv_builder *b) {
    RedisModule_EmitAOF(aof, cmd, "sv", key, b->v, b->n);
    for (size_t i = 0; i < b->n; i++) RedisModule_FreeString(NULL, b->v[i]);
    RedisModule_Free(b->v);
}

/* ---- AI__MODEL ---- */

static void model_rdb_save(RedisModuleIO *io, void *value) {
    const ai_model *m = value;
    RedisModule_SaveUnsigned(io, (uint64_t)m->backend);
    save_cstring(io, m->device);
    RedisModule_SaveStringBuffer(io, m->tag, m->tag_len);
    RedisModule_SaveUnsigned(io, m->batchsize);
    RedisModule_SaveUnsigned(io, m->minbatchsize);
    RedisModule_SaveUnsigned(io, m->minbatchtimeout);
    RedisModule_SaveUnsigned(io, m->ninputs);
    for (size_t i = 0; i < m->ninputs; i++) save_cstring(io, m->inputs[i]);
    RedisModule_SaveUnsigned(io, m->noutputs);
    for (size_t i = 0; i < m->noutputs; i++) save_cstring(io, m->outputs[i]);
    /* Chunks of MODEL_CHUNK_SIZE, the last one len % chunk (may be empty), as RedisAI. */
    size_t chunk = (size_t)ai_config.model_chunk_size;
    size_t n_chunks = m->blob_len / chunk + 1;
    RedisModule_SaveUnsigned(io, m->blob_len);
    RedisModule_SaveUnsigned(io, n_chunks);
    for (size_t i = 0; i < n_chunks; i++) {
        size_t len = i < n_chunks - 1 ? chunk : m->blob_len % chunk;
        RedisModule_SaveStringBuffer(io, m->blob + i * chunk, len);
    }
}

static void model_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    const ai_model *m = value;
    argv_builder b = {0};
    push_c(&b, ai_backend_names[m->backend]);
    push_c(&b, m->device);
    push_c(&b, "TAG");
    push_buf(&b, m->tag, m->tag_len);
    push_c(&b, "BATCHSIZE");
    push_ll(&b, (long long)m->batchsize);
    push_c(&b, "MINBATCHSIZE");
    push_ll(&b, (long long)m->minbatchsize);
    push_c(&b, "MINBATCHTIMEOUT");
    push_ll(&b, (long long)m->minbatchtimeout);
    if (m->backend == AI_BACKEND_TF) {
        push_c(&b, "INPUTS");
        push_ll(&b, (long long)m->ninputs);
        for (size_t i = 0; i < m->ninputs; i++) push_c(&b, m->inputs[i]);
        push_c(&b, "OUTPUTS");
        push_ll(&b, (long long)m->noutputs);
        for (size_t i = 0; i < m->noutputs; i++) push_c(&b, m->outputs[i]);
    }
    push_c(&b, "BLOB");
    size_t chunk = (size_t)ai_config.model_chunk_size;
    size_t off = 0;
    do {
        size_t len = m->blob_len - off < chunk ? m->blob_len - off : chunk;
        push_buf(&b, m->blob + off, len);
        off += len;
    } while (off < m->blob_len);
    emit_and_free(aof, "AI.MODELSTORE", key, &b);
}

static size_t model_mem_usage(const void *value) { return ai_model_mem_usage(value); }
static void model_free(void *value) { ai_model_decref(value); }
static void *model_retain(void *value) { return ai_model_incref(value); }
static void *model_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    return ai_model_incref((ai_model *)value);
}

const ai_stored_kind ai_model_kind = {
    .type_name = AI_MODEL_TYPE_NAME,
    .type = &ai_model_type,
    .empty_err = AI_ERR_MODEL_KEY_EMPTY,
    .is_script = 0,
    .retain = model_retain,
    .release = model_free,
    .methods = {.rdb_load = ai_model_rdb_load,
                .rdb_save = model_rdb_save,
                .aof_rewrite = model_aof_rewrite,
                .mem_usage = model_mem_usage,
                .free = model_free,
                .copy = model_copy},
};

/* ---- AI_SCRIPT ---- */

static void script_rdb_save(RedisModuleIO *io, void *value) {
    const ai_script *s = value;
    save_cstring(io, s->device);
    RedisModule_SaveStringBuffer(io, s->tag, s->tag_len);
    RedisModule_SaveStringBuffer(io, s->source, s->source_len + 1);
    RedisModule_SaveUnsigned(io, s->n_entry_points);
    for (size_t i = 0; i < s->n_entry_points; i++) save_cstring(io, s->entry_points[i]);
}

static void script_aof_rewrite(RedisModuleIO *aof, RedisModuleString *key, void *value) {
    const ai_script *s = value;
    argv_builder b = {0};
    push_c(&b, s->device);
    push_c(&b, "TAG");
    push_buf(&b, s->tag, s->tag_len);
    if (s->n_entry_points) {
        push_c(&b, "ENTRY_POINTS");
        push_ll(&b, (long long)s->n_entry_points);
        for (size_t i = 0; i < s->n_entry_points; i++) push_c(&b, s->entry_points[i]);
    }
    push_c(&b, "SOURCE");
    push_buf(&b, s->source, s->source_len);
    /* A script without entry points came from AI.SCRIPTSET, which AI.SCRIPTSTORE would
     * reject (RedisAI's latent bug): replay it as AI.SCRIPTSET. */
    emit_and_free(aof, s->n_entry_points ? "AI.SCRIPTSTORE" : "AI.SCRIPTSET", key, &b);
}

static size_t script_mem_usage(const void *value) { return ai_script_mem_usage(value); }
static void script_free(void *value) { ai_script_decref(value); }
static void *script_retain(void *value) { return ai_script_incref(value); }
static void *script_copy(RedisModuleString *from, RedisModuleString *to, const void *value) {
    return ai_script_incref((ai_script *)value);
}

const ai_stored_kind ai_script_kind = {
    .type_name = AI_SCRIPT_TYPE_NAME,
    .type = &ai_script_type,
    .empty_err = AI_ERR_SCRIPT_KEY_EMPTY,
    .is_script = 1,
    .retain = script_retain,
    .release = script_free,
    .methods = {.rdb_load = ai_script_rdb_load,
                .rdb_save = script_rdb_save,
                .aof_rewrite = script_aof_rewrite,
                .mem_usage = script_mem_usage,
                .free = script_free,
                .copy = script_copy},
};
