/*
 * Every command handler of the module, as module.c's command table registers them (the one
 * place they are declared; the files defining them include this header).  Key
 * positions for cluster routing live in that table and keys.c (getkeys-api), not in the
 * handlers.
 */
#ifndef SMARTSIM_AI_COMMANDS_H
#define SMARTSIM_AI_COMMANDS_H

#include "rm_api.h"

/* Storage layer (cmd_tensor.c, config.c). */
int ai_cmd_tensorset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_tensorget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_config(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* Execution layer (cmd_model.c, cmd_script.c, cmd_dag.c, stats.c). */
int ai_cmd_modelstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modeldel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_modelscan(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptdel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_scriptscan(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagexecute_ro(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_dagrun_ro(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
int ai_cmd_info(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

/* getkeys-api: report the key positions of commands whose keys move (keys.c). */
void ai_keys_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
void ai_keys_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
void ai_keys_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
void ai_keys_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);
void ai_keys_dag(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

#endif
