/*
 * AI.MODELEXECUTE / AI.MODELRUN / AI.SCRIPTEXECUTE / AI.SCRIPTRUN, and the same ops inside a
 * DAG (cmd_run.h).  One path for all four: the MULTI/Lua refusal (commands only), the arity,
 * the model or script key, the pure parse (parse_run.c) given what the key told, then the
 * names bound and the request queued on the model's or script's device.
 */
#include "alloc.h"
#include "args.h"
#include "bind.h"
#include "cmd_run.h"
#include "commands.h"
#include "model_type.h"
#include "parse.h"
#include "reply.h"
#include "run_queue.h"
#include "submit.h"

/* One run op's differences: its arity, what it runs and how its arguments read. */
typedef struct run_op_spec {
    const char *name; /* for the arity error */
    int min_argc;
    const ai_stored_kind *kind;
    const char *(*parse)(RedisModuleString **argv, int argc, const ai_run_known *known,
                         ai_run_args *a, char *err);
} run_op_spec;

static const run_op_spec SPECS[] = {
    [AI_RUN_MODELEXECUTE] = {"AI.MODELEXECUTE", 8, &ai_model_kind, ai_parse_modelexecute},
    [AI_RUN_MODELRUN] = {"AI.MODELRUN", 6, &ai_model_kind, ai_parse_modelrun},
    [AI_RUN_SCRIPTEXECUTE] = {"AI.SCRIPTEXECUTE", 3, &ai_script_kind, ai_parse_scriptexecute},
    [AI_RUN_SCRIPTRUN] = {"AI.SCRIPTRUN", 3, &ai_script_kind, ai_parse_scriptrun},
};

/* Whether a model's input/output names are known: TF's are given, the other backends derive
 * them when a worker loads the model, which a store inside MULTI or Lua does not wait for
 * (request.h): until then the run commands skip their count checks (the backend checks).
 * The names are set under the server lock (ai_request_detached_done), read here under it. */
static int names_known(const ai_model *m) {
    return m->backend == AI_BACKEND_TF || m->ninputs > 0 || m->noutputs > 0;
}

int ai_build_run_op(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                    ai_op *op, struct dag_names *dag, ai_run_op which) {
    const run_op_spec *spec = &SPECS[which];
    if (argc < spec->min_argc) return ai_reply_arity(ctx, spec->name), -1;
    void *value = ai_stored_get(ctx, spec->kind, argv[1]);
    if (!value) return -1;
    ai_run_known known = {.in_dag = dag != NULL, .model_nin = -1, .model_nout = -1};
    if (spec->kind == &ai_model_kind) {
        op->kind = AI_OP_MODEL;
        op->model = value;
        ai_exec_model_id(op->model);
        if (names_known(op->model)) {
            known.model_nin = (long long)op->model->ninputs;
            known.model_nout = (long long)op->model->noutputs;
        }
    } else {
        op->kind = AI_OP_SCRIPT;
        op->script = value;
        ai_exec_script_id(op->script);
        op->fn = ai_arg_dup(argv[2]);
    }
    ai_run_args a;
    char err[AI_PARSE_ERR_MAX];
    const char *e = spec->parse(argv, argc, &known, &a, err);
    int rc = -1;
    if (e) {
        RedisModule_ReplyWithError(ctx, e);
    } else {
        op->nkeys = a.nkeys;
        op->keys = ai_arg_dup_all(a.keys, a.nkeys);
        op->nargs = a.nargs;
        op->args = ai_arg_dup_all(a.args, a.nargs);
        if (!dag) r->timeout_ms = a.timeout; /* a DAG op's TIMEOUT is an error */
        rc = ai_bind_io(ctx, r, op, dag, a.in, a.nin, a.out, a.nout);
    }
    ai_run_args_free(&a);
    return rc;
}

/* A run command: a request of one op, queued on its model's or script's device. */
static int run_command(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                       ai_run_op which) {
    if (ai_run_refused(ctx)) return REDISMODULE_OK;
    ai_request *r = ai_request_new(AI_REPLY_SINGLE, 1);
    ai_op *op = &r->ops[0];
    if (ai_build_run_op(ctx, argv, argc, r, op, NULL, which) != 0) {
        ai_request_free(ctx, r);
        return REDISMODULE_OK;
    }
    return ai_request_submit(ctx, r, op->model ? op->model->device : op->script->device);
}

int ai_cmd_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return run_command(ctx, argv, argc, AI_RUN_MODELEXECUTE);
}

int ai_cmd_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return run_command(ctx, argv, argc, AI_RUN_MODELRUN);
}

int ai_cmd_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return run_command(ctx, argv, argc, AI_RUN_SCRIPTEXECUTE);
}

int ai_cmd_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    return run_command(ctx, argv, argc, AI_RUN_SCRIPTRUN);
}
