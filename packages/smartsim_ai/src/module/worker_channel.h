/*
 * The private channel to one Python worker process (smartsim_ai.worker).
 *
 * A worker is started with posix_spawn on one end of a socketpair (inherited as fd 3, never a
 * TCP port, so no client can reach it) and dies with the server (PR_SET_PDEATHSIG, channel EOF).
 * Frames: u64 payload length, then u8 type, u64 request id, fields (see
 * smartsim_ai/worker/protocol.py for the layout, which this file mirrors).
 *
 * Tensors of SHM_THRESHOLD bytes and more do not cross the socket: their bytes lie in one of two
 * shared memory regions per worker (memfds the module creates at spawn and the worker inherits
 * as fds 4 and 5): the module writes run inputs into the "in" region, the worker writes outputs
 * into the "out" region, and the frame carries only (offset, length).  Both are sealed against
 * shrinking, so no mapping of either side can fault; the module reads an output region only
 * after the worker's complete reply, and drops both regions with the process.
 */
#ifndef SMARTSIM_AI_WORKER_CHANNEL_H
#define SMARTSIM_AI_WORKER_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

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

/* Redis reply values in WMSG_CALL_REPLY */
enum { WVAL_NIL = 0, WVAL_STR = 1, WVAL_INT = 2, WVAL_ARRAY = 3, WVAL_ERROR = 4 };

#define WIRE_ABSENT 255
#define WIRE_SHM 0x40 /* dtype flag: bytes in a shared region, u64 offset + u64 length */
#define WIRE_MAX_DIMS 1024 /* >= AI_TENSOR_MAX_DIMS (checked in execute.c) */

/* A tensor as it travels: dtype code (order of protocol.DTYPES), shape, bytes (not owned). */
typedef struct wire_tensor {
    uint8_t dtype;
    uint32_t ndim;
    int64_t dims[WIRE_MAX_DIMS];
    const char *data;
    size_t nbytes;
} wire_tensor;

/* Process-wide settings for starting workers (module arguments). */
typedef struct worker_settings {
    char python[4096];
    int intra_op;
    int inter_op;
    long long memory_limit_mb;
    char log_file[4096]; /* the server's log file; empty: workers log to stderr */
    long long shm_threshold; /* SHM_THRESHOLD: tensors this big go through shared memory; 0: never */
} worker_settings;

extern worker_settings g_worker_settings;

/* A shared memory region (memfd), mapped whole in this process. */
typedef struct shm_region {
    int fd;
    char *map;
    size_t size; /* mapped bytes: the file's size when last looked */
} shm_region;

typedef struct ai_worker {
    int fd;
    pid_t pid;
    char device[32];
    int index;
    unsigned restarts;
    int answered; /* the current process has replied at least once */
    int has_shm;  /* shm_in/shm_out exist (made at spawn when SHM_THRESHOLD > 0) */
    shm_region shm_in, shm_out;
} ai_worker;

/* A line in the server's log (or stderr), from any thread: worker starts, deaths, kills. */
void worker_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Start (or restart) the process; returns 0 or -1 with errno-ish text in err (size errlen). */
int worker_spawn(ai_worker *w, char *err, size_t errlen);
/* SIGKILL the process, reap it, close the channel; describes how it ended in why. */
void worker_kill(ai_worker *w, char *why, size_t whylen);

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
void wbuf_tensor(wbuf *b, const wire_tensor *t);
/* A tensor whose bytes were put at `offset` of the worker's in region. */
void wbuf_tensor_shm(wbuf *b, const wire_tensor *t, size_t offset);

/* The in region grown to at least `need` bytes (mapped); 0 ok, -1 (use the socket instead). */
int worker_shm_reserve(ai_worker *w, size_t need);
/* Map all the worker's out region has grown to (after a complete reply); 0 ok, -1 broken. */
int worker_shm_refresh_out(ai_worker *w);
/* Give back the pages of both regions beyond what small runs keep warm (after a request). */
void worker_shm_trim(ai_worker *w);

/* Send a frame; 0 ok, -1 when the channel is broken. */
int worker_send(ai_worker *w, wbuf *b);
/* Receive one frame payload (malloc'ed into *out, length *len); timeout_ms <= 0: none.
 * Returns 0 ok, -1 channel broken, -2 timed out. */
int worker_recv(ai_worker *w, char **out, size_t *len, long timeout_ms);

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
/* 0 ok (t->dtype may be WIRE_ABSENT), -1 bad; t->data may point into r->shm */
int rbuf_tensor(rbuf *r, wire_tensor *t);

#endif
