/*
 * Building and reading worker frames (layouts: worker_protocol.h).  No module API: this file
 * also builds alone, for the golden-frame test (tests/golden/worker_frames.c).
 */
#include "worker_protocol.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- frame building */

#define SMALL_LIMIT 4096 /* blobs at least this big are sent from where they lie */

static void seg_push(wbuf *b, const char *ext, size_t off, size_t len) {
    if (b->niov == b->iov_cap) {
        b->iov_cap = b->iov_cap ? 2 * b->iov_cap : 16;
        b->iov = realloc(b->iov, sizeof(*b->iov) * b->iov_cap);
        b->iov_off = realloc(b->iov_off, sizeof(*b->iov_off) * b->iov_cap);
    }
    b->iov[b->niov].iov_base = (void *)ext;
    b->iov[b->niov].iov_len = len;
    b->iov_off[b->niov] = ext ? (size_t)-1 : off;
    b->niov++;
}

static void small_append(wbuf *b, const void *data, size_t len) {
    if (b->small_len + len > b->small_cap) {
        while (b->small_len + len > b->small_cap) b->small_cap = b->small_cap ? 2 * b->small_cap : 256;
        b->small = realloc(b->small, b->small_cap);
    }
    int last = b->niov - 1;
    if (last >= 0 && b->iov_off[last] != (size_t)-1 &&
        b->iov_off[last] + b->iov[last].iov_len == b->small_len) {
        b->iov[last].iov_len += len;
    } else {
        seg_push(b, NULL, b->small_len, len);
    }
    memcpy(b->small + b->small_len, data, len);
    b->small_len += len;
    b->total += len;
}

void wbuf_init(wbuf *b, uint8_t type, uint64_t req_id) {
    memset(b, 0, sizeof *b);
    uint64_t zero = 0;
    small_append(b, &zero, 8); /* frame length, filled at send time */
    b->total = 0;
    wbuf_u8(b, type);
    wbuf_u64(b, req_id);
}

void wbuf_free(wbuf *b) {
    free(b->small);
    free(b->iov);
    free(b->iov_off);
    memset(b, 0, sizeof *b);
}

void wbuf_u8(wbuf *b, uint8_t v) { small_append(b, &v, 1); }
void wbuf_u32(wbuf *b, uint32_t v) { small_append(b, &v, 4); } /* little-endian hosts only */
void wbuf_u64(wbuf *b, uint64_t v) { small_append(b, &v, 8); }

void wbuf_bytes(wbuf *b, const char *data, size_t len) {
    wbuf_u64(b, len);
    if (len == 0) return;
    if (len < SMALL_LIMIT) {
        small_append(b, data, len);
    } else {
        seg_push(b, data, 0, len);
        b->total += len;
    }
}

void wbuf_str(wbuf *b, const char *s) { wbuf_bytes(b, s, strlen(s)); }

void wbuf_bytes_copy(wbuf *b, const char *data, size_t len) {
    wbuf_u64(b, len);
    if (len) small_append(b, data, len);
}

void wbuf_tensor(wbuf *b, const wire_tensor *t) {
    int shm = t->shm_offset != WIRE_INLINE;
    wbuf_u8(b, shm ? t->dtype | WIRE_SHM : t->dtype);
    wbuf_u32(b, t->ndim);
    for (uint32_t i = 0; i < t->ndim; i++) wbuf_u64(b, (uint64_t)t->dims[i]);
    if (shm) {
        wbuf_u64(b, t->shm_offset);
        wbuf_u64(b, t->nbytes);
    } else {
        wbuf_bytes(b, t->data, t->nbytes);
    }
}

size_t wbuf_finish(wbuf *b) {
    uint64_t total = b->total;
    memcpy(b->small, &total, 8);
    for (int i = 0; i < b->niov; i++)
        if (b->iov_off[i] != (size_t)-1) b->iov[i].iov_base = b->small + b->iov_off[i];
    return (size_t)total + 8;
}

/* ---------------------------------------------------------------- messages the module sends */

static void strs(wbuf *b, size_t n, const char *const *items) {
    wbuf_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) wbuf_str(b, items[i]);
}

static void tensors(wbuf *b, size_t n, const wire_tensor *ts) {
    wbuf_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) wbuf_tensor(b, &ts[i]);
}

void wmsg_load(wbuf *b, uint64_t req_id, const wire_object *o) {
    wbuf_init(b, WMSG_LOAD, req_id);
    wbuf_u64(b, o->obj_id);
    wbuf_u8(b, o->kind);
    wbuf_str(b, o->backend);
    wbuf_str(b, o->device);
    strs(b, o->ninputs, o->inputs);
    strs(b, o->noutputs, o->outputs);
    strs(b, o->nentry_points, o->entry_points);
    wbuf_bytes(b, o->blob, o->blob_len);
}

void wmsg_run_model(wbuf *b, uint64_t req_id, uint64_t obj_id, size_t ntensors,
                    const wire_tensor *ts) {
    wbuf_init(b, WMSG_RUN_MODEL, req_id);
    wbuf_u64(b, obj_id);
    tensors(b, ntensors, ts);
}

void wmsg_run_script(wbuf *b, uint64_t req_id, const wire_script_run *run) {
    wbuf_init(b, WMSG_RUN_SCRIPT, req_id);
    wbuf_u64(b, run->obj_id);
    wbuf_str(b, run->function);
    strs(b, run->nkeys, run->keys);
    strs(b, run->nargs, run->args);
    wbuf_u32(b, run->n_outputs);
    tensors(b, run->ntensors, run->tensors);
}

void wmsg_unload(wbuf *b, uint64_t req_id, uint64_t obj_id) {
    wbuf_init(b, WMSG_UNLOAD, req_id);
    wbuf_u64(b, obj_id);
}

void wmsg_ping(wbuf *b, uint64_t req_id) { wbuf_init(b, WMSG_PING, req_id); }

void wmsg_call_reply(wbuf *b) { wbuf_init(b, WMSG_CALL_REPLY, 0); }

void wval_nil(wbuf *b) { wbuf_u8(b, WVAL_NIL); }

void wval_str(wbuf *b, const char *s, size_t len) {
    wbuf_u8(b, WVAL_STR);
    wbuf_bytes_copy(b, s, len);
}

void wval_int(wbuf *b, int64_t v) {
    wbuf_u8(b, WVAL_INT);
    wbuf_u64(b, (uint64_t)v);
}

void wval_array(wbuf *b, uint32_t n) {
    wbuf_u8(b, WVAL_ARRAY);
    wbuf_u32(b, n);
}

void wval_error(wbuf *b, const char *msg, size_t len) {
    wbuf_u8(b, WVAL_ERROR);
    wbuf_bytes_copy(b, msg, len);
}

void wmsg_model_info(wbuf *b, const wire_object *o, int with_blob) {
    wbuf_init(b, WMSG_MODEL_INFO, 0);
    wbuf_u64(b, o->obj_id);
    wbuf_str(b, o->backend);
    wbuf_str(b, o->device);
    strs(b, o->ninputs, o->inputs);
    strs(b, o->noutputs, o->outputs);
    wbuf_u8(b, (uint8_t)(with_blob != 0));
    if (with_blob) wbuf_bytes(b, o->blob, o->blob_len);
}

void wmsg_error(wbuf *b, const char *message) {
    wbuf_init(b, WMSG_ERROR, 0);
    wbuf_str(b, message);
}

/* ---------------------------------------------------------------- frame reading */

static const char *take(rbuf *r, size_t n) {
    if (r->bad || n > r->len - r->pos) {
        r->bad = 1;
        return NULL;
    }
    const char *p = r->p + r->pos;
    r->pos += n;
    return p;
}

uint8_t rbuf_u8(rbuf *r) {
    const char *p = take(r, 1);
    return p ? (uint8_t)p[0] : 0;
}

uint32_t rbuf_u32(rbuf *r) {
    uint32_t v = 0;
    const char *p = take(r, 4);
    if (p) memcpy(&v, p, 4);
    return v;
}

uint64_t rbuf_u64(rbuf *r) {
    uint64_t v = 0;
    const char *p = take(r, 8);
    if (p) memcpy(&v, p, 8);
    return v;
}

const char *rbuf_bytes(rbuf *r, size_t *len) {
    uint64_t n = rbuf_u64(r);
    const char *p = take(r, n);
    *len = p ? n : 0;
    return p ? p : "";
}

int rbuf_tensor(rbuf *r, wire_tensor *t, int64_t *dims) {
    t->dims = dims;
    t->shm_offset = WIRE_INLINE;
    t->dtype = rbuf_u8(r);
    t->ndim = rbuf_u32(r);
    if (t->dtype == WIRE_ABSENT) return r->bad ? -1 : 0;
    if (t->ndim > WIRE_MAX_DIMS) return -1;
    for (uint32_t i = 0; i < t->ndim; i++) dims[i] = (int64_t)rbuf_u64(r);
    if (t->dtype & WIRE_SHM) {
        t->dtype &= (uint8_t)~WIRE_SHM;
        uint64_t off = rbuf_u64(r), n = rbuf_u64(r);
        if (r->bad || !r->shm || off > r->shm_len || n > r->shm_len - off) return -1;
        t->data = r->shm + off;
        t->nbytes = (size_t)n;
        t->shm_offset = (size_t)off;
        return 0;
    }
    t->data = rbuf_bytes(r, &t->nbytes);
    return r->bad ? -1 : 0;
}
