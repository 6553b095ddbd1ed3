/*
 * The run ops MODELEXECUTE, MODELRUN, SCRIPTEXECUTE and SCRIPTRUN: their commands (declared
 * in commands.h) and DAG ops build them through these.  Each checks the arity, looks the model
 * or script up, parses the rest (parse.h) and binds the names: the op's tensors in a
 * standalone command, the DAG's names (dag != NULL) once every op of a DAG has parsed.
 * Replies and returns -1 on an error; 0 when the op is ready.
 */
#ifndef SMARTSIM_AI_CMD_RUN_H
#define SMARTSIM_AI_CMD_RUN_H

#include "request.h"
#include "rm_api.h"

struct dag_names;
typedef int (*ai_run_op_builder)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                                 ai_request *r, ai_op *op, struct dag_names *dag);
int ai_op_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                       ai_op *op, struct dag_names *dag);
int ai_op_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                   ai_op *op, struct dag_names *dag);
int ai_op_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                        ai_op *op, struct dag_names *dag);
int ai_op_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                    ai_op *op, struct dag_names *dag);

#endif
