/*
 * Handlers of the model, script, DAG and AI.INFO commands (the execution layer), and the
 * parsing helpers they share.
 */
#ifndef SMARTSIM_AI_CMD_RUN_H
#define SMARTSIM_AI_CMD_RUN_H

#include "args.h"
#include "reply.h"
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

struct dag_names;
/* Parse a model-run op (MODELEXECUTE syntax starting at argv[0] = the command name) into
 * op/r: used standalone and inside DAGs (dag != NULL resolves names to DAG slots). */
int ai_parse_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                          ai_op *op, struct dag_names *dag, long long *timeout);
int ai_parse_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                      ai_op *op, struct dag_names *dag, long long *timeout);
int ai_parse_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                       ai_op *op, struct dag_names *dag, long long *timeout);
int ai_parse_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                           ai_request *r, ai_op *op, struct dag_names *dag, long long *timeout);

#endif
