#include "script.h"

#include <string.h>

#include "alloc.h"
#include "model.h" /* ai_free_names */

ai_script_prepare_fn ai_script_prepare_hook = NULL;
void (*ai_script_release_hook)(ai_script *script) = NULL;

ai_script *ai_script_new(const char *device, const char *tag, size_t tag_len, const char *source,
                         size_t source_len, size_t n_entry_points, char **entry_points) {
    ai_script *s = ai_calloc(1, sizeof(*s));
    s->refcount = 1;
    s->device = ai_strndup(device, strlen(device));
    s->tag = ai_strndup(tag ? tag : "", tag ? tag_len : 0);
    s->tag_len = tag ? tag_len : 0;
    s->source = ai_strndup(source, source_len);
    s->source_len = source_len;
    s->n_entry_points = n_entry_points;
    if (n_entry_points) {
        s->entry_points = ai_alloc(n_entry_points * sizeof(char *));
        for (size_t i = 0; i < n_entry_points; i++) {
            s->entry_points[i] = ai_strndup(entry_points[i], strlen(entry_points[i]));
        }
    }
    return s;
}

ai_script *ai_script_incref(ai_script *s) {
    __atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED);
    return s;
}

void ai_script_decref(ai_script *s) {
    if (!s) return;
    if (__atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (ai_script_release_hook) ai_script_release_hook(s);
    ai_free(s->device);
    ai_free(s->tag);
    ai_free(s->source);
    ai_free_names(s->entry_points, s->n_entry_points);
    ai_free(s);
}

size_t ai_script_mem_usage(const ai_script *s) {
    size_t total = ai_malloc_size((void *)s) + ai_malloc_size(s->device) +
                   ai_malloc_size(s->tag) + ai_malloc_size(s->source);
    if (s->entry_points) {
        total += ai_malloc_size(s->entry_points);
        for (size_t i = 0; i < s->n_entry_points; i++) total += ai_malloc_size(s->entry_points[i]);
    }
    return total;
}
