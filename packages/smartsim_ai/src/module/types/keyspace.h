/* Reading and writing values of our types in the keyspace, with RedisAI's errors. */
#ifndef SMARTSIM_AI_KEYSPACE_H
#define SMARTSIM_AI_KEYSPACE_H

#include "rm_api.h"

/* The value of `type` at `keyname` (borrowed: valid until the command returns), or NULL
 * after replying `empty_err` (empty key) or WRONGTYPE (another type). */
void *ai_key_get_value(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type,
                       const char *empty_err);

/* The value of `type` at `keyname`, or NULL; no reply, and the key's LRU/LFU is left alone
 * (for background work such as compaction, which is not an access by a client). */
void *ai_key_peek_value(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type);

/* Replies WRONGTYPE and returns REDISMODULE_ERR when `keyname` holds a value that is
 * not of `type`; REDISMODULE_OK when it is empty or of `type`. */
int ai_key_check_type(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type);

/* Sets `value` (ownership passes to the keyspace) at `keyname`, replacing a value of
 * the same type.  Replies WRONGTYPE and returns REDISMODULE_ERR otherwise (the caller
 * still owns `value`). */
int ai_key_set_value(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type,
                     void *value);

/* Opens `keyname` for writing a value of `type`.  Replies WRONGTYPE and returns NULL
 * when it holds another type.  Close with RedisModule_CloseKey. */
RedisModuleKey *ai_key_open_for_write(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                      RedisModuleType *type);

/* Removes the key's TTL, if any (a key given a new value loses it, as with SET). */
void ai_key_drop_expire(RedisModuleKey *key);

/* Puts `value` into a key from ai_key_open_for_write (ownership passes to the keyspace).
 * A value already there is swapped in place (no new key object) and freed with `free_fn`. */
void ai_key_put(RedisModuleKey *key, RedisModuleType *type, void *value, void (*free_fn)(void *));

#endif
