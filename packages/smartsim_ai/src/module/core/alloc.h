/*
 * The allocator the pure cores (tensor.c, model.c, script.c) use.  They start
 * on libc and are switched to the server's allocator (RedisModule_Alloc...) by
 * ai_alloc_use_server() at module load, so the server accounts every byte
 * (INFO memory, MEMORY USAGE, maxmemory).
 */
#ifndef SMARTSIM_AI_ALLOC_H
#define SMARTSIM_AI_ALLOC_H

#include <stddef.h>

extern void *(*ai_alloc)(size_t size);
extern void *(*ai_calloc)(size_t n, size_t size);
extern void *(*ai_realloc)(void *ptr, size_t size);
extern void (*ai_free)(void *ptr);
extern size_t (*ai_malloc_size)(void *ptr);

/* Route every allocation of the cores through the server (call once in OnLoad). */
void ai_alloc_use_server(void);

/* A NUL-terminated copy of `len` bytes of `s`. */
char *ai_strndup(const char *s, size_t len);

#endif
