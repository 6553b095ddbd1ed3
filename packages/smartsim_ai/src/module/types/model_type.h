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

int ai_model_type_register(RedisModuleCtx *ctx);
int ai_script_type_register(RedisModuleCtx *ctx);

/* New reference to the model/script at `keyname`, or NULL after replying
 * "ERR model key is empty" / "ERR script key is empty" / WRONGTYPE. */
ai_model *ai_model_get_from_key(RedisModuleCtx *ctx, RedisModuleString *keyname);
ai_script *ai_script_get_from_key(RedisModuleCtx *ctx, RedisModuleString *keyname);

/* Stores (taking a new reference); replies WRONGTYPE and returns REDISMODULE_ERR
 * when the key holds another type. */
int ai_model_store(RedisModuleCtx *ctx, RedisModuleString *keyname, ai_model *m);
int ai_script_store(RedisModuleCtx *ctx, RedisModuleString *keyname, ai_script *s);

/* RDB loaders of every encoding version (rdb/model_rdb.c, rdb/script_rdb.c). */
void *ai_model_rdb_load(RedisModuleIO *io, int encver);
void *ai_script_rdb_load(RedisModuleIO *io, int encver);

#endif
