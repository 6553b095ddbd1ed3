/*
 * Per-device run queues and their threads.  The main thread pushes blocked requests; each
 * queue thread pops one (collecting an auto-batch when the model asks for it), runs it
 * through its own worker process and unblocks the client.
 */
#define _GNU_SOURCE
#include "run_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "batching.h"
#include "clock.h"
#include "config.h"
#include "errors.h"
#include "exec_ids.h"
#include "execute.h"
#include "info.h"
#include "worker_channel.h"

typedef struct run_queue run_queue;

typedef struct queue_thread {
    run_queue *q;
    pthread_t tid;
    ai_worker worker;
    /* under pool_mu: */
    int busy;          /* running a request: only this thread touches the worker */
    int has_slot;      /* holds one of the WORKERS_MAX slots (a worker process is up) */
    long long last_ms; /* when its last request ended (idle reclaim) */
} queue_thread;

struct run_queue {
    char device[32];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ai_request *head, *tail;
    int nthreads;
    int running; /* requests popped and not finished yet (under mu) */
    int eager;   /* the CPU queue: workers start at load and stay while objects are gone */
    queue_thread *threads;
    run_queue *next;
};

/* Lock order: a queue's mu, then pool_mu (then exec_ids.c's own).  pool_mu guards the queue
 * list (written by the main thread) and the worker slots. */
/* How long a device's workers outlive its last model or script.  A store that fails (bad
 * blob, no CUDA) leaves the device without objects; a client that re-sends it, as the official
 * SmartRedis clients do when a reply takes longer than their SR_SOCKET_TIMEOUT (250 ms; a new
 * worker's first backend import takes about a second), finds the worker started and gets the
 * error at once, instead of each attempt starting, and timing out on, a worker of its own.  They
 * re-send 1 s (SR_CMD_INTERVAL) after giving up. */
#define AI_EMPTY_DEVICE_GRACE_MS 3000

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static run_queue *queues;
static int slots_used;


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
    if (!r->bc) { /* a background load (request.h) */
        r->detached_done(r);
        return;
    }
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
    return r->timeout_ms > 0 && now - r->enqueue_ms >= r->timeout_ms;
}

/* Answer +TIMEDOUT to every queued request past its TIMEOUT; q->mu is held. */
static void expire_locked(run_queue *q, long long now) {
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
}

#define MAX_BATCH 1024

/* Pop the next runnable set of requests (1, or a batch); the lock is held. Returns 0 when
 * nothing is runnable yet (parked batches), setting *wait_short. */
static size_t pop_locked(run_queue *q, ai_request **out, int *wait_short) {
    long long now = ai_now_ms();
    expire_locked(q, now);
    ai_request *lead = q->head;
    if (!lead) return 0;
    queue_remove(q, NULL, lead);
    out[0] = lead;
    size_t n = 1;
    int size = lead->batch_size;
    ai_model *m = lead->batch_size ? lead->ops[lead->batch_op].model : NULL;
    if (!m || (uint64_t)size >= m->batchsize) return 1;
    uint64_t total = (uint64_t)size;
    ai_request *prev = NULL, *r = q->head;
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

/* ---------------------------------------------------------------- worker slots */

/* Stop t's worker and give its slot back; pool_mu is held and t is not busy. */
static void reclaim_locked(queue_thread *t, const char *why) {
    if (!t->has_slot) return;
    pid_t pid = t->worker.pid;
    worker_kill(&t->worker, NULL, 0);
    t->has_slot = 0;
    slots_used--;
    if (pid > 0)
        worker_log("worker process %d for device %s stopped (%s); it restarts on demand",
                   (int)pid, t->worker.device, why);
}

/* Mark t busy and make sure it holds a slot (taking an idle worker's when all are used) and
 * a live worker.  Returns 0, or -1 with the reason in err. */
static int acquire_worker(queue_thread *t, char *err, size_t errlen) {
    pthread_mutex_lock(&pool_mu);
    t->busy = 1;
    if (!t->has_slot) {
        if (slots_used >= ai_config.workers_max) {
            queue_thread *victim = NULL;
            for (run_queue *q = queues; q; q = q->next)
                for (int i = 0; i < q->nthreads; i++) {
                    queue_thread *o = &q->threads[i];
                    if (o != t && o->has_slot && !o->busy &&
                        (!victim || o->last_ms < victim->last_ms))
                        victim = o;
                }
            if (!victim) {
                t->busy = 0;
                pthread_mutex_unlock(&pool_mu);
                snprintf(err, errlen, AI_ERR_WORKERS_BUSY_FMT, t->worker.device,
                         ai_config.workers_max);
                return -1;
            }
            reclaim_locked(victim, "WORKERS_MAX reached, its slot went to another device");
        }
        t->has_slot = 1;
        slots_used++;
    }
    pthread_mutex_unlock(&pool_mu);
    if (execute_ensure_worker(&t->worker, err, errlen) != 0) {
        pthread_mutex_lock(&pool_mu);
        t->has_slot = 0;
        slots_used--;
        t->busy = 0;
        pthread_mutex_unlock(&pool_mu);
        return -1;
    }
    return 0;
}

static void release_worker(queue_thread *t) {
    pthread_mutex_lock(&pool_mu);
    t->busy = 0;
    t->last_ms = ai_now_ms();
    pthread_mutex_unlock(&pool_mu);
}

/* Between requests (q->mu held): stop the worker when the device has had no object left for
 * AI_EMPTY_DEVICE_GRACE_MS (not the CPU queue) or it has idled past WORKER_IDLE_TIMEOUT.
 * Returns the ms until the next of those deadlines, or -1 when there is nothing to wait for. */
static long long maybe_reclaim(queue_thread *t) {
    long long wait = -1;
    pthread_mutex_lock(&pool_mu);
    if (t->has_slot && !t->busy && !t->q->head) {
        long long idle = ai_now_ms() - t->last_ms;
        long long limit = ai_config.worker_idle_timeout;
        if (!t->q->eager && ai_exec_device_objects(t->q->device) == 0) {
            if (idle >= AI_EMPTY_DEVICE_GRACE_MS)
                reclaim_locked(t, "no model or script uses its device any more");
            else
                wait = AI_EMPTY_DEVICE_GRACE_MS - idle;
        } else if (limit > 0 && idle >= limit) {
            char why[64];
            snprintf(why, sizeof why, "idle for %lld ms, WORKER_IDLE_TIMEOUT", idle);
            reclaim_locked(t, why);
        } else if (limit > 0) {
            wait = limit - idle;
        }
    }
    pthread_mutex_unlock(&pool_mu);
    return wait;
}

static void fail_request(ai_request *r, const char *msg) {
    for (size_t i = 0; i < r->nops; i++) {
        ai_op_kind k = r->ops[i].kind;
        if (k != AI_OP_TENSORSET && k != AI_OP_TENSORGET) {
            ai_op_fail(&r->ops[i], "%s", msg);
            return;
        }
    }
    if (r->nops) ai_op_fail(&r->ops[0], "%s", msg);
}

static void timed_wait_ms(run_queue *q, long long ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&q->cv, &q->mu, &ts);
}

static void *queue_main(void *arg) {
    queue_thread *t = arg;
    run_queue *q = t->q;
    char err[512];
    if (q->eager) {
        if (acquire_worker(t, err, sizeof err) != 0) worker_log("%s", err);
        release_worker(t);
    }
    ai_request *batch[MAX_BATCH];
    pthread_mutex_lock(&q->mu);
    for (;;) {
        int wait_short = 0;
        size_t n = pop_locked(q, batch, &wait_short);
        if (n == 0) {
            long long idle_wait = maybe_reclaim(t);
            if (wait_short || q->head)
                timed_wait_ms(q, 1);
            else if (idle_wait >= 0)
                timed_wait_ms(q, idle_wait + 1);
            else
                pthread_cond_wait(&q->cv, &q->mu);
            continue;
        }
        q->running++;
        pthread_mutex_unlock(&q->mu);
        if (acquire_worker(t, err, sizeof err) != 0) {
            for (size_t i = 0; i < n; i++) fail_request(batch[i], err);
        } else if (n == 1) {
            execute_request(&t->worker, batch[0]);
        } else {
            batching_execute(&t->worker, batch, n);
        }
        release_worker(t);
        for (size_t i = 0; i < n; i++) run_queue_finish(batch[i]);
        pthread_mutex_lock(&q->mu);
        q->running--;
    }
    return NULL;
}

static run_queue *find_queue(const char *device) {
    char up[32];
    ai_exec_device_name(device, up, sizeof up);
    for (run_queue *q = queues; q; q = q->next)
        if (strcmp(q->device, up) == 0) return q;
    return NULL;
}

/* A queue whose device no object names any more, with nothing queued or running, takes the new
 * device's name instead of a new queue being made: the queues (and their threads) stay as
 * many as the devices in use, whatever strings clients try.  Its workers are already stopped
 * (maybe_reclaim) or stop at once. */
static int reuse_queue(const char *device) {
    for (run_queue *q = queues; q; q = q->next) {
        if (q->eager) continue;
        pthread_mutex_lock(&q->mu);
        pthread_mutex_lock(&pool_mu);
        int idle = !q->head && q->running == 0 && ai_exec_device_objects(q->device) == 0;
        if (idle) {
            for (int i = 0; i < q->nthreads; i++) reclaim_locked(&q->threads[i], "device renamed");
            ai_exec_device_name(device, q->device, sizeof q->device);
            for (int i = 0; i < q->nthreads; i++)
                snprintf(q->threads[i].worker.device, sizeof q->threads[i].worker.device, "%s",
                         q->device);
        }
        pthread_mutex_unlock(&pool_mu);
        pthread_mutex_unlock(&q->mu);
        if (idle) return 1;
    }
    return 0;
}

static int ensure_queue(const char *device, int eager) {
    if (find_queue(device)) return 0;
    if (!eager && reuse_queue(device)) return 0;
    run_queue *q = calloc(1, sizeof *q);
    if (!q) return -1;
    ai_exec_device_name(device, q->device, sizeof q->device);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->eager = eager;
    q->nthreads = ai_config.threads_per_queue > 0 ? (int)ai_config.threads_per_queue : 1;
    q->threads = calloc((size_t)q->nthreads, sizeof *q->threads);
    if (!q->threads) return -1;
    for (int i = 0; i < q->nthreads; i++) {
        queue_thread *t = &q->threads[i];
        t->q = q;
        t->worker.fd = -1;
        t->worker.pid = -1;
        t->worker.index = i;
        t->last_ms = ai_now_ms();
        snprintf(t->worker.device, sizeof t->worker.device, "%s", q->device);
    }
    /* listed before its threads run: acquire_worker walks the list for idle workers */
    pthread_mutex_lock(&pool_mu);
    q->next = queues;
    queues = q;
    pthread_mutex_unlock(&pool_mu);
    int started = 0;
    for (int i = 0; i < q->nthreads; i++)
        if (pthread_create(&q->threads[i].tid, NULL, queue_main, &q->threads[i]) == 0) started++;
        else break;
    pthread_mutex_lock(&pool_mu);
    q->nthreads = started; /* threads not started are never busy and hold no slot */
    pthread_mutex_unlock(&pool_mu);
    return started ? 0 : -1;
}

int run_queue_ensure(const char *device) { return ensure_queue(device, 0); }
int run_queue_ensure_eager(const char *device) { return ensure_queue(device, 1); }

/* TIMEOUT: a timer per request wakes the main thread at its deadline to answer it if it is
 * still queued, whatever the queue's threads are running. */
static void on_deadline(RedisModuleCtx *ctx, void *data) {
    (void)ctx;
    run_queue *q = data;
    pthread_mutex_lock(&q->mu);
    expire_locked(q, ai_now_ms());
    pthread_mutex_unlock(&q->mu);
}

int run_queue_push(RedisModuleCtx *ctx, const char *device, ai_request *r) {
    if (run_queue_ensure(device) != 0) return -1;
    run_queue *q = find_queue(device);
    if (!q || q->nthreads == 0) return -1;
    r->enqueue_ms = ai_now_ms();
    r->batch_size = batching_size(r);
    pthread_mutex_lock(&q->mu);
    queue_append(q, r);
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    if (r->timeout_ms > 0) RedisModule_CreateTimer(ctx, r->timeout_ms + 1, on_deadline, q);
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

void run_queue_wake(const char *device) {
    pthread_mutex_lock(&pool_mu);
    run_queue *q = find_queue(device);
    pthread_mutex_unlock(&pool_mu);
    if (q) { /* the device's last object is gone: let its threads stop their workers */
        pthread_mutex_lock(&q->mu);
        pthread_cond_broadcast(&q->cv);
        pthread_mutex_unlock(&q->mu);
    }
}
