/*
 * The parsers of the run ops (MODELEXECUTE, MODELRUN, SCRIPTEXECUTE, SCRIPTRUN), used by
 * their commands and inside DAGs.  The handlers are declared in commands.h.
 */
#ifndef SMARTSIM_AI_CMD_RUN_H
#define SMARTSIM_AI_CMD_RUN_H

#include "args.h"
#include "reply.h"
#include "request.h"
#include "rm_api.h"

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
