/*
 * The seam between the storage layer (tensors, models, scripts, persistence;
 * issue 3) and the execution layer (workers, MODEL/SCRIPT/DAG commands; issue 4).
 *
 * The execution layer fills these pointers from its ai_exec_onload() (exec_main.c),
 * so the pure model/script cores never call into it directly.  Until a hook is set,
 * storage just keeps the payload: RDB-loaded models and scripts are stored as they
 * are and never validated.
 */
#ifndef SMARTSIM_AI_HOOKS_H
#define SMARTSIM_AI_HOOKS_H

#include "model.h"
#include "rm_api.h"
#include "script.h"

/* Called when a model is loaded from RDB (or RESTOREd) under `key`: validate it with
 * a worker, derive its input/output names, register its AI.INFO stats, create its
 * device queue.  Return 0 to accept; non-zero rejects the load (RDB load then fails,
 * as RedisAI's did when a model could not be rebuilt), after logging `*err` if set
 * (an ai_alloc'ed string the caller frees). */
typedef int (*ai_model_prepare_fn)(RedisModuleCtx *ctx, const RedisModuleString *key,
                                   ai_model *model, char **err);
typedef int (*ai_script_prepare_fn)(RedisModuleCtx *ctx, const RedisModuleString *key,
                                    ai_script *script, char **err);
extern ai_model_prepare_fn ai_model_prepare_hook;
extern ai_script_prepare_fn ai_script_prepare_hook;

/* Called once when the last reference to a model/script goes, before its memory is
 * freed, to release `exec` (and the AI.INFO stats entry).  May run on a server
 * background thread (FLUSHALL ASYNC, lazyfree) or a worker thread holding the last
 * reference: keep it thread-safe (e.g. queue the work to the main thread). */
extern void (*ai_model_release_hook)(ai_model *model);
extern void (*ai_script_release_hook)(ai_script *script);

/* The execution layer's entry points (exec_main.c). */

/* Called at the end of OnLoad, after the types and commands exist and the module
 * arguments are parsed into ai_config (config.h). Non-zero fails the load. */
int ai_exec_onload(RedisModuleCtx *ctx);

/* INFO MODULES: fields of the `ai_backends_info` section (called after the section
 * header), and the per-worker fields at the end of `ai_cpu`. */
void ai_exec_info_backends(RedisModuleInfoCtx *ctx);
void ai_exec_info_cpu(RedisModuleInfoCtx *ctx);

#endif
