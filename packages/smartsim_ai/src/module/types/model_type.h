/* The AI__MODEL and AI_SCRIPT data types and their keyspace helpers. */
#ifndef SMARTSIM_AI_MODEL_TYPE_H
#define SMARTSIM_AI_MODEL_TYPE_H

#include "model.h"
#include "rm_api.h"
#include "script.h"

#define AI_MODEL_TYPE_NAME "AI__MODEL"
#define AI_SCRIPT_TYPE_NAME "AI_SCRIPT"

extern RedisModuleType *ai_model_type;
extern RedisModuleType *ai_script_type;

/* What the commands and the keyspace need to know of a stored kind (model or script). */
typedef struct ai_stored_kind {
    const char *type_name;  /* AI__MODEL / AI_SCRIPT */
    RedisModuleType **type; /* &ai_model_type / &ai_script_type, set at registration */
    const char *empty_err;  /* "ERR model key is empty" / "ERR script key is empty" */
    int is_script;          /* for AI.INFO's stats */
    void *(*retain)(void *value); /* ai_model_incref / ai_script_incref */
    void (*release)(void *value); /* ai_model_decref / ai_script_decref */
    RedisModuleTypeMethods methods; /* RDB, AOF, MEMORY USAGE, COPY, free */
} ai_stored_kind;

extern const ai_stored_kind ai_model_kind, ai_script_kind;

/* Creates the kind's data type (OnLoad). */
int ai_stored_type_register(RedisModuleCtx *ctx, const ai_stored_kind *kind);

/* New reference to the value of `kind` at `keyname`, or NULL after replying the kind's
 * empty-key error or WRONGTYPE. */
void *ai_stored_get(RedisModuleCtx *ctx, const ai_stored_kind *kind, RedisModuleString *keyname);

/* Stores `value` (taking a new reference); replies WRONGTYPE and returns REDISMODULE_ERR when
 * the key holds another type. */
int ai_stored_put(RedisModuleCtx *ctx, const ai_stored_kind *kind, RedisModuleString *keyname,
                  void *value);

/* RDB loaders of every encoding version (rdb/model_rdb.c, rdb/script_rdb.c). */
void *ai_model_rdb_load(RedisModuleIO *io, int encver);
void *ai_script_rdb_load(RedisModuleIO *io, int encver);

#endif
