#define _GNU_SOURCE
#include "alloc.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "rm_api.h"

static size_t libc_malloc_size(void *ptr) { return malloc_usable_size(ptr); }

void *(*ai_alloc)(size_t) = malloc;
void *(*ai_calloc)(size_t, size_t) = calloc;
void *(*ai_realloc)(void *, size_t) = realloc;
void (*ai_free)(void *) = free;
size_t (*ai_malloc_size)(void *) = libc_malloc_size;

void ai_alloc_use_server(void) {
    ai_alloc = RedisModule_Alloc;
    ai_calloc = RedisModule_Calloc;
    ai_realloc = RedisModule_Realloc;
    ai_free = RedisModule_Free;
    ai_malloc_size = RedisModule_MallocSize;
}

char *ai_strndup(const char *s, size_t len) {
    char *copy = ai_alloc(len + 1);
    if (len) memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}
