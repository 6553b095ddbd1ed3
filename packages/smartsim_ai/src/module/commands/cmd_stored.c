/* What the model and script commands share (cmd_stored.h). */
#include "cmd_stored.h"
#include "keyspace.h"
#include "reply.h"
#include "stats.h"
#include "submit.h"

int ai_store_submit(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_op_kind op,
                    void *value, const char *device,
                    int (*on_reply)(RedisModuleCtx *ctx, ai_request *r)) {
    ai_request *r = ai_request_new(AI_REPLY_STORE, 1);
    r->ops[0].kind = op;
    if (op == AI_OP_LOAD_MODEL)
        r->ops[0].model = value;
    else
        r->ops[0].script = value;
    r->on_reply = on_reply;
    r->key = argv[1];
    ai_request_keep_argv(ctx, r, argv, argc);
    return ai_request_submit(ctx, r, device);
}

int ai_store_publish(RedisModuleCtx *ctx, ai_request *r, const ai_stored_kind *kind, void *value,
                     const char *backend, const char *device, const char *tag, size_t tag_len) {
    if (ai_stored_put(ctx, kind, r->key, value) != REDISMODULE_OK) return REDISMODULE_OK;
    size_t klen;
    const char *kname = RedisModule_StringPtrLen(r->key, &klen);
    stats_register(kname, klen, kind->is_script, backend, device, tag, tag_len, value);
    RedisModule_Replicate(ctx, RedisModule_StringPtrLen(r->argv[0], NULL), "v", r->argv + 1,
                          (size_t)(r->argc - 1));
    return ai_reply_ok(ctx);
}

int ai_stored_del(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                  const ai_stored_kind *kind, const char *name) {
    if (argc != 2) return ai_reply_arity(ctx, name);
    if (!ai_key_get_value(ctx, argv[1], *kind->type, kind->empty_err)) return REDISMODULE_OK;
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_DeleteKey(key);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return ai_reply_ok(ctx);
}
