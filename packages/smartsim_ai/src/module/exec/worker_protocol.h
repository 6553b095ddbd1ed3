/*
 * The worker protocol, C side: the one place that declares the message codes, the tensor dtype
 * codes, the shared-memory flag and the layout of every message, and the functions that build
 * and read frames.  Its Python twin is smartsim_ai/worker/protocol.py; both are tested against
 * the same golden frames (tests/golden/worker_frames.json, tests/golden/worker_frames.c).  This
 * file and worker_protocol.c use no module API, so they also build alone (the golden test).
 *
 * A frame: u64 payload length (little-endian), then the payload: u8 type, u64 request id, then
 * the fields of the type.  Field encodings:
 *   str/bytes  u64 length, the bytes (strings UTF-8, no NUL)
 *   strs       u32 count, that many str
 *   tensor     u8 dtype (enum wire_dtype, WIRE_ABSENT: no tensor, | WIRE_SHM: in a region),
 *              u32 ndim, i64 dims[ndim], then inline: bytes (row-major, little-endian; STRING
 *              elements each NUL-terminated) or, with WIRE_SHM: u64 offset, u64 length into the
 *              sender's region (module: "in" region, worker: "out" region)
 *   tensors    u32 count, that many tensor
 *   value      u8 tag (WVAL_*): NIL | STR bytes | INT u64 | ARRAY u32 count, values | ERROR bytes
 *
 * Module -> worker
 *   LOAD        u64 obj id, u8 kind (WIRE_KIND_*), str backend, str device, strs inputs,
 *               strs outputs, strs entry points, bytes blob
 *   RUN_MODEL   u64 obj id, tensors
 *   RUN_SCRIPT  u64 obj id, str function, strs keys, strs args, u32 n outputs, tensors
 *   UNLOAD      u64 obj id
 *   PING        (nothing)
 *   CALL_REPLY  value                           (answers CALL)
 *   MODEL_INFO  u64 obj id, str backend, str device, strs inputs, strs outputs, u8 has blob,
 *               [bytes blob]                    (answers MODEL_LOOKUP, MODEL_FETCH)
 *   ERROR       str message                     (answers MODEL_LOOKUP, MODEL_FETCH)
 * Worker -> module
 *   LOADED      strs inputs, strs outputs, str backend version
 *   RESULT      u64 duration (us), tensors
 *   ERROR       str message
 *   UNKNOWN     (nothing: the object is not loaded in this worker)
 *   PONG        (nothing)
 *   CALL        strs argv                        (script callbacks, during a RUN_SCRIPT)
 *   MODEL_LOOKUP str key
 *   MODEL_FETCH u64 obj id
 */
#ifndef SMARTSIM_AI_WORKER_PROTOCOL_H
#define SMARTSIM_AI_WORKER_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Message types (protocol.MSG_*). */
enum {
    WMSG_LOAD = 1,
    WMSG_RUN_MODEL = 2,
    WMSG_RUN_SCRIPT = 3,
    WMSG_UNLOAD = 4,
    WMSG_PING = 5,
    WMSG_LOADED = 10,
    WMSG_RESULT = 11,
    WMSG_ERROR = 12,
    WMSG_UNKNOWN = 13,
    WMSG_PONG = 14,
    WMSG_CALL = 20, /* script callbacks, worker -> module, during a RUN_SCRIPT */
    WMSG_CALL_REPLY = 21,
    WMSG_MODEL_LOOKUP = 22,
    WMSG_MODEL_INFO = 23,
    WMSG_MODEL_FETCH = 24,
};

/* Redis reply values in WMSG_CALL_REPLY (protocol.VAL_*). */
enum { WVAL_NIL = 0, WVAL_STR = 1, WVAL_INT = 2, WVAL_ARRAY = 3, WVAL_ERROR = 4 };

/* What a LOAD compiles (protocol.KIND_*). */
enum { WIRE_KIND_MODEL = 0, WIRE_KIND_SCRIPT = 1 };

/* Tensor dtype codes (protocol.DTYPES: the index is the code).  RedisAI's order, the same as
 * ai_dtype in tensor.h, which execute.c checks at compile time. */
enum wire_dtype {
    WIRE_DTYPE_FLOAT = 0,
    WIRE_DTYPE_DOUBLE = 1,
    WIRE_DTYPE_INT8 = 2,
    WIRE_DTYPE_INT16 = 3,
    WIRE_DTYPE_INT32 = 4,
    WIRE_DTYPE_INT64 = 5,
    WIRE_DTYPE_UINT8 = 6,
    WIRE_DTYPE_UINT16 = 7,
    WIRE_DTYPE_BOOL = 8,
    WIRE_DTYPE_STRING = 9,
    WIRE_DTYPE_COUNT = 10,
};

#define WIRE_ABSENT 255    /* dtype of "no tensor" (protocol.ABSENT) */
#define WIRE_SHM 0x40      /* dtype flag: bytes in a shared region, u64 offset + u64 length */
#define WIRE_SHM_ALIGN 64  /* tensors in a region start at multiples of this (protocol.SHM_ALIGN) */
#define WIRE_MAX_DIMS 1024 /* >= AI_TENSOR_MAX_DIMS (checked in execute.c) */

/* A tensor as it travels: dtype code, shape, bytes (none of them owned). */
typedef struct wire_tensor {
    uint8_t dtype;
    uint32_t ndim;
    const int64_t *dims; /* ndim entries: the sender's own shape, or the reader's buffer */
    const char *data;
    size_t nbytes;
    /* WIRE_INLINE: the bytes travel in the frame; else where they lie in the sender's region
     * (sending: already copied there, data unused; read: data points there) */
    size_t shm_offset;
} wire_tensor;

#define WIRE_INLINE ((size_t)-1)

/* Output buffer for building a frame: small fields are copied, big blobs are iovecs. */
typedef struct wbuf {
    char *small;
    size_t small_len, small_cap;
    struct iovec *iov;   /* entries point into small (by offset) or at external data */
    size_t *iov_off;     /* offset into small, or (size_t)-1 for external */
    int niov, iov_cap;
    size_t total;
} wbuf;

void wbuf_init(wbuf *b, uint8_t type, uint64_t req_id);
void wbuf_free(wbuf *b);
void wbuf_u8(wbuf *b, uint8_t v);
void wbuf_u32(wbuf *b, uint32_t v);
void wbuf_u64(wbuf *b, uint64_t v);
void wbuf_bytes(wbuf *b, const char *data, size_t len); /* references data, no copy if big */
void wbuf_str(wbuf *b, const char *s);
void wbuf_bytes_copy(wbuf *b, const char *data, size_t len); /* always copies */
/* Inline, or (shm_offset set) flagged WIRE_SHM with its offset and length. */
void wbuf_tensor(wbuf *b, const wire_tensor *t);
/* Completes the frame (its length prefix, the iovecs' addresses): b->iov[0..niov) is then the
 * whole frame.  Returns the frame's byte count, prefix included. */
size_t wbuf_finish(wbuf *b);

/* ------------------------------------------------------------ messages the module sends
 * Each function builds one whole frame into b (wbuf_init included; the caller sends it, then
 * wbuf_free's it) from plain values, so that the golden test holds the module's own encoders
 * to the frames of tests/golden/worker_frames.json.  Big byte runs (blobs, tensor bytes) are
 * referenced, not copied: they must outlive the send.  Replies to a script's callbacks carry
 * request id 0 (one run at a time per worker). */

/* A model or script as LOAD and MODEL_INFO describe it. */
typedef struct wire_object {
    uint64_t obj_id;
    uint8_t kind; /* WIRE_KIND_* (LOAD only) */
    const char *backend, *device;
    size_t ninputs, noutputs, nentry_points; /* inputs/outputs: TF models' names (LOAD) */
    const char *const *inputs, *const *outputs;
    const char *const *entry_points; /* scripts' (LOAD only) */
    const char *blob;                /* the model's bytes or the script's source */
    size_t blob_len;
} wire_object;

/* A script run (RUN_SCRIPT). */
typedef struct wire_script_run {
    uint64_t obj_id;
    const char *function;
    size_t nkeys, nargs;
    const char *const *keys, *const *args;
    uint32_t n_outputs;
    size_t ntensors;
    const wire_tensor *tensors;
} wire_script_run;

void wmsg_load(wbuf *b, uint64_t req_id, const wire_object *o);
void wmsg_run_model(wbuf *b, uint64_t req_id, uint64_t obj_id, size_t ntensors,
                    const wire_tensor *tensors);
void wmsg_run_script(wbuf *b, uint64_t req_id, const wire_script_run *run);
void wmsg_unload(wbuf *b, uint64_t req_id, uint64_t obj_id);
void wmsg_ping(wbuf *b, uint64_t req_id);
/* CALL_REPLY: the frame's head; then exactly one value, written with wval_* (copied: the
 * server's reply is freed before the frame is sent). */
void wmsg_call_reply(wbuf *b);
void wval_nil(wbuf *b);
void wval_str(wbuf *b, const char *s, size_t len);
void wval_int(wbuf *b, int64_t v);
void wval_array(wbuf *b, uint32_t n); /* then its n values */
void wval_error(wbuf *b, const char *msg, size_t len);
/* MODEL_INFO (answers MODEL_LOOKUP without the blob, MODEL_FETCH with it). */
void wmsg_model_info(wbuf *b, const wire_object *o, int with_blob);
/* ERROR (answers MODEL_LOOKUP or MODEL_FETCH that failed). */
void wmsg_error(wbuf *b, const char *message);

/* Reading fields of a received payload; on overrun r->bad is set and zeroes are returned. */
typedef struct rbuf {
    const char *p;
    size_t len, pos;
    int bad;
    const char *shm; /* the out region as mapped, for tensors flagged WIRE_SHM; NULL: none */
    size_t shm_len;
} rbuf;

uint8_t rbuf_u8(rbuf *r);
uint32_t rbuf_u32(rbuf *r);
uint64_t rbuf_u64(rbuf *r);
const char *rbuf_bytes(rbuf *r, size_t *len);
/* 0 ok (t->dtype may be WIRE_ABSENT), -1 bad; t->data may point into r->shm (shm_offset).
 * The shape is read into dims (WIRE_MAX_DIMS entries), which t->dims then points at. */
int rbuf_tensor(rbuf *r, wire_tensor *t, int64_t *dims);

#endif
