/*
 * AI.INFO statistics.  Entries are few (one per stored model/script), so a list does.
 * A mutex guards them: objects can be freed off the main thread (lazy free).
 */
#include "stats.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "errors.h"
#include "reply.h"

typedef struct stats_entry {
    char *name;
    size_t name_len;
    int is_script;
    char backend[16];
    char *device;
    char *tag;
    size_t tag_len;
    const void *owner;
    long long duration, samples, calls, errors;
    struct stats_entry *next;
} stats_entry;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static stats_entry *entries;

static void entry_free(stats_entry *e) {
    free(e->name);
    free(e->device);
    free(e->tag);
    free(e);
}

static char *dup_bytes(const char *s, size_t len) {
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

void stats_register(const char *name, size_t name_len, int is_script, const char *backend,
                    const char *device, const char *tag, size_t tag_len, const void *owner) {
    stats_entry *e = calloc(1, sizeof *e);
    if (!e) return;
    e->name = dup_bytes(name, name_len);
    e->name_len = name_len;
    e->is_script = is_script;
    strncpy(e->backend, backend, sizeof e->backend - 1);
    e->device = dup_bytes(device, strlen(device));
    e->tag = dup_bytes(tag ? tag : "", tag ? tag_len : 0);
    e->tag_len = tag ? tag_len : 0;
    e->owner = owner;
    pthread_mutex_lock(&mu);
    for (stats_entry **p = &entries; *p; p = &(*p)->next) {
        if ((*p)->name_len == name_len && memcmp((*p)->name, name, name_len) == 0) {
            stats_entry *old = *p;
            *p = old->next;
            entry_free(old);
            break;
        }
    }
    e->next = entries;
    entries = e;
    pthread_mutex_unlock(&mu);
}

void stats_unregister(const void *owner) {
    pthread_mutex_lock(&mu);
    for (stats_entry **p = &entries; *p; p = &(*p)->next) {
        if ((*p)->owner == owner) {
            stats_entry *old = *p;
            *p = old->next;
            entry_free(old);
            break;
        }
    }
    pthread_mutex_unlock(&mu);
}

void stats_record(const void *owner, long long duration_us, long long samples, int error) {
    pthread_mutex_lock(&mu);
    for (stats_entry *e = entries; e; e = e->next) {
        if (e->owner != owner) continue;
        e->calls++;
        if (error) {
            e->errors++;
        } else {
            e->duration += duration_us;
            if (!e->is_script) e->samples += samples;
        }
        break;
    }
    pthread_mutex_unlock(&mu);
}

int ai_cmd_info(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 3) return ai_reply_arity(ctx, "AI.INFO");
    size_t len;
    const char *name = RedisModule_StringPtrLen(argv[1], &len);
    pthread_mutex_lock(&mu);
    stats_entry *e = entries;
    while (e && !(e->name_len == len && memcmp(e->name, name, len) == 0)) e = e->next;
    if (!e) {
        pthread_mutex_unlock(&mu);
        return RedisModule_ReplyWithError(ctx, AI_ERR_NO_RUN_INFO);
    }
    if (argc == 3) {
        const char *opt = RedisModule_StringPtrLen(argv[2], NULL);
        if (strcasecmp(opt, "RESETSTAT") == 0) {
            e->duration = e->samples = e->calls = e->errors = 0;
            pthread_mutex_unlock(&mu);
            return ai_reply_ok(ctx);
        }
    }
    RedisModule_ReplyWithArray(ctx, 18);
    RedisModule_ReplyWithCString(ctx, "key");
    RedisModule_ReplyWithStringBuffer(ctx, e->name, e->name_len);
    RedisModule_ReplyWithCString(ctx, "type");
    RedisModule_ReplyWithCString(ctx, e->is_script ? "SCRIPT" : "MODEL");
    RedisModule_ReplyWithCString(ctx, "backend");
    RedisModule_ReplyWithCString(ctx, e->backend);
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, e->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    RedisModule_ReplyWithStringBuffer(ctx, e->tag, e->tag_len);
    RedisModule_ReplyWithCString(ctx, "duration");
    RedisModule_ReplyWithLongLong(ctx, e->duration);
    RedisModule_ReplyWithCString(ctx, "samples");
    RedisModule_ReplyWithLongLong(ctx, e->is_script ? -1 : e->samples);
    RedisModule_ReplyWithCString(ctx, "calls");
    RedisModule_ReplyWithLongLong(ctx, e->calls);
    RedisModule_ReplyWithCString(ctx, "errors");
    RedisModule_ReplyWithLongLong(ctx, e->errors);
    pthread_mutex_unlock(&mu);
    return REDISMODULE_OK;
}

static int scan(RedisModuleCtx *ctx, int argc, int scripts, const char *name) {
    if (argc != 1) return ai_reply_arity(ctx, name);
    RedisModule_Log(ctx, REDISMODULE_LOGLEVEL_WARNING, "%s is experimental", name);
    pthread_mutex_lock(&mu);
    long n = 0;
    for (stats_entry *e = entries; e; e = e->next) n += e->is_script == scripts;
    RedisModule_ReplyWithArray(ctx, n);
    for (stats_entry *e = entries; e; e = e->next) {
        if (e->is_script != scripts) continue;
        RedisModule_ReplyWithArray(ctx, 2);
        RedisModule_ReplyWithStringBuffer(ctx, e->name, e->name_len);
        RedisModule_ReplyWithStringBuffer(ctx, e->tag, e->tag_len);
    }
    pthread_mutex_unlock(&mu);
    return REDISMODULE_OK;
}

int ai_cmd_modelscan(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return scan(ctx, argc, 0, "AI._MODELSCAN");
}

int ai_cmd_scriptscan(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return scan(ctx, argc, 1, "AI._SCRIPTSCAN");
}
