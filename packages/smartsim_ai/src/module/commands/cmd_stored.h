/*
 * What the model and script commands share (cmd_model.c, cmd_script.c): a store's
 * submission to a worker and its publication once loaded, and DEL.
 */
#ifndef SMARTSIM_AI_CMD_STORED_H
#define SMARTSIM_AI_CMD_STORED_H

#include "model_type.h"
#include "request.h"
#include "rm_api.h"

/* Queues the load of a new model (op AI_OP_LOAD_MODEL) or script (AI_OP_LOAD_SCRIPT) on
 * `device`, taking the reference `value`; `on_reply` publishes it under argv[1] once a
 * worker loaded it (or answers the worker's error), and ends with ai_store_publish. */
int ai_store_submit(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_op_kind op,
                    void *value, const char *device,
                    int (*on_reply)(RedisModuleCtx *ctx, ai_request *r));

/* A loaded value's publication: stored under the request's key, registered for AI.INFO,
 * the command replicated verbatim, +OK.  Replies WRONGTYPE when the key holds another type. */
int ai_store_publish(RedisModuleCtx *ctx, ai_request *r, const ai_stored_kind *kind, void *value,
                     const char *backend, const char *device, const char *tag, size_t tag_len);

/* AI.MODELDEL / AI.SCRIPTDEL key (`name` for the arity error). */
int ai_stored_del(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                  const ai_stored_kind *kind, const char *name);

#endif
