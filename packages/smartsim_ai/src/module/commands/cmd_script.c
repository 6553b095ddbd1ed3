/*
 * AI.SCRIPTSTORE / SCRIPTSET / SCRIPTGET / SCRIPTDEL / SCRIPTEXECUTE / SCRIPTRUN.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "bind.h"
#include "cmd_run.h"
#include "commands.h"
#include "errors.h"
#include "keyspace.h"
#include "model_type.h"
#include "reply.h"
#include "run_queue.h"
#include "stats.h"

static int scriptstore_reply(RedisModuleCtx *ctx, ai_request *r) {
    ai_op *op = &r->ops[0];
    if (op->status < 0) return RedisModule_ReplyWithError(ctx, op->error);
    ai_script *s = op->script;
    if (ai_script_store(ctx, r->key, s) != REDISMODULE_OK) return REDISMODULE_OK;
    size_t klen;
    const char *kname = RedisModule_StringPtrLen(r->key, &klen);
    stats_register(kname, klen, 1, "TORCH", s->device, s->tag, s->tag_len, s);
    RedisModule_Replicate(ctx, RedisModule_StringPtrLen(r->argv[0], NULL), "v", r->argv + 1,
                          (size_t)(r->argc - 1));
    return ai_reply_ok(ctx);
}

static int submit_script(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                         const char *device, const char *tag, size_t tag_len,
                         RedisModuleString *source, size_t neps, char **eps) {
    if (!ai_device_is_valid(device)) { /* before any queue or worker exists for it */
        ai_free_names(eps, neps);
        return RedisModule_ReplyWithError(ctx, AI_ERR_UNSUPPORTED_DEVICE);
    }
    size_t slen;
    const char *src = RedisModule_StringPtrLen(source, &slen);
    ai_script *s = ai_script_new(device, tag, tag_len, src, slen, neps, eps);
    ai_free_names(eps, neps);
    ai_exec_script_id(s);
    ai_request *r = ai_request_new(AI_REPLY_STORE, 1);
    r->ops[0].kind = AI_OP_LOAD_SCRIPT;
    r->ops[0].script = s;
    r->on_reply = scriptstore_reply;
    r->key = argv[1];
    ai_request_keep_argv(ctx, r, argv, argc);
    return ai_request_submit(ctx, r, device);
}

int ai_cmd_scriptstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 8) return ai_reply_arity(ctx, "AI.SCRIPTSTORE");
    const char *device = RedisModule_StringPtrLen(argv[2], NULL);
    const char *tag = NULL;
    size_t tag_len = 0;
    int i = 3;
    if (ai_arg_is(argv[i], "TAG")) {
        tag = RedisModule_StringPtrLen(argv[i + 1], &tag_len);
        i += 2;
    }
    if (i >= argc || !ai_arg_is(argv[i], "ENTRY_POINTS"))
        return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_ENTRY_POINTS);
    long long n;
    if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], &n) != REDISMODULE_OK || n < 0)
        return RedisModule_ReplyWithError(ctx, AI_ERR_ENTRY_POINTS_NUMBER);
    i += 2;
    if (!ai_count_fits(n, argc, i)) return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_ENTRY_POINTS);
    int eps_at = i;
    i += (int)n;
    if (i + 1 >= argc || !ai_arg_is(argv[i], "SOURCE"))
        return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_SOURCE);
    char **eps = n ? ai_calloc((size_t)n, sizeof(char *)) : NULL;
    for (long long k = 0; k < n; k++) eps[k] = ai_arg_dup(argv[eps_at + k]);
    return submit_script(ctx, argv, argc, device, tag, tag_len, argv[i + 1], (size_t)n, eps);
}

int ai_cmd_scriptset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 5 && argc != 7) return ai_reply_arity(ctx, "AI.SCRIPTSET");
    const char *device = RedisModule_StringPtrLen(argv[2], NULL);
    const char *tag = NULL;
    size_t tag_len = 0;
    int i = 3;
    if (argc == 7 && ai_arg_is(argv[i], "TAG")) {
        tag = RedisModule_StringPtrLen(argv[i + 1], &tag_len);
        i += 2;
    }
    if (i + 1 >= argc || !ai_arg_is(argv[i], "SOURCE"))
        return RedisModule_ReplyWithError(ctx, AI_ERR_MISSING_SOURCE);
    return submit_script(ctx, argv, argc, device, tag, tag_len, argv[i + 1], 0, NULL);
}

int ai_cmd_scriptget(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 2 || argc > 4) return ai_reply_arity(ctx, "AI.SCRIPTGET");
    ai_script *s = ai_key_get_value(ctx, argv[1], ai_script_type, AI_ERR_SCRIPT_KEY_EMPTY);
    if (!s) return REDISMODULE_OK;
    int meta = 0, source = 0;
    for (int i = 2; i < argc; i++) {
        if (ai_arg_is(argv[i], "META")) meta = 1;
        if (ai_arg_is(argv[i], "SOURCE")) source = 1;
    }
    if (!meta && !source) meta = source = 1;
    if (!meta) return RedisModule_ReplyWithStringBuffer(ctx, s->source, s->source_len);
    RedisModule_ReplyWithArray(ctx, source ? 8 : 6);
    RedisModule_ReplyWithCString(ctx, "device");
    RedisModule_ReplyWithCString(ctx, s->device);
    RedisModule_ReplyWithCString(ctx, "tag");
    RedisModule_ReplyWithStringBuffer(ctx, s->tag, s->tag_len);
    RedisModule_ReplyWithCString(ctx, "Entry Points");
    RedisModule_ReplyWithArray(ctx, (long)s->n_entry_points);
    for (size_t i = 0; i < s->n_entry_points; i++)
        RedisModule_ReplyWithCString(ctx, s->entry_points[i]);
    if (source) {
        RedisModule_ReplyWithCString(ctx, "source");
        RedisModule_ReplyWithStringBuffer(ctx, s->source, s->source_len);
    }
    return REDISMODULE_OK;
}

int ai_cmd_scriptdel(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 2) return ai_reply_arity(ctx, "AI.SCRIPTDEL");
    if (!ai_key_get_value(ctx, argv[1], ai_script_type, AI_ERR_SCRIPT_KEY_EMPTY))
        return REDISMODULE_OK;
    RedisModuleKey *key = RedisModule_OpenKey(ctx, argv[1], REDISMODULE_WRITE);
    RedisModule_DeleteKey(key);
    RedisModule_CloseKey(key);
    RedisModule_ReplicateVerbatim(ctx);
    return ai_reply_ok(ctx);
}

/* ---------------------------------------------------------------- execute */

static char **dup_args(RedisModuleString **argv, size_t n) {
    char **out = ai_calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) out[i] = ai_arg_dup(argv[i]);
    return out;
}

enum { SC_KEYS, SC_INPUTS, SC_ARGS, SC_OUTPUTS };

int ai_parse_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                           ai_request *r, ai_op *op, struct dag_names *dag, long long *timeout) {
    if (argc < 3) return ai_reply_arity(ctx, "AI.SCRIPTEXECUTE"), -1;
    ai_script *s = ai_script_get_from_key(ctx, argv[1]);
    if (!s) return -1;
    op->kind = AI_OP_SCRIPT;
    op->script = s;
    ai_exec_script_id(s);
    op->fn = ai_arg_dup(argv[2]);
    if (!dag && (argc < 4 || !(ai_arg_is(argv[3], "KEYS") || ai_arg_is(argv[3], "INPUTS"))))
        return RedisModule_ReplyWithError(ctx, AI_ERR_SCRIPTEXECUTE_FIRST_SCOPE), -1;
    static const char *const names[] = {"KEYS", "INPUTS", "ARGS", "OUTPUTS"};
    static const char *const count_words[] = {"keys", "inputs", "keys", "outputs"};
    static const char *const list_words[] = {"keys", "inputs", "args", "outputs"};
    int seen[4] = {0}, at[4] = {0};
    long long cnt[4] = {0};
    int i = 3;
    while (i < argc) {
        int sc = -1;
        for (int k = 0; k < 4; k++)
            if (ai_arg_is(argv[i], names[k])) sc = k;
        if (sc < 0) {
            if (ai_arg_is(argv[i], "TIMEOUT")) {
                if (i + 1 >= argc)
                    return RedisModule_ReplyWithError(ctx, AI_ERR_SCRIPTEXECUTE_TIMEOUT_MISSING),
                           -1;
                if (RedisModule_StringToLongLong(argv[i + 1], timeout) != REDISMODULE_OK ||
                    *timeout <= 0)
                    return RedisModule_ReplyWithError(ctx, AI_ERR_TIMEOUT_INVALID), -1;
                *timeout = ai_clamp_timeout(*timeout);
                if (i + 2 < argc)
                    return RedisModule_ReplyWithError(ctx, AI_ERR_SCRIPTEXECUTE_PARSE), -1;
                /* RedisAI refuses a DAG op's TIMEOUT once the op parsed, its value included */
                if (dag) return RedisModule_ReplyWithError(ctx, AI_ERR_DAG_TIMEOUT_IN_OP), -1;
                break;
            }
            return ai_reply_errorf(ctx, AI_ERR_SCRIPTEXECUTE_UNEXPECTED_FMT,
                                   RedisModule_StringPtrLen(argv[i], NULL)),
                   -1;
        }
        if (seen[sc])
            return ai_reply_errorf(ctx, AI_ERR_SCRIPTEXECUTE_ALREADY_FMT, names[sc]), -1;
        seen[sc] = 1;
        if (sc == SC_KEYS) {
            if (i + 2 >= argc) return RedisModule_ReplyWithError(ctx, AI_ERR_KEYS_MISSING_ARGS), -1;
            if (RedisModule_StringToLongLong(argv[i + 1], &cnt[sc]) != REDISMODULE_OK ||
                cnt[sc] <= 0)
                return RedisModule_ReplyWithError(ctx, AI_ERR_KEYS_COUNT), -1;
            if (!ai_count_fits(cnt[sc], argc, i + 2))
                return RedisModule_ReplyWithError(ctx, AI_ERR_KEYS_MISMATCH), -1;
        } else {
            if (i + 1 >= argc)
                return RedisModule_ReplyWithError(ctx, AI_ERR_SCRIPTEXECUTE_ARGS), -1;
            if (RedisModule_StringToLongLong(argv[i + 1], &cnt[sc]) != REDISMODULE_OK)
                return ai_reply_errorf(ctx, AI_ERR_SCRIPTEXECUTE_COUNT_FMT, count_words[sc]), -1;
            /* RedisAI adds the count to the position unsigned: a negative count is an empty
             * list unless it wraps below 0, which reads as too many names */
            if (cnt[sc] < 0) cnt[sc] = cnt[sc] < -(long long)(i + 2) ? LLONG_MAX : 0;
            if (!ai_count_fits(cnt[sc], argc, i + 2))
                return ai_reply_errorf(ctx, AI_ERR_SCRIPTEXECUTE_MISMATCH_FMT, list_words[sc]),
                       -1;
        }
        at[sc] = i + 2;
        i += 2 + (int)cnt[sc];
    }
    op->nkeys = (size_t)cnt[SC_KEYS];
    op->keys = dup_args(argv + at[SC_KEYS], op->nkeys);
    op->nargs = (size_t)cnt[SC_ARGS];
    op->args = dup_args(argv + at[SC_ARGS], op->nargs);
    return ai_bind_io(ctx, r, op, dag, argv + at[SC_INPUTS], (size_t)cnt[SC_INPUTS],
                      argv + at[SC_OUTPUTS], (size_t)cnt[SC_OUTPUTS]);
}

int ai_cmd_scriptexecute(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (ai_run_refused(ctx)) return REDISMODULE_OK;
    ai_request *r = ai_request_new(AI_REPLY_SINGLE, 1);
    long long timeout = 0;
    if (ai_parse_scriptexecute(ctx, argv, argc, r, &r->ops[0], NULL, &timeout) != 0) {
        ai_request_free(ctx, r);
        return REDISMODULE_OK;
    }
    r->timeout_ms = timeout;
    return ai_request_submit(ctx, r, r->ops[0].script->device);
}

int ai_parse_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc, ai_request *r,
                       ai_op *op, struct dag_names *dag, long long *timeout) {
    if (argc < 3) return ai_reply_arity(ctx, "AI.SCRIPTRUN"), -1;
    ai_script *s = ai_script_get_from_key(ctx, argv[1]);
    if (!s) return -1;
    op->kind = AI_OP_SCRIPT;
    op->script = s;
    ai_exec_script_id(s);
    op->fn = ai_arg_dup(argv[2]);
    /* On the heap: a VLA of argc entries overflowed the main thread's stack at ~500,000
     * arguments (the server accepts millions). */
    RedisModuleString **ins = ai_calloc((size_t)argc, 2 * sizeof(RedisModuleString *));
    RedisModuleString **outs = ins + argc;
    size_t nin = 0, nout = 0;
    int mode = 0, seen_timeout = 0, seen_out = 0, seen_var = 0;
    const char *err = NULL;
    for (int i = 3; i < argc && !err; i++) {
        const char *tok = RedisModule_StringPtrLen(argv[i], NULL);
        if (strcasecmp(tok, "TIMEOUT") == 0) {
            if (seen_timeout++)
                err = AI_ERR_SCRIPTRUN_TIMEOUT_TWICE;
            else if (i + 1 >= argc ||
                     RedisModule_StringToLongLong(argv[i + 1], timeout) != REDISMODULE_OK ||
                     *timeout <= 0)
                err = AI_ERR_TIMEOUT_INVALID;
            else
                *timeout = ai_clamp_timeout(*timeout);
            i++;
        } else if (strcasecmp(tok, "INPUTS") == 0) {
            if (seen_out) /* INPUTS after OUTPUTS */
                err = AI_ERR_SCRIPTRUN_INPUTS_TWICE;
            else if (mode == 1) /* INPUTS again while in the inputs */
                err = AI_ERR_SCRIPTRUN_INPUTS_KEYWORD_TWICE;
            mode = 1;
        } else if (strcasecmp(tok, "OUTPUTS") == 0) {
            if (mode == 2) err = AI_ERR_SCRIPTRUN_OUTPUTS_TWICE;
            seen_out = 1;
            mode = 2;
        } else if (strcmp(tok, "$") == 0) {
            if (mode != 1)
                err = AI_ERR_SCRIPTRUN_VARIADIC_OUTSIDE;
            else if (seen_var++)
                err = AI_ERR_SCRIPTRUN_VARIADIC_TWICE;
        } else if (mode == 1) {
            ins[nin++] = argv[i];
        } else if (mode == 2) {
            outs[nout++] = argv[i];
        } else {
            err = AI_ERR_SCRIPTRUN_UNRECOGNIZED;
        }
    }
    if (!err && dag && *timeout > 0) err = AI_ERR_DAG_TIMEOUT_IN_OP; /* after the parse */
    int rc = err ? (RedisModule_ReplyWithError(ctx, err), -1)
                 : ai_bind_io(ctx, r, op, dag, ins, nin, outs, nout);
    ai_free(ins);
    return rc;
}

int ai_cmd_scriptrun(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (ai_run_refused(ctx)) return REDISMODULE_OK;
    ai_request *r = ai_request_new(AI_REPLY_SINGLE, 1);
    if (ai_parse_scriptrun(ctx, argv, argc, r, &r->ops[0], NULL, &r->timeout_ms) != 0) {
        ai_request_free(ctx, r);
        return REDISMODULE_OK;
    }
    return ai_request_submit(ctx, r, r->ops[0].script->device);
}
