/*
 * The tensor core: the struct, the dtype table, shape math with overflow
 * checks, reference counts and STRING element offsets.  No module calls: memory
 * comes from the allocator hooks of alloc.h, so this file also builds outside
 * a server.
 *
 * A tensor is shared by reference count: the keyspace holds one reference, a
 * running request holds others, so a key can be overwritten or deleted while a
 * model still reads the old tensor.  A shared tensor is never changed; only one
 * held by its key alone may be rewritten in place (ai_tensor_overwrite).
 */
#ifndef SMARTSIM_AI_TENSOR_H
#define SMARTSIM_AI_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* RedisAI's dtypes, in the order of its documentation. */
typedef enum {
    AI_DTYPE_FLOAT = 0,
    AI_DTYPE_DOUBLE,
    AI_DTYPE_INT8,
    AI_DTYPE_INT16,
    AI_DTYPE_INT32,
    AI_DTYPE_INT64,
    AI_DTYPE_UINT8,
    AI_DTYPE_UINT16,
    AI_DTYPE_BOOL,
    AI_DTYPE_STRING,
    AI_DTYPE_COUNT
} ai_dtype;

/* DLPack type codes, as RedisAI persists them. */
enum { AI_DL_INT = 0, AI_DL_UINT = 1, AI_DL_FLOAT = 2, AI_DL_BOOL = 6, AI_DL_STRING = 7 };

typedef struct {
    const char *name; /* canonical upper-case name, as replied */
    uint8_t code;     /* DLPack code */
    uint8_t bits;     /* DLPack bits */
    uint8_t size;     /* bytes per element (STRING: 1, elements are variable) */
} ai_dtype_info;

extern const ai_dtype_info ai_dtypes[AI_DTYPE_COUNT];

/* Case-insensitive name -> dtype; returns 0 on success, -1 for an unknown name. */
int ai_dtype_parse(const char *name, size_t len, ai_dtype *out);
/* DLPack (code, bits) -> dtype; returns 0 on success, -1 when unsupported. */
int ai_dtype_from_dl(uint64_t code, uint64_t bits, ai_dtype *out);

/* Limits: dims per tensor and bytes of a zero-filled tensor (data with no payload). */
#define AI_TENSOR_MAX_DIMS 1024
#define AI_TENSOR_MAX_ZERO_FILL_BYTES (512ULL * 1024 * 1024)
/* Elements of a STRING tensor (its header holds 8 bytes of offsets per element: 2 GB here).
 * Callers check the count against their data first; this bounds every other path. */
#define AI_TENSOR_MAX_STRING_LEN (1ULL << 28)

/* 40 bytes and the dims in one allocation (48 with one dim: a 48-byte jemalloc class, a
 * 64-byte glibc chunk), so a stored tensor costs little more than its data. */
typedef struct ai_tensor {
    uint32_t refcount; /* atomic */
    uint8_t dtype;     /* ai_dtype */
    uint8_t flags;     /* AI_TENSOR_F_*; changed only on the main thread */
    uint16_t ndims;    /* <= AI_TENSOR_MAX_DIMS */
    size_t len;        /* element count: product of dims (1 for a scalar) */
    size_t nbytes;     /* bytes of data */
    char *data;        /* its own allocation of exactly nbytes, or inside `owner` */
    void *owner;       /* NULL, or the server string holding data (see ai_tensor_adopt_owner) */
    int64_t dims[];    /* ndims entries, then (STRING only) the offsets: ai_tensor_offsets */
} ai_tensor;

/* Flags (main thread only; see compact.h):
 * LENT: a reference went to a run request, whose queue thread reads data without the
 *   server lock, since compaction last looked; its data must then stay where it is.
 * CANDIDATE: the tensor waits, by its key, for background compaction (a hint; bits 2-7
 *   hold the epoch of that entry, compact.c). */
#define AI_TENSOR_F_LENT 0x01
#define AI_TENSOR_F_CANDIDATE 0x02

_Static_assert(AI_TENSOR_MAX_DIMS <= UINT16_MAX, "ndims is a uint16_t");

/* STRING only: the start of each element in data (len entries, after the dims). */
static inline uint64_t *ai_tensor_offsets(const ai_tensor *t) {
    return (uint64_t *)(t->dims + t->ndims);
}

/* Result codes of the core functions; each maps to one reply of errors.h. */
typedef enum {
    AI_TENSOR_OK = 0,
    AI_TENSOR_EDIMS,       /* a dim <= 0, or too many dims */
    AI_TENSOR_ETOO_LARGE,  /* element count or byte size overflows */
    AI_TENSOR_EDATA_LEN,   /* numeric blob length != len * size */
    AI_TENSOR_EBOOL,       /* BOOL byte other than 0 or 1 */
    AI_TENSOR_ESTR_COUNT,  /* STRING blob does not hold exactly len NUL-terminated elements */
    AI_TENSOR_ENOMEM,
} ai_tensor_status;

/* Element count of a shape; checks every dim > 0 and the product for overflow. */
ai_tensor_status ai_shape_len(const int64_t *dims, int ndims, size_t elem_size, size_t *len,
                              size_t *nbytes);

/* A tensor without data (data == NULL): the caller then fills it with
 * ai_tensor_adopt_blob / ai_tensor_alloc_data.  Returns NULL on a bad shape (status set). */
ai_tensor *ai_tensor_new(ai_dtype dtype, const int64_t *dims, int ndims, ai_tensor_status *status);

/* Checks `blob` against the tensor's dtype and shape (length, BOOL bytes, STRING count). */
ai_tensor_status ai_tensor_check_blob(const ai_tensor *t, const char *blob, size_t nbytes);

/* Takes ownership of `blob` (an allocation of nbytes from ai_alloc) after checking it;
 * on error the blob is left to the caller.  Computes STRING offsets. */
ai_tensor_status ai_tensor_adopt_blob(ai_tensor *t, char *blob, size_t nbytes);

/* Uses `data` in place, inside a buffer kept alive by `owner` (a retained server
 * string: no copy of a big blob).  On success the tensor releases `owner` through
 * ai_tensor_owner_release when freed; on error the caller keeps it. */
ai_tensor_status ai_tensor_adopt_owner(ai_tensor *t, void *owner, const char *data, size_t nbytes);

/* How owners are released and measured (set by the module layer). */
extern void (*ai_tensor_owner_release)(void *owner);
extern size_t (*ai_tensor_owner_size)(void *owner);

/* Copies `blob` into the tensor after checking it. */
ai_tensor_status ai_tensor_copy_blob(ai_tensor *t, const char *blob, size_t nbytes);

/* Gives `t` a new dtype, shape and BLOB in place, when that is safe and exact:
 *  - nobody else holds t (refcount 1: only the key it is stored under; references are
 *    taken only under the server lock, which the caller holds);
 *  - the header has room for the dims (same ndims) and neither side is STRING (its
 *    offsets depend on the contents);
 *  - the blob is valid for the new dtype and shape;
 *  - with `owner` NULL, the bytes are copied into t's own data, which must be of exactly
 *    nbytes (a string as owner is never written to: it may still be queued for
 *    replication); with an owner, t drops its data and adopts `blob` inside `owner`, as
 *    ai_tensor_adopt_owner does.
 * Returns 0 when done; -1 (t untouched, owner still the caller's) otherwise: the caller
 * then builds a new tensor, which also reports the exact error for invalid input.  So a
 * simulation that stores the same shape every time step reuses its tensor's memory. */
int ai_tensor_overwrite(ai_tensor *t, ai_dtype dtype, const int64_t *dims, int ndims,
                        const char *blob, size_t nbytes, void *owner);

/* Allocates zeroed data: numbers are 0, STRING elements are empty strings.
 * For STRING, `nbytes` is the total of (element length + 1); 0 means "all empty". */
ai_tensor_status ai_tensor_alloc_data(ai_tensor *t, size_t nbytes);

/* Recomputes STRING offsets from data; returns AI_TENSOR_ESTR_COUNT on a bad blob. */
ai_tensor_status ai_tensor_index_strings(ai_tensor *t);

/* Element access for VALUES (no bounds check beyond i < len). */
double ai_tensor_get_double(const ai_tensor *t, size_t i);
long long ai_tensor_get_longlong(const ai_tensor *t, size_t i);
void ai_tensor_set_double(ai_tensor *t, size_t i, double v);
void ai_tensor_set_longlong(ai_tensor *t, size_t i, long long v);
/* STRING element i (without its NUL) and its length. */
const char *ai_tensor_get_string(const ai_tensor *t, size_t i, size_t *len);

ai_tensor *ai_tensor_incref(ai_tensor *t);
void ai_tensor_decref(ai_tensor *t); /* frees at zero; NULL is ignored */

/* Bytes this tensor holds in the allocator (header + data). */
size_t ai_tensor_mem_usage(const ai_tensor *t);

static inline int ai_tensor_is_float(const ai_tensor *t) {
    return t->dtype == AI_DTYPE_FLOAT || t->dtype == AI_DTYPE_DOUBLE;
}

#endif
