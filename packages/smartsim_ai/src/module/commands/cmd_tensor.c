/*
 * AI.TENSORSET key TYPE dim... [BLOB data | VALUES v...]
 * AI.TENSORGET key [META] [BLOB | VALUES]
 * Order of checks as RedisAI: arity, key type, then syntax and data.
 */
#include "cmd_tensor.h"

#include <string.h>

#include "commands.h"
#include "compact.h"
#include "errors.h"
#include "keyspace.h"
#include "reply.h"
#include "tensor_type.h"

/* Keep the argument string itself when its block is at most this much bigger than the
 * data (robj + sds header + allocator rounding); copy otherwise. */
#define AI_ZERO_COPY_SLACK 64
#define AI_ZERO_COPY_BIG (32 * 1024) /* the server's own "big argument" threshold */

/* Case-insensitive match of s[0..len) against `word`, a lower-case word of 1-8 letters,
 * in one integer compare (inlined: this runs for every TENSORSET and TENSORGET).  A byte
 * ORed with 0x20 equals a lower-case letter only when it is that letter in either case. */
static inline int word_is(const char *s, size_t len, const char *word) {
    size_t n = strlen(word);
    if (len != n) return 0;
    uint64_t got = 0, want = 0;
    memcpy(&got, s, n);
    memcpy(&want, word, n);
    return (got | (0x2020202020202020ULL >> (8 * (8 - n)))) == want;
}

/* A dim as the server's string-to-integer would read it ([1-9][0-9]*, at most LLONG_MAX);
 * returns 0 and sets *out, or -1 (a bad or non-positive dim: RedisAI's shape error). */
static int parse_dim(const char *s, size_t len, int64_t *out) {
    if (len == 0 || len > 19 || s[0] < '1' || s[0] > '9') return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return -1;
        v = v * 10 + d; /* 19 digits < 2^64: no overflow */
    }
    if (v > (uint64_t)INT64_MAX) return -1;
    *out = (int64_t)v;
    return 0;
}

static const char *status_error(ai_tensor_status st) {
    switch (st) {
        case AI_TENSOR_EDIMS: return AI_ERR_SHAPE;
        case AI_TENSOR_ETOO_LARGE: return AI_ERR_SHAPE_TOO_LARGE;
        case AI_TENSOR_EDATA_LEN: return AI_ERR_DATA_LENGTH;
        case AI_TENSOR_EBOOL: return AI_ERR_BOOL_VALUES;
        case AI_TENSOR_ESTR_COUNT: return AI_ERR_STRING_COUNT;
        case AI_TENSOR_ENOMEM: return AI_ERR_OOM;
        default: return NULL;
    }
}

/* One VALUES argument into element i; returns 0 or -1 for an invalid value. */
static int set_value(ai_tensor *t, size_t i, RedisModuleString *arg) {
    if (ai_tensor_is_float(t)) {
        double d;
        if (RedisModule_StringToDouble(arg, &d) != REDISMODULE_OK) return -1;
        ai_tensor_set_double(t, i, d);
        return 0;
    }
    long long v;
    if (RedisModule_StringToLongLong(arg, &v) != REDISMODULE_OK) return -1;
    long long max;
    switch ((ai_dtype)t->dtype) {
        case AI_DTYPE_BOOL: max = 1; break;
        case AI_DTYPE_UINT8: max = 255; break;
        case AI_DTYPE_UINT16: max = 65535; break;
        case AI_DTYPE_INT8: max = 127; break;
        case AI_DTYPE_INT16: max = 32767; break;
        case AI_DTYPE_INT32: max = 2147483647LL; break;
        default: max = 9223372036854775807LL; break;
    }
    /* RedisAI rejects every negative value, signed types included (its tests rely on it). */
    if (v < 0 || v > max) return -1;
    ai_tensor_set_longlong(t, i, v);
    return 0;
}

/* STRING VALUES: each argument is one element, optionally ending with one NUL. */
static const char *fill_strings(ai_tensor *t, RedisModuleString **vals) {
    size_t total = 0;
    for (size_t i = 0; i < t->len; i++) {
        size_t len;
        const char *s = RedisModule_StringPtrLen(vals[i], &len);
        if (len > 0 && s[len - 1] == '\0') len--;
        if (memchr(s, '\0', len)) return AI_ERR_CSTRING_NUL;
        total += len + 1;
    }
    if (ai_tensor_alloc_data(t, total) != AI_TENSOR_OK) return AI_ERR_OOM;
    size_t off = 0;
    uint64_t *offsets = ai_tensor_offsets(t);
    for (size_t i = 0; i < t->len; i++) {
        size_t len;
        const char *s = RedisModule_StringPtrLen(vals[i], &len);
        if (len > 0 && s[len - 1] == '\0') len--;
        offsets[i] = off;
        memcpy(t->data + off, s, len);
        off += len + 1; /* the NUL is there already (zeroed allocation) */
    }
    return NULL;
}

/* Whether the tensor keeps a reference to the BLOB argument, the server's string, as its
 * data (no copy, no new allocation, as SET keeps its value).  It does when
 *  - the string's block is at most AI_ZERO_COPY_SLACK bytes bigger than the data, or
 *  - the data is big (>= AI_ZERO_COPY_BIG): copying would double TENSORSET's memory traffic
 *    (measured: 0.5x SET's throughput from 64 KB up on Redis 7).  The block's slack is then
 *    the allocator's size-class rounding (a SET of the same bytes pays it too), which the
 *    background compaction gives back (compact.h).
 * Otherwise (a small string in a roomier block) the bytes are copied once into an exact
 * allocation, so that small tensors stay within a few dozen bytes of their data. */
static int keeps_string(RedisModuleString *arg, size_t len) {
    return len >= AI_ZERO_COPY_BIG || RedisModule_MallocSizeString(arg) <= len + AI_ZERO_COPY_SLACK;
}

/* The bytes of a BLOB argument the tensor keeps, once they can no longer move.  When a module
 * command returns, the server trims every argument the module retained whose block is more
 * than 10% unused (a reallocation, which may move the bytes): a 256 KB BLOB read into a query
 * buffer sized for an earlier 1 MB one is such an argument.  A pointer taken before that
 * dangles (valgrind showed TENSORGET reading the freed block, and a DAG's queue thread could
 * read it mid-move); trimmed here first, the server finds nothing left to trim. */
static const char *kept_bytes(RedisModuleString *arg, size_t *len) {
    /* A small string is kept only in a block at most AI_ZERO_COPY_SLACK bytes bigger than its
     * data: from 10 times that on the server's 10% rule cannot apply (a call saved at 1 KB). */
    if (*len >= AI_ZERO_COPY_BIG || *len < 10 * AI_ZERO_COPY_SLACK) {
        RedisModule_TrimStringAllocation(arg);
    }
    return RedisModule_StringPtrLen(arg, len);
}

/* The BLOB argument becomes the tensor's data, kept or copied (keeps_string). */
static ai_tensor_status take_blob(ai_tensor *t, RedisModuleString *arg) {
    size_t len;
    const char *blob = RedisModule_StringPtrLen(arg, &len);
    if (keeps_string(arg, len)) {
        blob = kept_bytes(arg, &len);
        ai_tensor_status st = ai_tensor_adopt_owner(t, arg, blob, len);
        if (st == AI_TENSOR_OK) RedisModule_RetainString(NULL, arg);
        return st;
    }
    return ai_tensor_copy_blob(t, blob, len);
}

/* TENSORSET's arguments after the key, parsed: the dtype, the shape and where data starts. */
typedef struct {
    ai_dtype dtype;
    int ndims;
    enum { SOURCE_NONE, SOURCE_BLOB, SOURCE_VALUES } source;
    int data; /* index of the first argument after BLOB / VALUES */
    int64_t dims[AI_TENSOR_MAX_DIMS];
} tensor_args;

/* Parses `TYPE dim... [BLOB | VALUES ...]`; returns NULL or an errors.h string. */
static const char *parse_tensor_args(RedisModuleString **argv, int argc, tensor_args *a) {
    size_t tlen;
    const char *tname = RedisModule_StringPtrLen(argv[0], &tlen);
    if (ai_dtype_parse(tname, tlen, &a->dtype) != 0) return AI_ERR_INVALID_DTYPE;
    a->ndims = 0;
    a->source = SOURCE_NONE;
    int i = 1;
    for (; i < argc; i++) {
        size_t toklen;
        const char *tok = RedisModule_StringPtrLen(argv[i], &toklen);
        if (toklen && (tok[0] < '0' || tok[0] > '9')) { /* a dim starts with a digit */
            if (word_is(tok, toklen, "blob")) { a->source = SOURCE_BLOB; break; }
            if (word_is(tok, toklen, "values")) { a->source = SOURCE_VALUES; break; }
        }
        int64_t d;
        if (parse_dim(tok, toklen, &d) != 0) return AI_ERR_SHAPE;
        if (a->ndims == AI_TENSOR_MAX_DIMS) return AI_ERR_SHAPE_TOO_LARGE;
        a->dims[a->ndims++] = d;
    }
    a->data = i + 1;
    return NULL;
}

/* A STRING tensor's header holds 8 bytes of element offsets per element: its element count
 * is checked against what its data can hold before anything is allocated from it (a shape of
 * 10^12 elements made the server abort on an 8 TB allocation).  NULL when it fits. */
static const char *check_string_len(const tensor_args *a, RedisModuleString **argv, int argc) {
    size_t len, nbytes;
    ai_tensor_status st = ai_shape_len(a->dims, a->ndims, 1, &len, &nbytes);
    if (st != AI_TENSOR_OK) return status_error(st);
    int ndata = argc - a->data;
    if (a->source == SOURCE_BLOB) {
        if (ndata != 1) return AI_ERR_BLOB_SINGLE;
        size_t blob_len;
        RedisModule_StringPtrLen(argv[a->data], &blob_len);
        return len > blob_len ? AI_ERR_STRING_COUNT : NULL; /* each element ends with a NUL */
    }
    if (a->source == SOURCE_VALUES) return (size_t)ndata != len ? AI_ERR_VALUES_COUNT : NULL;
    return len > AI_TENSOR_MAX_ZERO_FILL_BYTES / 9 ? AI_ERR_SHAPE_TOO_LARGE : NULL;
}

/* A new tensor from parsed arguments, or NULL with *err set. */
static ai_tensor *build_tensor(const tensor_args *a, RedisModuleString **argv, int argc,
                               const char **err) {
    if (a->dtype == AI_DTYPE_STRING && (*err = check_string_len(a, argv, argc))) return NULL;
    ai_tensor_status st;
    ai_tensor *t = ai_tensor_new(a->dtype, a->dims, a->ndims, &st);
    if (!t) {
        *err = status_error(st);
        return NULL;
    }
    const char *e = NULL;
    int ndata = argc - a->data;
    if (a->source == SOURCE_BLOB) {
        e = ndata != 1 ? AI_ERR_BLOB_SINGLE : status_error(take_blob(t, argv[a->data]));
    } else if (a->source == SOURCE_VALUES) {
        RedisModuleString **vals = argv + a->data;
        if ((size_t)ndata != t->len) {
            e = AI_ERR_VALUES_COUNT;
        } else if (a->dtype == AI_DTYPE_STRING) {
            e = fill_strings(t, vals);
        } else if (ai_tensor_alloc_data(t, 0) != AI_TENSOR_OK) {
            e = AI_ERR_OOM;
        } else {
            for (size_t k = 0; k < t->len && !e; k++) {
                if (set_value(t, k, vals[k]) != 0) e = AI_ERR_INVALID_VALUE;
            }
        }
    } else {
        /* No data: a zero-filled tensor, bounded so that a typo cannot exhaust memory. */
        size_t need = a->dtype == AI_DTYPE_STRING ? t->len * 9 : t->nbytes;
        if (need > AI_TENSOR_MAX_ZERO_FILL_BYTES) {
            e = AI_ERR_SHAPE_TOO_LARGE;
        } else {
            e = status_error(ai_tensor_alloc_data(t, 0));
        }
    }
    if (e) {
        ai_tensor_decref(t);
        *err = e;
        return NULL;
    }
    return t;
}

ai_tensor *ai_tensor_from_args(RedisModuleString **argv, int argc, const char **err) {
    tensor_args a;
    *err = parse_tensor_args(argv, argc, &a);
    return *err ? NULL : build_tensor(&a, argv, argc, err);
}

/* Stores the BLOB into the tensor the key holds already, in place (ai_tensor_overwrite):
 * returns that tensor, or NULL when a new one must be built. */
static ai_tensor *overwrite_stored(RedisModuleKey *key, const tensor_args *a,
                                   RedisModuleString **argv, int argc) {
    if (a->source != SOURCE_BLOB || argc - a->data != 1) return NULL;
    if (RedisModule_KeyType(key) != REDISMODULE_KEYTYPE_MODULE) return NULL;
    RedisModuleString *arg = argv[a->data];
    size_t len;
    const char *blob = RedisModule_StringPtrLen(arg, &len);
    void *owner = keeps_string(arg, len) ? arg : NULL;
    if (owner) blob = kept_bytes(arg, &len);
    ai_tensor *old = RedisModule_ModuleTypeGetValue(key);
    if (ai_tensor_overwrite(old, a->dtype, a->dims, a->ndims, blob, len, owner) != 0) return NULL;
    if (owner) RedisModule_RetainString(NULL, arg);
    ai_key_drop_expire(key); /* a new value, as SET and RedisAI's TENSORSET */
    return old;
}

int ai_cmd_tensorset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return ai_reply_arity(ctx, "AI.TENSORSET");
    RedisModuleKey *key = ai_key_open_for_write(ctx, argv[1], ai_tensor_type);
    if (!key) return REDISMODULE_OK; /* WRONGTYPE, before any syntax check */
    tensor_args a;
    const char *err = parse_tensor_args(argv + 2, argc - 2, &a);
    ai_tensor *stored = NULL;
    if (!err && !(stored = overwrite_stored(key, &a, argv + 2, argc - 2))) {
        stored = build_tensor(&a, argv + 2, argc - 2, &err);
        if (stored) ai_key_put(key, ai_tensor_type, stored, (void (*)(void *))ai_tensor_decref);
    }
    RedisModule_CloseKey(key);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    /* A big BLOB kept in the server's string: shrink it to its data in the background. */
    if (stored->nbytes >= AI_ZERO_COPY_BIG && stored->owner) ai_compact_offer(ctx, argv[1], stored);
    RedisModule_ReplicateVerbatim(ctx);
    return ai_reply_ok(ctx);
}

const char *ai_tensor_parse_format(RedisModuleString **argv, int argc, int *meta,
                                   ai_tensor_fmt *fmt) {
    *meta = 0;
    *fmt = AI_TENSOR_FMT_NONE;
    int blob = 0, values = 0;
    for (int i = 0; i < argc; i++) {
        size_t len;
        const char *s = RedisModule_StringPtrLen(argv[i], &len);
        if (word_is(s, len, "blob")) blob = 1;
        else if (word_is(s, len, "meta")) *meta = 1;
        else if (word_is(s, len, "values")) values = 1;
        else return AI_ERR_DATA_FORMAT;
    }
    if (blob && values) return AI_ERR_BLOB_AND_VALUES;
    if (!*meta && !blob && !values) {
        *meta = 1;
        blob = 1;
    }
    *fmt = blob ? AI_TENSOR_FMT_BLOB : values ? AI_TENSOR_FMT_VALUES : AI_TENSOR_FMT_NONE;
    return NULL;
}

static void reply_values(RedisModuleCtx *ctx, const ai_tensor *t) {
    RedisModule_ReplyWithArray(ctx, (long)t->len);
    for (size_t i = 0; i < t->len; i++) {
        if (t->dtype == AI_DTYPE_STRING) {
            size_t len;
            const char *s = ai_tensor_get_string(t, i, &len);
            RedisModule_ReplyWithStringBuffer(ctx, s, len);
        } else if (ai_tensor_is_float(t)) {
            RedisModule_ReplyWithDouble(ctx, ai_tensor_get_double(t, i));
        } else {
            RedisModule_ReplyWithLongLong(ctx, ai_tensor_get_longlong(t, i));
        }
    }
}

int ai_tensor_reply(RedisModuleCtx *ctx, const ai_tensor *t, int meta, ai_tensor_fmt fmt) {
    if (meta) {
        RedisModule_ReplyWithArray(ctx, fmt == AI_TENSOR_FMT_NONE ? 4 : 6);
        RedisModule_ReplyWithCString(ctx, "dtype");
        RedisModule_ReplyWithCString(ctx, ai_dtypes[t->dtype].name);
        RedisModule_ReplyWithCString(ctx, "shape");
        RedisModule_ReplyWithArray(ctx, t->ndims);
        for (int i = 0; i < t->ndims; i++) RedisModule_ReplyWithLongLong(ctx, t->dims[i]);
        if (fmt == AI_TENSOR_FMT_NONE) return REDISMODULE_OK;
        RedisModule_ReplyWithCString(ctx, fmt == AI_TENSOR_FMT_BLOB ? "blob" : "values");
    }
    if (fmt == AI_TENSOR_FMT_BLOB) RedisModule_ReplyWithStringBuffer(ctx, t->data, t->nbytes);
    else if (fmt == AI_TENSOR_FMT_VALUES) reply_values(ctx, t);
    return REDISMODULE_OK;
}

int ai_cmd_tensorget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return ai_reply_arity(ctx, "AI.TENSORGET");
    ai_tensor *t = ai_key_get_value(ctx, argv[1], ai_tensor_type, AI_ERR_TENSOR_KEY_EMPTY);
    if (!t) return REDISMODULE_OK;
    int meta;
    ai_tensor_fmt fmt;
    const char *err = ai_tensor_parse_format(argv + 2, argc - 2, &meta, &fmt);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    return ai_tensor_reply(ctx, t, meta, fmt);
}
