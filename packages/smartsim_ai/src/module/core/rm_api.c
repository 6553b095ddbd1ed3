#include "rm_api.h"

#include <stdio.h>

#define RM_API_DEFINE(ret, name, params) ret(*RedisModule_##name) params = NULL;
RM_API_FUNCTIONS(RM_API_DEFINE)
RM_API_OPTIONAL(RM_API_DEFINE)
#undef RM_API_DEFINE

typedef int (*rm_get_api_fn)(const char *, void *);

int rm_api_init(RedisModuleCtx *ctx, const char *name, int version, int apiver) {
    /* The server stores its GetApi function in the first word of every ctx. */
    rm_get_api_fn get_api = (rm_get_api_fn)(uintptr_t)((void **)ctx)[0];

#define RM_API_RESOLVE(ret, fn, params)                                                      \
    if (get_api("RedisModule_" #fn, (void *)&RedisModule_##fn) != REDISMODULE_OK) {          \
        fprintf(stderr, "ai module: the server lacks the module API function RedisModule_" #fn \
                        "; a Valkey or Redis >= 7 server is required\n");                    \
        return REDISMODULE_ERR;                                                              \
    }
    RM_API_FUNCTIONS(RM_API_RESOLVE)
#undef RM_API_RESOLVE
#define RM_API_RESOLVE_OPTIONAL(ret, fn, params)                                             \
    if (get_api("RedisModule_" #fn, (void *)&RedisModule_##fn) != REDISMODULE_OK)            \
        RedisModule_##fn = NULL;
    RM_API_OPTIONAL(RM_API_RESOLVE_OPTIONAL)
#undef RM_API_RESOLVE_OPTIONAL

    if (RedisModule_IsModuleNameBusy(name)) return REDISMODULE_ERR;
    RedisModule_SetModuleAttribs(ctx, name, version, apiver);
    return REDISMODULE_OK;
}
