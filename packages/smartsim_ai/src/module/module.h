/* Helpers every command handler shares. */
#ifndef SMARTSIM_AI_MODULE_H
#define SMARTSIM_AI_MODULE_H

#include "rm_api.h"

#define AI_MODULE_NAME "ai"
#define AI_MODULE_VERSION 10207 /* speaks RedisAI 1.2.7's protocol */
#define AI_REDISAI_VERSION "1.2.7"

/* "ERR wrong number of arguments for '<NAME>' command" with the upper-case name, as
 * RedisAI's tests expect (RedisModule_WrongArity prints the lower-case registered name
 * on Redis >= 7). */
int ai_reply_arity(RedisModuleCtx *ctx, const char *upper_name);

/* Replies +OK (the reply of every successful store and CONFIG SET). */
int ai_reply_ok(RedisModuleCtx *ctx);

#endif
