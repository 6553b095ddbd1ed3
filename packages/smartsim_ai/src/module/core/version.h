/* The module's name and versions (OnLoad, INFO MODULES). */
#ifndef SMARTSIM_AI_VERSION_H
#define SMARTSIM_AI_VERSION_H

#define AI_MODULE_NAME "ai"
#define AI_MODULE_VERSION 10207 /* speaks RedisAI 1.2.7's protocol */
#define AI_REDISAI_VERSION "1.2.7"

#endif
