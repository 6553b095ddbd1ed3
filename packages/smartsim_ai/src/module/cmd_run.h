/*
 * Handlers of the model, script, DAG and AI.INFO commands (the execution layer), and the
 * parsing helpers they share.
 */
#ifndef SMARTSIM_AI_CMD_RUN_H
#define SMARTSIM_AI_CMD_RUN_H

#include "request.h"
#include "rm_api.h"

int ai_cmd_modelstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modeldel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptdel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagexecute_ro(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagrun_ro(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Shared parsing helpers. */
/* The run commands (MODELEXECUTE, SCRIPTEXECUTE, DAG* and their deprecated forms) block the
 * client, which MULTI, Lua and a module's RedisModule_Call cannot: as RedisAI, they are
 * refused there before any other check.  Replies and returns 1 when refused. */
int ai_run_refused(RedisModuleCtx *ctx);
int ai_reply_errorf(RedisModuleCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct dag_names;
int ai_bind_io(RedisModuleCtx *ctx, ai_request *r, ai_op *op, struct dag_names *dag,
               RedisModuleString **ins, size_t nin, RedisModuleString **outs, size_t nout);
int ai_arg_is(RedisModuleString *arg, const char *keyword); /* case-insensitive */
/* Whether `count` names can follow from argv[at] in argv[0..argc): 0 <= count <= argc - at,
 * compared without overflow (a count near 2^63 must not wrap past the check). */
int ai_count_fits(long long count, int argc, int at);
/* TIMEOUT values (ms) above this are taken as this (31 years), so that no deadline computed
 * from one (now + timeout) can overflow. */
#define AI_TIMEOUT_MAX_MS 1000000000000LL
long long ai_clamp_timeout(long long ms);
char *ai_arg_dup(RedisModuleString *arg);                   /* ai_alloc'ed C string */
/* Parse a model-run op (MODELEXECUTE syntax starting at argv[0] = the command name) into
 * op/r: used standalone and inside DAGs (dag != NULL resolves names to DAG slots). */
struct dag_names;
int ai_parse_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                          ai_op *op, struct dag_names *dag, long long *timeout);
int ai_parse_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                      ai_op *op, struct dag_names *dag, long long *timeout);
int ai_parse_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                       ai_op *op, struct dag_names *dag, long long *timeout);
int ai_parse_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                           ai_request *r, ai_op *op, struct dag_names *dag, long long *timeout);

/* DAG-local tensor names -> slots (cmd_dag.c).  Inside a DAG an op's names are bound only
 * after every op has parsed (RedisAI reports all parse errors before a missing input):
 * ai_bind_io records them here and the DAG resolves them in op order. */
int dag_names_defer(struct dag_names *d, ai_op *op, RedisModuleString **ins, size_t nin,
                    RedisModuleString **outs, size_t nout);

#endif
