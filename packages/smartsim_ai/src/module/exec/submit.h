/* Submitting requests: the top of the execution layer (submit.c), called by the commands. */
#ifndef SMARTSIM_AI_SUBMIT_H
#define SMARTSIM_AI_SUBMIT_H

#include "request.h"
#include "rm_api.h"

/* Block the client and queue the request on `device`'s run queue; replies an error and frees
 * the request when that is impossible.  Always returns REDISMODULE_OK (for the handler).
 * A STORE where the client cannot block is published at once and loaded in the background
 * (submit.c, store_without_waiting). */
int ai_request_submit(RedisModuleCtx *ctx, ai_request *r, const char *device);

/* A request queued without a client (bc == NULL: a background load after such a store) has
 * run: log its error or publish the names its backend derived, then free it (any thread).
 * Whoever queues such a request sets it as its detached_done. */
void ai_request_detached_done(ai_request *r);

#endif
