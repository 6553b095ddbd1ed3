#ifndef SMARTSIM_AI_INFO_H
#define SMARTSIM_AI_INFO_H

#include "rm_api.h"

/* Registers the INFO MODULES callback (OnLoad). */
int ai_info_register(RedisModuleCtx *ctx);

/* `s` as an INFO-safe token in buf (size > 0, always NUL-terminated, cut to fit): every byte
 * other than [A-Za-z0-9._+-] becomes '_'.  The servers write fields as "ai_<name>:<value>\r\n"
 * unescaped, so a client string (a device name) with CR/LF, ':', '#', ',' or '=' would add
 * fields or sections, or change how clients split them.  Returns buf. */
const char *ai_info_safe(char *buf, size_t size, const char *s);

/* RedisModule_InfoAddFieldCString with both the name and the value made safe. */
void ai_info_add_field(RedisModuleInfoCtx *ctx, const char *field, const char *value);

#endif
