/*
 * Names bound to a request's tensor slots (the request layer's half of parsing): a run op's
 * keys, and a DAG's local names, which are SSA-versioned (each TENSORSET or output makes a new
 * slot; later ops see the latest one defined before them).
 */
#ifndef SMARTSIM_AI_BIND_H
#define SMARTSIM_AI_BIND_H

#include "request.h"
#include "rm_api.h"

/* One op's names, bound once every op has parsed (in op order: SSA versions). */
typedef struct dag_binding {
    ai_op *op;
    RedisModuleString **ins, **outs; /* the op's names, pointing into `names` */
    RedisModuleString **names;        /* a copy of the parser's arrays, freed with the DAG */
    size_t nin, nout;
    RedisModuleString *get;   /* TENSORGET: the name read into op->get_slot */
    RedisModuleString *set;   /* TENSORSET: the name given set_slot */
    int set_slot;
} dag_binding;

/* Name -> latest slot, one entry per distinct name, found through an open-addressing hash
 * index: a DAG may name as many tensors as it has arguments (millions), so lookups must
 * not scan (a scan made LOAD n + PERSIST n quadratic). */
struct dag_names {
    size_t n, cap;
    const char **name;
    size_t *len;
    int *slot;
    size_t *index; /* index_cap buckets: entry + 1, or 0 when empty */
    size_t index_cap;
    dag_binding *bind; /* the ops' names, in op order */
    size_t nbind, bind_cap;
};

/* The slot `name` is bound to, or -1. */
int dag_names_lookup(struct dag_names *d, RedisModuleString *name);
/* Defines `name` as `slot` (a later definition replaces an earlier one). */
void dag_names_add(struct dag_names *d, RedisModuleString *name, int slot);
/* A new binding record for `op`, in op order (its fields zeroed). */
dag_binding *dag_names_new_binding(struct dag_names *d, ai_op *op);
/* Records an op's input and output names, to be bound by dag_names_bind_all. */
int dag_names_defer(struct dag_names *d, ai_op *op, RedisModuleString **ins, size_t nin,
                    RedisModuleString **outs, size_t nout);
/* Binds every recorded op's names in op order; replies and returns -1 on a missing input. */
int dag_names_bind_all(RedisModuleCtx *ctx, struct dag_names *d, ai_request *r);
void dag_names_free(struct dag_names *d);

/* Binds op->in/op->out to slots; replies and returns -1 on a key error.  In a DAG (dag != NULL)
 * the names are recorded and bound once every op has parsed (dag_names_defer). */
int ai_bind_io(RedisModuleCtx *ctx, ai_request *r, ai_op *op, struct dag_names *dag,
               RedisModuleString **ins, size_t nin, RedisModuleString **outs, size_t nout);

#endif
