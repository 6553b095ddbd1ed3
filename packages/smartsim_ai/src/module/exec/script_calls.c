/*
 * Script callbacks (see script_calls.h).
 */
#include "script_calls.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "errors.h"
#include "exec_ids.h"
#include "model_type.h"

static RedisModuleCtx *ctx_of(script_calls *sc) {
    if (!sc->ctx) sc->ctx = RedisModule_GetThreadSafeContext(sc->bc);
    return sc->ctx;
}

/* A command's reply as a CALL_REPLY value (copied: the reply is freed before the send). */
static void add_value(wbuf *b, RedisModuleCallReply *reply, int depth) {
    int type = RedisModule_CallReplyType(reply);
    size_t len = 0;
    if (type == REDISMODULE_REPLY_STRING) {
        const char *s = RedisModule_CallReplyStringPtr(reply, &len);
        wval_str(b, s, len);
    } else if (type == REDISMODULE_REPLY_ERROR) {
        const char *s = RedisModule_CallReplyStringPtr(reply, &len);
        wval_error(b, s, len);
    } else if (type == REDISMODULE_REPLY_INTEGER) {
        wval_int(b, (int64_t)RedisModule_CallReplyInteger(reply));
    } else if (type == REDISMODULE_REPLY_ARRAY && depth < 32) {
        size_t n = RedisModule_CallReplyLength(reply);
        wval_array(b, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            add_value(b, RedisModule_CallReplyArrayElement(reply, i), depth + 1);
    } else {
        wval_nil(b);
    }
}

static void add_error_value(wbuf *b, const char *msg) { wval_error(b, msg, strlen(msg)); }

/* Commands scripts may call: data commands only (docs/security.md lists them and why).
 * Lower case, sorted (bsearch). */
static const char *const allowed_commands[] = {
    "ai.dagexecute", "ai.dagexecute_ro", "ai.dagrun", "ai.dagrun_ro", "ai.modelexecute",
    "ai.modelget", "ai.modelrun", "ai.scriptexecute", "ai.scriptget", "ai.scriptrun",
    "ai.tensorget", "ai.tensorset", "append", "bitcount", "bitfield", "bitfield_ro", "bitop",
    "bitpos", "copy", "dbsize", "decr", "decrby", "del", "echo", "exists", "expire", "expireat",
    "expiretime", "geoadd", "geodist", "geohash", "geopos", "georadius_ro",
    "georadiusbymember_ro", "geosearch", "geosearchstore", "get", "getbit", "getdel", "getex",
    "getrange", "getset", "hdel", "hexists", "hget", "hgetall", "hincrby", "hincrbyfloat",
    "hkeys", "hlen", "hmget", "hmset", "hrandfield", "hscan", "hset", "hsetnx", "hstrlen",
    "hvals", "incr", "incrby", "incrbyfloat", "lcs", "lindex", "linsert", "llen", "lmove",
    "lmpop", "lpop", "lpos", "lpush", "lpushx", "lrange", "lrem", "lset", "ltrim", "mget",
    "mset", "msetnx", "persist", "pexpire", "pexpireat", "pexpiretime", "pfadd", "pfcount",
    "pfmerge", "ping", "psetex", "pttl", "publish", "randomkey", "rename", "renamenx", "rpop",
    "rpoplpush", "rpush", "rpushx", "sadd", "scan", "scard", "sdiff", "sdiffstore", "set",
    "setbit", "setex", "setnx", "setrange", "sinter", "sintercard", "sinterstore", "sismember",
    "smembers", "smismember", "smove", "spop", "spublish", "srandmember", "srem", "sscan",
    "strlen", "substr", "sunion", "sunionstore", "time", "touch", "ttl", "type", "unlink",
    "xack", "xadd", "xautoclaim", "xclaim", "xdel", "xlen", "xpending", "xrange", "xrevrange",
    "xtrim", "zadd", "zcard", "zcount", "zdiff", "zdiffstore", "zincrby", "zinter",
    "zintercard", "zinterstore", "zlexcount", "zmpop", "zmscore", "zpopmax", "zpopmin",
    "zrandmember", "zrange", "zrangebylex", "zrangebyscore", "zrangestore", "zrank", "zrem",
    "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebylex",
    "zrevrangebyscore", "zrevrank", "zscan", "zscore", "zunion", "zunionstore",
};

static int compare_command(const void *name, const void *entry) {
    return strcasecmp(name, *(const char *const *)entry);
}

static int command_allowed(const char *name) {
    size_t n = sizeof allowed_commands / sizeof allowed_commands[0];
    return bsearch(name, allowed_commands, n, sizeof allowed_commands[0], compare_command) != NULL;
}

static int have_acl_api(void) {
    return RedisModule_GetModuleUserFromUserName && RedisModule_FreeModuleUser &&
           RedisModule_ACLCheckCommandPermissions && RedisModule_ACLCheckKeyPermissions;
}

char *script_calls_capture_user(RedisModuleCtx *ctx) {
    /* The replication link's and the AOF's clients have no user (the server would crash
     * asking); what they send was checked where it was first run. */
    if (RedisModule_GetContextFlags(ctx) &
        (REDISMODULE_CTX_FLAGS_REPLICATED | REDISMODULE_CTX_FLAGS_LOADING))
        return NULL;
    if (!RedisModule_GetCurrentUserName || !have_acl_api()) return ai_strndup("", 0);
    RedisModuleString *name = RedisModule_GetCurrentUserName(ctx);
    if (!name) return ai_strndup("", 0);
    size_t len;
    const char *s = RedisModule_StringPtrLen(name, &len);
    char *copy = ai_strndup(s, len);
    RedisModule_FreeString(ctx, name);
    return copy;
}

/* The script's user, looked up now (the caller holds the server lock and frees it before
 * unlocking: a user can be deleted at any time); NULL with `error` set when it cannot run. */
static RedisModuleUser *script_user(script_calls *sc, RedisModuleCtx *ctx, char *error,
                                    size_t cap) {
    if (!*sc->user) {
        snprintf(error, cap, AI_ERR_CALL_NO_ACL_API);
        return NULL;
    }
    RedisModuleString *name = RedisModule_CreateString(ctx, sc->user, strlen(sc->user));
    RedisModuleUser *user = RedisModule_GetModuleUserFromUserName(name);
    RedisModule_FreeString(ctx, name);
    if (!user)
        snprintf(error, cap, AI_ERR_CALL_USER_GONE_FMT, sc->user);
    return user;
}

static void serve_call(script_calls *sc, wbuf *b, rbuf *r) {
    uint32_t argc = rbuf_u32(r);
    if (r->bad || argc == 0 || argc > (1u << 20)) {
        add_error_value(b, AI_ERR_CALL_INVALID);
        return;
    }
    RedisModuleCtx *ctx = ctx_of(sc);
    size_t cmd_len;
    const char *cmd_p = rbuf_bytes(r, &cmd_len);
    char *cmd = ai_strndup(cmd_p, cmd_len);
    char error[512];
    if (!command_allowed(cmd)) {
        char upper[64];
        size_t i = 0;
        for (; cmd[i] && i < sizeof upper - 1; i++) upper[i] = (char)toupper((unsigned char)cmd[i]);
        upper[i] = '\0';
        snprintf(error, sizeof error, AI_ERR_CALL_NOT_ALLOWED_FMT, upper);
        add_error_value(b, error);
        ai_free(cmd);
        return;
    }
    /* argv[0] is the command (for the ACL check); RedisModule_Call gets argv + 1 */
    RedisModuleString **argv = ai_calloc(argc, sizeof(RedisModuleString *));
    RedisModule_ThreadSafeContextLock(ctx);
    argv[0] = RedisModule_CreateString(ctx, cmd_p, cmd_len);
    for (uint32_t i = 1; i < argc; i++) {
        size_t len;
        const char *s = rbuf_bytes(r, &len);
        argv[i] = RedisModule_CreateString(ctx, s, len);
    }
    RedisModuleCallReply *reply = NULL;
    int saved = 0, refused = 0;
    RedisModuleUser *user = NULL;
    if (sc->user) {
        user = script_user(sc, ctx, error, sizeof error);
        if (!user) {
            refused = 1;
        } else if (RedisModule_ACLCheckCommandPermissions(user, argv, (int)argc) !=
                   REDISMODULE_OK) {
            refused = 1;
            if (errno == ENOENT)
                snprintf(error, sizeof error, AI_ERR_CALL_UNKNOWN_COMMAND_FMT, cmd);
            else
                snprintf(error, sizeof error, AI_ERR_CALL_NOPERM_COMMAND_FMT, sc->user, cmd);
        }
    }
    if (!refused) {
        errno = 0;
        if (user && RedisModule_SetContextUser) {
            /* and the server checks again, as that user ("C") */
            RedisModule_SetContextUser(ctx, user);
            reply = RedisModule_Call(ctx, cmd, "!Cv", argv + 1, (size_t)(argc - 1));
            RedisModule_SetContextUser(ctx, NULL);
        } else {
            reply = RedisModule_Call(ctx, cmd, "!v", argv + 1, (size_t)(argc - 1));
        }
        saved = errno;
    }
    if (reply) {
        add_value(b, reply, 0);
        RedisModule_FreeCallReply(reply);
    }
    if (user) RedisModule_FreeModuleUser(user);
    for (uint32_t i = 0; i < argc; i++) RedisModule_FreeString(ctx, argv[i]);
    RedisModule_ThreadSafeContextUnlock(ctx);
    if (refused)
        add_error_value(b, error);
    else if (!reply)
        add_error_value(b, strerror(saved ? saved : EINVAL));
    ai_free(argv);
    ai_free(cmd);
}

/* MODEL_INFO for a model the script looked up (its names, and its blob when fetched: the
 * held reference keeps it until the frame is sent). */
static void model_info(wbuf *b, ai_model *m, int with_blob) {
    wire_object o = {.obj_id = ai_exec_model_id(m),
                     .backend = ai_backend_names[m->backend],
                     .device = m->device,
                     .ninputs = m->ninputs,
                     .inputs = (const char *const *)m->inputs,
                     .noutputs = m->noutputs,
                     .outputs = (const char *const *)m->outputs,
                     .blob = m->blob,
                     .blob_len = m->blob_len};
    wmsg_model_info(b, &o, with_blob);
}

/* The model at `key` (a new reference, kept in sc), or NULL with *err set. */
static ai_model *lookup_model(script_calls *sc, const char *key, size_t len, const char **err) {
    RedisModuleCtx *ctx = ctx_of(sc);
    RedisModule_ThreadSafeContextLock(ctx);
    RedisModuleString *name = RedisModule_CreateString(ctx, key, len);
    if (sc->user) { /* the script's user must be allowed to read the model's key */
        static __thread char error[512];
        RedisModuleUser *user = script_user(sc, ctx, error, sizeof error);
        if (user && RedisModule_ACLCheckKeyPermissions(user, name, REDISMODULE_CMD_KEY_ACCESS) !=
                        REDISMODULE_OK) {
            snprintf(error, sizeof error, AI_ERR_CALL_NOPERM_MODEL_KEY_FMT, sc->user,
                     (int)(len > 200 ? 200 : len), key);
            RedisModule_FreeModuleUser(user);
            user = NULL;
        }
        if (!user) {
            RedisModule_FreeString(ctx, name);
            RedisModule_ThreadSafeContextUnlock(ctx);
            *err = error;
            return NULL;
        }
        RedisModule_FreeModuleUser(user);
    }
    RedisModuleKey *k = RedisModule_OpenKey(ctx, name, REDISMODULE_READ);
    ai_model *m = NULL;
    int kt = RedisModule_KeyType(k);
    if (kt == REDISMODULE_KEYTYPE_EMPTY) {
        *err = AI_ERR_MODEL_KEY_EMPTY;
    } else if (kt != REDISMODULE_KEYTYPE_MODULE || RedisModule_ModuleTypeGetType(k) != ai_model_type) {
        *err = AI_ERR_WRONGTYPE;
    } else {
        m = ai_model_incref(RedisModule_ModuleTypeGetValue(k));
        ai_exec_model_id(m);
    }
    RedisModule_CloseKey(k);
    RedisModule_FreeString(ctx, name);
    RedisModule_ThreadSafeContextUnlock(ctx);
    if (m) {
        if (sc->nmodels == sc->cap) {
            sc->cap = sc->cap ? 2 * sc->cap : 4;
            sc->models = ai_realloc(sc->models, sc->cap * sizeof(ai_model *));
        }
        sc->models[sc->nmodels++] = m;
    }
    return m;
}

int script_calls_serve(script_calls *sc, ai_worker *w, int type, rbuf *r) {
    wbuf b;
    if (type == WMSG_CALL) {
        wmsg_call_reply(&b);
        serve_call(sc, &b, r);
    } else if (type == WMSG_MODEL_LOOKUP) {
        size_t len;
        const char *key = rbuf_bytes(r, &len);
        const char *err = NULL;
        ai_model *m = lookup_model(sc, key, len, &err);
        if (m)
            model_info(&b, m, 0);
        else
            wmsg_error(&b, err);
    } else { /* WMSG_MODEL_FETCH */
        uint64_t id = rbuf_u64(r);
        ai_model *m = NULL;
        for (size_t i = 0; i < sc->nmodels && !m; i++)
            if (ai_exec_model_id(sc->models[i]) == id) m = sc->models[i];
        if (m)
            model_info(&b, m, 1);
        else
            wmsg_error(&b, AI_ERR_CALL_MODEL_NOT_LOOKED_UP);
    }
    int rc = worker_send(w, &b);
    wbuf_free(&b);
    return rc;
}

void script_calls_end(script_calls *sc) {
    if (sc->ctx) RedisModule_FreeThreadSafeContext(sc->ctx);
    for (size_t i = 0; i < sc->nmodels; i++) ai_model_decref(sc->models[i]);
    ai_free(sc->models);
    memset(sc, 0, sizeof *sc);
}
