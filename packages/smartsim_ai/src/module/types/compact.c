#define _GNU_SOURCE /* pthread_setname_np */
#include "compact.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "config.h"
#include "keyspace.h"
#include "tensor_type.h"

/* ------------------------------------------------------------- main thread: candidates */

typedef struct candidate {
    struct candidate *next;
    RedisModuleString *key; /* our copy of the name */
    int db;
    long long due_ms;
} candidate;

static candidate *cand_head, **cand_tail = &cand_head; /* in order of due_ms */
static size_t ncand;
static int timer_armed;
static ai_compact_stats stats;

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether t's data sits in a server string much bigger than the data. */
static size_t held_bytes(const ai_tensor *t) {
    if (!t->owner) return 0;
    size_t held = ai_tensor_owner_size(t->owner);
    return held >= t->nbytes + AI_COMPACT_MIN_SLACK ? held : 0;
}

static void on_timer(RedisModuleCtx *ctx, void *unused);

static void arm_timer(RedisModuleCtx *ctx, long long in_ms) {
    if (timer_armed) return;
    RedisModule_CreateTimer(ctx, in_ms < 0 ? 0 : in_ms, on_timer, NULL);
    timer_armed = 1;
}

/* Offers are deduplicated by a hint in the tensor: AI_TENSOR_F_CANDIDATE plus the epoch
 * (6 bits; an epoch is the delay + EPOCH_SLACK_MS) in which its entry was made.  A hot key
 * rewritten in place thus gets one entry per delay, not one per write.  The hint is never
 * trusted beyond that: a flag more than one epoch old is stale (its entry was used up
 * without finding the tensor: renamed, moved, SWAPDB) and a new entry is made. */
#define EPOCH_SLACK_MS 250
#define EPOCH_SHIFT 2
#define EPOCH_MASK 63u

static unsigned epoch_now(void) {
    return (unsigned)(now_ms() / (ai_config.tensor_compaction_delay + EPOCH_SLACK_MS)) & EPOCH_MASK;
}

void ai_compact_offer(RedisModuleCtx *ctx, RedisModuleString *key, ai_tensor *t) {
    if (ai_config.tensor_compaction_delay < 0) return;
    unsigned epoch = epoch_now();
    if ((t->flags & AI_TENSOR_F_CANDIDATE) &&
        ((epoch - (unsigned)(t->flags >> EPOCH_SHIFT)) & EPOCH_MASK) <= 1) {
        return; /* its entry is still waiting */
    }
    if (!held_bytes(t) || ncand >= AI_COMPACT_MAX_CANDIDATES) return;
    candidate *c = ai_alloc(sizeof *c);
    if (!c) return;
    c->key = RedisModule_CreateStringFromString(NULL, key); /* argv is the server's */
    c->db = RedisModule_GetSelectedDb(ctx);
    c->due_ms = now_ms() + ai_config.tensor_compaction_delay;
    c->next = NULL;
    *cand_tail = c;
    cand_tail = &c->next;
    ncand++;
    t->flags = (uint8_t)((t->flags & AI_TENSOR_F_LENT) | AI_TENSOR_F_CANDIDATE |
                         (epoch << EPOCH_SHIFT));
    arm_timer(ctx, ai_config.tensor_compaction_delay);
}

/* The tensor under the candidate's key now, whichever it is (one stored since is checked
 * as well: it is as much worth compacting). */
static ai_tensor *candidate_tensor(RedisModuleCtx *ctx, const candidate *c) {
    if (RedisModule_SelectDb(ctx, c->db) != REDISMODULE_OK) return NULL;
    return ai_key_peek_value(ctx, c->key, ai_tensor_type);
}

/* ---------------------------------------------------------------- jobs and the thread */

typedef struct job {
    struct job *next;
    ai_tensor *t; /* one reference, dropped by the thread once the main thread is done */
    void *owner;  /* t->owner when queued; after finish(), the string to free (or NULL) */
    size_t held;  /* its size in the allocator */
    char *copy;   /* the exact block, made by the compactor thread, or NULL */
} job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    job *todo;            /* from the main thread: to copy */
    job *done;            /* copied, back to the main thread */
    job *trash;           /* finished by the main thread: what it holds is freed here */
    int notified;         /* a main-thread callback is scheduled for `done` */
    int started, failed;  /* the thread */
    size_t jobs, bytes;   /* not freed yet: how many, and the blocks they hold */
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, NULL, 0, 0, 0, 0, 0};

/* Compactor thread: the copy, or none when it would be wasted. */
static void copy_one(job *j) {
    /* The job holds the only reference: the key was overwritten or deleted meanwhile. */
    if (__atomic_load_n(&j->t->refcount, __ATOMIC_ACQUIRE) == 1) return;
    /* data and nbytes are stable: the job's reference makes the tensor shared, and a shared
     * tensor is never rewritten (ai_tensor_overwrite); only finish() moves data. */
    size_t n = j->t->nbytes;
    char *copy = ai_alloc(n);
    if (!copy) return;
    if (ai_malloc_size(copy) + AI_COMPACT_MIN_GAIN > j->held) {
        ai_free(copy); /* this allocator rounds an exact block up as much */
        return;
    }
    memcpy(copy, j->t->data, n);
    j->copy = copy;
}

/* Compactor thread: the big frees (and the allocator's page purging that comes with them,
 * madvise: measured at 8% of the main thread's time when done there) stay off the main
 * thread.  Freeing a string only this module still holds is safe from any thread, as the
 * server's own lazy free does.  (Valkey 8's I/O threads free a command's arguments, but not
 * the retained ones: the server drops its reference to those on the main thread first.) */
static void free_trash(job *list, size_t *n, size_t *bytes) {
    *n = *bytes = 0;
    while (list) {
        job *j = list;
        list = j->next;
        if (j->owner) ai_tensor_owner_release(j->owner);
        ai_free(j->copy);
        ai_tensor_decref(j->t); /* may be the last reference: the key moved on */
        (*n)++;
        *bytes += j->held;
        ai_free(j);
    }
}

/* Background work only: the thread runs when a CPU is otherwise idle (SCHED_IDLE), so
 * that it never takes time from the server or its clients; the main thread keeps at most
 * AI_COMPACT_MAX_JOBS (AI_COMPACT_MAX_BYTES) in flight while it waits. */
static void become_idle_class(void) {
    struct sched_param none = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
}

static void finish(void *unused);

static void *compactor_main(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "ai-compact");
    become_idle_class();
    pthread_mutex_lock(&q.lock);
    for (;;) {
        while (!q.todo && !q.trash) pthread_cond_wait(&q.wake, &q.lock);
        job *batch = q.todo, *trash = q.trash;
        q.todo = q.trash = NULL;
        pthread_mutex_unlock(&q.lock);
        size_t freed, freed_bytes;
        free_trash(trash, &freed, &freed_bytes);
        job *last = batch;
        for (job *j = batch; j; j = j->next) {
            copy_one(j);
            last = j;
        }
        pthread_mutex_lock(&q.lock);
        q.jobs -= freed;
        q.bytes -= freed_bytes;
        if (!batch) continue;
        last->next = q.done;
        q.done = batch;
        if (!q.notified) {
            q.notified = 1;
            pthread_mutex_unlock(&q.lock);
            int rc = RedisModule_EventLoopAddOneShot(finish, NULL);
            pthread_mutex_lock(&q.lock);
            if (rc != REDISMODULE_OK) {
                /* Left in `done` (counted, so the main thread stops making jobs); the next
                 * batch asks again. */
                q.notified = 0;
                RedisModule_Log(NULL, "warning", "ai: compaction could not reach the main thread");
            }
        }
    }
    return NULL;
}

/* Main thread: swaps in the copies that are still safe to use, then hands every job back
 * to the thread with what is left to free. */
static void finish(void *unused) {
    (void)unused;
    pthread_mutex_lock(&q.lock);
    job *list = q.done;
    q.done = NULL;
    q.notified = 0;
    pthread_mutex_unlock(&q.lock);
    job *last = list;
    for (job *j = list; j; j = j->next) {
        ai_tensor *t = j->t;
        last = j;
        /* Two references (its key, this job) and none lent to a request since the job was
         * made: nothing off the main thread can be reading t->data. */
        if (j->copy && __atomic_load_n(&t->refcount, __ATOMIC_ACQUIRE) == 2 &&
            !(t->flags & AI_TENSOR_F_LENT) && t->owner == j->owner) {
            t->data = j->copy;
            t->owner = NULL;
            stats.compacted++;
            stats.freed_bytes += j->held - ai_malloc_size(j->copy);
            j->copy = NULL; /* the tensor's now; j->owner is the string to free */
        } else {
            if (j->copy) stats.dropped++;
            j->owner = NULL; /* still the tensor's */
        }
    }
    if (!list) return;
    pthread_mutex_lock(&q.lock);
    last->next = q.trash;
    q.trash = list;
    pthread_cond_signal(&q.wake);
    pthread_mutex_unlock(&q.lock);
}

/* Under q.lock. */
static int start_thread(void) {
    if (q.started) return 0;
    if (q.failed) return -1;
    pthread_t tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&tid, &attr, compactor_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        q.failed = 1;
        RedisModule_Log(NULL, "warning",
                        "ai: cannot start the tensor compaction thread; big tensors keep the "
                        "server's argument blocks");
        return -1;
    }
    q.started = 1;
    return 0;
}

/* Hands the jobs (a list) to the compactor thread; frees them when it cannot run. */
static void submit(job *list, size_t n, size_t bytes) {
    pthread_mutex_lock(&q.lock);
    if (start_thread() != 0) {
        pthread_mutex_unlock(&q.lock);
        while (list) {
            job *j = list;
            list = j->next;
            ai_tensor_decref(j->t);
            ai_free(j);
        }
        return;
    }
    job **tail = &list;
    while (*tail) tail = &(*tail)->next;
    *tail = q.todo;
    q.todo = list;
    q.jobs += n;
    q.bytes += bytes;
    pthread_cond_signal(&q.wake);
    pthread_mutex_unlock(&q.lock);
}

/* Main thread: looks up the candidates that are due and makes jobs of those still worth it. */
static void on_timer(RedisModuleCtx *ctx, void *unused) {
    (void)unused;
    timer_armed = 0;
    long long now = now_ms();
    pthread_mutex_lock(&q.lock);
    size_t jobs_out = q.jobs, bytes_out = q.bytes;
    pthread_mutex_unlock(&q.lock);
    job *jobs = NULL;
    size_t njobs = 0, nbytes = 0;
    int throttled = 0;
    for (int budget = AI_COMPACT_BATCH; cand_head && cand_head->due_ms <= now && budget; budget--) {
        if (jobs_out + njobs > 0 && (jobs_out + njobs >= AI_COMPACT_MAX_JOBS ||
                                     bytes_out + nbytes >= AI_COMPACT_MAX_BYTES)) {
            throttled = 1; /* the thread is behind: candidates wait, as names only */
            break;
        }
        candidate *c = cand_head;
        cand_head = c->next;
        if (!cand_head) cand_tail = &cand_head;
        ncand--;
        ai_tensor *t = candidate_tensor(ctx, c);
        RedisModule_FreeString(NULL, c->key);
        ai_free(c);
        if (!t) continue;
        t->flags &= (uint8_t)~AI_TENSOR_F_CANDIDATE;
        size_t held = held_bytes(t);
        /* Only its key holds it: no request is reading it now; watch for one from here on. */
        if (!held || __atomic_load_n(&t->refcount, __ATOMIC_ACQUIRE) != 1) continue;
        job *j = ai_calloc(1, sizeof *j);
        if (!j) continue;
        t->flags &= (uint8_t)~AI_TENSOR_F_LENT;
        j->t = ai_tensor_incref(t);
        j->owner = t->owner;
        j->held = held;
        j->next = jobs;
        jobs = j;
        njobs++;
        nbytes += held;
    }
    if (jobs) submit(jobs, njobs, nbytes);
    if (cand_head) {
        long long wait = throttled ? 10 : cand_head->due_ms <= now ? 1 : cand_head->due_ms - now;
        arm_timer(ctx, wait);
    }
}

ai_compact_stats ai_compact_get_stats(void) {
    ai_compact_stats s = stats;
    pthread_mutex_lock(&q.lock);
    s.waiting = ncand + q.jobs;
    pthread_mutex_unlock(&q.lock);
    return s;
}
