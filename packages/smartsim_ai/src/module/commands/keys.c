/*
 * Key positions of the commands registered with getkeys-api (COMMAND GETKEYS and
 * cluster routing).  Lenient by design: a malformed command reports the keys found
 * so far; the handler then replies with the syntax error.
 */
#include <string.h>
#include <strings.h>

#include "commands.h"

static int is(RedisModuleString *arg, const char *word) {
    size_t len;
    const char *s = RedisModule_StringPtrLen(arg, &len);
    return len == strlen(word) && strncasecmp(s, word, len) == 0;
}

/* A count argument in [0, limit], or -1. */
static long long count_at(RedisModuleString **argv, int argc, int i) {
    long long n;
    if (i >= argc || RedisModule_StringToLongLong(argv[i], &n) != REDISMODULE_OK) return -1;
    return n < 0 || n > argc ? -1 : n;
}

/* argv[1], when there is one: reporting a position past argc would make the server read
 * beyond argv (a cluster node crashed on a bare AI.MODELEXECUTE). */
static void report_first(RedisModuleCtx *ctx, int argc) {
    if (argc > 1) RedisModule_KeyAtPos(ctx, 1);
}

/* Reports `n` keys from position `from` (bounded by argc); returns the next position. */
static int report(RedisModuleCtx *ctx, int argc, int from, long long n) {
    int i = from;
    for (; i < argc && i < from + n; i++) RedisModule_KeyAtPos(ctx, i);
    return i;
}

/* key INPUTS n in... OUTPUTS m out... [TIMEOUT t] */
void ai_keys_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    report_first(ctx, argc);
    int i = 2;
    if (i < argc && is(argv[i], "INPUTS")) {
        long long n = count_at(argv, argc, i + 1);
        if (n < 0) return;
        i = report(ctx, argc, i + 2, n);
    }
    if (i < argc && is(argv[i], "OUTPUTS")) {
        long long m = count_at(argv, argc, i + 1);
        if (m >= 0) report(ctx, argc, i + 2, m);
    }
}

/* key [TIMEOUT t] INPUTS in... OUTPUTS out... */
void ai_keys_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    report_first(ctx, argc);
    int i = 2;
    if (i < argc && is(argv[i], "TIMEOUT")) i += 2;
    if (i >= argc || !is(argv[i], "INPUTS")) return;
    for (i++; i < argc; i++) {
        if (!is(argv[i], "OUTPUTS")) RedisModule_KeyAtPos(ctx, i);
    }
}

/* key fn [KEYS n k...] [INPUTS n t...] [ARGS n a...] [OUTPUTS n o...] [TIMEOUT t] */
void ai_keys_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    report_first(ctx, argc);
    int i = 3;
    while (i < argc) {
        int keys = is(argv[i], "KEYS") || is(argv[i], "INPUTS") || is(argv[i], "OUTPUTS");
        if (keys || is(argv[i], "ARGS")) {
            long long n = count_at(argv, argc, i + 1);
            if (n < 0) return;
            if (keys) report(ctx, argc, i + 2, n);
            i += 2 + (int)n;
        } else if (is(argv[i], "TIMEOUT")) {
            i += 2;
        } else {
            i++;
        }
    }
}

/* key fn [TIMEOUT t] INPUTS t... [$ t...] OUTPUTS o... */
void ai_keys_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    report_first(ctx, argc);
    for (int i = 3; i < argc; i++) {
        if (is(argv[i], "TIMEOUT")) i++;
        else if (!is(argv[i], "INPUTS") && !is(argv[i], "OUTPUTS") && !is(argv[i], "$"))
            RedisModule_KeyAtPos(ctx, i);
    }
}

/* [LOAD n k...] [PERSIST n k...] [ROUTING k] [TIMEOUT t] |> op ... : the LOAD and PERSIST
 * keys, the ROUTING key, and the model/script key of every op. */
void ai_keys_dag(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    int i = 1;
    while (i < argc && !is(argv[i], "|>")) {
        if (is(argv[i], "LOAD") || is(argv[i], "PERSIST")) {
            long long n = count_at(argv, argc, i + 1);
            if (n < 0) return;
            i = report(ctx, argc, i + 2, n);
        } else if (is(argv[i], "ROUTING")) {
            if (i + 1 < argc) RedisModule_KeyAtPos(ctx, i + 1);
            i += 2;
        } else if (is(argv[i], "TIMEOUT")) {
            i += 2;
        } else {
            i++;
        }
    }
    for (; i + 1 < argc; i++) {
        if (is(argv[i], "AI.MODELEXECUTE") || is(argv[i], "AI.SCRIPTEXECUTE") ||
            is(argv[i], "AI.MODELRUN") || is(argv[i], "AI.SCRIPTRUN")) {
            RedisModule_KeyAtPos(ctx, i + 1);
        }
    }
}
