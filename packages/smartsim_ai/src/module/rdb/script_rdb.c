/*
 * AI_SCRIPT loaders, chosen by encoding version:
 *   v3-v4: string device (NUL), string tag, string source (NUL),
 *          uint n_entry_points + names (NUL).
 *   v1-v2: device, tag, source (no entry points).
 *   v0:    as v1 with the tag saved with its NUL (stripped either way).
 * The script is then handed to ai_script_prepare_hook (script.h) when one is set.
 */
#include "model_type.h"
#include "rdb_util.h"

static void *load(RedisModuleIO *io, int encver, int has_entry_points) {
    char *device = rdb_load_cstring(io, NULL);
    size_t tag_len = 0, source_len = 0;
    char *tag = device ? rdb_load_cstring(io, &tag_len) : NULL;
    char *source = tag ? rdb_load_cstring(io, &source_len) : NULL;
    uint64_t n = 0;
    int failed = !source;
    char **names = NULL;
    if (!failed && has_entry_points) {
        n = RedisModule_LoadUnsigned(io);
        failed = RedisModule_IsIOError(io);
        if (!failed) names = rdb_load_names(io, n, &failed);
    }
    if (failed) {
        if (device) ai_free(device);
        if (tag) ai_free(tag);
        if (source) ai_free(source);
        RedisModule_LogIOError(io, "warning", "ai: cannot load a script from RDB: short read");
        return NULL;
    }
    ai_script *s = ai_script_new(device, tag, tag_len, source, source_len, n, names);
    ai_free(device);
    ai_free(tag);
    ai_free(source);
    ai_free_names(names, n);
    char *err = NULL;
    RedisModuleCtx *ctx = RedisModule_GetContextFromIO(io);
    if (ai_script_prepare_hook &&
        ai_script_prepare_hook(ctx, RedisModule_GetKeyNameFromIO(io), s, &err) != 0) {
        rdb_log_refused(io, "script", encver, err);
        ai_script_decref(s);
        return NULL;
    }
    return s;
}

void *ai_script_rdb_load(RedisModuleIO *io, int encver) {
    switch (encver) {
        case 0:
        case 1:
        case 2:
            return load(io, encver, 0);
        case 3:
        case 4:
            return load(io, encver, 1);
        default:
            RedisModule_LogIOError(io, "warning",
                                   "ai: script RDB encoding %d is newer than this module's 4; "
                                   "upgrade the module to load it",
                                   encver);
            return NULL;
    }
}
