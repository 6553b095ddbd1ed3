/*
 * Auto-batching (RedisAI's rules): requests for the same model object whose inputs agree in
 * every dim but the first are concatenated on dim 0, run once, and the outputs sliced back.
 */
#ifndef SMARTSIM_AI_BATCHING_H
#define SMARTSIM_AI_BATCHING_H

#include "request.h"
#include "worker_channel.h"

/* dim 0 shared by every input of the request's batchable op, or 0 when it is not batchable
 * (not exactly one model op and no script op, BATCHSIZE 0, or inputs disagree on dim 0).
 * Records the op's index in r->batch_op. */
int batching_size(ai_request *r);

/* Can `c` join a batch led by `lead`?  (same model object, input count, ndims, dims 1..n) */
int batching_compatible(const ai_request *lead, const ai_request *c);

/* Run `n` compatible requests as one batch through the worker; results go to each op. */
void batching_execute(ai_worker *w, ai_request **reqs, size_t n);

#endif
