/*
 * The AI_TENSOR data type (type methods, RDB, AOF) and the keyspace helpers
 * every command uses to read and write tensors.
 */
#ifndef SMARTSIM_AI_TENSOR_TYPE_H
#define SMARTSIM_AI_TENSOR_TYPE_H

#include "rm_api.h"
#include "tensor.h"

#define AI_TENSOR_TYPE_NAME "AI_TENSOR"
#define AI_ENCODING_VERSION 4 /* RDB encoding of every ai type; loaders read 0..4 */

extern RedisModuleType *ai_tensor_type;

/* Creates the data type (OnLoad only). */
int ai_tensor_type_register(RedisModuleCtx *ctx);

/* Reads the tensor at `keyname` and returns a new reference to it (caller decrefs).
 * On an empty key or a key of another type it replies with the RedisAI error and
 * returns NULL. */
ai_tensor *ai_tensor_get_from_key(RedisModuleCtx *ctx, RedisModuleString *keyname);

/* Stores `t` at `keyname` (taking a new reference; the caller keeps its own).
 * Replies WRONGTYPE and returns REDISMODULE_ERR when the key holds another type. */
int ai_tensor_store(RedisModuleCtx *ctx, RedisModuleString *keyname, ai_tensor *t);

/* Replicates `t` as AI.TENSORSET key TYPE dims... BLOB data (for computed outputs). */
int ai_tensor_replicate(RedisModuleCtx *ctx, RedisModuleString *keyname, const ai_tensor *t);

/* RDB loaders of every encoding version (rdb/tensor_rdb.c). */
void *ai_tensor_rdb_load(RedisModuleIO *io, int encver);

#endif
