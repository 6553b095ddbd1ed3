/* The replies every command shares: +OK, arity errors and formatted errors.  Depends on the
 * module API only, so any layer may use it without reaching into module.c. */
#ifndef SMARTSIM_AI_REPLY_H
#define SMARTSIM_AI_REPLY_H

#include <stdarg.h>
#include <stddef.h>

#include "rm_api.h"

/* "ERR wrong number of arguments for '<NAME>' command" with the upper-case name, as
 * RedisAI's tests expect (RedisModule_WrongArity prints the lower-case registered name
 * on Redis >= 7). */
int ai_reply_arity(RedisModuleCtx *ctx, const char *upper_name);

/* Replies +OK (the reply of every successful store and CONFIG SET). */
int ai_reply_ok(RedisModuleCtx *ctx);

/* Captures the server's own +OK reply for ai_reply_ok (OnLoad only). */
void ai_reply_prepare_ok(RedisModuleCtx *ctx);

/* An error reply from a format; control bytes of echoed client arguments become spaces. */
int ai_reply_errorf(RedisModuleCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
