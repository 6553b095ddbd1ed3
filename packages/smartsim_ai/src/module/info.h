#ifndef SMARTSIM_AI_INFO_H
#define SMARTSIM_AI_INFO_H

#include "rm_api.h"

/* Registers the INFO MODULES callback (OnLoad). */
int ai_info_register(RedisModuleCtx *ctx);

#endif
