/*
 * INFO MODULES sections, in RedisAI's order (clients split the text on '#' and
 * index the sections by position): ai_versions, ai_git, ai_load_time_configs,
 * ai_backends_info, ai_cpu; then ours, ai_tensor_compaction.  The server prefixes every
 * field with "ai_".
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>

#include "compact.h"
#include "config.h"
#include "hooks.h"
#include "info.h"
#include "version.h"

#ifndef AI_GIT_SHA
#define AI_GIT_SHA "unknown"
#endif

const char *ai_info_safe(char *buf, size_t size, const char *s) {
    size_t i = 0;
    for (; s[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '+' || c == '-';
        buf[i] = ok ? (char)c : '_';
    }
    buf[i] = '\0';
    return buf;
}

void ai_info_add_field(RedisModuleInfoCtx *ctx, const char *field, const char *value) {
    char name[128], val[128];
    RedisModule_InfoAddFieldCString(ctx, ai_info_safe(name, sizeof name, field),
                                    ai_info_safe(val, sizeof val, value));
}

static void add_timeval(RedisModuleInfoCtx *ctx, const char *field, struct timeval tv) {
    char buf[64];
    snprintf(buf, sizeof(buf), "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
    RedisModule_InfoAddFieldCString(ctx, field, buf);
}

static void add_rusage(RedisModuleInfoCtx *ctx, int who, const char *sys, const char *user) {
    struct rusage ru;
    if (getrusage(who, &ru) != 0) return;
    add_timeval(ctx, sys, ru.ru_stime);
    add_timeval(ctx, user, ru.ru_utime);
}

static void info_func(RedisModuleInfoCtx *ctx, int for_crash_report) {
    (void)for_crash_report;
    RedisModule_InfoAddSection(ctx, "versions");
    RedisModule_InfoAddFieldCString(ctx, "RedisAI_version", AI_REDISAI_VERSION);
    RedisModule_InfoAddFieldLongLong(ctx, "low_level_API_version", 1);
    RedisModule_InfoAddFieldLongLong(ctx, "rdb_version", 4);

    RedisModule_InfoAddSection(ctx, "git");
    RedisModule_InfoAddFieldCString(ctx, "git_sha", AI_GIT_SHA);

    RedisModule_InfoAddSection(ctx, "load_time_configs");
    RedisModule_InfoAddFieldLongLong(ctx, "threads_per_queue", ai_config.threads_per_queue);
    RedisModule_InfoAddFieldLongLong(ctx, "inter_op_parallelism", ai_config.inter_op_parallelism);
    RedisModule_InfoAddFieldLongLong(ctx, "intra_op_parallelism", ai_config.intra_op_parallelism);
    RedisModule_InfoAddFieldLongLong(ctx, "model_execution_timeout",
                                     ai_config.model_execution_timeout);
    RedisModule_InfoAddFieldLongLong(ctx, "backend_memory_limit", ai_config.backend_memory_limit);

    RedisModule_InfoAddSection(ctx, "backends_info");
    ai_exec_info_backends(ctx);

    RedisModule_InfoAddSection(ctx, "cpu");
    add_rusage(ctx, RUSAGE_SELF, "self_used_cpu_sys", "self_used_cpu_user");
    add_rusage(ctx, RUSAGE_CHILDREN, "children_used_cpu_sys", "children_used_cpu_user");
    add_rusage(ctx, RUSAGE_THREAD, "main_thread_used_cpu_sys", "main_thread_used_cpu_user");
    ai_exec_info_cpu(ctx);

    /* Ours, after RedisAI's sections (clients index those by position). */
    ai_compact_stats cs = ai_compact_get_stats();
    RedisModule_InfoAddSection(ctx, "tensor_compaction");
    RedisModule_InfoAddFieldLongLong(ctx, "compacted", (long long)cs.compacted);
    RedisModule_InfoAddFieldLongLong(ctx, "freed_bytes", (long long)cs.freed_bytes);
    RedisModule_InfoAddFieldLongLong(ctx, "dropped", (long long)cs.dropped);
    RedisModule_InfoAddFieldLongLong(ctx, "waiting", (long long)cs.waiting);
}

int ai_info_register(RedisModuleCtx *ctx) { return RedisModule_RegisterInfoFunc(ctx, info_func); }
