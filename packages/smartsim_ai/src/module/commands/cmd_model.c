/*
 * AI.MODELSTORE / MODELSET / MODELGET / MODELDEL / MODELEXECUTE / MODELRUN.
 * Parsing and validation happen here in the main thread (errors reply at once); compiling
 * and running go to a worker through the device's run queue.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "bind.h"
#include "cmd_run.h"
#include "commands.h"
#include "config.h"
#include "errors.h"
#include "keyspace.h"
#include "model_type.h"
#include "reply.h"
#include "run_queue.h"
#include "stats.h"
#include "tensor_type.h"

/* MODELSTORE's "Invalid DEVICE" test: CPU, GPU, or CPU:<digits> / GPU:<digits> shorter than
 * 10 characters.  RedisAI 1.2.7 checked digits from the 6th character on and took any
 * device starting with "CPU" as the CPU; devices it took that this one refuses are listed in
 * docs/engine.md. */
static int valid_device(const char *dev) {
    size_t len = strlen(dev);
    if (strcasecmp(dev, "CPU") == 0 || strcasecmp(dev, "GPU") == 0) return 1;
    if (len >= 10 || len < 4) return 0;
    if (strncasecmp(dev, "CPU:", 4) != 0 && strncasecmp(dev, "GPU:", 4) != 0) return 0;
    for (size_t i = 4; i < len; i++)
        if (dev[i] < '0' || dev[i] > '9') return 0;
    return 1;
}

/* Whether a model's input/output names are known: TF's are given, the other backends derive
 * them when a worker loads the model, which a store inside MULTI or Lua does not wait for
 * (request.h): until then the run commands skip their count checks (the backend checks).
 * The names are set under the server lock (ai_request_detached_done), read here under it. */
static int names_known(const ai_model *m) {
    return m->backend == AI_BACKEND_TF || m->ninputs > 0 || m->noutputs > 0;
}

static int parse_u64(RedisModuleString *arg, unsigned long long *out) {
    long long v;
    if (RedisModule_StringToLongLong(arg, &v) != REDISMODULE_OK || v < 0) return -1;
    *out = (unsigned long long)v;
    return 0;
}

/* ---------------------------------------------------------------- store */

typedef struct store_args {
    ai_backend backend;
    const char *device;
    const char *tag;
    size_t tag_len;
    unsigned long long batch, minbatch, minbatchtimeout;
    size_t nin, nout;
    char **in, **out;
    char *blob;
    size_t blob_len;
} store_args;

static void store_args_free(store_args *a) {
    ai_free_names(a->in, a->nin);
    ai_free_names(a->out, a->nout);
    ai_free(a->blob);
}

static char **dup_names(RedisModuleString **argv, size_t n) {
    if (n == 0) return NULL;
    char **names = ai_calloc(n, sizeof(char *));
    for (size_t i = 0; i < n; i++) names[i] = ai_arg_dup(argv[i]);
    return names;
}

static void concat_blob(store_args *a, RedisModuleString **argv, int n) {
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        RedisModule_StringPtrLen(argv[i], &len);
        total += len;
    }
    a->blob = ai_alloc(total ? total : 1);
    a->blob_len = total;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        size_t len;
        const char *p = RedisModule_StringPtrLen(argv[i], &len);
        memcpy(a->blob + off, p, len);
        off += len;
    }
}

/* Reply callback of a store: publish the compiled model under its key. */
static int modelstore_reply(RedisModuleCtx *ctx, ai_request *r) {
    ai_op *op = &r->ops[0];
    if (op->status < 0) return RedisModule_ReplyWithError(ctx, op->error);
    ai_model *m = op->model;
    if (m->backend != AI_BACKEND_TF)
        ai_model_set_names(m, op->n_in_names, (const char *const *)op->in_names, op->n_out_names,
                           (const char *const *)op->out_names);
    if (ai_model_store(ctx, r->key, m) != REDISMODULE_OK) return REDISMODULE_OK;
    size_t klen;
    const char *kname = RedisModule_StringPtrLen(r->key, &klen);
    stats_register(kname, klen, 0, ai_backend_names[m->backend], m->device, m->tag, m->tag_len, m);
    RedisModule_Replicate(ctx, RedisModule_StringPtrLen(r->argv[0], NULL), "v", r->argv + 1,
                          (size_t)(r->argc - 1));
    return ai_reply_ok(ctx);
}

static int submit_store(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, store_args *a) {
    if (!ai_device_is_valid(a->device)) { /* MODELSET: RedisAI's backends refuse it */
        store_args_free(a);
        return RedisModule_ReplyWithError(ctx, AI_ERR_UNSUPPORTED_DEVICE);
    }
    ai_model *m = ai_model_new(a->backend, a->device, a->tag, a->tag_len, a->batch, a->minbatch,
                               a->minbatchtimeout, a->nin, a->in, a->nout, a->out, a->blob,
                               a->blob_len);
    a->blob = NULL;
    store_args_free(a);
    ai_exec_model_id(m);
    ai_request *r = ai_request_new(AI_REPLY_STORE, 1);
    r->ops[0].kind = AI_OP_LOAD_MODEL;
    r->ops[0].model = m;
    r->on_reply = modelstore_reply;
    r->key = argv[1];
    ai_request_keep_argv(ctx, r, argv, argc);
    return ai_request_submit(ctx, r, m->device);
}

/* Parse TAG / BATCHSIZE / MINBATCHSIZE / MINBATCHTIMEOUT from argv[*i]; replies on error. */
static int parse_store_options(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int *i,
                               store_args *a) {
    if (*i < argc && ai_arg_is(argv[*i], "TAG") && *i + 1 < argc) {
        a->tag = RedisModule_StringPtrLen(argv[*i + 1], &a->tag_len);
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "BATCHSIZE")) {
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->batch))
            return RedisModule_ReplyWithError(ctx, AI_ERR_BATCHSIZE), -1;
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "MINBATCHSIZE")) {
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->minbatch))
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHSIZE), -1;
        if (a->minbatch > 0 && a->batch == 0)
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHSIZE_WITHOUT), -1;
        *i += 2;
    }
    if (*i < argc && ai_arg_is(argv[*i], "MINBATCHTIMEOUT")) {
        if (*i + 1 >= argc || parse_u64(argv[*i + 1], &a->minbatchtimeout))
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHTIMEOUT), -1;
        if (a->minbatchtimeout > 0 && a->minbatch == 0)
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHTIMEOUT_WITHOUT), -1;
        *i += 2;
    }
    return 0;
}

/* INPUTS n name... / OUTPUTS n name... (counted, MODELSTORE's TF form). */
static int parse_counted(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, int *i,
                         const char *kw, const char *missing, const char *badcount,
                         const char *short_err, size_t *n, char ***names) {
    if (*i >= argc || !ai_arg_is(argv[*i], kw)) return RedisModule_ReplyWithError(ctx, missing), -1;
    long long cnt;
    if (*i + 1 >= argc || RedisModule_StringToLongLong(argv[*i + 1], &cnt) != REDISMODULE_OK ||
        cnt <= 0)
        return RedisModule_ReplyWithError(ctx, badcount), -1;
    if (!ai_count_fits(cnt, argc, *i + 2)) return RedisModule_ReplyWithError(ctx, short_err), -1;
    *n = (size_t)cnt;
    *names = dup_names(argv + *i + 2, (size_t)cnt);
    *i += 2 + (int)cnt;
    return 0;
}

int ai_cmd_modelstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 6) return ai_reply_arity(ctx, "AI.MODELSTORE");
    store_args a = {0};
    size_t len;
    const char *backend = RedisModule_StringPtrLen(argv[2], &len);
    if (ai_backend_parse(backend, len, &a.backend) != 0)
        return RedisModule_ReplyWithError(ctx, AI_ERR_UNSUPPORTED_BACKEND);
    a.device = RedisModule_StringPtrLen(argv[3], NULL);
    if (!valid_device(a.device)) return RedisModule_ReplyWithError(ctx, AI_ERR_INVALID_DEVICE);
    int i = 4;
    if (parse_store_options(ctx, argv, argc, &i, &a) != 0) return REDISMODULE_OK;
    if (i >= argc) return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_BLOB);
    if (a.backend == AI_BACKEND_TF) {
        if (parse_counted(ctx, argv, argc, &i, "INPUTS", AI_ERR_TF_INPUTS, AI_ERR_INPUT_COUNT_ARG,
                          AI_ERR_MODEL_INPUTS_ARGS, &a.nin, &a.in) ||
            parse_counted(ctx, argv, argc, &i, "OUTPUTS", AI_ERR_TF_OUTPUTS,
                          AI_ERR_OUTPUT_COUNT_ARG, AI_ERR_MODEL_OUTPUTS_ARGS, &a.nout, &a.out)) {
            store_args_free(&a);
            return REDISMODULE_OK;
        }
    } else if (ai_arg_is(argv[i], "INPUTS")) {
        return RedisModule_ReplyWithError(ctx, AI_ERR_INPUTS_NOT_FOR_BACKEND);
    }
    /* RedisAI compares the last token it read with BLOB: after TF's names that is the
     * OUTPUTS list's last name, or "OUTPUTS" itself when nothing follows */
    if (i >= argc || !ai_arg_is(argv[i], "BLOB")) {
        store_args_free(&a);
        return RedisModule_ReplyWithError(ctx, AI_ERR_EXPECTED_BLOB);
    }
    if (i + 1 >= argc) {
        store_args_free(&a);
        return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_BLOB);
    }
    concat_blob(&a, argv + i + 1, argc - i - 1);
    return submit_store(ctx, argv, argc, &a);
}

static int is_store_keyword(const char *s) {
    static const char *const kws[] = {"INPUTS",          "OUTPUTS", "TAG", "BATCHSIZE",
                                      "MINBATCHSIZE",    "BLOB",    "MINBATCHTIMEOUT"};
    for (size_t i = 0; i < sizeof kws / sizeof *kws; i++)
        if (strcasecmp(s, kws[i]) == 0) return 1;
    return 0;
}

int ai_cmd_modelset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 4) return ai_reply_arity(ctx, "AI.MODELSET");
    store_args a = {0};
    size_t len;
    const char *backend = RedisModule_StringPtrLen(argv[2], &len);
    if (ai_backend_parse(backend, len, &a.backend) != 0)
        return RedisModule_ReplyWithError(ctx, AI_ERR_UNSUPPORTED_BACKEND);
    a.device = RedisModule_StringPtrLen(argv[3], &len);
    if (len > 10 || is_store_keyword(a.device))
        return RedisModule_ReplyWithError(ctx, AI_ERR_INVALID_DEVICE);
    /* RedisAI's order: each option optional, in this order, the "without" checks on the
     * values given so far (0 when absent) before the option's own value is read */
    int i = 4;
    if (i < argc && ai_arg_is(argv[i], "TAG")) {
        if (i + 1 < argc) a.tag = RedisModule_StringPtrLen(argv[i + 1], &a.tag_len);
        i += 2;
    }
    if (i < argc && ai_arg_is(argv[i], "BATCHSIZE")) {
        if (a.backend == AI_BACKEND_TFLITE)
            return RedisModule_ReplyWithError(ctx, AI_ERR_TFLITE_BATCHING);
        if (i + 1 >= argc || parse_u64(argv[i + 1], &a.batch))
            return RedisModule_ReplyWithError(ctx, AI_ERR_BATCHSIZE);
        i += 2;
    }
    if (i < argc && ai_arg_is(argv[i], "MINBATCHSIZE")) {
        if (a.batch == 0) return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHSIZE_WITHOUT);
        if (i + 1 >= argc || parse_u64(argv[i + 1], &a.minbatch))
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHSIZE);
        i += 2;
    }
    if (i < argc && ai_arg_is(argv[i], "MINBATCHTIMEOUT")) {
        if (a.batch == 0)
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHTIMEOUT_WITHOUT_BATCHSIZE);
        if (a.minbatch == 0) return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHTIMEOUT_WITHOUT);
        if (i + 1 >= argc || parse_u64(argv[i + 1], &a.minbatchtimeout))
            return RedisModule_ReplyWithError(ctx, AI_ERR_MINBATCHTIMEOUT);
        i += 2;
    }
    if (i >= argc) return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_BLOB);
    int blob_at = -1;
    for (int j = i; j < argc; j++)
        if (ai_arg_is(argv[j], "BLOB")) {
            blob_at = j;
            break;
        }
    if (a.backend == AI_BACKEND_TF) {
        int end = blob_at < 0 ? argc : blob_at;
        if (i >= end) return RedisModule_ReplyWithError(ctx, AI_ERR_TF_INOUT_MISSING);
        if (!ai_arg_is(argv[i], "INPUTS"))
            return RedisModule_ReplyWithError(ctx, AI_ERR_INPUTS_NOT_SPECIFIED);
        int outs = -1;
        for (int j = i + 1; j < end; j++)
            if (ai_arg_is(argv[j], "OUTPUTS")) {
                outs = j;
                break;
            }
        if (outs < 0) return RedisModule_ReplyWithError(ctx, AI_ERR_OUTPUTS_NOT_SPECIFIED);
        a.nin = (size_t)(outs - i - 1);
        a.in = dup_names(argv + i + 1, a.nin);
        a.nout = (size_t)(end - outs - 1);
        a.out = dup_names(argv + outs + 1, a.nout);
    }
    if (blob_at < 0 || blob_at + 1 >= argc) {
        store_args_free(&a);
        return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_BLOB);
    }
    concat_blob(&a, argv + blob_at + 1, argc - blob_at - 1);
    return submit_store(ctx, argv, argc, &a);
}

/* ---------------------------------------------------------------- get / del */

static void reply_names(RedisModuleCtx *ctx, char **names, size_t n) {
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) RedisModule_ReplyWithCString(ctx, names[i]);
}

static void reply_blob(RedisModuleCtx *ctx, const ai_model *m) {
    size_t chunk = (size_t)ai_config.model_chunk_size;
    if (chunk == 0 || m->blob_len < chunk) {
        RedisModule_ReplyWithStringBuffer(ctx, m->blob, m->blob_len);
        return;
    }
    size_t n = m->blob_len / chunk + 1;
    RedisModule_ReplyWithArray(ctx, (long)n);
    for (size_t i = 0; i < n; i++) {
        size_t off = i * chunk;
        size_t len = i + 1 < n ? chunk : m->blob_len - off;
        RedisModule_ReplyWithStringBuffer(ctx, m->blob + off, len);
    }
}

int ai_cmd_modelget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return ai_reply_arity(ctx, "AI.MODELGET");
    ai_model *m = ai_key_get_value(ctx, argv[1], ai_model_type, AI_ERR_MODEL_KEY_EMPTY);
    if (!m) return REDISMODULE_OK;
    int meta = 0, blob = 0;
    for (int i = 2; i < argc; i++) {
        if (ai_arg_is(argv[i], "META")) meta = 1;
        if (ai_arg_is(argv[i], "BLOB")) blob = 1;
    }
    if (!meta && !blob) meta = blob = 1;
    if (!meta) {
        reply_blob(ctx, m);
        return REDISMODULE_OK;
    }
    RedisModule_ReplyWithArray(ctx, blob ? 18 : 16);
    RedisModule_ReplyWithCString(ctx, "backend");
    RedisModule_ReplyWithCString(ctx, ai_backend_names[m->backend]);
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, m->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    RedisModule_ReplyWithStringBuffer(ctx, m->tag, m->tag_len);
    RedisModule_ReplyWithCString(ctx, "batchsize");
    RedisModule_ReplyWithLongLong(ctx, (long long)m->batchsize);
    RedisModule_ReplyWithCString(ctx, "minbatchsize");
    RedisModule_ReplyWithLongLong(ctx, (long long)m->minbatchsize);
    RedisModule_ReplyWithCString(ctx, "inputs");
    reply_names(ctx, m->inputs, m->ninputs);
    RedisModule_ReplyWithCString(ctx, "outputs");
    reply_names(ctx, m->outputs, m->noutputs);
    RedisModule_ReplyWithCString(ctx, "minbatchtimeout");
    RedisModule_ReplyWithLongLong(ctx, (long long)m->minbatchtimeout);
    if (blob) {
        RedisModule_ReplyWithCString(ctx, "blob");
        reply_blob(ctx, m);
    }
    return REDISMODULE_OK;
}

int ai_cmd_modeldel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return ai_reply_arity(ctx, "AI.MODELDEL");
    if (!ai_key_get_value(ctx, argv[1], ai_model_type, AI_ERR_MODEL_KEY_EMPTY))
        return REDISMODULE_OK;
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_DeleteKey(key);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return ai_reply_ok(ctx);
}

/* ---------------------------------------------------------------- execute */

int ai_parse_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                          ai_op *op, struct dag_names *dag, long long *timeout) {
    if (argc < 8) return ai_reply_arity(ctx, "AI.MODELEXECUTE"), -1;
    ai_model *m = ai_model_get_from_key(ctx, argv[1]);
    if (!m) return -1;
    op->kind = AI_OP_MODEL;
    op->model = m;
    ai_exec_model_id(m);
    if (!ai_arg_is(argv[2], "INPUTS"))
        return RedisModule_ReplyWithError(ctx, AI_ERR_INPUTS_NOT_SPECIFIED), -1;
    long long nin, nout;
    if (RedisModule_StringToLongLong(argv[3], &nin) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, AI_ERR_INPUT_COUNT_ARG), -1;
    if (nin <= 0) return RedisModule_ReplyWithError(ctx, AI_ERR_INPUT_COUNT_POSITIVE), -1;
    if (names_known(m) && (size_t)nin != m->ninputs)
        return RedisModule_ReplyWithError(ctx, AI_ERR_INPUTS_MODEL_MISMATCH), -1;
    if (!ai_count_fits(nin, argc, 4))
        return RedisModule_ReplyWithError(ctx, AI_ERR_MODELEXECUTE_INPUT_KEYS), -1;
    int i = 4 + (int)nin;
    if (i >= argc || !ai_arg_is(argv[i], "OUTPUTS"))
        return RedisModule_ReplyWithError(ctx, AI_ERR_OUTPUTS_NOT_SPECIFIED), -1;
    if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], &nout) != REDISMODULE_OK)
        return RedisModule_ReplyWithError(ctx, AI_ERR_OUTPUT_COUNT_ARG), -1;
    if (nout <= 0) return RedisModule_ReplyWithError(ctx, AI_ERR_OUTPUT_COUNT_POSITIVE), -1;
    if (names_known(m) && (size_t)nout != m->noutputs)
        return RedisModule_ReplyWithError(ctx, AI_ERR_OUTPUTS_MODEL_MISMATCH), -1;
    if (!ai_count_fits(nout, argc, i + 2))
        return RedisModule_ReplyWithError(ctx, AI_ERR_MODELEXECUTE_OUTPUT_KEYS), -1;
    int outs_at = i + 2;
    i = outs_at + (int)nout;
    if (i < argc) {
        if (!ai_arg_is(argv[i], "TIMEOUT")) {
            ai_reply_errorf(ctx, AI_ERR_INVALID_ARGUMENT_FMT, RedisModule_StringPtrLen(argv[i], NULL));
            return -1;
        }
        if (i + 1 >= argc) return RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_MISSING), -1;
        if (RedisModule_StringToLongLong(argv[i + 1], timeout) != REDISMODULE_OK || *timeout <= 0)
            return RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_INVALID), -1;
        *timeout = ai_clamp_timeout(*timeout);
        if (i + 2 < argc) {
            ai_reply_errorf(ctx, AI_ERR_INVALID_ARGUMENT_FMT,
                            RedisModule_StringPtrLen(argv[i + 2], NULL));
            return -1;
        }
        /* RedisAI refuses a DAG op's TIMEOUT once the op parsed, its value included */
        if (dag) return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_TIMEOUT_IN_OP), -1;
    }
    return ai_bind_io(ctx, r, op, dag, argv + 4, (size_t)nin, argv + outs_at, (size_t)nout);
}

int ai_cmd_modelexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (ai_run_refused(ctx)) return REDISMODULE_OK;
    ai_request *r = ai_request_new(AI_REPLY_SINGLE, 1);
    long long timeout = 0;
    if (ai_parse_modelexecute(ctx, argv, argc, r, &r->ops[0], NULL, &timeout) != 0) {
        ai_request_free(ctx, r);
        return REDISMODULE_OK;
    }
    r->timeout_ms = timeout;
    return ai_request_submit(ctx, r, r->ops[0].model->device);
}

int ai_parse_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                      ai_op *op, struct dag_names *dag, long long *timeout) {
    if (argc < 6) return ai_reply_arity(ctx, "AI.MODELRUN"), -1;
    ai_model *m = ai_model_get_from_key(ctx, argv[1]);
    if (!m) return -1;
    op->kind = AI_OP_MODEL;
    op->model = m;
    ai_exec_model_id(m);
    int i = 2;
    if (ai_arg_is(argv[i], "TIMEOUT")) {
        if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], timeout) ||
            *timeout <= 0)
            return RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_INVALID), -1;
        *timeout = ai_clamp_timeout(*timeout);
        i += 2;
    }
    if (i >= argc || !ai_arg_is(argv[i], "INPUTS"))
        return RedisModule_ReplyWithError(ctx, AI_ERR_INPUTS_NOT_SPECIFIED), -1;
    int ins = ++i, outs = -1;
    for (; i < argc; i++)
        if (ai_arg_is(argv[i], "OUTPUTS")) {
            outs = i;
            break;
        }
    size_t nin = (size_t)((outs < 0 ? argc : outs) - ins);
    size_t nout = outs < 0 ? 0 : (size_t)(argc - outs - 1);
    /* no OUTPUTS: no outputs (RedisAI has no "OUTPUTS not specified" here) */
    const char *err = NULL;
    if (names_known(m) && nin != m->ninputs)
        err = AI_ERR_INPUTS_MODEL_MISMATCH;
    else if (names_known(m) && nout != m->noutputs)
        err = AI_ERR_OUTPUTS_MODEL_MISMATCH;
    else if (dag && *timeout > 0)
        err = AI_ERR_DAG_TIMEOUT_IN_OP;
    if (err) return RedisModule_ReplyWithError(ctx, err), -1;
    return ai_bind_io(ctx, r, op, dag, argv + ins, nin, outs < 0 ? NULL : argv + outs + 1, nout);
}

int ai_cmd_modelrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (ai_run_refused(ctx)) return REDISMODULE_OK;
    ai_request *r = ai_request_new(AI_REPLY_SINGLE, 1);
    if (ai_parse_modelrun(ctx, argv, argc, r, &r->ops[0], NULL, &r->timeout_ms) != 0) {
        ai_request_free(ctx, r);
        return REDISMODULE_OK;
    }
    return ai_request_submit(ctx, r, r->ops[0].model->device);
}
