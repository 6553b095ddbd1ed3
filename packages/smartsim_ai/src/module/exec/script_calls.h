/*
 * Scripts' calls back into the server while they run in a worker: redis.execute(...) runs a
 * command under the server lock (RedisModule_Call, replicated with "!"), and
 * redisAI.model_execute(...) looks a model up and sends it to the worker, which runs it.
 * Run-queue threads only, except script_calls_capture_user (main thread).
 *
 * Both run as the ACL user of the client that ran the script, with its ACL checks on commands
 * and keys, and redis.execute reaches data commands only (an allow-list; MODULE, CONFIG, ACL,
 * FLUSHALL, SHUTDOWN, ... are refused): see docs/security.md.
 */
#ifndef SMARTSIM_AI_SCRIPT_CALLS_H
#define SMARTSIM_AI_SCRIPT_CALLS_H

#include "model.h"
#include "rm_api.h"
#include "worker_channel.h"

typedef struct script_calls {
    RedisModuleBlockedClient *bc; /* the script's client: its database is used */
    const char *user;             /* its ACL user name (see capture_user), owned by the request */
    RedisModuleCtx *ctx;          /* thread-safe context, made on first use */
    size_t nmodels, cap;
    ai_model **models; /* references held until the script op ends */
} script_calls;

/* The ACL user name of the client running the command of `ctx` (main thread), allocated
 * with ai_*: NULL for a command that came over the replication link or from the AOF (checked
 * by the master / when first run), "" when the server lacks the ACL module API (every call
 * from a script is then refused). */
char *script_calls_capture_user(RedisModuleCtx *ctx);
/* Answer one callback message (type, payload in r) on w; 0 ok, -1 channel broken. */
int script_calls_serve(script_calls *sc, ai_worker *w, int type, rbuf *r);
/* Release the context and the held models. */
void script_calls_end(script_calls *sc);

#endif
