/*
 * Running ops through a worker process.  Called only from run-queue threads; touches models,
 * scripts and tensors through the references the request holds, never the keyspace.
 */
#define _GNU_SOURCE
#include "execute.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "clock.h"
#include "config.h"
#include "errors.h"
#include "exec_ids.h"
#include "script_calls.h"

_Static_assert(WIRE_MAX_DIMS >= AI_TENSOR_MAX_DIMS, "every tensor shape must fit a wire_tensor");
/* A tensor's dtype travels as is: the wire codes (worker_protocol.h) are ai_dtype's values. */
#define SAME_CODE(name) \
    _Static_assert((int)AI_DTYPE_##name == (int)WIRE_DTYPE_##name, "wire code of " #name)
SAME_CODE(FLOAT);
SAME_CODE(DOUBLE);
SAME_CODE(INT8);
SAME_CODE(INT16);
SAME_CODE(INT32);
SAME_CODE(INT64);
SAME_CODE(UINT8);
SAME_CODE(UINT16);
SAME_CODE(BOOL);
SAME_CODE(STRING);
_Static_assert((int)AI_DTYPE_COUNT == (int)WIRE_DTYPE_COUNT, "one wire code per dtype");
#undef SAME_CODE

static __thread uint64_t next_req_id = 1;


static long long last_spawn_ms(ai_worker *w, long long set) {
    (void)w;
    static __thread long long last = 0;
    if (set) last = set;
    return last;
}

int execute_ensure_worker(ai_worker *w, char *err, size_t errlen) {
    if (w->pid > 0 && w->fd >= 0) return 0;
    /* back off when a worker keeps dying at once (bad interpreter, broken install) */
    long long since = ai_now_ms() - last_spawn_ms(w, 0);
    if (w->restarts > 2 && since < 1000) usleep((useconds_t)(1000 - since) * 1000);
    last_spawn_ms(w, ai_now_ms());
    if (worker_spawn(w, err, errlen) != 0) {
        worker_log("%s", err);
        return -1;
    }
    if (w->restarts++ > 0)
        worker_log("worker process %d for device %s started (restart %u)", (int)w->pid, w->device,
                   w->restarts - 1);
    return 0;
}

/* Which time limit a round trip runs under; the error text is built only when it expires. */
typedef enum {
    LIMIT_RUN_MODEL,  /* MODEL_EXECUTION_TIMEOUT (ONNX, or every model when given explicitly) */
    LIMIT_RUN_SCRIPT, /* MODEL_EXECUTION_TIMEOUT given explicitly */
    LIMIT_RUN,        /* RUN_TIMEOUT: the runs MODEL_EXECUTION_TIMEOUT leaves unbounded */
    LIMIT_LOAD_MODEL,
    LIMIT_LOAD_SCRIPT
} limit_kind;

static void fail_timeout(ai_op *op, limit_kind limit) {
    switch (limit) {
    case LIMIT_RUN_MODEL:
        ai_op_fail(op, AI_ERR_MODEL_EXECUTION_TIMEOUT_FMT, ai_config.model_execution_timeout);
        break;
    case LIMIT_RUN_SCRIPT:
        ai_op_fail(op, AI_ERR_SCRIPT_EXECUTION_TIMEOUT_FMT, ai_config.model_execution_timeout);
        break;
    case LIMIT_RUN:
        ai_op_fail(op, AI_ERR_RUN_TIMEOUT_FMT, ai_config.run_timeout);
        break;
    case LIMIT_LOAD_MODEL:
    case LIMIT_LOAD_SCRIPT:
        ai_op_fail(op, AI_ERR_LOAD_TIMEOUT_FMT, ai_config.model_load_timeout,
                   limit == LIMIT_LOAD_MODEL ? "model" : "script");
        break;
    }
}

/* The channel broke or timed out: kill the process, say why, start a fresh one. */
static void worker_failed(ai_worker *w, ai_op *op, int rc, limit_kind limit) {
    char why[128];
    pid_t pid = w->pid;
    int w_answered = w->answered;
    worker_kill(w, why, sizeof why);
    worker_log("worker process %d for device %s %s; the request it ran fails, restarting it",
               (int)pid, w->device, rc == -2 ? "ran past its time limit and was killed"
                                             : (why[0] ? why : "closed its channel"));
    char err[256];
    int restarted = execute_ensure_worker(w, err, sizeof err) == 0;
    if (rc == -2) {
        fail_timeout(op, limit);
    } else if (!w_answered) {
        ai_op_fail(op, AI_ERR_WORKER_EXITED_FMT, w->device, why[0] ? why : "channel closed", ai_config.worker_exe);
    } else {
        ai_op_fail(op, AI_ERR_WORKER_DIED_FMT, (int)pid, w->device,
                   why[0] ? why : "channel closed",
                   restarted ? AI_ERR_WORKER_RESTARTED : AI_ERR_WORKER_NOT_RESTARTED);
    }
}

/* Send `b` and read one reply; returns the reply type (payload in *payload, caller frees),
 * or -1/-2 (broken/timed out) after handling the worker failure. */
static int roundtrip(ai_worker *w, ai_op *op, wbuf *b, long timeout_ms, char **payload,
                     rbuf *r, limit_kind limit) {
    char err[256];
    if (execute_ensure_worker(w, err, sizeof err) != 0) {
        ai_op_fail(op, AI_ERR_WORKER_FMT, err);
        return -1;
    }
    size_t len = 0;
    int rc = b ? worker_send(w, b) : 0; /* no b: only read the next message */
    if (rc == 0) rc = worker_recv(w, payload, &len, timeout_ms);
    if (rc != 0) {
        worker_failed(w, op, rc, limit);
        return rc;
    }
    w->answered = 1;
    r->p = *payload;
    r->len = len;
    r->pos = 0;
    r->bad = 0;
    r->shm = NULL;
    r->shm_len = 0;
    int type = rbuf_u8(r);
    rbuf_u64(r); /* request id: one request at a time per worker */
    if (type == WMSG_RESULT && w->has_shm) {
        /* the reply is complete: only now is the out region's content the worker's answer */
        if (worker_shm_refresh_out(w) != 0) {
            free(*payload);
            *payload = NULL;
            worker_failed(w, op, -1, limit);
            return -1;
        }
        r->shm = w->shm_out.map;
        r->shm_len = w->shm_out.size;
    }
    if (type == WMSG_ERROR) {
        size_t mlen;
        const char *msg = rbuf_bytes(r, &mlen);
        ai_op_fail(op, "%.*s", (int)mlen, msg);
    }
    return type;
}

/* A model as LOAD describes it: its input/output names only for TF (the others' backends
 * derive them); `obj_id` names it in the worker. */
static wire_object wire_model(ai_model *m, uint64_t obj_id) {
    wire_object o = {.obj_id = obj_id,
                     .kind = WIRE_KIND_MODEL,
                     .backend = ai_backend_names[m->backend],
                     .device = m->device,
                     .blob = m->blob,
                     .blob_len = m->blob_len};
    if (m->backend == AI_BACKEND_TF) {
        o.ninputs = m->ninputs, o.inputs = (const char *const *)m->inputs;
        o.noutputs = m->noutputs, o.outputs = (const char *const *)m->outputs;
    }
    return o;
}

static wire_object wire_script(ai_script *s) {
    return (wire_object){.obj_id = ai_exec_script_id(s),
                         .kind = WIRE_KIND_SCRIPT,
                         .backend = "TORCH",
                         .device = s->device,
                         .nentry_points = s->n_entry_points,
                         .entry_points = (const char *const *)s->entry_points,
                         .blob = s->source,
                         .blob_len = s->source_len};
}

static char **read_names(rbuf *r, size_t *n) {
    *n = rbuf_u32(r);
    if (r->bad || *n > 1 << 20) {
        *n = 0;
        return NULL;
    }
    char **names = ai_calloc(*n ? *n : 1, sizeof(char *));
    for (size_t i = 0; i < *n; i++) {
        size_t len;
        const char *s = rbuf_bytes(r, &len);
        names[i] = ai_strndup(s, len);
    }
    return names;
}

/* Versions the workers reported per backend, for INFO MODULES (set once, read by the main
 * thread: a mutex keeps the strings whole). */
static pthread_mutex_t versions_mu = PTHREAD_MUTEX_INITIALIZER;
static char backend_versions[AI_BACKEND_COUNT][64];

static void note_version(ai_backend backend, rbuf *r) {
    if (r->pos >= r->len) return;
    size_t len;
    const char *v = rbuf_bytes(r, &len);
    if (r->bad || len == 0) return;
    pthread_mutex_lock(&versions_mu);
    snprintf(backend_versions[backend], sizeof backend_versions[backend], "%.*s", (int)len, v);
    pthread_mutex_unlock(&versions_mu);
}

int execute_backend_version(ai_backend backend, char *out, size_t cap) {
    pthread_mutex_lock(&versions_mu);
    int known = backend_versions[backend][0] != '\0';
    snprintf(out, cap, "%s", backend_versions[backend]);
    pthread_mutex_unlock(&versions_mu);
    return known;
}

/* Send a LOAD; 0 when loaded (names returned when wanted), -1 on error (op failed). */
static int load_object(ai_worker *w, ai_op *op, ai_model *m, ai_script *s, int keep_names) {
    wbuf b;
    wire_object o = m ? wire_model(m, ai_exec_model_id(m)) : wire_script(s);
    wmsg_load(&b, next_req_id++, &o);
    char *payload = NULL;
    rbuf r;
    int type = roundtrip(w, op, &b, (long)ai_config.model_load_timeout, &payload, &r,
                         m ? LIMIT_LOAD_MODEL : LIMIT_LOAD_SCRIPT);
    wbuf_free(&b);
    int rc = -1;
    if (type == WMSG_LOADED) {
        rc = 0;
        size_t n_in = 0, n_out = 0;
        char **in = read_names(&r, &n_in);
        char **out = read_names(&r, &n_out);
        note_version(m ? m->backend : AI_BACKEND_TORCH, &r);
        if (keep_names) {
            op->in_names = in, op->n_in_names = n_in;
            op->out_names = out, op->n_out_names = n_out;
        } else {
            ai_free_names(in, n_in);
            ai_free_names(out, n_out);
        }
    } else if (type >= 0 && type != WMSG_ERROR) {
        ai_op_fail(op, AI_ERR_WORKER_LOAD_REPLY_FMT, type);
    }
    free(payload);
    return rc;
}

static void wire_of(const ai_tensor *t, wire_tensor *wt) {
    wt->dtype = t->dtype;
    wt->ndim = (uint32_t)t->ndims;
    wt->dims = t->dims;
    wt->data = t->data;
    wt->nbytes = t->nbytes;
    wt->shm_offset = WIRE_INLINE;
}

static int goes_by_shm(const ai_tensor *t) {
    return ai_config.shm_threshold > 0 &&
           t->nbytes >= (size_t)ai_config.shm_threshold;
}

/* The tensors of a run as they travel (an ai_alloc'ed array): SHM_THRESHOLD bytes and more
 * copied into the worker's in region (its previous content is no longer read: one request at
 * a time per worker), the rest inline. */
static wire_tensor *wire_tensors(ai_worker *w, ai_tensor **ts, size_t n) {
    size_t need = 0;
    for (size_t i = 0; i < n; i++)
        if (goes_by_shm(ts[i]))
            need += (ts[i]->nbytes + WIRE_SHM_ALIGN - 1) & ~(size_t)(WIRE_SHM_ALIGN - 1);
    int shm = need > 0 && worker_shm_reserve(w, need) == 0;
    wire_tensor *wts = ai_alloc((n ? n : 1) * sizeof *wts);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        wire_of(ts[i], &wts[i]);
        if (shm && goes_by_shm(ts[i])) {
            memcpy(w->shm_in.map + off, wts[i].data, wts[i].nbytes);
            wts[i].shm_offset = off;
            off += (wts[i].nbytes + WIRE_SHM_ALIGN - 1) & ~(size_t)(WIRE_SHM_ALIGN - 1);
        }
    }
    return wts;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* An output's bytes into its tensor.  A big buffer is freshly mapped memory: its pages are
 * populated in one call before the copy instead of one page fault per 4 KB during it (a
 * third of the copy's time on a VM). */
static ai_tensor_status copy_output(ai_tensor *t, const wire_tensor *wt) {
    if (wt->nbytes < ((size_t)1 << 20)) return ai_tensor_copy_blob(t, wt->data, wt->nbytes);
    char *buf = ai_alloc(wt->nbytes);
    if (!buf) return AI_TENSOR_ENOMEM;
    size_t page = 4096;
    uintptr_t lo = ((uintptr_t)buf + page - 1) & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)buf + wt->nbytes) & ~(uintptr_t)(page - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* a hint: errors ignored */
    memcpy(buf, wt->data, wt->nbytes);
    ai_tensor_status st = ai_tensor_adopt_blob(t, buf, wt->nbytes);
    if (st != AI_TENSOR_OK) ai_free(buf);
    return st;
}

/* Parse a RESULT's tensors into new references (NULL for absent ones). */
static int read_outputs(ai_op *op, rbuf *r, ai_tensor **outputs, size_t noutputs) {
    op->duration_us = (long long)rbuf_u64(r);
    uint32_t n = rbuf_u32(r);
    if (noutputs && n != noutputs) {
        ai_op_fail(op, AI_ERR_OUTPUT_COUNT);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        wire_tensor wt;
        int64_t dims[WIRE_MAX_DIMS];
        if (rbuf_tensor(r, &wt, dims) != 0) {
            ai_op_fail(op, AI_ERR_WORKER_MALFORMED_RESULT);
            return -1;
        }
        if (i >= noutputs) continue;
        outputs[i] = NULL;
        if (wt.dtype == WIRE_ABSENT) continue;
        if (wt.dtype >= AI_DTYPE_COUNT) {
            ai_op_fail(op, AI_ERR_UNSUPPORTED_DTYPE);
            return -1;
        }
        ai_tensor_status st;
        ai_tensor *t = ai_tensor_new((ai_dtype)wt.dtype, wt.dims, (int)wt.ndim, &st);
        if (t && copy_output(t, &wt) != AI_TENSOR_OK) {
            ai_tensor_decref(t);
            t = NULL;
        }
        if (!t) {
            for (uint32_t j = 0; j < i; j++) ai_tensor_decref(outputs[j]), outputs[j] = NULL;
            ai_op_fail(op, AI_ERR_OUTPUT_NOT_STORABLE);
            return -1;
        }
        outputs[i] = t;
    }
    return 0;
}

/* A run's time limit (ms, 0: none) and which argument set it. */
static long run_limit(ai_model *m, limit_kind *kind) {
    if (ai_config.exec_timeout_explicit || (m && m->backend == AI_BACKEND_ONNX)) {
        *kind = m ? LIMIT_RUN_MODEL : LIMIT_RUN_SCRIPT;
        return (long)ai_config.model_execution_timeout;
    }
    *kind = LIMIT_RUN;
    return (long)ai_config.run_timeout;
}

/* What is left of a run's limit at its deadline (at least 1 ms); 0 when unlimited. */
static long time_left(long long deadline) {
    if (deadline <= 0) return 0;
    long long left = deadline - ai_now_ms();
    return left < 1 ? 1 : (long)left;
}

static int is_callback(int type) {
    return type == WMSG_CALL || type == WMSG_MODEL_LOOKUP || type == WMSG_MODEL_FETCH;
}

/* Answer a script's callbacks (redis.execute / redisAI.model_execute) until the worker sends
 * something else; returns that message's type (-1 when the channel broke). */
static int serve_callbacks(ai_worker *w, ai_op *op, ai_request *req, int type, char **payload,
                           rbuf *r, long long deadline, limit_kind kind) {
    script_calls sc = {.bc = req->bc, .user = req->user};
    while (is_callback(type)) {
        int sent = script_calls_serve(&sc, w, type, r);
        free(*payload);
        *payload = NULL;
        if (sent != 0) {
            worker_failed(w, op, -1, kind);
            type = -1;
            break;
        }
        type = roundtrip(w, op, NULL, time_left(deadline), payload, r, kind);
    }
    script_calls_end(&sc);
    return type;
}

/* Run a model (req NULL) or the script op of `req` through the worker: send the run, serve the
 * script's callbacks, read the outputs.  An object the worker does not know (it restarted) is
 * loaded and the run sent again, once. */
static int run_object(ai_worker *w, ai_op *op, ai_model *model, ai_request *req,
                      ai_tensor **inputs, size_t ninputs, ai_tensor **outputs, size_t noutputs) {
    for (int attempt = 0; attempt < 2; attempt++) {
        char err[256];
        if (execute_ensure_worker(w, err, sizeof err) != 0) { /* its regions before the frame */
            ai_op_fail(op, AI_ERR_WORKER_FMT, err);
            return -1;
        }
        wbuf b;
        wire_tensor *wts = wire_tensors(w, inputs, ninputs);
        if (model) {
            wmsg_run_model(&b, next_req_id++, ai_exec_model_id(model), ninputs, wts);
        } else {
            wire_script_run run = {.obj_id = ai_exec_script_id(op->script),
                                   .function = op->fn,
                                   .nkeys = op->nkeys,
                                   .keys = (const char *const *)op->keys,
                                   .nargs = op->nargs,
                                   .args = (const char *const *)op->args,
                                   .n_outputs = (uint32_t)noutputs,
                                   .ntensors = ninputs,
                                   .tensors = wts};
            wmsg_run_script(&b, next_req_id++, &run);
        }
        ai_free(wts); /* the frame holds the dims and points at the tensors' bytes */
        char *payload = NULL;
        rbuf r;
        limit_kind kind;
        long limit = run_limit(model, &kind);
        /* one deadline for the whole run, a script's callbacks into the server included */
        long long deadline = limit > 0 ? ai_now_ms() + limit : 0;
        int type = roundtrip(w, op, &b, limit, &payload, &r, kind);
        wbuf_free(&b);
        if (!model) type = serve_callbacks(w, op, req, type, &payload, &r, deadline, kind);
        int rc = -1;
        if (type == WMSG_RESULT) {
            rc = read_outputs(op, &r, outputs, noutputs);
        } else if (type == WMSG_UNKNOWN) {
            free(payload);
            if (load_object(w, op, model, model ? NULL : op->script, 0) != 0) return -1;
            continue;
        } else if (type >= 0 && type != WMSG_ERROR) {
            ai_op_fail(op, AI_ERR_WORKER_REPLY_FMT, type);
        }
        free(payload);
        return rc;
    }
    ai_op_fail(op, "%s", model ? AI_ERR_WORKER_LOST_MODEL : AI_ERR_WORKER_LOST_SCRIPT);
    return -1;
}

int execute_model(ai_worker *w, ai_op *op, ai_model *model, ai_tensor **inputs, size_t ninputs,
                  ai_tensor **outputs, size_t noutputs) {
    return run_object(w, op, model, NULL, inputs, ninputs, outputs, noutputs);
}

/* Drop objects freed since this thread last looked. */
static void send_unloads(ai_worker *w) {
    static __thread size_t cursor = 0;
    uint64_t ids[64];
    size_t n;
    while ((n = ai_exec_forgotten(&cursor, ids, 64)) > 0) {
        if (w->pid <= 0) continue; /* a fresh worker holds nothing */
        for (size_t i = 0; i < n; i++) {
            wbuf b;
            wmsg_unload(&b, next_req_id++, ids[i]);
            char *payload = NULL;
            size_t len;
            int rc = worker_send(w, &b);
            if (rc == 0) rc = worker_recv(w, &payload, &len, 0);
            wbuf_free(&b);
            free(payload);
            if (rc != 0) {
                worker_kill(w, NULL, 0);
                return;
            }
        }
    }
}

static void run_ops(ai_worker *w, ai_request *r);

void execute_request(ai_worker *w, ai_request *r) {
    send_unloads(w);
    run_ops(w, r);
    worker_shm_trim(w);
}

static void run_ops(ai_worker *w, ai_request *r) {
    for (size_t i = 0; i < r->nops; i++) {
        ai_op *op = &r->ops[i];
        int rc = 0;
        switch (op->kind) {
        case AI_OP_TENSORSET:
        case AI_OP_TENSORGET:
            op->status = 1;
            continue;
        case AI_OP_LOAD_MODEL:
            rc = load_object(w, op, op->model, NULL, 1);
            break;
        case AI_OP_LOAD_SCRIPT:
            rc = load_object(w, op, NULL, op->script, 0);
            break;
        case AI_OP_MODEL:
        case AI_OP_SCRIPT: {
            ai_tensor *ins[op->nin ? op->nin : 1];
            ai_tensor *outs[op->nout ? op->nout : 1];
            for (size_t k = 0; k < op->nin; k++) {
                ins[k] = r->slots[op->in[k]];
                if (!ins[k]) {
                    ai_op_fail(op, AI_ERR_DAG_INPUT_NOT_FOUND);
                    rc = -1;
                }
            }
            for (size_t k = 0; k < op->nout; k++) outs[k] = NULL;
            if (rc == 0) {
                rc = op->kind == AI_OP_MODEL
                         ? execute_model(w, op, op->model, ins, op->nin, outs, op->nout)
                         : run_object(w, op, NULL, r, ins, op->nin, outs, op->nout);
            }
            if (rc == 0) {
                for (size_t k = 0; k < op->nout; k++) {
                    ai_tensor_decref(r->slots[op->out[k]]);
                    r->slots[op->out[k]] = outs[k];
                }
            }
            break;
        }
        }
        if (rc != 0) {
            if (op->status == 0) ai_op_fail(op, AI_ERR_OP_FAILED);
            return;
        }
        op->status = 1;
    }
}

/* Old dumps (RDB v0/v1) carry no input/output names for non-TF models, nor does a store
 * replayed from the AOF: ask a one-off worker process to compile the model and report them
 * (synchronous: only while the server loads, when it answers no client anyway). */
int ai_model_derive_names(ai_model *m, char **err) {
    ai_worker w = {.fd = -1, .pid = -1};
    snprintf(w.device, sizeof w.device, "%s", m->device);
    char msg[512];
    if (worker_spawn(&w, msg, sizeof msg) != 0) goto fail;
    wbuf b;
    wire_object o = wire_model(m, 1); /* a non-TF model: no names sent */
    wmsg_load(&b, 1, &o);
    char *payload = NULL;
    size_t len = 0;
    int rc = worker_send(&w, &b);
    if (rc == 0) rc = worker_recv(&w, &payload, &len, 300000);
    wbuf_free(&b);
    worker_kill(&w, NULL, 0);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "the worker died while compiling the model");
        goto fail;
    }
    rbuf r = {payload, len, 0, 0, NULL, 0};
    int type = rbuf_u8(&r);
    rbuf_u64(&r);
    if (type != WMSG_LOADED) {
        size_t mlen = 0;
        const char *e = type == WMSG_ERROR ? rbuf_bytes(&r, &mlen) : "unexpected reply";
        snprintf(msg, sizeof msg, "%.*s", (int)(mlen ? mlen : strlen(e)), e);
        free(payload);
        goto fail;
    }
    size_t n_in = 0, n_out = 0;
    char **in = read_names(&r, &n_in);
    char **out = read_names(&r, &n_out);
    ai_model_set_names(m, n_in, (const char *const *)in, n_out, (const char *const *)out);
    ai_free_names(in, n_in);
    ai_free_names(out, n_out);
    free(payload);
    return 0;
fail:
    *err = ai_strndup(msg, strlen(msg));
    return -1;
}
