/*
 * The run ops MODELEXECUTE, MODELRUN, SCRIPTEXECUTE and SCRIPTRUN, built for their commands
 * (cmd_run.c, declared in commands.h) and for DAG ops (cmd_dag.c) by ai_build_run_op: it
 * checks the arity, looks the model or script up, parses the rest (parse.h) and binds the
 * names: the op's tensors in a standalone command, the DAG's names (dag != NULL) once every
 * op of the DAG has parsed.  It replies and returns -1 on an error; 0 when the op is ready.
 */
#ifndef SMARTSIM_AI_CMD_RUN_H
#define SMARTSIM_AI_CMD_RUN_H

#include "request.h"
#include "rm_api.h"

struct dag_names;
typedef enum {
    AI_RUN_MODELEXECUTE,
    AI_RUN_MODELRUN,
    AI_RUN_SCRIPTEXECUTE,
    AI_RUN_SCRIPTRUN,
} ai_run_op;

int ai_build_run_op(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                    ai_op *op, struct dag_names *dag, ai_run_op which);

#endif
