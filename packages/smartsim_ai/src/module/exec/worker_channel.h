/*
 * The private channel to one Python worker process (smartsim_ai.worker).
 *
 * A worker is started with posix_spawn on one end of a socketpair (inherited as fd 3, never a
 * TCP port, so no client can reach it) and dies with the server (PR_SET_PDEATHSIG, channel EOF).
 * Frames and their layouts: worker_protocol.h (the Python twin: smartsim_ai/worker/protocol.py).
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

#include "worker_protocol.h"

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

#endif
