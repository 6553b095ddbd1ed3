/* The replies every command shares (reply.h). */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

int ai_reply_arity(RedisModuleCtx *ctx, const char *upper_name) {
    char msg[128];
    snprintf(msg, sizeof(msg), AI_ERR_ARITY_FMT, upper_name);
    return RedisModule_ReplyWithError(ctx, msg);
}

/* "+OK\r\n" as the server produced it for UNWATCH at load time.  Sent back whole with
 * ReplyWithCallReply it is one append to the client's buffer; ReplyWithSimpleString
 * checks and copies the text first (Redis 7.0: an sds, a scan for newlines and three
 * appends, ~600 instructions more; Valkey 8: ~280 more), which at 1 KB is 4-8% of a
 * TENSORSET.  NULL when the server answered something else: then the plain call. */
static RedisModuleCallReply *ok_reply;

int ai_reply_ok(RedisModuleCtx *ctx) {
    if (ok_reply) return RedisModule_ReplyWithCallReply(ctx, ok_reply);
    return RedisModule_ReplyWithSimpleString(ctx, "OK");
}

/* Kept for the module's lifetime (never freed: the reply's context is gone by then). */
void ai_reply_prepare_ok(RedisModuleCtx *ctx) {
    RedisModuleCallReply *r = RedisModule_Call(ctx, "UNWATCH", "");
    size_t len = 0;
    const char *s = r && RedisModule_CallReplyType(r) == REDISMODULE_REPLY_STRING
                        ? RedisModule_CallReplyStringPtr(r, &len)
                        : NULL;
    if (s && len == 2 && memcmp(s, "OK", 2) == 0) {
        ok_reply = r;
        return;
    }
    if (r) RedisModule_FreeCallReply(r);
    RedisModule_Log(ctx, "notice", "ai: UNWATCH did not answer +OK; using the plain +OK reply");
}

int ai_reply_errorf(RedisModuleCtx *ctx, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    ai_vformat_error(buf, sizeof buf, 1, fmt, ap);
    va_end(ap);
    return RedisModule_ReplyWithError(ctx, buf);
}
