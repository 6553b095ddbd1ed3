/*
 * The pure parsers of the run ops AI.MODELEXECUTE, AI.MODELRUN, AI.SCRIPTEXECUTE and
 * AI.SCRIPTRUN (parse.h), used by their commands and inside DAGs, in RedisAI 1.2.7's order of
 * checks.  The arity and the key lookup come first, in the commands (cmd_model.c,
 * cmd_script.c): argv[1] is a model or script by the time these run.
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "alloc.h"
#include "args.h"
#include "errors.h"
#include "parse.h"

static const char *arg_text(RedisModuleString *arg) { return RedisModule_StringPtrLen(arg, NULL); }

/* A TIMEOUT value: a positive integer, clamped into *out (0); -1 otherwise. */
static int parse_timeout(RedisModuleString *arg, long long *out) {
    if (RedisModule_StringToLongLong(arg, out) != REDISMODULE_OK || *out <= 0) return -1;
    *out = ai_clamp_timeout(*out);
    return 0;
}

void ai_run_args_free(ai_run_args *a) {
    ai_free(a->owned);
    a->owned = NULL;
}

/* ---------------------------------------------------------------- AI.MODELEXECUTE */

/* key INPUTS n name... OUTPUTS n name... [TIMEOUT ms]; the caller checked argc >= 8. */
const char *ai_parse_modelexecute(RedisModuleString **argv, int argc, const ai_run_known *known,
                                  ai_run_args *a, char *err) {
    memset(a, 0, sizeof *a);
    if (!ai_arg_is(argv[2], "INPUTS")) return AI_ERR_INPUTS_NOT_SPECIFIED;
    long long nin, nout;
    if (RedisModule_StringToLongLong(argv[3], &nin) != REDISMODULE_OK)
        return AI_ERR_INPUT_COUNT_ARG;
    if (nin <= 0) return AI_ERR_INPUT_COUNT_POSITIVE;
    if (known->model_nin >= 0 && nin != known->model_nin) return AI_ERR_INPUTS_MODEL_MISMATCH;
    if (!ai_count_fits(nin, argc, 4)) return AI_ERR_MODELEXECUTE_INPUT_KEYS;
    int i = 4 + (int)nin;
    if (i >= argc || !ai_arg_is(argv[i], "OUTPUTS")) return AI_ERR_OUTPUTS_NOT_SPECIFIED;
    if (i + 1 >= argc || RedisModule_StringToLongLong(argv[i + 1], &nout) != REDISMODULE_OK)
        return AI_ERR_OUTPUT_COUNT_ARG;
    if (nout <= 0) return AI_ERR_OUTPUT_COUNT_POSITIVE;
    if (known->model_nout >= 0 && nout != known->model_nout) return AI_ERR_OUTPUTS_MODEL_MISMATCH;
    if (!ai_count_fits(nout, argc, i + 2)) return AI_ERR_MODELEXECUTE_OUTPUT_KEYS;
    a->in = argv + 4;
    a->nin = (size_t)nin;
    a->out = argv + i + 2;
    a->nout = (size_t)nout;
    i += 2 + (int)nout;
    if (i < argc) {
        if (!ai_arg_is(argv[i], "TIMEOUT"))
            return ai_format_error(err, AI_PARSE_ERR_MAX, AI_ERR_INVALID_ARGUMENT_FMT,
                                   arg_text(argv[i]));
        if (i + 1 >= argc) return AI_ERR_TIMEOUT_MISSING;
        if (parse_timeout(argv[i + 1], &a->timeout)) return AI_ERR_TIMEOUT_INVALID;
        if (i + 2 < argc)
            return ai_format_error(err, AI_PARSE_ERR_MAX, AI_ERR_INVALID_ARGUMENT_FMT,
                                   arg_text(argv[i + 2]));
        /* RedisAI refuses a DAG op's TIMEOUT once the op parsed, its value included */
        if (known->in_dag) return AI_ERR_DAG_TIMEOUT_IN_OP;
    }
    return NULL;
}

/* ---------------------------------------------------------------- AI.MODELRUN (deprecated) */

/* key [TIMEOUT ms] INPUTS name... [OUTPUTS name...]; the caller checked argc >= 6. */
const char *ai_parse_modelrun(RedisModuleString **argv, int argc, const ai_run_known *known,
                              ai_run_args *a, char *err) {
    (void)err;
    memset(a, 0, sizeof *a);
    int i = 2;
    if (ai_arg_is(argv[i], "TIMEOUT")) {
        if (i + 1 >= argc || parse_timeout(argv[i + 1], &a->timeout)) return AI_ERR_TIMEOUT_INVALID;
        i += 2;
    }
    if (i >= argc || !ai_arg_is(argv[i], "INPUTS")) return AI_ERR_INPUTS_NOT_SPECIFIED;
    int ins = ++i, outs = -1;
    for (; i < argc; i++)
        if (ai_arg_is(argv[i], "OUTPUTS")) {
            outs = i;
            break;
        }
    /* no OUTPUTS: no outputs (RedisAI has no "OUTPUTS not specified" here) */
    a->in = argv + ins;
    a->nin = (size_t)((outs < 0 ? argc : outs) - ins);
    a->out = outs < 0 ? NULL : argv + outs + 1;
    a->nout = outs < 0 ? 0 : (size_t)(argc - outs - 1);
    if (known->model_nin >= 0 && a->nin != (size_t)known->model_nin)
        return AI_ERR_INPUTS_MODEL_MISMATCH;
    if (known->model_nout >= 0 && a->nout != (size_t)known->model_nout)
        return AI_ERR_OUTPUTS_MODEL_MISMATCH;
    if (known->in_dag && a->timeout > 0) return AI_ERR_DAG_TIMEOUT_IN_OP;
    return NULL;
}

/* ---------------------------------------------------------------- AI.SCRIPTEXECUTE */

enum { SC_KEYS, SC_INPUTS, SC_ARGS, SC_OUTPUTS, SC_COUNT };

/* key fn, then the scopes KEYS n / INPUTS n / ARGS n / OUTPUTS n (each at most once, in any
 * order, KEYS or INPUTS first outside a DAG), then TIMEOUT ms last; argc >= 3. */
const char *ai_parse_scriptexecute(RedisModuleString **argv, int argc, const ai_run_known *known,
                                   ai_run_args *a, char *err) {
    memset(a, 0, sizeof *a);
    if (!known->in_dag &&
        (argc < 4 || !(ai_arg_is(argv[3], "KEYS") || ai_arg_is(argv[3], "INPUTS"))))
        return AI_ERR_SCRIPTEXECUTE_FIRST_SCOPE;
    static const char *const names[SC_COUNT] = {"KEYS", "INPUTS", "ARGS", "OUTPUTS"};
    static const char *const count_words[SC_COUNT] = {"keys", "inputs", "keys", "outputs"};
    static const char *const list_words[SC_COUNT] = {"keys", "inputs", "args", "outputs"};
    int seen[SC_COUNT] = {0}, at[SC_COUNT] = {0};
    long long cnt[SC_COUNT] = {0};
    int i = 3;
    while (i < argc) {
        int sc = -1;
        for (int k = 0; k < SC_COUNT; k++)
            if (ai_arg_is(argv[i], names[k])) sc = k;
        if (sc < 0) {
            if (!ai_arg_is(argv[i], "TIMEOUT"))
                return ai_format_error(err, AI_PARSE_ERR_MAX, AI_ERR_SCRIPTEXECUTE_UNEXPECTED_FMT,
                                       arg_text(argv[i]));
            if (i + 1 >= argc) return AI_ERR_SCRIPTEXECUTE_TIMEOUT_MISSING;
            if (parse_timeout(argv[i + 1], &a->timeout)) return AI_ERR_TIMEOUT_INVALID;
            if (i + 2 < argc) return AI_ERR_SCRIPTEXECUTE_PARSE;
            /* RedisAI refuses a DAG op's TIMEOUT once the op parsed, its value included */
            if (known->in_dag) return AI_ERR_DAG_TIMEOUT_IN_OP;
            break;
        }
        if (seen[sc])
            return ai_format_error(err, AI_PARSE_ERR_MAX, AI_ERR_SCRIPTEXECUTE_ALREADY_FMT,
                                   names[sc]);
        seen[sc] = 1;
        if (sc == SC_KEYS) {
            if (i + 2 >= argc) return AI_ERR_KEYS_MISSING_ARGS;
            if (RedisModule_StringToLongLong(argv[i + 1], &cnt[sc]) != REDISMODULE_OK ||
                cnt[sc] <= 0)
                return AI_ERR_KEYS_COUNT;
            if (!ai_count_fits(cnt[sc], argc, i + 2)) return AI_ERR_KEYS_MISMATCH;
        } else {
            if (i + 1 >= argc) return AI_ERR_SCRIPTEXECUTE_ARGS;
            if (RedisModule_StringToLongLong(argv[i + 1], &cnt[sc]) != REDISMODULE_OK)
                return ai_format_error(err, AI_PARSE_ERR_MAX, AI_ERR_SCRIPTEXECUTE_COUNT_FMT,
                                       count_words[sc]);
            /* RedisAI adds the count to the position unsigned: a negative count is an empty
             * list unless it wraps below 0, which reads as too many names */
            if (cnt[sc] < 0) cnt[sc] = cnt[sc] < -(long long)(i + 2) ? LLONG_MAX : 0;
            if (!ai_count_fits(cnt[sc], argc, i + 2))
                return ai_format_error(err, AI_PARSE_ERR_MAX, AI_ERR_SCRIPTEXECUTE_MISMATCH_FMT,
                                       list_words[sc]);
        }
        at[sc] = i + 2;
        i += 2 + (int)cnt[sc];
    }
    a->keys = argv + at[SC_KEYS];
    a->nkeys = (size_t)cnt[SC_KEYS];
    a->in = argv + at[SC_INPUTS];
    a->nin = (size_t)cnt[SC_INPUTS];
    a->args = argv + at[SC_ARGS];
    a->nargs = (size_t)cnt[SC_ARGS];
    a->out = argv + at[SC_OUTPUTS];
    a->nout = (size_t)cnt[SC_OUTPUTS];
    return NULL;
}

/* ---------------------------------------------------------------- AI.SCRIPTRUN (deprecated) */

/* key fn [TIMEOUT ms] [INPUTS name... [$] name...] [OUTPUTS name...], the sections in a loose
 * order RedisAI checks token by token; argc >= 3. */
const char *ai_parse_scriptrun(RedisModuleString **argv, int argc, const ai_run_known *known,
                               ai_run_args *a, char *err) {
    (void)err;
    memset(a, 0, sizeof *a);
    /* On the heap: a VLA of argc entries overflowed the main thread's stack at ~500,000
     * arguments (the server accepts millions). */
    a->owned = ai_calloc((size_t)argc, 2 * sizeof(RedisModuleString *));
    a->in = a->owned;
    a->out = a->owned + argc;
    enum { NONE, IN_INPUTS, IN_OUTPUTS } mode = NONE;
    int seen_timeout = 0, seen_out = 0, seen_var = 0;
    for (int i = 3; i < argc; i++) {
        const char *tok = arg_text(argv[i]);
        if (strcasecmp(tok, "TIMEOUT") == 0) {
            if (seen_timeout++) return AI_ERR_SCRIPTRUN_TIMEOUT_TWICE;
            if (i + 1 >= argc || parse_timeout(argv[i + 1], &a->timeout))
                return AI_ERR_TIMEOUT_INVALID;
            i++;
        } else if (strcasecmp(tok, "INPUTS") == 0) {
            if (seen_out) return AI_ERR_SCRIPTRUN_INPUTS_TWICE; /* INPUTS after OUTPUTS */
            if (mode == IN_INPUTS) return AI_ERR_SCRIPTRUN_INPUTS_KEYWORD_TWICE;
            mode = IN_INPUTS;
        } else if (strcasecmp(tok, "OUTPUTS") == 0) {
            if (mode == IN_OUTPUTS) return AI_ERR_SCRIPTRUN_OUTPUTS_TWICE;
            seen_out = 1;
            mode = IN_OUTPUTS;
        } else if (strcmp(tok, "$") == 0) {
            if (mode != IN_INPUTS) return AI_ERR_SCRIPTRUN_VARIADIC_OUTSIDE;
            if (seen_var++) return AI_ERR_SCRIPTRUN_VARIADIC_TWICE;
        } else if (mode == IN_INPUTS) {
            a->in[a->nin++] = argv[i];
        } else if (mode == IN_OUTPUTS) {
            a->out[a->nout++] = argv[i];
        } else {
            return AI_ERR_SCRIPTRUN_UNRECOGNIZED;
        }
    }
    if (known->in_dag && a->timeout > 0) return AI_ERR_DAG_TIMEOUT_IN_OP; /* after the parse */
    return NULL;
}
