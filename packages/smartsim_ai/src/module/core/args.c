/* Argument helpers of the command parsers (args.h). */
#include "args.h"

#include <strings.h>

#include "alloc.h"
#include "errors.h"

int ai_arg_is(RedisModuleString *arg, const char *keyword) {
    return strcasecmp(RedisModule_StringPtrLen(arg, NULL), keyword) == 0;
}

char *ai_arg_dup(RedisModuleString *arg) {
    size_t len;
    const char *s = RedisModule_StringPtrLen(arg, &len);
    return ai_strndup(s, len);
}

char **ai_arg_dup_all(RedisModuleString **argv, size_t n) {
    if (n == 0) return NULL;
    char **copies = ai_calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) copies[i] = ai_arg_dup(argv[i]);
    return copies;
}

int ai_count_fits(long long count, int argc, int at) {
    return count >= 0 && count <= (long long)argc - at;
}

long long ai_clamp_timeout(long long ms) { return ms > AI_TIMEOUT_MAX_MS ? AI_TIMEOUT_MAX_MS : ms; }

int ai_run_refused(RedisModuleCtx *ctx) {
    int flags = RedisModule_GetContextFlags(ctx);
    if (!(flags & (REDISMODULE_CTX_FLAGS_MULTI | REDISMODULE_CTX_FLAGS_LUA |
                   REDISMODULE_CTX_FLAGS_DENY_BLOCKING)))
        return 0;
    RedisModule_ReplyWithError(ctx, AI_ERR_IN_TRANSACTION);
    return 1;
}
