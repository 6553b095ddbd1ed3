#include "model.h"

#include <string.h>
#include <strings.h>

#include "alloc.h"

ai_model_prepare_fn ai_model_prepare_hook = NULL;
void (*ai_model_release_hook)(ai_model *model) = NULL;

const char *const ai_backend_names[AI_BACKEND_COUNT] = {"TF", "TFLITE", "TORCH", "ONNX"};

int ai_backend_parse(const char *name, size_t len, ai_backend *out) {
    for (int i = 0; i < AI_BACKEND_COUNT; i++) {
        if (strlen(ai_backend_names[i]) == len && strncasecmp(name, ai_backend_names[i], len) == 0) {
            *out = (ai_backend)i;
            return 0;
        }
    }
    return -1;
}

static char **copy_names(size_t n, const char *const *names) {
    if (n == 0) return NULL;
    char **copy = ai_alloc(n * sizeof(char *));
    for (size_t i = 0; i < n; i++) copy[i] = ai_strndup(names[i], strlen(names[i]));
    return copy;
}

void ai_free_names(char **names, size_t n) {
    if (!names) return;
    for (size_t i = 0; i < n; i++) ai_free(names[i]);
    ai_free(names);
}

ai_model *ai_model_new(ai_backend backend, const char *device, const char *tag, size_t tag_len,
                       uint64_t batchsize, uint64_t minbatchsize, uint64_t minbatchtimeout,
                       size_t ninputs, char **inputs, size_t noutputs, char **outputs, char *blob,
                       size_t blob_len) {
    ai_model *m = ai_calloc(1, sizeof(*m));
    m->refcount = 1;
    m->backend = backend;
    m->device = ai_strndup(device, strlen(device));
    m->tag = ai_strndup(tag ? tag : "", tag ? tag_len : 0);
    m->tag_len = tag ? tag_len : 0;
    m->batchsize = batchsize;
    m->minbatchsize = minbatchsize;
    m->minbatchtimeout = minbatchtimeout;
    m->ninputs = ninputs;
    m->inputs = copy_names(ninputs, (const char *const *)inputs);
    m->noutputs = noutputs;
    m->outputs = copy_names(noutputs, (const char *const *)outputs);
    m->blob = blob;
    m->blob_len = blob_len;
    return m;
}

void ai_model_set_names(ai_model *m, size_t ninputs, const char *const *inputs, size_t noutputs,
                        const char *const *outputs) {
    char **in = copy_names(ninputs, inputs);
    char **out = copy_names(noutputs, outputs);
    ai_free_names(m->inputs, m->ninputs);
    ai_free_names(m->outputs, m->noutputs);
    m->inputs = in;
    m->ninputs = ninputs;
    m->outputs = out;
    m->noutputs = noutputs;
}

ai_model *ai_model_incref(ai_model *m) {
    __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED);
    return m;
}

void ai_model_decref(ai_model *m) {
    if (!m) return;
    if (__atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (ai_model_release_hook) ai_model_release_hook(m);
    ai_free(m->device);
    ai_free(m->tag);
    ai_free_names(m->inputs, m->ninputs);
    ai_free_names(m->outputs, m->noutputs);
    if (m->blob) ai_free(m->blob);
    ai_free(m);
}

static size_t names_usage(char **names, size_t n) {
    if (!names) return 0;
    size_t total = ai_malloc_size(names);
    for (size_t i = 0; i < n; i++) total += ai_malloc_size(names[i]);
    return total;
}

size_t ai_model_mem_usage(const ai_model *m) {
    size_t total = ai_malloc_size((void *)m) + ai_malloc_size(m->device) + ai_malloc_size(m->tag);
    total += names_usage(m->inputs, m->ninputs) + names_usage(m->outputs, m->noutputs);
    if (m->blob) total += ai_malloc_size(m->blob);
    return total;
}
