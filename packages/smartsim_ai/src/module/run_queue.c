/*
 * Per-device run queues and their threads.  The main thread pushes blocked requests; each
 * queue thread pops one (collecting an auto-batch when the model asks for it), runs it
 * through its own worker process and unblocks the client.
 */
#define _GNU_SOURCE
#include "run_queue.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "batching.h"
#include "execute.h"
#include "info.h"
#include "worker_channel.h"

exec_settings g_exec_settings = {1, 5000, 0, 600000};

typedef struct run_queue run_queue;

typedef struct queue_thread {
    run_queue *q;
    pthread_t tid;
    ai_worker worker;
} queue_thread;

struct run_queue {
    char device[32];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ai_request *head, *tail;
    int nthreads;
    queue_thread *threads;
    run_queue *next;
};

static run_queue *queues; /* created and listed by the main thread only */

static void queue_append(run_queue *q, ai_request *r) {
    r->next = NULL;
    if (q->tail)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
}

static void queue_remove(run_queue *q, ai_request *prev, ai_request *r) {
    if (prev)
        prev->next = r->next;
    else
        q->head = r->next;
    if (q->tail == r) q->tail = prev;
    r->next = NULL;
}

void run_queue_finish(ai_request *r) {
    RedisModule_BlockedClientMeasureTimeEnd(r->bc);
    RedisModule_UnblockClient(r->bc, r);
}

/* CPU seconds used by a worker process (user + system), from /proc; 0 when unknown. */
static double worker_cpu_seconds(pid_t pid) {
    if (pid <= 0) return 0;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return 0;
    unsigned long long utime = 0, stime = 0;
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static int timed_out(const ai_request *r, long long now) {
    return r->timeout_ms > 0 && now - r->enqueue_ms > r->timeout_ms;
}

#define MAX_BATCH 1024

/* Pop the next runnable set of requests (1, or a batch); the lock is held. Returns 0 when
 * nothing is runnable yet (parked batches), setting *wait_short. */
static size_t pop_locked(run_queue *q, ai_request **out, int *wait_short) {
    long long now = ai_now_ms();
    /* time out whatever waited too long */
    ai_request *prev = NULL, *r = q->head;
    while (r) {
        ai_request *next = r->next;
        if (timed_out(r, now)) {
            queue_remove(q, prev, r);
            r->timed_out = 1;
            run_queue_finish(r);
        } else {
            prev = r;
        }
        r = next;
    }
    ai_request *lead = q->head;
    if (!lead) return 0;
    queue_remove(q, NULL, lead);
    out[0] = lead;
    size_t n = 1;
    int size = lead->batch_size;
    ai_model *m = lead->batch_size ? lead->ops[lead->batch_op].model : NULL;
    if (!m || (uint64_t)size >= m->batchsize) return 1;
    uint64_t total = (uint64_t)size;
    prev = NULL;
    r = q->head;
    while (r && total < m->batchsize && n < MAX_BATCH) {
        ai_request *next = r->next;
        if (r->batch_size && batching_compatible(lead, r)) {
            queue_remove(q, prev, r);
            out[n++] = r;
            total += (uint64_t)r->batch_size;
        } else {
            prev = r;
        }
        r = next;
    }
    if (m->minbatchsize > 0 && total < m->minbatchsize) {
        int expired = m->minbatchtimeout > 0 &&
                      now - lead->enqueue_ms > (long long)m->minbatchtimeout;
        if (!expired) {
            for (size_t i = 0; i < n; i++) queue_append(q, out[i]);
            *wait_short = 1;
            return 0;
        }
    }
    return n;
}

static void *queue_main(void *arg) {
    queue_thread *t = arg;
    run_queue *q = t->q;
    char err[256];
    if (execute_ensure_worker(&t->worker, err, sizeof err) != 0) {
        fprintf(stderr, "ai module: %s\n", err);
    }
    ai_request *batch[MAX_BATCH];
    pthread_mutex_lock(&q->mu);
    for (;;) {
        int wait_short = 0;
        size_t n = pop_locked(q, batch, &wait_short);
        if (n == 0) {
            if (wait_short || q->head) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 1000000;
                if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
                pthread_cond_timedwait(&q->cv, &q->mu, &ts);
            } else {
                pthread_cond_wait(&q->cv, &q->mu);
            }
            continue;
        }
        pthread_mutex_unlock(&q->mu);
        if (n == 1) {
            execute_request(&t->worker, batch[0]);
        } else {
            batching_execute(&t->worker, batch, n);
        }
        for (size_t i = 0; i < n; i++) run_queue_finish(batch[i]);
        pthread_mutex_lock(&q->mu);
    }
    return NULL;
}

static void upper_device(const char *device, char *out, size_t cap) {
    size_t i = 0;
    for (; device[i] && i + 1 < cap; i++) out[i] = (char)toupper((unsigned char)device[i]);
    out[i] = '\0';
}

static run_queue *find_queue(const char *device) {
    char up[32];
    upper_device(device, up, sizeof up);
    for (run_queue *q = queues; q; q = q->next)
        if (strcmp(q->device, up) == 0) return q;
    return NULL;
}

int run_queue_ensure(const char *device) {
    if (find_queue(device)) return 0;
    run_queue *q = calloc(1, sizeof *q);
    if (!q) return -1;
    upper_device(device, q->device, sizeof q->device);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->nthreads = g_exec_settings.threads_per_queue > 0 ? g_exec_settings.threads_per_queue : 1;
    q->threads = calloc((size_t)q->nthreads, sizeof *q->threads);
    for (int i = 0; i < q->nthreads; i++) {
        queue_thread *t = &q->threads[i];
        t->q = q;
        t->worker.fd = -1;
        t->worker.pid = -1;
        t->worker.index = i;
        snprintf(t->worker.device, sizeof t->worker.device, "%s", q->device);
        if (pthread_create(&t->tid, NULL, queue_main, t) != 0) {
            q->nthreads = i;
            break;
        }
    }
    if (q->nthreads == 0) return -1;
    q->next = queues;
    queues = q;
    return 0;
}

int run_queue_push(const char *device, ai_request *r) {
    if (run_queue_ensure(device) != 0) return -1;
    run_queue *q = find_queue(device);
    r->enqueue_ms = ai_now_ms();
    r->batch_size = batching_size(r);
    pthread_mutex_lock(&q->mu);
    queue_append(q, r);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return 0;
}

void run_queue_info_cpu(RedisModuleInfoCtx *ctx) {
    for (run_queue *q = queues; q; q = q->next) {
        for (int i = 0; i < q->nthreads; i++) {
            /* the thread's own CPU plus its worker process's, where the model really runs */
            clockid_t cid;
            struct timespec ts = {0, 0};
            if (pthread_getcpuclockid(q->threads[i].tid, &cid) == 0) clock_gettime(cid, &ts);
            double total = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 +
                           worker_cpu_seconds(q->threads[i].worker.pid);
            char name[96], val[64];
            snprintf(name, sizeof name, "queue_%s_bthread_n%d_used_cpu_total", q->device, i + 1);
            snprintf(val, sizeof val, "%.6f", total);
            ai_info_add_field(ctx, name, val); /* the device is a client's string */
        }
    }
}

/* ---------------------------------------------------------------- object ids */

typedef struct exec_obj {
    uint64_t id;
} exec_obj;

static uint64_t next_obj_id = 1;

static uint64_t ensure_id(void **exec) {
    if (!*exec) {
        exec_obj *o = ai_calloc(1, sizeof *o);
        o->id = __atomic_fetch_add(&next_obj_id, 1, __ATOMIC_RELAXED);
        *exec = o;
    }
    return ((exec_obj *)*exec)->id;
}

uint64_t ai_exec_model_id(ai_model *m) { return ensure_id(&m->exec); }
uint64_t ai_exec_script_id(ai_script *s) { return ensure_id(&s->exec); }

static pthread_mutex_t forgotten_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *forgotten;
static size_t n_forgotten, cap_forgotten;

void ai_exec_forget(uint64_t id) {
    pthread_mutex_lock(&forgotten_mu);
    if (n_forgotten == cap_forgotten) {
        size_t cap = cap_forgotten ? 2 * cap_forgotten : 64;
        uint64_t *grown = realloc(forgotten, cap * sizeof *grown);
        if (grown) forgotten = grown, cap_forgotten = cap;
    }
    if (n_forgotten < cap_forgotten) forgotten[n_forgotten++] = id;
    pthread_mutex_unlock(&forgotten_mu);
}

size_t ai_exec_forgotten(size_t *cursor, uint64_t *out, size_t cap) {
    pthread_mutex_lock(&forgotten_mu);
    size_t n = 0;
    while (*cursor < n_forgotten && n < cap) out[n++] = forgotten[(*cursor)++];
    pthread_mutex_unlock(&forgotten_mu);
    return n;
}
