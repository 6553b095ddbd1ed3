/*
 * The pure parsers of AI.MODELSTORE, AI.MODELSET, AI.SCRIPTSTORE and AI.SCRIPTSET (parse.h),
 * in RedisAI 1.2.7's order of checks.
 */
#include <string.h>
#include <strings.h>

#include "args.h"
#include "device.h"
#include "errors.h"
#include "parse.h"

static int parse_u64(RedisModuleString *arg, unsigned long long *out) {
    long long v;
    if (RedisModule_StringToLongLong(arg, &v) != REDISMODULE_OK || v < 0) return -1;
    *out = (unsigned long long)v;
    return 0;
}

/* argv[2], the backend: the first check of both model stores. */
static const char *parse_backend(RedisModuleString **argv, ai_model_store_args *a) {
    size_t len;
    const char *name = RedisModule_StringPtrLen(argv[2], &len);
    return ai_backend_parse(name, len, &a->backend) != 0 ? AI_ERR_UNSUPPORTED_BACKEND : NULL;
}

/* ---------------------------------------------------------------- AI.MODELSTORE */

/* TAG / BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT from argv[*i], each optional, in this
 * order; a "without" check follows the option's own value. */
static const char *modelstore_options(RedisModuleString **argv, int argc, int *i,
                                      ai_model_store_args *a) {
    if (*i < argc && ai_arg_is(argv[*i], "TAG") && *i + 1 < argc) {
        a->tag = RedisModule_StringPtrLen(argv[*i + 1], &a->tag_len);
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "BATCHSIZE")) {
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->batch)) return AI_ERR_BATCHSIZE;
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "MINBATCHSIZE")) {
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->minbatch)) return AI_ERR_MINBATCHSIZE;
        if (a->minbatch > 0 && a->batch == 0) return AI_ERR_MINBATCHSIZE_WITHOUT;
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "MINBATCHTIMEOUT")) {
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->minbatchtimeout))
            return AI_ERR_MINBATCHTIMEOUT;
        if (a->minbatchtimeout > 0 && a->minbatch == 0) return AI_ERR_MINBATCHTIMEOUT_WITHOUT;
        *i += 2;
    }
    return NULL;
}

/* `kw` n name... (MODELSTORE's TF INPUTS / OUTPUTS): the keyword, a positive count, then
 * that many names. */
static const char *counted_names(RedisModuleString **argv, int argc, int *i, const char *kw,
                                 const char *missing, const char *badcount,
                                 const char *short_err, RedisModuleString ***names, size_t *n) {
    if (*i >= argc || !ai_arg_is(argv[*i], kw)) return missing;
    long long cnt;
    if (*i + 1 >= argc || RedisModule_StringToLongLong(argv[*i + 1], &cnt) != REDISMODULE_OK ||
        cnt <= 0)
        return badcount;
    if (!ai_count_fits(cnt, argc, *i + 2)) return short_err;
    *names = argv + *i + 2;
    *n = (size_t)cnt;
    *i += 2 + (int)cnt;
    return NULL;
}

const char *ai_parse_modelstore(RedisModuleString **argv, int argc, ai_model_store_args *a) {
    memset(a, 0, sizeof *a);
    const char *e = parse_backend(argv, a);
    if (e) return e;
    a->device = RedisModule_StringPtrLen(argv[3], NULL);
    /* the device's only check here: MODELSET's "unsupported device" cannot follow */
    if (!ai_device_is_valid(a->device)) return AI_ERR_INVALID_DEVICE;
    int i = 4;
    if ((e = modelstore_options(argv, argc, &i, a))) return e;
    if (i >= argc) return AI_ERR_MISSING_BLOB;
    if (a->backend == AI_BACKEND_TF) {
        if ((e = counted_names(argv, argc, &i, "INPUTS", AI_ERR_TF_INPUTS, AI_ERR_INPUT_COUNT_ARG,
                               AI_ERR_MODEL_INPUTS_ARGS, &a->in, &a->nin)) ||
            (e = counted_names(argv, argc, &i, "OUTPUTS", AI_ERR_TF_OUTPUTS,
                               AI_ERR_OUTPUT_COUNT_ARG, AI_ERR_MODEL_OUTPUTS_ARGS, &a->out,
                               &a->nout)))
            return e;
    } else if (ai_arg_is(argv[i], "INPUTS")) {
        return AI_ERR_INPUTS_NOT_FOR_BACKEND;
    }
    /* RedisAI compares the last token it read with BLOB: after TF's names that is the
     * OUTPUTS list's last name, or "OUTPUTS" itself when nothing follows */
    if (i >= argc || !ai_arg_is(argv[i], "BLOB")) return AI_ERR_EXPECTED_BLOB;
    if (i + 1 >= argc) return AI_ERR_MISSING_BLOB;
    a->blob = argv + i + 1;
    a->nblob = (size_t)(argc - i - 1);
    return NULL;
}

/* ---------------------------------------------------------------- AI.MODELSET */

static int is_store_keyword(const char *s) {
    static const char *const kws[] = {"INPUTS",       "OUTPUTS", "TAG", "BATCHSIZE",
                                      "MINBATCHSIZE", "BLOB",    "MINBATCHTIMEOUT"};
    for (size_t i = 0; i < sizeof kws / sizeof *kws; i++)
        if (strcasecmp(s, kws[i]) == 0) return 1;
    return 0;
}

/* Each option optional, in this order, the "without" checks on the values given so far
 * (0 when absent) before the option's own value is read. */
static const char *modelset_options(RedisModuleString **argv, int argc, int *i,
                                    ai_model_store_args *a) {
    if (*i < argc && ai_arg_is(argv[*i], "TAG")) {
        if (*i + 1 < argc) a->tag = RedisModule_StringPtrLen(argv[*i + 1], &a->tag_len);
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "BATCHSIZE")) {
        if (a->backend == AI_BACKEND_TFLITE) return AI_ERR_TFLITE_BATCHING;
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->batch)) return AI_ERR_BATCHSIZE;
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "MINBATCHSIZE")) {
        if (a->batch == 0) return AI_ERR_MINBATCHSIZE_WITHOUT;
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->minbatch)) return AI_ERR_MINBATCHSIZE;
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "MINBATCHTIMEOUT")) {
        if (a->batch == 0) return AI_ERR_MINBATCHTIMEOUT_WITHOUT_BATCHSIZE;
        if (a->minbatch == 0) return AI_ERR_MINBATCHTIMEOUT_WITHOUT;
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->minbatchtimeout))
            return AI_ERR_MINBATCHTIMEOUT;
        *i += 2;
    }
    return NULL;
}

/* The first argv[j] == word for j in [from, to), or -1. */
static int find_word(RedisModuleString **argv, int from, int to, const char *word) {
    for (int j = from; j < to; j++)
        if (ai_arg_is(argv[j], word)) return j;
    return -1;
}

const char *ai_parse_modelset(RedisModuleString **argv, int argc, ai_model_store_args *a) {
    memset(a, 0, sizeof *a);
    const char *e = parse_backend(argv, a);
    if (e) return e;
    size_t len;
    a->device = RedisModule_StringPtrLen(argv[3], &len);
    if (len > 10 || is_store_keyword(a->device)) return AI_ERR_INVALID_DEVICE;
    int i = 4;
    if ((e = modelset_options(argv, argc, &i, a))) return e;
    if (i >= argc) return AI_ERR_MISSING_BLOB;
    int blob_at = find_word(argv, i, argc, "BLOB");
    if (a->backend == AI_BACKEND_TF) { /* INPUTS name... OUTPUTS name... up to BLOB */
        int end = blob_at < 0 ? argc : blob_at;
        if (i >= end) return AI_ERR_TF_INOUT_MISSING;
        if (!ai_arg_is(argv[i], "INPUTS")) return AI_ERR_INPUTS_NOT_SPECIFIED;
        int outs = find_word(argv, i + 1, end, "OUTPUTS");
        if (outs < 0) return AI_ERR_OUTPUTS_NOT_SPECIFIED;
        a->in = argv + i + 1;
        a->nin = (size_t)(outs - i - 1);
        a->out = argv + outs + 1;
        a->nout = (size_t)(end - outs - 1);
    }
    if (blob_at < 0 || blob_at + 1 >= argc) return AI_ERR_MISSING_BLOB;
    a->blob = argv + blob_at + 1;
    a->nblob = (size_t)(argc - blob_at - 1);
    /* RedisAI's backends refuse the device once the model is built */
    if (!ai_device_is_valid(a->device)) return AI_ERR_UNSUPPORTED_DEVICE;
    return NULL;
}

/* ---------------------------------------------------------------- AI.SCRIPTSTORE / SET */

/* The device, then TAG t when `tag_allowed`: returns where the rest starts. */
static int script_head(RedisModuleString **argv, int tag_allowed, ai_script_store_args *a) {
    memset(a, 0, sizeof *a);
    a->device = RedisModule_StringPtrLen(argv[2], NULL);
    if (!tag_allowed || !ai_arg_is(argv[3], "TAG")) return 3;
    a->tag = RedisModule_StringPtrLen(argv[4], &a->tag_len);
    return 5;
}

/* SOURCE src at argv[i], then the device's check (before any queue or worker exists for it). */
static const char *script_source(RedisModuleString **argv, int argc, int i,
                                 ai_script_store_args *a) {
    if (i + 1 >= argc || !ai_arg_is(argv[i], "SOURCE")) return AI_ERR_MISSING_SOURCE;
    a->source = argv[i + 1];
    return ai_device_is_valid(a->device) ? NULL : AI_ERR_UNSUPPORTED_DEVICE;
}

const char *ai_parse_scriptstore(RedisModuleString **argv, int argc, ai_script_store_args *a) {
    int i = script_head(argv, 1, a); /* argc >= 8: argv[4] exists */
    if (i >= argc || !ai_arg_is(argv[i], "ENTRY_POINTS")) return AI_ERR_MISSING_ENTRY_POINTS;
    long long n;
    if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], &n) != REDISMODULE_OK || n < 0)
        return AI_ERR_ENTRY_POINTS_NUMBER;
    i += 2;
    if (!ai_count_fits(n, argc, i)) return AI_ERR_MISSING_ENTRY_POINTS;
    a->entry_points = argv + i;
    a->n_entry_points = (size_t)n;
    return script_source(argv, argc, i + (int)n, a);
}

const char *ai_parse_scriptset(RedisModuleString **argv, int argc, ai_script_store_args *a) {
    return script_source(argv, argc, script_head(argv, argc == 7, a), a);
}
