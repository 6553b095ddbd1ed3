/*
 * Run queues: one FIFO per device string (upper-cased), each served by THREADS_PER_QUEUE
 * threads; every thread owns one Python worker process (worker_channel.h) and runs the
 * requests it pops through it, restarting the worker when it dies.
 */
#ifndef SMARTSIM_AI_RUN_QUEUE_H
#define SMARTSIM_AI_RUN_QUEUE_H

#include <stdint.h>

#include "request.h"
#include "rm_api.h"

/* Create `device`'s queue if it does not exist yet (main thread).  Its workers start on the
 * first request (`eager`: now, as the CPU queue at load). */
int run_queue_ensure(const char *device);
int run_queue_ensure_eager(const char *device);
/* Append a request; its client is already blocked.  Returns -1 when no queue could be made.
 * A request with a TIMEOUT is answered +TIMEDOUT at its deadline if still queued then. */
int run_queue_push(RedisModuleCtx *ctx, const char *device, ai_request *r);
/* Hand a finished request back to the main thread (UnblockClient). */
void run_queue_finish(ai_request *r);

/* INFO MODULES ai_cpu: per worker thread CPU (queue_<DEVICE>_bthread_n<i>_used_cpu_total). */
void run_queue_info_cpu(RedisModuleInfoCtx *ctx);

/* Worker-side object ids: a model/script is known to workers by a process-unique id kept in
 * its `exec` field. */
uint64_t ai_exec_model_id(ai_model *m);
uint64_t ai_exec_script_id(ai_script *s);
/* An object's worker state is being freed (its device may now have none left). */
void ai_exec_release_id(void *exec);
/* Tell every worker to drop the object (called when the object is freed; any thread). */
void ai_exec_forget(uint64_t id);
/* Ids freed since `*cursor`; returns how many were copied into out (at most cap). */
size_t ai_exec_forgotten(size_t *cursor, uint64_t *out, size_t cap);

#endif
