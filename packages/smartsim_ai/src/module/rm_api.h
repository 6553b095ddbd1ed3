/*
 * Our own declarations of the part of the Redis/Valkey module API we use.
 *
 * The server hands every module a function that resolves API names to
 * function pointers (the first field of the load context).  Each entry of
 * RM_API_FUNCTIONS becomes a global pointer named RedisModule_<name>, filled by
 * rm_api_init().  Valkey 8 still exports every "RedisModule_" name, so one
 * build loads into both Valkey and Redis >= 7.
 *
 * To use another API function, add one line to RM_API_FUNCTIONS.
 */
#ifndef SMARTSIM_AI_RM_API_H
#define SMARTSIM_AI_RM_API_H

#include <stddef.h>
#include <stdint.h>

#define REDISMODULE_OK 0
#define REDISMODULE_ERR 1
#define REDISMODULE_APIVER_1 1

#define REDISMODULE_LOGLEVEL_DEBUG "debug"
#define REDISMODULE_LOGLEVEL_VERBOSE "verbose"
#define REDISMODULE_LOGLEVEL_NOTICE "notice"
#define REDISMODULE_LOGLEVEL_WARNING "warning"

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleString RedisModuleString;

typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* X(return type, name, parameter list) */
#define RM_API_FUNCTIONS(X)                                                                  \
    X(void, SetModuleAttribs, (RedisModuleCtx *, const char *, int, int))                    \
    X(int, IsModuleNameBusy, (const char *))                                                 \
    X(int, CreateCommand,                                                                    \
      (RedisModuleCtx *, const char *, RedisModuleCmdFunc, const char *, int, int, int))     \
    X(int, ReplyWithError, (RedisModuleCtx *, const char *))                                 \
    X(int, ReplyWithSimpleString, (RedisModuleCtx *, const char *))                          \
    X(int, ReplyWithLongLong, (RedisModuleCtx *, long long))                                 \
    X(int, ReplyWithNull, (RedisModuleCtx *))                                                \
    X(const char *, StringPtrLen, (const RedisModuleString *, size_t *))                     \
    X(void, Log, (RedisModuleCtx *, const char *, const char *, ...))

#define RM_API_DECLARE(ret, name, params) extern ret(*RedisModule_##name) params;
RM_API_FUNCTIONS(RM_API_DECLARE)
#undef RM_API_DECLARE

/* Resolve every function of RM_API_FUNCTIONS and register the module name.
 * Returns REDISMODULE_ERR (after naming the missing function on stderr) when
 * the server lacks one of them. */
int rm_api_init(RedisModuleCtx *ctx, const char *name, int version, int apiver);

#endif
