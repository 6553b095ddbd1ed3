#include "keyspace.h"

#include "errors.h"

/* Whether a key of type `kt` (RedisModule_KeyType) holds a value that is not a `type`. */
static int is_other_type(RedisModuleKey *key, int kt, RedisModuleType *type) {
    if (kt == REDISMODULE_KEYTYPE_EMPTY) return 0;
    return kt != REDISMODULE_KEYTYPE_MODULE || RedisModule_ModuleTypeGetType(key) != type;
}

static int holds_other_type(RedisModuleKey *key, RedisModuleType *type) {
    return is_other_type(key, RedisModule_KeyType(key), type);
}

void *ai_key_get_value(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type,
                       const char *empty_err) {
    RedisModuleKey *key = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ);
    void *value = NULL;
    int kt = RedisModule_KeyType(key);
    if (kt == REDISMODULE_KEYTYPE_EMPTY) {
        RedisModule_ReplyWithError(ctx, empty_err);
    } else if (is_other_type(key, kt, type)) {
        RedisModule_ReplyWithError(ctx, AI_ERR_WRONGTYPE);
    } else {
        value = RedisModule_ModuleTypeGetValue(key);
    }
    RedisModule_CloseKey(key);
    return value;
}

void *ai_key_peek_value(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type) {
    RedisModuleKey *key =
        RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ | REDISMODULE_OPEN_KEY_NOTOUCH);
    int kt = RedisModule_KeyType(key);
    void *value = kt == REDISMODULE_KEYTYPE_EMPTY || is_other_type(key, kt, type)
                      ? NULL
                      : RedisModule_ModuleTypeGetValue(key);
    RedisModule_CloseKey(key);
    return value;
}

int ai_key_check_type(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type) {
    RedisModuleKey *key = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ);
    int other = holds_other_type(key, type);
    RedisModule_CloseKey(key);
    if (other) {
        RedisModule_ReplyWithError(ctx, AI_ERR_WRONGTYPE);
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}

RedisModuleKey *ai_key_open_for_write(RedisModuleCtx *ctx, RedisModuleString *keyname,
                                      RedisModuleType *type) {
    RedisModuleKey *key = RedisModule_OpenKey(ctx, keyname, REDISMODULE_READ | REDISMODULE_WRITE);
    if (holds_other_type(key, type)) {
        RedisModule_CloseKey(key);
        RedisModule_ReplyWithError(ctx, AI_ERR_WRONGTYPE);
        return NULL;
    }
    return key;
}

void ai_key_drop_expire(RedisModuleKey *key) {
    if (RedisModule_GetExpire(key) != REDISMODULE_NO_EXPIRE) {
        RedisModule_SetExpire(key, REDISMODULE_NO_EXPIRE);
    }
}

void ai_key_put(RedisModuleKey *key, RedisModuleType *type, void *value, void (*free_fn)(void *)) {
    void *old = NULL;
    if (RedisModule_KeyType(key) == REDISMODULE_KEYTYPE_MODULE &&
        RedisModule_ModuleTypeReplaceValue(key, type, value, &old) == REDISMODULE_OK) {
        if (old && free_fn) free_fn(old);
        ai_key_drop_expire(key); /* a new value drops the old one's TTL, as SET does */
        return;
    }
    RedisModule_ModuleTypeSetValue(key, type, value);
}

int ai_key_set_value(RedisModuleCtx *ctx, RedisModuleString *keyname, RedisModuleType *type,
                     void *value) {
    RedisModuleKey *key = ai_key_open_for_write(ctx, keyname, type);
    if (!key) return REDISMODULE_ERR;
    RedisModule_ModuleTypeSetValue(key, type, value);
    RedisModule_CloseKey(key);
    return REDISMODULE_OK;
}
