#include "tensor.h"

#include <string.h>
#include <strings.h>

#include "alloc.h"

const ai_dtype_info ai_dtypes[AI_DTYPE_COUNT] = {
    [AI_DTYPE_FLOAT] = {"FLOAT", AI_DL_FLOAT, 32, 4},
    [AI_DTYPE_DOUBLE] = {"DOUBLE", AI_DL_FLOAT, 64, 8},
    [AI_DTYPE_INT8] = {"INT8", AI_DL_INT, 8, 1},
    [AI_DTYPE_INT16] = {"INT16", AI_DL_INT, 16, 2},
    [AI_DTYPE_INT32] = {"INT32", AI_DL_INT, 32, 4},
    [AI_DTYPE_INT64] = {"INT64", AI_DL_INT, 64, 8},
    [AI_DTYPE_UINT8] = {"UINT8", AI_DL_UINT, 8, 1},
    [AI_DTYPE_UINT16] = {"UINT16", AI_DL_UINT, 16, 2},
    [AI_DTYPE_BOOL] = {"BOOL", AI_DL_BOOL, 8, 1},
    [AI_DTYPE_STRING] = {"STRING", AI_DL_STRING, 8, 1},
};

/* A dtype name packed for one integer compare: up to 6 upper-case bytes, length on top. */
#define DTYPE_KEY(a, b, c, d, e, f, len)                                                     \
    ((uint64_t)(a) | (uint64_t)(b) << 8 | (uint64_t)(c) << 16 | (uint64_t)(d) << 24 |        \
     (uint64_t)(e) << 32 | (uint64_t)(f) << 40 | (uint64_t)(len) << 56)

static const uint64_t dtype_keys[AI_DTYPE_COUNT] = {
    [AI_DTYPE_FLOAT] = DTYPE_KEY('F', 'L', 'O', 'A', 'T', 0, 5),
    [AI_DTYPE_DOUBLE] = DTYPE_KEY('D', 'O', 'U', 'B', 'L', 'E', 6),
    [AI_DTYPE_INT8] = DTYPE_KEY('I', 'N', 'T', '8', 0, 0, 4),
    [AI_DTYPE_INT16] = DTYPE_KEY('I', 'N', 'T', '1', '6', 0, 5),
    [AI_DTYPE_INT32] = DTYPE_KEY('I', 'N', 'T', '3', '2', 0, 5),
    [AI_DTYPE_INT64] = DTYPE_KEY('I', 'N', 'T', '6', '4', 0, 5),
    [AI_DTYPE_UINT8] = DTYPE_KEY('U', 'I', 'N', 'T', '8', 0, 5),
    [AI_DTYPE_UINT16] = DTYPE_KEY('U', 'I', 'N', 'T', '1', '6', 6),
    [AI_DTYPE_BOOL] = DTYPE_KEY('B', 'O', 'O', 'L', 0, 0, 4),
    [AI_DTYPE_STRING] = DTYPE_KEY('S', 'T', 'R', 'I', 'N', 'G', 6),
};

int ai_dtype_parse(const char *name, size_t len, ai_dtype *out) {
    if (len < 4 || len > 6) return -1; /* BOOL ... DOUBLE */
    uint32_t head; /* little-endian: byte i at bits 8i, as DTYPE_KEY packs */
    memcpy(&head, name, 4);
    uint64_t key = head;
    for (size_t i = 4; i < len; i++) key |= (uint64_t)(unsigned char)name[i] << (8 * i);
    const uint64_t ones = 0x0101010101010101ULL, high = 0x80 * ones;
    if (key & high) return -1; /* not ASCII */
    /* Upper-case a..z in all bytes at once: a byte's high bit is set by +0x1f when it is
     * >= 'a' and by +0x05 when it is > 'z' (no carries: every byte is < 0x80). */
    uint64_t lower = (key + (0x80 - 'a') * ones) & ~(key + (0x80 - 'z' - 1) * ones) & high;
    key = (key - (lower >> 2)) | (uint64_t)len << 56;
    for (int i = 0; i < AI_DTYPE_COUNT; i++) {
        if (dtype_keys[i] == key) {
            *out = (ai_dtype)i;
            return 0;
        }
    }
    return -1;
}

int ai_dtype_from_dl(uint64_t code, uint64_t bits, ai_dtype *out) {
    for (int i = 0; i < AI_DTYPE_COUNT; i++) {
        if (ai_dtypes[i].code == code && ai_dtypes[i].bits == bits) {
            *out = (ai_dtype)i;
            return 0;
        }
    }
    return -1;
}

ai_tensor_status ai_shape_len(const int64_t *dims, int ndims, size_t elem_size, size_t *len,
                              size_t *nbytes) {
    if (ndims < 0 || ndims > AI_TENSOR_MAX_DIMS) return AI_TENSOR_EDIMS;
    for (int i = 0; i < ndims; i++) {
        if (dims[i] <= 0) return AI_TENSOR_EDIMS; /* a bad dim wins over an overflow */
    }
    size_t n = 1;
    for (int i = 0; i < ndims; i++) {
        if (__builtin_mul_overflow(n, (size_t)dims[i], &n)) return AI_TENSOR_ETOO_LARGE;
    }
    size_t bytes;
    if (__builtin_mul_overflow(n, elem_size, &bytes)) return AI_TENSOR_ETOO_LARGE;
    /* Offsets of a STRING tensor take 8 bytes per element: keep that finite too. */
    if (n > (SIZE_MAX >> 4)) return AI_TENSOR_ETOO_LARGE;
    *len = n;
    *nbytes = bytes;
    return AI_TENSOR_OK;
}

ai_tensor *ai_tensor_new(ai_dtype dtype, const int64_t *dims, int ndims, ai_tensor_status *status) {
    size_t len, nbytes;
    ai_tensor_status st = ai_shape_len(dims, ndims, ai_dtypes[dtype].size, &len, &nbytes);
    if (st != AI_TENSOR_OK) {
        if (status) *status = st;
        return NULL;
    }
    if (dtype == AI_DTYPE_STRING && len > AI_TENSOR_MAX_STRING_LEN) {
        if (status) *status = AI_TENSOR_ETOO_LARGE;
        return NULL;
    }
    size_t header = sizeof(ai_tensor) + (size_t)ndims * sizeof(int64_t);
    if (dtype == AI_DTYPE_STRING) header += len * sizeof(uint64_t);
    ai_tensor *t = ai_alloc(header);
    if (!t) {
        if (status) *status = AI_TENSOR_ENOMEM;
        return NULL;
    }
    t->refcount = 1;
    t->dtype = (uint8_t)dtype;
    t->flags = 0;
    t->ndims = (uint16_t)ndims;
    t->len = len;
    t->nbytes = dtype == AI_DTYPE_STRING ? 0 : nbytes;
    t->data = NULL;
    t->owner = NULL;
    if (ndims) memcpy(t->dims, dims, (size_t)ndims * sizeof(int64_t));
    if (status) *status = AI_TENSOR_OK;
    return t;
}

/* Walks a STRING blob; fills offsets when given. */
static ai_tensor_status index_strings(const char *blob, size_t nbytes, size_t len,
                                      uint64_t *offsets) {
    if (nbytes == 0 || blob[nbytes - 1] != '\0') return AI_TENSOR_ESTR_COUNT;
    size_t count = 0;
    const char *p = blob, *end = blob + nbytes;
    while (p < end) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        if (count == len) return AI_TENSOR_ESTR_COUNT;
        if (offsets) offsets[count] = (uint64_t)(p - blob);
        count++;
        p = nul + 1;
    }
    return count == len ? AI_TENSOR_OK : AI_TENSOR_ESTR_COUNT;
}

/* Every byte 0 or 1 (RedisAI skipped the last byte; we check every one). */
static int bool_bytes_ok(const char *blob, size_t nbytes) {
    for (size_t i = 0; i < nbytes; i++) {
        if ((unsigned char)blob[i] > 1) return 0;
    }
    return 1;
}

ai_tensor_status ai_tensor_check_blob(const ai_tensor *t, const char *blob, size_t nbytes) {
    if (t->dtype == AI_DTYPE_STRING) return index_strings(blob, nbytes, t->len, NULL);
    if (nbytes != t->len * ai_dtypes[t->dtype].size) return AI_TENSOR_EDATA_LEN;
    if (t->dtype == AI_DTYPE_BOOL && !bool_bytes_ok(blob, nbytes)) return AI_TENSOR_EBOOL;
    return AI_TENSOR_OK;
}

ai_tensor_status ai_tensor_adopt_blob(ai_tensor *t, char *blob, size_t nbytes) {
    ai_tensor_status st = ai_tensor_check_blob(t, blob, nbytes);
    if (st != AI_TENSOR_OK) return st;
    t->data = blob;
    t->nbytes = nbytes;
    if (t->dtype == AI_DTYPE_STRING) index_strings(blob, nbytes, t->len, ai_tensor_offsets(t));
    return AI_TENSOR_OK;
}

void (*ai_tensor_owner_release)(void *owner) = NULL;
size_t (*ai_tensor_owner_size)(void *owner) = NULL;

ai_tensor_status ai_tensor_adopt_owner(ai_tensor *t, void *owner, const char *data, size_t nbytes) {
    ai_tensor_status st = ai_tensor_check_blob(t, data, nbytes);
    if (st != AI_TENSOR_OK) return st;
    t->data = (char *)data;
    t->owner = owner;
    t->nbytes = nbytes;
    if (t->dtype == AI_DTYPE_STRING) index_strings(data, nbytes, t->len, ai_tensor_offsets(t));
    return AI_TENSOR_OK;
}

ai_tensor_status ai_tensor_copy_blob(ai_tensor *t, const char *blob, size_t nbytes) {
    ai_tensor_status st = ai_tensor_check_blob(t, blob, nbytes);
    if (st != AI_TENSOR_OK) return st;
    char *copy = ai_alloc(nbytes);
    if (!copy) return AI_TENSOR_ENOMEM;
    memcpy(copy, blob, nbytes);
    t->data = copy;
    t->nbytes = nbytes;
    if (t->dtype == AI_DTYPE_STRING) index_strings(copy, nbytes, t->len, ai_tensor_offsets(t));
    return AI_TENSOR_OK;
}

int ai_tensor_overwrite(ai_tensor *t, ai_dtype dtype, const int64_t *dims, int ndims,
                        const char *blob, size_t nbytes, void *owner) {
    if (dtype == AI_DTYPE_STRING || t->dtype == AI_DTYPE_STRING || t->ndims != ndims) return -1;
    if (!owner && (t->owner || !t->data || t->nbytes != nbytes)) return -1;
    if (__atomic_load_n(&t->refcount, __ATOMIC_ACQUIRE) != 1) return -1;
    size_t len, expect;
    if (ai_shape_len(dims, ndims, ai_dtypes[dtype].size, &len, &expect) != AI_TENSOR_OK ||
        expect != nbytes) {
        return -1;
    }
    if (dtype == AI_DTYPE_BOOL && !bool_bytes_ok(blob, nbytes)) return -1;
    if (owner) {
        if (t->owner) ai_tensor_owner_release(t->owner);
        else ai_free(t->data);
        t->owner = owner;
        t->data = (char *)blob;
        t->nbytes = nbytes;
    } else {
        memcpy(t->data, blob, nbytes);
    }
    t->dtype = (uint8_t)dtype;
    t->len = len;
    if (ndims) memcpy(t->dims, dims, (size_t)ndims * sizeof(int64_t));
    return 0;
}

ai_tensor_status ai_tensor_alloc_data(ai_tensor *t, size_t nbytes) {
    if (t->dtype == AI_DTYPE_STRING) {
        if (nbytes == 0) nbytes = t->len;
        t->data = ai_calloc(1, nbytes);
        if (!t->data) return AI_TENSOR_ENOMEM;
        t->nbytes = nbytes;
        uint64_t *offsets = ai_tensor_offsets(t);
        for (size_t i = 0; i < t->len; i++) offsets[i] = i; /* all empty strings */
        return AI_TENSOR_OK;
    }
    t->data = ai_calloc(1, t->nbytes ? t->nbytes : 1);
    return t->data ? AI_TENSOR_OK : AI_TENSOR_ENOMEM;
}

ai_tensor_status ai_tensor_index_strings(ai_tensor *t) {
    return index_strings(t->data, t->nbytes, t->len, ai_tensor_offsets(t));
}

double ai_tensor_get_double(const ai_tensor *t, size_t i) {
    if (t->dtype == AI_DTYPE_FLOAT) {
        float v;
        memcpy(&v, t->data + i * 4, 4);
        return v;
    }
    double v;
    memcpy(&v, t->data + i * 8, 8);
    return v;
}

long long ai_tensor_get_longlong(const ai_tensor *t, size_t i) {
    const char *p = t->data + i * ai_dtypes[t->dtype].size;
    switch ((ai_dtype)t->dtype) {
        case AI_DTYPE_INT8: return *(const int8_t *)p;
        case AI_DTYPE_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
        case AI_DTYPE_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
        case AI_DTYPE_INT64: { int64_t v; memcpy(&v, p, 8); return v; }
        case AI_DTYPE_UINT8:
        case AI_DTYPE_BOOL: return *(const uint8_t *)p;
        case AI_DTYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); return v; }
        default: return (long long)ai_tensor_get_double(t, i);
    }
}

void ai_tensor_set_double(ai_tensor *t, size_t i, double v) {
    if (t->dtype == AI_DTYPE_FLOAT) {
        float f = (float)v;
        memcpy(t->data + i * 4, &f, 4);
    } else {
        memcpy(t->data + i * 8, &v, 8);
    }
}

void ai_tensor_set_longlong(ai_tensor *t, size_t i, long long v) {
    char *p = t->data + i * ai_dtypes[t->dtype].size;
    switch ((ai_dtype)t->dtype) {
        case AI_DTYPE_INT8: *(int8_t *)p = (int8_t)v; break;
        case AI_DTYPE_INT16: { int16_t x = (int16_t)v; memcpy(p, &x, 2); break; }
        case AI_DTYPE_INT32: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
        case AI_DTYPE_INT64: { int64_t x = (int64_t)v; memcpy(p, &x, 8); break; }
        case AI_DTYPE_UINT8:
        case AI_DTYPE_BOOL: *(uint8_t *)p = (uint8_t)v; break;
        case AI_DTYPE_UINT16: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
        default: ai_tensor_set_double(t, i, (double)v); break;
    }
}

const char *ai_tensor_get_string(const ai_tensor *t, size_t i, size_t *len) {
    const uint64_t *offsets = ai_tensor_offsets(t);
    size_t start = offsets[i];
    size_t end = i + 1 < t->len ? offsets[i + 1] : t->nbytes;
    *len = end - start - 1; /* without the terminating NUL */
    return t->data + start;
}

ai_tensor *ai_tensor_incref(ai_tensor *t) {
    __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
    return t;
}

void ai_tensor_decref(ai_tensor *t) {
    if (!t) return;
    if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (t->owner) ai_tensor_owner_release(t->owner);
    else if (t->data) ai_free(t->data);
    ai_free(t);
}

size_t ai_tensor_mem_usage(const ai_tensor *t) {
    size_t total = ai_malloc_size((void *)t);
    if (t->owner) total += ai_tensor_owner_size(t->owner);
    else if (t->data) total += ai_malloc_size(t->data);
    return total;
}
