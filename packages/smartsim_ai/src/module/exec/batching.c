/*
 * Auto-batching: concatenate compatible requests' inputs on dim 0, run once, slice outputs.
 */
#include "batching.h"

#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "execute.h"

/* The request's one model op, when it has exactly one and no script op (TENSORSET/TENSORGET
 * ops of a DAG are passive), else NULL. */
static const ai_op *batch_op_of(const ai_request *r, int *index) {
    const ai_op *found = NULL;
    for (size_t i = 0; i < r->nops; i++) {
        const ai_op *op = &r->ops[i];
        if (op->kind == AI_OP_SCRIPT || (op->kind == AI_OP_MODEL && found)) return NULL;
        if (op->kind == AI_OP_LOAD_MODEL || op->kind == AI_OP_LOAD_SCRIPT) return NULL;
        if (op->kind == AI_OP_MODEL) {
            found = op;
            *index = (int)i;
        }
    }
    return found;
}

#define BOP(r) (&(r)->ops[(r)->batch_op])

int batching_size(ai_request *r) {
    int index = 0;
    const ai_op *op = batch_op_of(r, &index);
    if (!op) return 0;
    r->batch_op = index;
    if (op->model->batchsize == 0 || op->nin == 0) return 0;
    int64_t size = -1;
    for (size_t i = 0; i < op->nin; i++) {
        const ai_tensor *t = r->slots[op->in[i]];
        if (!t || t->ndims < 1) return 0;
        if (size >= 0 && t->dims[0] != size) return 0;
        size = t->dims[0];
    }
    return size > 0 && size < (1 << 30) ? (int)size : 0;
}

int batching_compatible(const ai_request *lead, const ai_request *c) {
    const ai_op *a = BOP(lead), *b = BOP(c);
    if (a->model != b->model || a->nin != b->nin || a->nout != b->nout) return 0;
    for (size_t i = 0; i < a->nin; i++) {
        const ai_tensor *x = lead->slots[a->in[i]], *y = c->slots[b->in[i]];
        if (x->ndims != y->ndims || x->dtype != y->dtype) return 0;
        for (int d = 1; d < x->ndims; d++)
            if (x->dims[d] != y->dims[d]) return 0;
    }
    return 1;
}

/* Byte range of rows [from, to) of a tensor. */
static void row_range(const ai_tensor *t, int64_t from, int64_t to, size_t *start, size_t *end) {
    size_t per_row = t->len / (size_t)t->dims[0];
    if (t->dtype == AI_DTYPE_STRING) {
        size_t a = (size_t)from * per_row, b = (size_t)to * per_row;
        *start = a < t->len ? ai_tensor_offsets(t)[a] : t->nbytes;
        *end = b < t->len ? ai_tensor_offsets(t)[b] : t->nbytes;
    } else {
        size_t row_bytes = t->nbytes / (size_t)t->dims[0];
        *start = (size_t)from * row_bytes;
        *end = (size_t)to * row_bytes;
    }
}

static ai_tensor *make_tensor(const ai_tensor *like, int64_t dim0, char *blob, size_t nbytes) {
    int64_t dims[AI_TENSOR_MAX_DIMS];
    memcpy(dims, like->dims, sizeof(int64_t) * (size_t)like->ndims);
    dims[0] = dim0;
    ai_tensor_status st;
    ai_tensor *t = ai_tensor_new((ai_dtype)like->dtype, dims, like->ndims, &st);
    if (!t) return NULL;
    if (ai_tensor_adopt_blob(t, blob, nbytes) != AI_TENSOR_OK) {
        ai_tensor_decref(t);
        return NULL;
    }
    return t;
}

static ai_tensor *concat(ai_request **reqs, size_t n, size_t input, int64_t total) {
    size_t nbytes = 0;
    for (size_t k = 0; k < n; k++) nbytes += reqs[k]->slots[BOP(reqs[k])->in[input]]->nbytes;
    char *blob = ai_alloc(nbytes ? nbytes : 1);
    if (!blob) return NULL;
    size_t off = 0;
    for (size_t k = 0; k < n; k++) {
        const ai_tensor *t = reqs[k]->slots[BOP(reqs[k])->in[input]];
        memcpy(blob + off, t->data, t->nbytes);
        off += t->nbytes;
    }
    ai_tensor *t = make_tensor(reqs[0]->slots[BOP(reqs[0])->in[input]], total, blob, nbytes);
    if (!t) ai_free(blob);
    return t;
}

static ai_tensor *slice(const ai_tensor *t, int64_t from, int64_t to) {
    size_t start, end;
    row_range(t, from, to, &start, &end);
    char *blob = ai_alloc(end - start ? end - start : 1);
    if (!blob) return NULL;
    memcpy(blob, t->data + start, end - start);
    ai_tensor *s = make_tensor(t, to - from, blob, end - start);
    if (!s) ai_free(blob);
    return s;
}

static void fail_all(ai_request **reqs, size_t n, const char *msg) {
    for (size_t k = 0; k < n; k++) ai_op_fail(BOP(reqs[k]), "%s", msg);
}

void batching_execute(ai_worker *w, ai_request **reqs, size_t n) {
    ai_op *lead = BOP(reqs[0]);
    /* passive TENSORSET/TENSORGET ops before the model op are done; those after it run
     * (trivially) only when it succeeds */
    for (size_t k = 0; k < n; k++)
        for (int i = 0; i < reqs[k]->batch_op; i++) reqs[k]->ops[i].status = 1;
    int64_t total = 0;
    for (size_t k = 0; k < n; k++) total += reqs[k]->batch_size;
    size_t nin = lead->nin, nout = lead->nout;
    ai_tensor *ins[nin], *outs[nout];
    memset(ins, 0, sizeof ins);
    memset(outs, 0, sizeof outs);
    for (size_t i = 0; i < nin; i++) {
        ins[i] = concat(reqs, n, i, total);
        if (!ins[i]) {
            fail_all(reqs, n, AI_ERR_OOM);
            goto done;
        }
    }
    ai_op run = {0};
    run.kind = AI_OP_MODEL;
    if (execute_model(w, &run, lead->model, ins, nin, outs, nout) != 0) {
        fail_all(reqs, n, run.error ? run.error : AI_ERR_BATCHED_RUN_FAILED);
        ai_free(run.error);
        goto done;
    }
    int tf = lead->model->backend == AI_BACKEND_TF;
    for (size_t o = 0; o < nout; o++) {
        if (!outs[o] || (tf && outs[o]->ndims == 0)) continue;
        if (outs[o]->ndims < 1 || outs[o]->dims[0] != total) {
            fail_all(reqs, n, tf ? AI_ERR_TF_BATCH_SIZE_OUTPUT : AI_ERR_BATCH_SIZE_OUTPUT);
            goto done;
        }
    }
    int64_t offset = 0;
    for (size_t k = 0; k < n; k++) {
        ai_request *r = reqs[k];
        ai_op *op = BOP(r);
        int64_t size = r->batch_size;
        for (size_t i = (size_t)r->batch_op + 1; i < r->nops; i++) r->ops[i].status = 1;
        for (size_t o = 0; o < nout; o++) {
            ai_tensor *part = NULL;
            if (outs[o] && outs[o]->ndims >= 1 && outs[o]->dims[0] == total)
                part = slice(outs[o], offset, offset + size);
            else if (outs[o])
                part = ai_tensor_incref(outs[o]);
            ai_tensor_decref(r->slots[op->out[o]]);
            r->slots[op->out[o]] = part;
        }
        op->status = 1;
        op->duration_us = run.duration_us;
        offset += size;
    }
done:
    for (size_t i = 0; i < nin; i++) ai_tensor_decref(ins[i]);
    for (size_t o = 0; o < nout; o++) ai_tensor_decref(outs[o]);
}
