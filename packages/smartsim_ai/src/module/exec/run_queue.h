/*
 * Run queues: one FIFO per device string (upper-cased), each served by THREADS_PER_QUEUE
 * threads; every thread owns one Python worker process (worker_channel.h) and runs the
 * requests it pops through it, restarting the worker when it dies.
 */
#ifndef SMARTSIM_AI_RUN_QUEUE_H
#define SMARTSIM_AI_RUN_QUEUE_H

#include <stdint.h>

#include "exec_ids.h" /* the object ids commands give their models and scripts */
#include "request.h"
#include "rm_api.h"

/* Create `device`'s queue if it does not exist yet (main thread).  Its workers start on the
 * first request (`eager`: now, as the CPU queue at load). */
int run_queue_ensure(const char *device);
int run_queue_ensure_eager(const char *device);
/* Append a request; its client is already blocked.  Returns -1 when no queue could be made.
 * A request with a TIMEOUT is answered +TIMEDOUT at its deadline if still queued then. */
int run_queue_push(RedisModuleCtx *ctx, const char *device, ai_request *r);
/* Hand a finished request back to the main thread (UnblockClient), or to its detached_done
 * when it has no client. */
void run_queue_finish(ai_request *r);
/* `device` has no model or script left (ai_exec_release): wake its queue's threads so that
 * they stop their workers (any thread). */
void run_queue_wake(const char *device);

/* INFO MODULES ai_cpu: per worker thread CPU (queue_<DEVICE>_bthread_n<i>_used_cpu_total). */
void run_queue_info_cpu(RedisModuleInfoCtx *ctx);

#endif
