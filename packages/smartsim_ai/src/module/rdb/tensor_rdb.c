/*
 * AI_TENSOR loaders, one per RDB encoding version, chosen by a switch.
 *   v4:   uint code, uint bits, int ndims, int dim * ndims, string data,
 *         STRING only: uint offset * len (recomputed here, not trusted).
 *   v0-3: uint device_type, uint device_id, uint bits, uint code, uint lanes,
 *         uint ndims, uint dim * ndims, uint stride * ndims, uint byte_offset,
 *         string data.
 * Every loader checks what it reads, frees what it took on any error and
 * returns NULL, which makes the server refuse the payload (RESTORE) or the file.
 */
#include "errors.h"
#include "tensor_type.h"

static void *load_failed(RedisModuleIO *io, ai_tensor *t, char *data, const char *why) {
    if (data) RedisModule_Free(data);
    ai_tensor_decref(t);
    RedisModule_LogIOError(io, "warning", "ai: cannot load a tensor from RDB: %s", why);
    return NULL;
}

/* Builds the tensor from a loaded header and adopts the loaded data buffer. */
static void *finish(RedisModuleIO *io, ai_dtype dtype, const int64_t *dims, int ndims, char *data,
                    size_t nbytes) {
    ai_tensor_status st;
    size_t len, shape_bytes; /* a STRING element takes a byte at least: check before new */
    if (dtype == AI_DTYPE_STRING && ai_shape_len(dims, ndims, 1, &len, &shape_bytes) == AI_TENSOR_OK &&
        len > nbytes)
        return load_failed(io, NULL, data, "more STRING elements than data bytes");
    ai_tensor *t = ai_tensor_new(dtype, dims, ndims, &st);
    if (!t) return load_failed(io, NULL, data, "invalid shape");
    if (ai_tensor_adopt_blob(t, data, nbytes) != AI_TENSOR_OK) {
        return load_failed(io, t, data, "data length does not match shape and type");
    }
    return t;
}

static void *load_v4(RedisModuleIO *io) {
    uint64_t first = RedisModule_LoadUnsigned(io);
    uint64_t second = RedisModule_LoadUnsigned(io);
    int64_t ndims = RedisModule_LoadSigned(io);
    if (RedisModule_IsIOError(io)) return load_failed(io, NULL, NULL, "short read");
    ai_dtype dtype;
    /* RedisAI wrote (code, bits); an early v4 build read (bits, code): accept both,
     * the two value sets do not overlap. */
    if (ai_dtype_from_dl(first, second, &dtype) != 0 && ai_dtype_from_dl(second, first, &dtype) != 0) {
        return load_failed(io, NULL, NULL, "unsupported dtype");
    }
    if (ndims < 0 || ndims > AI_TENSOR_MAX_DIMS) return load_failed(io, NULL, NULL, "invalid ndims");
    int64_t dims[AI_TENSOR_MAX_DIMS];
    for (int64_t i = 0; i < ndims; i++) dims[i] = RedisModule_LoadSigned(io);
    size_t nbytes = 0;
    char *data = RedisModule_LoadStringBuffer(io, &nbytes);
    if (RedisModule_IsIOError(io) || !data) return load_failed(io, NULL, data, "short read");
    ai_tensor *t = finish(io, dtype, dims, (int)ndims, data, nbytes);
    if (t && dtype == AI_DTYPE_STRING) {
        for (size_t i = 0; i < t->len; i++) (void)RedisModule_LoadUnsigned(io);
        if (RedisModule_IsIOError(io)) return load_failed(io, t, NULL, "short read");
    }
    return t;
}

static void *load_v0_v3(RedisModuleIO *io) {
    (void)RedisModule_LoadUnsigned(io); /* device type: always CPU */
    (void)RedisModule_LoadUnsigned(io); /* device id */
    uint64_t bits = RedisModule_LoadUnsigned(io);
    uint64_t code = RedisModule_LoadUnsigned(io);
    uint64_t lanes = RedisModule_LoadUnsigned(io);
    uint64_t ndims = RedisModule_LoadUnsigned(io);
    if (RedisModule_IsIOError(io)) return load_failed(io, NULL, NULL, "short read");
    ai_dtype dtype;
    if (ai_dtype_from_dl(code, bits, &dtype) != 0 || lanes != 1) {
        return load_failed(io, NULL, NULL, "unsupported dtype");
    }
    if (ndims > AI_TENSOR_MAX_DIMS) return load_failed(io, NULL, NULL, "invalid ndims");
    int64_t dims[AI_TENSOR_MAX_DIMS];
    for (uint64_t i = 0; i < ndims; i++) {
        uint64_t d = RedisModule_LoadUnsigned(io);
        dims[i] = d > INT64_MAX ? -1 : (int64_t)d;
    }
    for (uint64_t i = 0; i < ndims; i++) (void)RedisModule_LoadUnsigned(io); /* strides */
    uint64_t byte_offset = RedisModule_LoadUnsigned(io);
    size_t nbytes = 0;
    char *data = RedisModule_LoadStringBuffer(io, &nbytes);
    if (RedisModule_IsIOError(io) || !data) return load_failed(io, NULL, data, "short read");
    if (byte_offset != 0) return load_failed(io, NULL, data, "non-zero byte offset");
    return finish(io, dtype, dims, (int)ndims, data, nbytes);
}

void *ai_tensor_rdb_load(RedisModuleIO *io, int encver) {
    switch (encver) {
        case 0:
        case 1:
        case 2:
        case 3:
            return load_v0_v3(io);
        case AI_ENCODING_VERSION:
            return load_v4(io);
        default:
            RedisModule_LogIOError(io, "warning",
                                   "ai: tensor RDB encoding %d is newer than this module's %d; "
                                   "upgrade the module to load it",
                                   encver, AI_ENCODING_VERSION);
            return NULL;
    }
}
