/*
 * AI.INFO run statistics, kept by key name for every stored model and script (global across
 * databases, as RedisAI's), and AI._MODELSCAN / AI._SCRIPTSCAN.
 */
#ifndef SMARTSIM_AI_STATS_H
#define SMARTSIM_AI_STATS_H

#include <stddef.h>

#include "rm_api.h"

/* A fresh, zeroed entry for `name` owned by `owner` (a model or script), replacing any. */
void stats_register(const char *name, size_t name_len, int is_script, const char *backend,
                    const char *device, const char *tag, size_t tag_len, const void *owner);
/* Drop the entry `owner` registered, if it is still the current one (any thread). */
void stats_unregister(const void *owner);
/* One finished run of `owner`'s op. */
void stats_record(const void *owner, long long duration_us, long long samples, int error);

#endif
