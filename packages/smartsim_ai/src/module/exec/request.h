/*
 * A run request: what one MODELEXECUTE/SCRIPTEXECUTE/DAG/...STORE command asks the workers
 * to do.  Parsed in the main thread, executed by a run-queue thread through its worker
 * process, answered (and its outputs stored) back in the main thread.
 *
 * Every command is a small DAG: tensors live in numbered slots (DAG-local names are resolved
 * to slots at parse time, so SSA versions are just new slots); ops read and write slots.
 */
#ifndef SMARTSIM_AI_REQUEST_H
#define SMARTSIM_AI_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "rm_api.h"
#include "script.h"
#include "tensor.h"

typedef enum {
    AI_OP_MODEL,
    AI_OP_SCRIPT,
    AI_OP_TENSORSET,
    AI_OP_TENSORGET,
    AI_OP_LOAD_MODEL,
    AI_OP_LOAD_SCRIPT,
} ai_op_kind;

#define AI_FMT_META 8 /* TENSORGET op: META flag, or-ed with an ai_tensor_fmt */

typedef struct ai_op {
    ai_op_kind kind;
    ai_model *model;   /* a reference, for MODEL / LOAD_MODEL */
    ai_script *script; /* a reference, for SCRIPT / LOAD_SCRIPT */
    char *fn;          /* script function */
    size_t nkeys, nargs;
    char **keys, **args;
    size_t nin, nout;
    int *in, *out; /* slots */
    int get_slot, get_fmt; /* TENSORGET */
    /* results (written by the run-queue thread) */
    int status; /* 0 not run (NA), 1 ok, -1 error */
    char *error;
    long long duration_us;
    size_t n_in_names, n_out_names; /* LOAD_*: names the backend derived */
    char **in_names, **out_names;
} ai_op;

typedef enum {
    AI_REPLY_SINGLE, /* +OK / +TIMEDOUT / the op's error */
    AI_REPLY_DAG,    /* one element per op */
    AI_REPLY_STORE,  /* MODELSTORE / SCRIPTSTORE: publish the new object */
} ai_reply_kind;

typedef struct ai_request {
    RedisModuleBlockedClient *bc;
    char *user; /* the client's ACL user: scripts' calls run as it (script_calls.h) */
    ai_reply_kind reply;
    size_t nops;
    ai_op *ops;
    size_t nslots, slot_cap;
    ai_tensor **slots;
    size_t npersist;
    RedisModuleString **persist_keys; /* retained */
    int *persist_slots;
    long long enqueue_ms, timeout_ms;
    int timed_out;
    /* STORE: the key and the command to replicate verbatim (retained) */
    RedisModuleString *key;
    RedisModuleString **argv;
    int argc;
    /* custom reply (STORE commands); NULL: the generic SINGLE/DAG reply */
    int (*on_reply)(RedisModuleCtx *ctx, struct ai_request *r);
    /* no client (bc NULL: a background load): called by the run queue when it has run */
    void (*detached_done)(struct ai_request *r);
    /* run-queue bookkeeping */
    struct ai_request *next;
    int batch_size; /* dim 0 of the batchable op's inputs, 0 when not batchable */
    int batch_op;   /* index of that op (the request's only model op) */
} ai_request;

ai_request *ai_request_new(ai_reply_kind reply, size_t nops);
void ai_request_free(RedisModuleCtx *ctx, ai_request *r);
/* A new slot holding `t` (a reference is taken; NULL leaves it empty); returns its index. */
int ai_request_slot(ai_request *r, ai_tensor *t);
/* Keep argv (retained) for verbatim replication from the reply callback. */
void ai_request_keep_argv(RedisModuleCtx *ctx, ai_request *r, RedisModuleString **argv, int argc);

/* An op's error (any thread): formatted, CR/LF made spaces (one RESP error line). */
void ai_op_fail(ai_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
