/*
 * The C side of the worker protocol's golden test (tests/test_worker_golden.py), built with
 * src/module/exec/worker_protocol.c alone:
 *
 *   worker_frames encode NAME          the golden frame NAME (module -> worker) as the module's
 *                                      message encoders (wmsg_*, wval_*) build it, in hex
 *   worker_frames decode HEX [REGION]  a frame (worker -> module) read with the module's frame
 *                                      functions, as the JSON fields of worker_frames.json;
 *                                      REGION (hex): the worker's out region
 *
 * The message values below are those of worker_frames.json's to_worker frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "worker_protocol.h"

static const char *const dtype_names[WIRE_DTYPE_COUNT] = {
    [WIRE_DTYPE_FLOAT] = "FLOAT", [WIRE_DTYPE_DOUBLE] = "DOUBLE", [WIRE_DTYPE_INT8] = "INT8",
    [WIRE_DTYPE_INT16] = "INT16", [WIRE_DTYPE_INT32] = "INT32",   [WIRE_DTYPE_INT64] = "INT64",
    [WIRE_DTYPE_UINT8] = "UINT8", [WIRE_DTYPE_UINT16] = "UINT16", [WIRE_DTYPE_BOOL] = "BOOL",
    [WIRE_DTYPE_STRING] = "STRING",
};

/* ------------------------------------------------------------------------------- encoding */

static wire_tensor tensor(uint8_t dtype, uint32_t ndim, const int64_t *dims, const void *data,
                          size_t nbytes, size_t shm_offset) {
    wire_tensor t;
    t.dtype = dtype;
    t.ndim = ndim;
    t.dims = dims; /* static arrays: they outlive the encoding */
    t.data = data;
    t.nbytes = nbytes;
    t.shm_offset = shm_offset;
    return t;
}

/* Each frame through the module's own message encoders (worker_protocol.h, wmsg_*). */
static int encode(const char *name, wbuf *b) {
    static const char *const x[] = {"x"}, *const y[] = {"y"};
    wire_tensor ts[3];
    if (!strcmp(name, "load_model")) {
        wire_object o = {.obj_id = 3, .kind = WIRE_KIND_MODEL, .backend = "TORCH",
                         .device = "CPU", .ninputs = 1, .inputs = x, .noutputs = 1,
                         .outputs = y, .blob = "\x01\x02\x03\x04", .blob_len = 4};
        wmsg_load(b, 1, &o);
    } else if (!strcmp(name, "load_script")) {
        static const char src[] = "def f(a):\n    return a\n";
        wire_object o = {.obj_id = 4, .kind = WIRE_KIND_SCRIPT, .backend = "TORCH",
                         .device = "CPU", .blob = src, .blob_len = sizeof src - 1};
        wmsg_load(b, 2, &o);
    } else if (!strcmp(name, "load_script_entry_points")) {
        static const char src[] = "def f(a):\n    return a\n\ndef g(a, b):\n    return a + b\n";
        static const char *const fg[] = {"f", "g"};
        wire_object o = {.obj_id = 5, .kind = WIRE_KIND_SCRIPT, .backend = "TORCH",
                         .device = "GPU:0", .nentry_points = 2, .entry_points = fg,
                         .blob = src, .blob_len = sizeof src - 1};
        wmsg_load(b, 9, &o);
    } else if (!strcmp(name, "run_model")) {
        static const float f[] = {1.0f, 2.0f};
        static const int64_t i64[] = {-1, 7}, d12[] = {1, 2}, d2[] = {2};
        ts[0] = tensor(WIRE_DTYPE_FLOAT, 2, d12, f, sizeof f, WIRE_INLINE);
        ts[1] = tensor(WIRE_DTYPE_INT64, 1, d2, i64, sizeof i64, WIRE_INLINE);
        wmsg_run_model(b, 3, 3, 2, ts);
    } else if (!strcmp(name, "run_model_shm")) {
        static const int64_t d4[] = {4}, d2[] = {2}, d12[] = {1, 2};
        ts[0] = tensor(WIRE_DTYPE_UINT8, 1, d4, NULL, 4, 0);
        ts[1] = tensor(WIRE_DTYPE_STRING, 1, d2, "a\0bc\0", 5, WIRE_INLINE);
        /* the first one's 4 bytes, aligned */
        ts[2] = tensor(WIRE_DTYPE_INT32, 2, d12, NULL, 8, WIRE_SHM_ALIGN);
        wmsg_run_model(b, 4, 3, 3, ts);
    } else if (!strcmp(name, "run_script")) {
        static const int64_t d2[] = {2}, d0[] = {0};
        static const char *const k[] = {"k"}, *const one[] = {"1"};
        ts[0] = tensor(WIRE_DTYPE_BOOL, 1, d2, "\x01\x00", 2, WIRE_INLINE);
        ts[1] = tensor(WIRE_DTYPE_INT8, 1, d0, "", 0, WIRE_INLINE);
        wire_script_run run = {.obj_id = 4, .function = "f", .nkeys = 1, .keys = k, .nargs = 1,
                               .args = one, .n_outputs = 1, .ntensors = 2, .tensors = ts};
        wmsg_run_script(b, 5, &run);
    } else if (!strcmp(name, "unload")) {
        wmsg_unload(b, 6, 3);
    } else if (!strcmp(name, "ping")) {
        wmsg_ping(b, 7);
    } else if (!strcmp(name, "call_reply")) {
        wmsg_call_reply(b);
        wval_array(b, 5);
        wval_str(b, "OK", 2);
        wval_int(b, 5);
        wval_int(b, -2);
        wval_nil(b);
        wval_error(b, "ERR no", 6);
    } else if (!strcmp(name, "call_reply_nested")) {
        wmsg_call_reply(b);
        wval_array(b, 2);
        wval_array(b, 1);
        wval_str(b, "", 0);
        wval_array(b, 0);
    } else if (!strcmp(name, "call_reply_error")) {
        static const char msg[] = "NOPERM User u has no permissions to run the 'flushall' command";
        wmsg_call_reply(b);
        wval_error(b, msg, sizeof msg - 1);
    } else if (!strcmp(name, "model_info") || !strcmp(name, "model_info_no_blob")) {
        int blob = !strcmp(name, "model_info");
        wire_object o = {.obj_id = 3, .backend = blob ? "TORCH" : "ONNX",
                         .device = blob ? "CPU" : "GPU:1", .ninputs = (size_t)blob, .inputs = x,
                         .noutputs = 1, .outputs = y, .blob = "\x01\x02", .blob_len = 2};
        wmsg_model_info(b, &o, blob);
    } else if (!strcmp(name, "error_to_worker")) {
        wmsg_error(b, "ERR the model was not looked up by this script");
    } else {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------- decoding */

static void json_str(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void json_hex(const char *p, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) printf("%02x", (unsigned char)p[i]);
    putchar('"');
}

static void field(const char *name) { printf(", \"%s\": ", name); }

static void bytes_field(rbuf *r, const char *name) {
    size_t n;
    const char *s = rbuf_bytes(r, &n);
    field(name);
    json_str(s, n);
}

static void strs_field(rbuf *r, const char *name) {
    uint32_t n = rbuf_u32(r);
    field(name);
    putchar('[');
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        size_t len;
        const char *s = rbuf_bytes(r, &len);
        if (i) printf(", ");
        json_str(s, len);
    }
    putchar(']');
}

static int tensors_field(rbuf *r) {
    uint32_t n = rbuf_u32(r);
    field("tensors");
    putchar('[');
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        wire_tensor t;
        int64_t dims[WIRE_MAX_DIMS];
        if (i) printf(", ");
        if (rbuf_tensor(r, &t, dims) != 0) return -1;
        if (t.dtype == WIRE_ABSENT) {
            printf("null");
            continue;
        }
        if (t.dtype >= WIRE_DTYPE_COUNT) return -1;
        printf("{\"dtype\": \"%s\", \"shape\": [", dtype_names[t.dtype]);
        for (uint32_t d = 0; d < t.ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t.dims[d]);
        printf("], \"hex\": ");
        json_hex(t.data, t.nbytes);
        if (t.shm_offset != WIRE_INLINE) printf(", \"shm_offset\": %zu", t.shm_offset);
        putchar('}');
    }
    putchar(']');
    return 0;
}

static char *unhex(const char *hex, size_t *len) {
    size_t n = strlen(hex) / 2;
    char *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            free(out);
            return NULL;
        }
        out[i] = (char)v;
    }
    *len = n;
    return out;
}

static int decode(const char *frame_hex, const char *region_hex) {
    size_t len, shm_len = 0;
    char *frame = unhex(frame_hex, &len), *shm = region_hex ? unhex(region_hex, &shm_len) : NULL;
    uint64_t plen = 0;
    if (!frame || len < 8 || (memcpy(&plen, frame, 8), plen != len - 8)) {
        fprintf(stderr, "malformed frame: its length prefix does not match its size\n");
        return 1;
    }
    rbuf r = {.p = frame + 8, .len = len - 8, .shm = shm, .shm_len = shm_len};
    uint8_t type = rbuf_u8(&r);
    uint64_t req = rbuf_u64(&r);
    static const char *const names[] = {
        [WMSG_LOADED] = "Loaded", [WMSG_RESULT] = "Result", [WMSG_ERROR] = "Error",
        [WMSG_UNKNOWN] = "Unknown", [WMSG_PONG] = "Pong", [WMSG_CALL] = "Call",
        [WMSG_MODEL_LOOKUP] = "ModelLookup", [WMSG_MODEL_FETCH] = "ModelFetch",
    };
    if (type >= sizeof names / sizeof *names || !names[type]) {
        fprintf(stderr, "unknown message type %d (not one a worker sends)\n", type);
        return 1;
    }
    printf("{\"type\": \"%s\", \"req_id\": %llu", names[type], (unsigned long long)req);
    int rc = 0;
    switch (type) {
        case WMSG_LOADED:
            strs_field(&r, "inputs");
            strs_field(&r, "outputs");
            bytes_field(&r, "version");
            break;
        case WMSG_RESULT:
            field("duration_us");
            printf("%llu", (unsigned long long)rbuf_u64(&r));
            rc = tensors_field(&r);
            break;
        case WMSG_ERROR: bytes_field(&r, "message"); break;
        case WMSG_CALL: strs_field(&r, "argv"); break;
        case WMSG_MODEL_LOOKUP: bytes_field(&r, "key"); break;
        case WMSG_MODEL_FETCH:
            field("obj_id");
            printf("%llu", (unsigned long long)rbuf_u64(&r));
            break;
        default: break;
    }
    printf("}\n");
    if (rc != 0 || r.bad || r.pos != r.len) {
        fprintf(stderr, "malformed frame: fields overrun or leave bytes over\n");
        return 1;
    }
    free(frame);
    free(shm);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "encode")) {
        wbuf b;
        if (encode(argv[2], &b) != 0) {
            fprintf(stderr, "no golden frame named %s\n", argv[2]);
            return 2;
        }
        wbuf_finish(&b);
        for (int i = 0; i < b.niov; i++)
            for (size_t k = 0; k < b.iov[i].iov_len; k++)
                printf("%02x", ((unsigned char *)b.iov[i].iov_base)[k]);
        printf("\n");
        wbuf_free(&b);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "decode")) return decode(argv[2], argc > 3 ? argv[3] : NULL);
    fprintf(stderr, "usage: %s encode NAME | decode HEX [REGION_HEX]\n", argv[0]);
    return 2;
}
