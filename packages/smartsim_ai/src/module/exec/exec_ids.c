/*
 * The worker-side object id registry (exec_ids.h).
 */
#include "exec_ids.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

typedef struct exec_obj {
    uint64_t id;
    char device[32]; /* upper-cased: whose queue may stop its workers when none is left */
} exec_obj;

typedef struct device_objects {
    char device[32];
    long n;
    struct device_objects *next;
} device_objects;

/* ids_mu guards the per-device counts; taken last (run_queue.c holds its locks around
 * ai_exec_device_objects). */
static pthread_mutex_t ids_mu = PTHREAD_MUTEX_INITIALIZER;
static device_objects *objects; /* live models/scripts (with a worker id) per device */
static uint64_t next_obj_id = 1;

void ai_exec_device_name(const char *device, char *out, size_t cap) {
    size_t i = 0;
    for (; device[i] && i + 1 < cap; i++) out[i] = (char)toupper((unsigned char)device[i]);
    out[i] = '\0';
}

long ai_exec_device_objects(const char *device) {
    long n = 0;
    pthread_mutex_lock(&ids_mu);
    for (device_objects *d = objects; d; d = d->next)
        if (strcmp(d->device, device) == 0) n = d->n;
    pthread_mutex_unlock(&ids_mu);
    return n;
}

/* Returns 1 when the device's last object went. */
static int count_object(const char *device, long delta) {
    int emptied = 0;
    pthread_mutex_lock(&ids_mu);
    device_objects *d = objects;
    while (d && strcmp(d->device, device) != 0) d = d->next;
    if (!d && delta > 0 && (d = calloc(1, sizeof *d)) != NULL) {
        snprintf(d->device, sizeof d->device, "%s", device);
        d->next = objects;
        objects = d;
    }
    if (d) d->n += delta;
    if (d && d->n <= 0) {
        emptied = 1;
        device_objects **p = &objects;
        while (*p != d) p = &(*p)->next;
        *p = d->next;
        free(d);
    }
    pthread_mutex_unlock(&ids_mu);
    return emptied;
}

static uint64_t ensure_id(void **exec, const char *device) {
    if (!*exec) {
        exec_obj *o = ai_calloc(1, sizeof *o);
        o->id = __atomic_fetch_add(&next_obj_id, 1, __ATOMIC_RELAXED);
        ai_exec_device_name(device ? device : "", o->device, sizeof o->device);
        count_object(o->device, 1);
        *exec = o;
    }
    return ((exec_obj *)*exec)->id;
}

uint64_t ai_exec_model_id(ai_model *m) { return ensure_id(&m->exec, m->device); }
uint64_t ai_exec_script_id(ai_script *s) { return ensure_id(&s->exec, s->device); }

static pthread_mutex_t forgotten_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *forgotten;
static size_t n_forgotten, cap_forgotten;

static void forget(uint64_t id) {
    pthread_mutex_lock(&forgotten_mu);
    if (n_forgotten == cap_forgotten) {
        size_t cap = cap_forgotten ? 2 * cap_forgotten : 64;
        uint64_t *grown = realloc(forgotten, cap * sizeof *grown);
        if (grown) forgotten = grown, cap_forgotten = cap;
    }
    if (n_forgotten < cap_forgotten) forgotten[n_forgotten++] = id;
    pthread_mutex_unlock(&forgotten_mu);
}

int ai_exec_release(void **exec) {
    exec_obj *o = *exec;
    if (!o) return 0;
    forget(o->id);
    int emptied = count_object(o->device, -1);
    ai_free(o);
    *exec = NULL;
    return emptied;
}

size_t ai_exec_forgotten(size_t *cursor, uint64_t *out, size_t cap) {
    pthread_mutex_lock(&forgotten_mu);
    size_t n = 0;
    while (*cursor < n_forgotten && n < cap) out[n++] = forgotten[(*cursor)++];
    pthread_mutex_unlock(&forgotten_mu);
    return n;
}
