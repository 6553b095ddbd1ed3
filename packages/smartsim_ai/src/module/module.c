/*
 * The `ai` module: entry point and command table.
 *
 * Foundation stage: the module loads into Valkey 8 and Redis 7 and answers
 * AI.CONFIG GET MODEL_CHUNK_SIZE, proving the build, the loading and the test
 * fixtures end to end.  The tensor, model and script commands replace this.
 */
#include <strings.h>

#include "rm_api.h"

#define AI_MODULE_NAME "ai"
#define AI_MODULE_VERSION 10207 /* speaks RedisAI 1.2.7's protocol */
#define AI_DEFAULT_MODEL_CHUNK_SIZE (511LL * 1024 * 1024)

static long long model_chunk_size = AI_DEFAULT_MODEL_CHUNK_SIZE;

static int cmd_config(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2) {
        return RedisModule_ReplyWithError(ctx,
                                          "ERR wrong number of arguments for 'AI.CONFIG' command");
    }
    const char *sub = RedisModule_StringPtrLen(argv[1], NULL);
    if (strcasecmp(sub, "GET") == 0) {
        if (argc < 3) {
            return RedisModule_ReplyWithError(
                ctx, "ERR wrong number of arguments for 'AI.CONFIG' command");
        }
        const char *what = RedisModule_StringPtrLen(argv[2], NULL);
        if (strcasecmp(what, "MODEL_CHUNK_SIZE") == 0) {
            return RedisModule_ReplyWithLongLong(ctx, model_chunk_size);
        }
        return RedisModule_ReplyWithNull(ctx);
    }
    return RedisModule_ReplyWithError(ctx, "ERR unsupported subcommand");
}

__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    (void)argv;
    (void)argc;
    if (rm_api_init(ctx, AI_MODULE_NAME, AI_MODULE_VERSION, REDISMODULE_APIVER_1) !=
        REDISMODULE_OK) {
        return REDISMODULE_ERR;
    }
    if (RedisModule_CreateCommand(ctx, "ai.config", cmd_config, "write", 0, 0, 0) !=
        REDISMODULE_OK) {
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
