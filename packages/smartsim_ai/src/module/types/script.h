/*
 * The stored script (AI_SCRIPT): device, tag, TorchScript source and entry
 * points, as AI.SCRIPTSTORE / AI.SCRIPTSET keep them.  Pure data, no module calls.
 */
#ifndef SMARTSIM_AI_SCRIPT_H
#define SMARTSIM_AI_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

typedef struct ai_script {
    uint32_t refcount; /* atomic */
    char *device;      /* as typed, NUL-terminated */
    char *tag;         /* NUL-terminated, tag_len bytes */
    size_t tag_len;
    char *source; /* NUL-terminated, source_len bytes (returned byte-identical) */
    size_t source_len;
    size_t n_entry_points; /* 0 for AI.SCRIPTSET scripts */
    char **entry_points;
    void *exec; /* owned by the execution layer; released through ai_script_release_hook */
} ai_script;

/* A script with copies of every string given (entry_points may be NULL when n is 0). */
ai_script *ai_script_new(const char *device, const char *tag, size_t tag_len, const char *source,
                         size_t source_len, size_t n_entry_points, char **entry_points);

ai_script *ai_script_incref(ai_script *s);
void ai_script_decref(ai_script *s); /* frees at zero (calls ai_script_release_hook first) */
size_t ai_script_mem_usage(const ai_script *s);

/* The execution layer's hooks for scripts: as ai_model_prepare_hook and ai_model_release_hook
 * (model.h) are for models. */
struct RedisModuleCtx;
struct RedisModuleString;
typedef int (*ai_script_prepare_fn)(struct RedisModuleCtx *ctx,
                                    const struct RedisModuleString *key, ai_script *script,
                                    char **err);
extern ai_script_prepare_fn ai_script_prepare_hook;
extern void (*ai_script_release_hook)(ai_script *script);

#endif
