/*
 * The seam between the storage layer (tensors, models, scripts, persistence;
 * issue 3) and the execution layer (workers, MODEL/SCRIPT/DAG commands; issue 4):
 * the execution layer's entry points, called by the core (module.c, info.c).
 *
 * The storage layer calls into the execution layer only through the prepare/release
 * hook pointers declared with their types (model.h, script.h), which ai_exec_onload
 * (exec_main.c) fills, so the pure model/script cores never call into it directly.
 */
#ifndef SMARTSIM_AI_HOOKS_H
#define SMARTSIM_AI_HOOKS_H

#include "rm_api.h"

/* The execution layer's entry points (exec_main.c). */

/* Called at the end of OnLoad, after the types and commands exist and the module
 * arguments are parsed into ai_config (config.h). Non-zero fails the load. */
int ai_exec_onload(RedisModuleCtx *ctx);

/* INFO MODULES: fields of the `ai_backends_info` section (called after the section
 * header), and the per-worker fields at the end of `ai_cpu`. */
void ai_exec_info_backends(RedisModuleInfoCtx *ctx);
void ai_exec_info_cpu(RedisModuleInfoCtx *ctx);

#endif
