/*
 * The stored model (AI__MODEL): what AI.MODELSTORE keeps and RDB/AOF persist.
 * Pure data, no module calls (memory from alloc.h).  Running a model is the
 * execution layer's business: it keeps its own state in `exec` and is called through the two
 * hooks at the end of this file.
 */
#ifndef SMARTSIM_AI_MODEL_H
#define SMARTSIM_AI_MODEL_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    AI_BACKEND_TF = 0,
    AI_BACKEND_TFLITE = 1,
    AI_BACKEND_TORCH = 2,
    AI_BACKEND_ONNX = 3,
    AI_BACKEND_COUNT
} ai_backend;

/* Canonical names ("TF", "TFLITE", "TORCH", "ONNX"). */
extern const char *const ai_backend_names[AI_BACKEND_COUNT];
/* Case-insensitive name -> backend; 0 on success, -1 when unknown. */
int ai_backend_parse(const char *name, size_t len, ai_backend *out);

typedef struct ai_model {
    uint32_t refcount; /* atomic */
    ai_backend backend;
    char *device; /* as the user typed it, NUL-terminated */
    char *tag;    /* may hold any bytes; tag_len counts them (NUL-terminated too) */
    size_t tag_len;
    uint64_t batchsize;
    uint64_t minbatchsize;
    uint64_t minbatchtimeout; /* ms */
    size_t ninputs;
    char **inputs; /* NUL-terminated names */
    size_t noutputs;
    char **outputs;
    char *blob; /* the model's bytes as the user sent them, one allocation */
    size_t blob_len;
    void *exec; /* owned by the execution layer; released through ai_model_release_hook */
} ai_model;

/* A model with copies of every string given; `blob` is adopted (allocated with ai_alloc).
 * names may be NULL when the count is 0. */
ai_model *ai_model_new(ai_backend backend, const char *device, const char *tag, size_t tag_len,
                       uint64_t batchsize, uint64_t minbatchsize, uint64_t minbatchtimeout,
                       size_t ninputs, char **inputs, size_t noutputs, char **outputs, char *blob,
                       size_t blob_len);

/* Replaces the input/output names (copies them); used by a backend that derives them. */
void ai_model_set_names(ai_model *m, size_t ninputs, const char *const *inputs, size_t noutputs,
                        const char *const *outputs);

ai_model *ai_model_incref(ai_model *m);
void ai_model_decref(ai_model *m); /* frees at zero (calls ai_model_release_hook first) */

/* Bytes held in the allocator. */
size_t ai_model_mem_usage(const ai_model *m);

/* Free a NUL-terminated string array of n entries (NULL-safe). */
void ai_free_names(char **names, size_t n);

/* The execution layer's hooks for models, set by its ai_exec_onload (exec/exec_main.c); until
 * then storage just keeps the payload (RDB-loaded models are stored as they are).
 *
 * prepare: called when a model is loaded from RDB (or RESTOREd) under `key`: validate it with
 * a worker, derive its input/output names, register its AI.INFO stats, create its device
 * queue.  Return 0 to accept; non-zero rejects the load (RDB load then fails, as RedisAI's did
 * when a model could not be rebuilt), after logging `*err` if set (an ai_alloc'ed string the
 * caller frees).
 *
 * release: called once when the last reference goes, before the memory is freed, to release
 * `exec` (and the AI.INFO stats entry).  May run on a server background thread (FLUSHALL
 * ASYNC, lazyfree) or a worker thread holding the last reference: it must be thread-safe. */
struct RedisModuleCtx;
struct RedisModuleString;
typedef int (*ai_model_prepare_fn)(struct RedisModuleCtx *ctx,
                                   const struct RedisModuleString *key, ai_model *model,
                                   char **err);
extern ai_model_prepare_fn ai_model_prepare_hook;
extern void (*ai_model_release_hook)(ai_model *model);

#endif
