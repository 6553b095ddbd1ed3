/*
 * Starting Python worker processes and moving frames over their private socketpair.
 * Everything here runs in the background threads of run_queue.c (and once at module load).
 */
#define _GNU_SOURCE
#include "worker_channel.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"

extern char **environ;

/* The server's environment.  Not plain `environ`: Valkey 8 loads modules with RTLD_DEEPBIND, so
 * the module's `environ` binds to libc's own variable, which stays NULL in a program that has a
 * copy of it (copy relocation), and the workers would start with no environment at all (no
 * PATH, HOME, CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS, SMARTSIM_AI_WORKER_SANDBOX...).  A lookup
 * in the program's own scope finds the variable libc really uses. */
static char **server_environ(void) {
    char **env = environ;
    void *self = dlopen(NULL, RTLD_NOW);
    if (self) {
        char ***program = (char ***)dlsym(self, "environ");
        if (program && *program) env = *program;
        dlclose(self);
    }
    return env;
}

#define WORKER_FD 3
#define WORKER_SHM_IN_FD 4
#define WORKER_SHM_OUT_FD 5
#define SHM_MAX ((size_t)1 << 40)        /* a region the worker grows past this is refused */
#define SHM_KEEP ((size_t)64 << 20)      /* pages kept per region between requests */

void worker_log(const char *fmt, ...) {
    char msg[1024], stamp[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%d %b %Y %H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ld", ts.tv_nsec / 1000000);
    FILE *f = ai_config.log_file[0] ? fopen(ai_config.log_file, "a") : NULL;
    fprintf(f ? f : stderr, "%d:M %s # <ai> %s\n", (int)getpid(), stamp, msg);
    if (f) fclose(f);
}

static void region_close(shm_region *r) {
    if (r->map) munmap(r->map, r->size);
    if (r->fd >= 0) close(r->fd);
    r->map = NULL;
    r->size = 0;
    r->fd = -1;
}

static void shm_close(ai_worker *w) {
    if (!w->has_shm) return;
    region_close(&w->shm_in);
    region_close(&w->shm_out);
    w->has_shm = 0;
}

/* Both regions, empty and sealed against shrinking (so no mapping can fault); -1: no shm. */
static int shm_open_regions(ai_worker *w) {
    shm_region *rs[2] = {&w->shm_in, &w->shm_out};
    const char *names[2] = {"ai-worker-in", "ai-worker-out"};
    for (int i = 0; i < 2; i++) {
        rs[i]->map = NULL;
        rs[i]->size = 0;
        rs[i]->fd = memfd_create(names[i], MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (rs[i]->fd >= 0 && rs[i]->fd <= WORKER_SHM_OUT_FD) {
            /* above the child's fds 3-5, so the spawn's dup2s cannot overwrite a source */
            int high = fcntl(rs[i]->fd, F_DUPFD_CLOEXEC, WORKER_SHM_OUT_FD + 1);
            close(rs[i]->fd);
            rs[i]->fd = high;
        }
        if (rs[i]->fd < 0 || fcntl(rs[i]->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
            worker_log("no shared memory for the worker's tensors (%s): they go through its "
                       "socket", strerror(errno));
            if (rs[i]->fd >= 0) close(rs[i]->fd);
            rs[i]->fd = -1;
            if (i == 1) region_close(rs[0]);
            return -1;
        }
    }
    w->has_shm = 1;
    return 0;
}

/* Map `r` at the file's current size (>= what is mapped: the file never shrinks). */
static int region_remap(shm_region *r, size_t size) {
    if (size == r->size) return 0;
    char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (map == MAP_FAILED) return -1;
    if (r->map) munmap(r->map, r->size);
    r->map = map;
    r->size = size;
    return 0;
}

int worker_shm_reserve(ai_worker *w, size_t need) {
    if (!w->has_shm || need > SHM_MAX) return -1;
    shm_region *r = &w->shm_in;
    if (need <= r->size) return 0;
    size_t size = need + need / 4;
    size = (size + (1 << 20) - 1) & ~(size_t)((1 << 20) - 1); /* whole MiB: fewer regrowths */
    if (ftruncate(r->fd, (off_t)size) != 0 || region_remap(r, size) != 0) {
        worker_log("cannot grow the shared memory region of worker %d to %zu bytes (%s); this "
                   "request's tensors go through its socket",
                   (int)w->pid, size, strerror(errno));
        return -1;
    }
    return 0;
}

int worker_shm_refresh_out(ai_worker *w) {
    if (!w->has_shm) return 0;
    shm_region *r = &w->shm_out;
    struct stat st;
    if (fstat(r->fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size > SHM_MAX) return -1;
    if ((size_t)st.st_size <= r->size) return 0;
    return region_remap(r, (size_t)st.st_size);
}

void worker_shm_trim(ai_worker *w) {
    if (!w->has_shm) return;
    shm_region *rs[2] = {&w->shm_in, &w->shm_out};
    for (int i = 0; i < 2; i++) {
        struct stat st; /* the mapped size first: no system call after a small run */
        if (rs[i]->size <= SHM_KEEP || fstat(rs[i]->fd, &st) != 0 || (size_t)st.st_size <= SHM_KEEP)
            continue;
        /* the size stays (mappings stay valid), the pages beyond SHM_KEEP go back */
        fallocate(rs[i]->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)SHM_KEEP,
                  st.st_size - (off_t)SHM_KEEP);
    }
}

int worker_spawn(ai_worker *w, char *err, size_t errlen) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, AI_ERR_WORKER_SOCKETPAIR_FMT, strerror(errno));
        return -1;
    }
    int big = 4 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);

    shm_close(w); /* a previous process's regions, if any: never shared with the next one */
    if (ai_config.shm_threshold > 0) shm_open_regions(w);

    char fd_s[16], intra_s[16], inter_s[16], mem_s[32], ppid_s[16], shm_fds_s[32], shm_min_s[32];
    snprintf(fd_s, sizeof fd_s, "%d", WORKER_FD);
    snprintf(intra_s, sizeof intra_s, "%d", ai_config.worker_intra_op);
    snprintf(inter_s, sizeof inter_s, "%d", ai_config.worker_inter_op);
    snprintf(mem_s, sizeof mem_s, "%lld", ai_config.backend_memory_limit);
    snprintf(ppid_s, sizeof ppid_s, "%d", (int)getpid());
    char *argv[] = {ai_config.worker_exe,
                    "-m",
                    "smartsim_ai.worker",
                    "--fd",
                    fd_s,
                    "--device",
                    w->device,
                    "--intra-op",
                    intra_s,
                    "--inter-op",
                    inter_s,
                    "--memory-limit-mb",
                    mem_s,
                    "--parent-pid",
                    ppid_s,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL};
    int argc = 15;
    if (ai_config.log_file[0]) {
        argv[argc++] = "--log-file";
        argv[argc++] = ai_config.log_file;
    }
    if (w->has_shm) {
        snprintf(shm_fds_s, sizeof shm_fds_s, "%d,%d", WORKER_SHM_IN_FD, WORKER_SHM_OUT_FD);
        snprintf(shm_min_s, sizeof shm_min_s, "%lld", ai_config.shm_threshold);
        argv[argc++] = "--shm-fds";
        argv[argc++] = shm_fds_s;
        argv[argc++] = "--shm-threshold";
        argv[argc++] = shm_min_s;
    }

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    /* dup2 onto fd 3 clears close-on-exec (also when sv[1] is already 3) */
    posix_spawn_file_actions_adddup2(&fa, sv[1], WORKER_FD);
    if (w->has_shm) { /* memfds are above fd 5 (shm_open_regions) */
        posix_spawn_file_actions_adddup2(&fa, w->shm_in.fd, WORKER_SHM_IN_FD);
        posix_spawn_file_actions_adddup2(&fa, w->shm_out.fd, WORKER_SHM_OUT_FD);
    }
    posix_spawn_file_actions_addclosefrom_np(&fa, WORKER_SHM_OUT_FD + 1);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, server_environ());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        shm_close(w);
        snprintf(err, errlen, AI_ERR_WORKER_SPAWN_FMT, ai_config.worker_exe, strerror(rc));
        return -1;
    }
    w->fd = sv[0];
    w->pid = pid;
    w->answered = 0;
    return 0;
}

void worker_kill(ai_worker *w, char *why, size_t whylen) {
    if (why && whylen) why[0] = '\0';
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        int status = 0;
        pid_t r;
        do {
            r = waitpid(w->pid, &status, 0);
        } while (r < 0 && errno == EINTR);
        if (why && r == w->pid) {
            if (WIFSIGNALED(status))
                snprintf(why, whylen, "killed by signal %d", WTERMSIG(status));
            else if (WIFEXITED(status))
                snprintf(why, whylen, "exited with status %d", WEXITSTATUS(status));
        }
        w->pid = -1;
    }
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    shm_close(w); /* whatever the process left in them is never read */
}

int worker_send(ai_worker *w, wbuf *b) {
    wbuf_finish(b);
    struct iovec *iov = b->iov;
    int n = b->niov;
    while (n > 0) {
        struct msghdr mh = {0};
        mh.msg_iov = iov;
        mh.msg_iovlen = n > 1024 ? 1024 : n;
        ssize_t sent = sendmsg(w->fd, &mh, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        while (n > 0 && (size_t)sent >= iov->iov_len) {
            sent -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0 && sent > 0) {
            iov->iov_base = (char *)iov->iov_base + sent;
            iov->iov_len -= sent;
        }
    }
    return 0;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_full(ai_worker *w, char *buf, size_t len, long long deadline) {
    size_t got = 0;
    while (got < len) {
        if (deadline > 0) {
            long long left = deadline - now_ms();
            if (left <= 0) return -2;
            struct pollfd pfd = {w->fd, POLLIN, 0};
            int pr = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
            if (pr < 0 && errno == EINTR) continue;
            if (pr == 0) return -2;
        }
        ssize_t r = read(w->fd, buf + got, len - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

int worker_recv(ai_worker *w, char **out, size_t *len, long timeout_ms) {
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    uint64_t flen;
    int rc = read_full(w, (char *)&flen, 8, deadline);
    if (rc) return rc;
    if (flen > ((uint64_t)1 << 40)) return -1;
    char *buf = malloc(flen ? flen : 1);
    if (!buf) return -1;
    rc = read_full(w, buf, flen, deadline);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = flen;
    return 0;
}
