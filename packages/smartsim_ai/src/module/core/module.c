/*
 * The `ai` module: RedisModule_OnLoad and the one command table.
 *
 * Each row: name, handler, flags, first/last/step key positions, and for commands
 * whose keys move, a getkeys function (the command is then registered with
 * "getkeys-api" through a small wrapper).
 */

#include "alloc.h"
#include "commands.h"
#include "config.h"
#include "hooks.h"
#include "info.h"
#include "model_type.h"
#include "reply.h"
#include "tensor_type.h"
#include "version.h"

typedef void (*ai_getkeys_fn)(RedisModuleCtx *ctx, RedisModuleString **argv, int argc);

typedef struct {
    const char *name;
    RedisModuleCmdFunc handler;
    RedisModuleCmdFunc with_getkeys; /* wrapper answering key-position requests, or NULL */
    const char *flags;
    int first, last, step;
    int deprecated; /* kept for RedisAI 1.2 clients (SmartRedis 0.6.1 sends some) */
} ai_command;

/* A handler that answers key-position requests with `keys` and runs `handler` otherwise. */
#define AI_GETKEYS_WRAPPER(wrapper, keys, handler)                                      \
    static int wrapper(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {        \
        if (RedisModule_IsKeysPositionRequest(ctx)) {                                    \
            keys(ctx, argv, argc);                                                       \
            return REDISMODULE_OK;                                                       \
        }                                                                                \
        return handler(ctx, argv, argc);                                                 \
    }

AI_GETKEYS_WRAPPER(gk_modelexecute, ai_keys_modelexecute, ai_cmd_modelexecute)
AI_GETKEYS_WRAPPER(gk_modelrun, ai_keys_modelrun, ai_cmd_modelrun)
AI_GETKEYS_WRAPPER(gk_scriptexecute, ai_keys_scriptexecute, ai_cmd_scriptexecute)
AI_GETKEYS_WRAPPER(gk_scriptrun, ai_keys_scriptrun, ai_cmd_scriptrun)
AI_GETKEYS_WRAPPER(gk_dagexecute, ai_keys_dag, ai_cmd_dagexecute)
AI_GETKEYS_WRAPPER(gk_dagexecute_ro, ai_keys_dag, ai_cmd_dagexecute_ro)
AI_GETKEYS_WRAPPER(gk_dagrun, ai_keys_dag, ai_cmd_dagrun)
AI_GETKEYS_WRAPPER(gk_dagrun_ro, ai_keys_dag, ai_cmd_dagrun_ro)

#define W "write deny-oom"
#define WK "write deny-oom getkeys-api"
#define RK "readonly getkeys-api"

static const ai_command commands[] = {
    /* name                handler               getkeys            flags     f  l  s  dep */
    {"ai.tensorset",       ai_cmd_tensorset,     NULL,              W,         1, 1, 1, 0},
    {"ai.tensorget",       ai_cmd_tensorget,     NULL,              "readonly", 1, 1, 1, 0},
    {"ai.modelstore",      ai_cmd_modelstore,    NULL,              W,         1, 1, 1, 0},
    {"ai.modelset",        ai_cmd_modelset,      NULL,              W,         1, 1, 1, 1},
    {"ai.modelget",        ai_cmd_modelget,      NULL,              "readonly", 1, 1, 1, 0},
    {"ai.modeldel",        ai_cmd_modeldel,      NULL,              "write",   1, 1, 1, 0},
    {"ai.modelexecute",    ai_cmd_modelexecute,  gk_modelexecute,   WK,        4, 4, 1, 0},
    {"ai.modelrun",        ai_cmd_modelrun,      gk_modelrun,       WK,        3, 3, 1, 1},
    {"ai._modelscan",      ai_cmd_modelscan,     NULL,              "readonly", 0, 0, 0, 0},
    {"ai.scriptstore",     ai_cmd_scriptstore,   NULL,              W,         1, 1, 1, 0},
    {"ai.scriptset",       ai_cmd_scriptset,     NULL,              W,         1, 1, 1, 1},
    {"ai.scriptget",       ai_cmd_scriptget,     NULL,              "readonly", 1, 1, 1, 0},
    {"ai.scriptdel",       ai_cmd_scriptdel,     NULL,              "write",   1, 1, 1, 0},
    {"ai.scriptexecute",   ai_cmd_scriptexecute, gk_scriptexecute,  WK,        5, 5, 1, 0},
    {"ai.scriptrun",       ai_cmd_scriptrun,     gk_scriptrun,      WK,        4, 4, 1, 1},
    {"ai._scriptscan",     ai_cmd_scriptscan,    NULL,              "readonly", 0, 0, 0, 0},
    {"ai.dagexecute",      ai_cmd_dagexecute,    gk_dagexecute,     WK,        3, 3, 1, 0},
    {"ai.dagexecute_ro",   ai_cmd_dagexecute_ro, gk_dagexecute_ro,  RK,        3, 3, 1, 0},
    {"ai.dagrun",          ai_cmd_dagrun,        gk_dagrun,         WK,        3, 3, 1, 1},
    {"ai.dagrun_ro",       ai_cmd_dagrun_ro,     gk_dagrun_ro,      RK,        3, 3, 1, 1},
    {"ai.info",            ai_cmd_info,          NULL,              "readonly", 1, 1, 1, 0},
    {"ai.config",          ai_cmd_config,        NULL,              "write",   0, 0, 0, 0},
};

static int register_commands(RedisModuleCtx *ctx) {
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const ai_command *c = &commands[i];
        RedisModuleCmdFunc fn = c->with_getkeys ? c->with_getkeys : c->handler;
        if (RedisModule_CreateCommand(ctx, c->name, fn, c->flags, c->first, c->last, c->step) !=
            REDISMODULE_OK) {
            RedisModule_Log(ctx, "warning", "ai: cannot register command %s", c->name);
            return REDISMODULE_ERR;
        }
    }
    return REDISMODULE_OK;
}

__attribute__((visibility("default"))) int RedisModule_OnLoad(RedisModuleCtx *ctx,
                                                              RedisModuleString **argv, int argc) {
    if (rm_api_init(ctx, AI_MODULE_NAME, AI_MODULE_VERSION, REDISMODULE_APIVER_1) != REDISMODULE_OK) {
        return REDISMODULE_ERR;
    }
    ai_alloc_use_server();
    /* Corrupt RESTORE payloads must fail the command, not abort the server. */
    RedisModule_SetModuleOptions(ctx, REDISMODULE_OPTIONS_HANDLE_IO_ERRORS);
    if (ai_config_load_args(ctx, argv, argc) != REDISMODULE_OK) return REDISMODULE_ERR;
    if (ai_tensor_type_register(ctx) != REDISMODULE_OK ||
        ai_stored_type_register(ctx, &ai_model_kind) != REDISMODULE_OK ||
        ai_stored_type_register(ctx, &ai_script_kind) != REDISMODULE_OK) {
        RedisModule_Log(ctx, "warning", "ai: cannot create the AI_TENSOR/AI__MODEL/AI_SCRIPT types");
        return REDISMODULE_ERR;
    }
    if (register_commands(ctx) != REDISMODULE_OK) return REDISMODULE_ERR;
    ai_reply_prepare_ok(ctx);
    if (ai_info_register(ctx) != REDISMODULE_OK) return REDISMODULE_ERR;
    if (ai_exec_onload(ctx) != 0) {
        RedisModule_Log(ctx, "warning", "ai: the execution layer failed to start");
        return REDISMODULE_ERR;
    }
    return REDISMODULE_OK;
}
