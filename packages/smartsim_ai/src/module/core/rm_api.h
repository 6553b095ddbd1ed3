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

#define REDISMODULE_READ (1 << 0)
#define REDISMODULE_WRITE (1 << 1)
#define REDISMODULE_OPEN_KEY_NOTOUCH (1 << 16) /* OpenKey: leave the key's LRU/LFU alone */

#define REDISMODULE_KEYTYPE_EMPTY 0
#define REDISMODULE_KEYTYPE_STRING 1
#define REDISMODULE_KEYTYPE_MODULE 6

/* RedisModule_CallReplyType values (RESP2 calls). */
#define REDISMODULE_REPLY_STRING 0
#define REDISMODULE_REPLY_ERROR 1
#define REDISMODULE_REPLY_INTEGER 2
#define REDISMODULE_REPLY_ARRAY 3

#define REDISMODULE_POSTPONED_LEN -1
#define REDISMODULE_NO_EXPIRE -1
#define REDISMODULE_OPTIONS_HANDLE_IO_ERRORS (1 << 0)
#define REDISMODULE_ERRORMSG_WRONGTYPE \
    "WRONGTYPE Operation against a key holding the wrong kind of value"

/* Context flags (RedisModule_GetContextFlags). */
#define REDISMODULE_CTX_FLAGS_LUA (1 << 0)
#define REDISMODULE_CTX_FLAGS_MULTI (1 << 1)
#define REDISMODULE_CTX_FLAGS_REPLICATED (1 << 12) /* sent over the replication link */
#define REDISMODULE_CTX_FLAGS_LOADING (1 << 13)
#define REDISMODULE_CTX_FLAGS_DENY_BLOCKING (1 << 21) /* MULTI, Lua, or RM_Call */

typedef struct RedisModuleCtx RedisModuleCtx;
typedef struct RedisModuleString RedisModuleString;
typedef struct RedisModuleKey RedisModuleKey;
typedef struct RedisModuleType RedisModuleType;
typedef struct RedisModuleIO RedisModuleIO;
typedef struct RedisModuleDigest RedisModuleDigest;
typedef struct RedisModuleInfoCtx RedisModuleInfoCtx;
typedef struct RedisModuleCallReply RedisModuleCallReply;
typedef struct RedisModuleBlockedClient RedisModuleBlockedClient;
typedef struct RedisModuleUser RedisModuleUser;

/* RedisModule_ACLCheckKeyPermissions flags (key-spec flags). */
#define REDISMODULE_CMD_KEY_ACCESS (1ULL << 4) /* the key's value is read */

typedef int (*RedisModuleCmdFunc)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
typedef void (*RedisModuleInfoFunc)(RedisModuleInfoCtx *ctx, int for_crash_report);
typedef void (*RedisModuleEventLoopOneShotFunc)(void *user_data);
typedef void (*RedisModuleTimerProc)(RedisModuleCtx *ctx, void *data);
typedef uint64_t RedisModuleTimerID;

/* Data type callbacks and the type-methods table.  The layout is the server's ABI
 * (redismodule.h, REDISMODULE_TYPE_METHOD_VERSION 4 in Redis 7.0 and Valkey 8): fields
 * must stay in this order; the server reads only as far as `version` says. */
typedef void *(*RedisModuleTypeLoadFunc)(RedisModuleIO *rdb, int encver);
typedef void (*RedisModuleTypeSaveFunc)(RedisModuleIO *rdb, void *value);
typedef void (*RedisModuleTypeRewriteFunc)(RedisModuleIO *aof, RedisModuleString *key,
                                           void *value);
typedef size_t (*RedisModuleTypeMemUsageFunc)(const void *value);
typedef void (*RedisModuleTypeDigestFunc)(RedisModuleDigest *digest, void *value);
typedef void (*RedisModuleTypeFreeFunc)(void *value);
typedef int (*RedisModuleTypeAuxLoadFunc)(RedisModuleIO *rdb, int encver, int when);
typedef void (*RedisModuleTypeAuxSaveFunc)(RedisModuleIO *rdb, int when);
typedef size_t (*RedisModuleTypeFreeEffortFunc)(RedisModuleString *key, const void *value);
typedef void (*RedisModuleTypeUnlinkFunc)(RedisModuleString *key, const void *value);
typedef void *(*RedisModuleTypeCopyFunc)(RedisModuleString *fromkey, RedisModuleString *tokey,
                                         const void *value);
typedef int (*RedisModuleTypeDefragFunc)(void *ctx, RedisModuleString *key, void **value);

#define AI_TYPE_METHOD_VERSION 3 /* up to `defrag`; copy needs version >= 3 */

typedef struct RedisModuleTypeMethods {
    uint64_t version;
    RedisModuleTypeLoadFunc rdb_load;
    RedisModuleTypeSaveFunc rdb_save;
    RedisModuleTypeRewriteFunc aof_rewrite;
    RedisModuleTypeMemUsageFunc mem_usage;
    RedisModuleTypeDigestFunc digest;
    RedisModuleTypeFreeFunc free;
    RedisModuleTypeAuxLoadFunc aux_load;           /* version 2 */
    RedisModuleTypeAuxSaveFunc aux_save;           /* version 2 */
    int aux_save_triggers;                         /* version 2 */
    RedisModuleTypeFreeEffortFunc free_effort;     /* version 3 */
    RedisModuleTypeUnlinkFunc unlink;              /* version 3 */
    RedisModuleTypeCopyFunc copy;                  /* version 3 */
    RedisModuleTypeDefragFunc defrag;              /* version 3 */
} RedisModuleTypeMethods;

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
    X(void, Log, (RedisModuleCtx *, const char *, const char *, ...))                        \
    X(void, LogIOError, (RedisModuleIO *, const char *, const char *, ...))                  \
    X(void *, Alloc, (size_t))                                                               \
    X(void *, Calloc, (size_t, size_t))                                                      \
    X(void *, Realloc, (void *, size_t))                                                     \
    X(void, Free, (void *))                                                                  \
    X(char *, Strdup, (const char *))                                                        \
    X(size_t, MallocSize, (void *))                                                          \
    X(size_t, MallocSizeString, (RedisModuleString *))                                       \
    X(void, SetModuleOptions, (RedisModuleCtx *, int))                                       \
    X(int, GetContextFlags, (RedisModuleCtx *))                                              \
    X(int, IsKeysPositionRequest, (RedisModuleCtx *))                                        \
    X(void, KeyAtPos, (RedisModuleCtx *, int))                                               \
    X(int, WrongArity, (RedisModuleCtx *))                                                   \
    X(int, ReplyWithArray, (RedisModuleCtx *, long))                                         \
    X(void, ReplySetArrayLength, (RedisModuleCtx *, long))                                   \
    X(int, ReplyWithStringBuffer, (RedisModuleCtx *, const char *, size_t))                  \
    X(int, ReplyWithCString, (RedisModuleCtx *, const char *))                               \
    X(int, ReplyWithString, (RedisModuleCtx *, RedisModuleString *))                         \
    X(int, ReplyWithDouble, (RedisModuleCtx *, double))                                      \
    X(int, ReplicateVerbatim, (RedisModuleCtx *))                                            \
    X(int, Replicate, (RedisModuleCtx *, const char *, const char *, ...))                   \
    X(RedisModuleString *, CreateString, (RedisModuleCtx *, const char *, size_t))           \
    X(RedisModuleString *, CreateStringFromLongLong, (RedisModuleCtx *, long long))          \
    X(RedisModuleString *, CreateStringFromString, (RedisModuleCtx *, const RedisModuleString *)) \
    X(void, FreeString, (RedisModuleCtx *, RedisModuleString *))                             \
    X(void, RetainString, (RedisModuleCtx *, RedisModuleString *))                           \
    X(void, TrimStringAllocation, (RedisModuleString *))                                     \
    X(int, StringToLongLong, (const RedisModuleString *, long long *))                       \
    X(int, StringToDouble, (const RedisModuleString *, double *))                            \
    X(void *, OpenKey, (RedisModuleCtx *, RedisModuleString *, int))                         \
    X(void, CloseKey, (RedisModuleKey *))                                                    \
    X(int, KeyType, (RedisModuleKey *))                                                      \
    X(RedisModuleType *, CreateDataType,                                                     \
      (RedisModuleCtx *, const char *, int, RedisModuleTypeMethods *))                       \
    X(int, ModuleTypeSetValue, (RedisModuleKey *, RedisModuleType *, void *))                \
    X(int, ModuleTypeReplaceValue, (RedisModuleKey *, RedisModuleType *, void *, void **))   \
    X(long long, GetExpire, (RedisModuleKey *))                                              \
    X(int, SetExpire, (RedisModuleKey *, long long))                                         \
    X(RedisModuleType *, ModuleTypeGetType, (RedisModuleKey *))                              \
    X(void *, ModuleTypeGetValue, (RedisModuleKey *))                                        \
    X(void, SaveUnsigned, (RedisModuleIO *, uint64_t))                                       \
    X(uint64_t, LoadUnsigned, (RedisModuleIO *))                                             \
    X(void, SaveSigned, (RedisModuleIO *, int64_t))                                          \
    X(int64_t, LoadSigned, (RedisModuleIO *))                                                \
    X(void, SaveStringBuffer, (RedisModuleIO *, const char *, size_t))                       \
    X(char *, LoadStringBuffer, (RedisModuleIO *, size_t *))                                 \
    X(int, IsIOError, (RedisModuleIO *))                                                     \
    X(RedisModuleCtx *, GetContextFromIO, (RedisModuleIO *))                                 \
    X(const RedisModuleString *, GetKeyNameFromIO, (RedisModuleIO *))                        \
    X(void, EmitAOF, (RedisModuleIO *, const char *, const char *, ...))                     \
    X(void, DigestAddStringBuffer, (RedisModuleDigest *, const char *, size_t))              \
    X(void, DigestAddLongLong, (RedisModuleDigest *, long long))                             \
    X(void, DigestEndSequence, (RedisModuleDigest *))                                        \
    X(int, RegisterInfoFunc, (RedisModuleCtx *, RedisModuleInfoFunc))                        \
    X(int, InfoAddSection, (RedisModuleInfoCtx *, const char *))                             \
    X(int, InfoAddFieldCString, (RedisModuleInfoCtx *, const char *, const char *))          \
    X(int, InfoAddFieldLongLong, (RedisModuleInfoCtx *, const char *, long long))         \
    X(RedisModuleBlockedClient *, BlockClient,                                               \
      (RedisModuleCtx *, RedisModuleCmdFunc, RedisModuleCmdFunc,                             \
       void (*)(RedisModuleCtx *, void *), long long))                                       \
    X(int, UnblockClient, (RedisModuleBlockedClient *, void *))                              \
    X(void *, GetBlockedClientPrivateData, (RedisModuleCtx *))                               \
    X(int, BlockedClientMeasureTimeStart, (RedisModuleBlockedClient *))                      \
    X(int, BlockedClientMeasureTimeEnd, (RedisModuleBlockedClient *))                        \
    X(int, DeleteKey, (RedisModuleKey *))                                                   \
    X(RedisModuleCallReply *, Call, (RedisModuleCtx *, const char *, const char *, ...))     \
    X(RedisModuleCallReply *, CallReplyArrayElement, (RedisModuleCallReply *, size_t))       \
    X(const char *, CallReplyStringPtr, (RedisModuleCallReply *, size_t *))                  \
    X(void, FreeCallReply, (RedisModuleCallReply *))                                         \
    X(int, CallReplyType, (RedisModuleCallReply *))                                          \
    X(long long, CallReplyInteger, (RedisModuleCallReply *))                                 \
    X(size_t, CallReplyLength, (RedisModuleCallReply *))                                     \
    X(int, ReplyWithCallReply, (RedisModuleCtx *, RedisModuleCallReply *))                   \
    X(RedisModuleCtx *, GetThreadSafeContext, (RedisModuleBlockedClient *))                  \
    X(void, FreeThreadSafeContext, (RedisModuleCtx *))                                       \
    X(void, ThreadSafeContextLock, (RedisModuleCtx *))                                       \
    X(void, ThreadSafeContextUnlock, (RedisModuleCtx *))                                     \
    X(int, EventLoopAddOneShot, (RedisModuleEventLoopOneShotFunc, void *))                  \
    X(RedisModuleTimerID, CreateTimer, (RedisModuleCtx *, long long, RedisModuleTimerProc, void *)) \
    X(int, GetSelectedDb, (RedisModuleCtx *))                                                \
    X(int, SelectDb, (RedisModuleCtx *, int))

/* Functions the module works without (left NULL when the server lacks them): scripts'
 * callbacks use the ACL ones to run as the calling client's user (script_calls.c); every
 * Redis >= 7.0 and Valkey has them. */
#define RM_API_OPTIONAL(X)                                                                   \
    X(RedisModuleString *, GetCurrentUserName, (RedisModuleCtx *))                           \
    X(RedisModuleUser *, GetModuleUserFromUserName, (RedisModuleString *))                   \
    X(int, FreeModuleUser, (RedisModuleUser *))                                              \
    X(void, SetContextUser, (RedisModuleCtx *, const RedisModuleUser *))                     \
    X(int, ACLCheckCommandPermissions, (RedisModuleUser *, RedisModuleString **, int))       \
    X(int, ACLCheckKeyPermissions, (RedisModuleUser *, RedisModuleString *, int))

#define RM_API_DECLARE(ret, name, params) extern ret(*RedisModule_##name) params;
RM_API_FUNCTIONS(RM_API_DECLARE)
RM_API_OPTIONAL(RM_API_DECLARE)
#undef RM_API_DECLARE

/* Resolve every function of RM_API_FUNCTIONS and register the module name.
 * Returns REDISMODULE_ERR (after naming the missing function on stderr) when
 * the server lacks one of them. */
int rm_api_init(RedisModuleCtx *ctx, const char *name, int version, int apiver);

#endif
