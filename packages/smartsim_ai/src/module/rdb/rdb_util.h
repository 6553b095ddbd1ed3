/* Small defensive readers, and the refusal log, shared by the model and script RDB loaders. */
#ifndef SMARTSIM_AI_RDB_UTIL_H
#define SMARTSIM_AI_RDB_UTIL_H

#include <string.h>

#include "alloc.h"
#include "rm_api.h"

/* A string saved with or without its trailing NUL, returned NUL-terminated (ai_alloc'ed)
 * with its length sans NUL in *len; NULL on a read error. */
static inline char *rdb_load_cstring(RedisModuleIO *io, size_t *len) {
    size_t n = 0;
    char *buf = RedisModule_LoadStringBuffer(io, &n);
    if (!buf || RedisModule_IsIOError(io)) {
        if (buf) RedisModule_Free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\0') n--;
    char *s = ai_strndup(buf, n);
    RedisModule_Free(buf);
    if (len) *len = n;
    return s;
}

/* `count` NUL-terminated names; NULL (and *count = 0) on a read error. */
static inline char **rdb_load_names(RedisModuleIO *io, uint64_t count, int *failed) {
    *failed = 0;
    if (count == 0) return NULL;
    char **names = NULL;
    size_t cap = 0;
    for (uint64_t i = 0; i < count; i++) {
        char *name = rdb_load_cstring(io, NULL);
        if (!name) {
            for (uint64_t j = 0; j < i; j++) ai_free(names[j]);
            ai_free(names);
            *failed = 1;
            return NULL;
        }
        if (i == cap) { /* grow as we read: a corrupt count must not allocate up front */
            cap = cap ? cap * 2 : 8;
            names = ai_realloc(names, cap * sizeof(char *));
        }
        names[i] = name;
    }
    return names;
}

/* Logs a value the execution layer's prepare hook (hooks.h) refused, with its message `err`
 * (ai_alloc'ed or NULL; freed here). */
static inline void rdb_log_refused(RedisModuleIO *io, const char *what, int encver, char *err) {
    RedisModule_LogIOError(io, "warning", "ai: a %s (RDB encoding %d) failed to load: %s", what,
                           encver, err ? err : "rejected by the execution layer");
    if (err) ai_free(err);
}

#endif
