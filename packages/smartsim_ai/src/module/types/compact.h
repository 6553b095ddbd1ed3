/*
 * Background compaction of big tensors held inside the server's argument string.
 *
 * TENSORSET keeps a big BLOB argument (>= 32 KB) as the tensor's data, without a copy
 * (cmd_tensor.c): copying on the main thread would halve its throughput.  But the server
 * sized that string for the whole argument plus its headers, so under jemalloc (Redis, and
 * most Valkey builds) a 64 KB tensor sits in an 80 KB block and a 16 MB one in 20 MB: the
 * size-class rounding that a SET of the same bytes pays too.
 *
 * A tensor that still holds such a block TENSOR_COMPACTION_DELAY ms after it was stored
 * (config.h; default 1 s) is copied by one background thread into an exact block.  Back on
 * the main thread (RedisModule_EventLoopAddOneShot) the copy is swapped in if the tensor is
 * by then held by nobody but its key and the job, otherwise dropped; the thread then frees
 * the old string (or the unused copy), keeping big frees off the main thread.  The delay keeps a key overwritten many times a second from being copied
 * more than once per delay: what stays in memory is compacted, what is replaced soon is not.
 *
 * Candidates are remembered by key name, not by pointer, so a tensor deleted, overwritten
 * or flushed meanwhile is simply not found: nothing here keeps a tensor alive except a job
 * in flight.  (So a tensor renamed or moved before its turn keeps its block until it is
 * written again.)  A reference lent to a run request (AI_TENSOR_F_LENT) makes its job give up,
 * since a queue thread may then be reading the data.  Nothing is copied where the
 * allocator would not give back at least AI_COMPACT_MIN_GAIN bytes (glibc's blocks are
 * exact and its mappings page-rounded: Valkey's embedded build never qualifies).
 */
#ifndef SMARTSIM_AI_COMPACT_H
#define SMARTSIM_AI_COMPACT_H

#include "rm_api.h"
#include "tensor.h"

/* A tensor is a candidate when its block holds at least this much more than its data (two
 * jemalloc size-class steps above 32 KB; a glibc mapping's page rounding stays below). */
#define AI_COMPACT_MIN_SLACK 8192
/* Below this gain (one size-class step) the copy is not made. */
#define AI_COMPACT_MIN_GAIN 4096
/* At most this many candidates wait (beyond that a tensor keeps its block), and at most
 * this many are looked up per timer run (the rest follow 1 ms later). */
#define AI_COMPACT_MAX_CANDIDATES (1 << 20)
#define AI_COMPACT_BATCH 256
/* At most this many jobs, holding at most this many bytes of tensors, are in flight (each
 * holds a reference; one job alone may be bigger).  The thread runs at SCHED_IDLE, so on a
 * busy machine jobs wait here and candidates wait as key names. */
#define AI_COMPACT_MAX_JOBS 64
#define AI_COMPACT_MAX_BYTES (256ULL << 20)

/* Main thread (or under the server lock), after TENSORSET stored `t` under `key`: makes it
 * a candidate when its data sits in a block worth shrinking. */
void ai_compact_offer(RedisModuleCtx *ctx, RedisModuleString *key, ai_tensor *t);

typedef struct {
    unsigned long long compacted;   /* tensors whose data moved into an exact block */
    unsigned long long freed_bytes; /* bytes given back by those moves */
    unsigned long long dropped;     /* copies made but not used (tensor replaced or lent) */
    unsigned long long waiting;     /* candidates not looked at yet, and jobs in flight */
} ai_compact_stats;

/* Main thread: the counters for INFO. */
ai_compact_stats ai_compact_get_stats(void);

#endif
