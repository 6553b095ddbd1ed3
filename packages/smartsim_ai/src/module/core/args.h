/* Argument helpers of the command parsers: keywords, counts, timeouts, copies. */
#ifndef SMARTSIM_AI_ARGS_H
#define SMARTSIM_AI_ARGS_H

#include "rm_api.h"

int ai_arg_is(RedisModuleString *arg, const char *keyword); /* case-insensitive */
char *ai_arg_dup(RedisModuleString *arg);                   /* ai_alloc'ed C string */
/* ai_alloc'ed copies of argv[0..n) (ai_free_names frees them); NULL when n is 0. */
char **ai_arg_dup_all(RedisModuleString **argv, size_t n);
/* Whether `count` names can follow from argv[at] in argv[0..argc): 0 <= count <= argc - at,
 * compared without overflow (a count near 2^63 must not wrap past the check). */
int ai_count_fits(long long count, int argc, int at);
/* TIMEOUT values (ms) above this are taken as this (31 years), so that no deadline computed
 * from one (now + timeout) can overflow. */
#define AI_TIMEOUT_MAX_MS 1000000000000LL
long long ai_clamp_timeout(long long ms);
/* The run commands (MODELEXECUTE, SCRIPTEXECUTE, DAG* and their deprecated forms) block the
 * client, which MULTI, Lua and a module's RedisModule_Call cannot: as RedisAI, they are
 * refused there before any other check.  Replies and returns 1 when refused. */
int ai_run_refused(RedisModuleCtx *ctx);

#endif
