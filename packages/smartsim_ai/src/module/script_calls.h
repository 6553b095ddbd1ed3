/*
 * Scripts' calls back into the server while they run in a worker: redis.execute(...) runs a
 * command under the server lock (RedisModule_Call, replicated with "!"), and
 * redisAI.model_execute(...) looks a model up and sends it to the worker, which runs it.
 * Run-queue threads only.
 */
#ifndef SMARTSIM_AI_SCRIPT_CALLS_H
#define SMARTSIM_AI_SCRIPT_CALLS_H

#include "request.h"
#include "worker_channel.h"

typedef struct script_calls {
    RedisModuleBlockedClient *bc; /* the script's client: its database is used */
    RedisModuleCtx *ctx;          /* thread-safe context, made on first use */
    size_t nmodels, cap;
    ai_model **models; /* references held until the script op ends */
} script_calls;

/* Answer one callback message (type, payload in r) on w; 0 ok, -1 channel broken. */
int script_calls_serve(script_calls *sc, ai_worker *w, int type, rbuf *r);
/* Release the context and the held models. */
void script_calls_end(script_calls *sc);

#endif
