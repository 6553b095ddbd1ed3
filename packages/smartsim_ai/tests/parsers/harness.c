/*
 * A server-less driver of the module's pure command parsers (src/module/commands/parse.h),
 * for tests/test_parsers.py: it stands in for the server's strings (a RedisModuleString is
 * bytes + length here), installs the string accessors the parsers use, splits a command line
 * on spaces and writes either the parser's error or a canonical summary of what it parsed.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

struct RedisModuleString {
    const char *ptr; /* NUL-terminated, as the server's strings are */
    size_t len;
};

static const char *fake_ptr_len(const RedisModuleString *s, size_t *len) {
    if (len) *len = s->len;
    return s->ptr;
}

/* The server's string2ll: an optional '-', then digits without a leading zero ("0" alone is
 * fine), no sign '+', no spaces, within long long. */
static int fake_to_ll(const RedisModuleString *s, long long *out) {
    const char *p = s->ptr;
    size_t n = s->len, i = 0;
    if (n == 0 || n > 20) return REDISMODULE_ERR;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return REDISMODULE_OK;
    }
    int neg = p[0] == '-';
    if (neg) i++;
    if (i >= n || p[i] < '1' || p[i] > '9') return REDISMODULE_ERR;
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return REDISMODULE_ERR;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) return REDISMODULE_ERR;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return REDISMODULE_ERR;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return REDISMODULE_ERR;
        *out = (long long)v;
    }
    return REDISMODULE_OK;
}

static int fake_to_double(const RedisModuleString *s, double *out) {
    char *end;
    if (s->len == 0) return REDISMODULE_ERR;
    *out = strtod(s->ptr, &end);
    return end == s->ptr + s->len ? REDISMODULE_OK : REDISMODULE_ERR;
}

/* ---------------------------------------------------------------- summaries */

typedef struct {
    char *buf;
    size_t cap, n;
} out_buf;

static void put(out_buf *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (o->n < o->cap) {
        int k = vsnprintf(o->buf + o->n, o->cap - o->n, fmt, ap);
        if (k > 0) o->n += (size_t)k;
        if (o->n >= o->cap) o->n = o->cap - 1;
    }
    va_end(ap);
}

static void put_list(out_buf *o, const char *label, RedisModuleString **v, size_t n) {
    put(o, " %s=[", label);
    for (size_t i = 0; i < n; i++) put(o, "%s%s", i ? "," : "", v[i]->ptr);
    put(o, "]");
}

static void put_tag(out_buf *o, const char *tag, size_t tag_len) {
    if (tag)
        put(o, " tag=%.*s", (int)tag_len, tag);
    else
        put(o, " tag=-");
}

static void model_store_summary(out_buf *o, const ai_model_store_args *a) {
    put(o, "backend=%s device=%s", ai_backend_names[a->backend], a->device);
    put_tag(o, a->tag, a->tag_len);
    put(o, " batch=%llu minbatch=%llu minbatchtimeout=%llu", a->batch, a->minbatch,
        a->minbatchtimeout);
    put_list(o, "inputs", a->in, a->nin);
    put_list(o, "outputs", a->out, a->nout);
    put_list(o, "blob", a->blob, a->nblob);
}

static void script_store_summary(out_buf *o, const ai_script_store_args *a) {
    put(o, "device=%s", a->device);
    put_tag(o, a->tag, a->tag_len);
    put_list(o, "entry_points", a->entry_points, a->n_entry_points);
    put(o, " source=%s", a->source->ptr);
}

static void run_summary(out_buf *o, const ai_run_args *a) {
    put(o, "timeout=%lld", a->timeout);
    put_list(o, "inputs", a->in, a->nin);
    put_list(o, "outputs", a->out, a->nout);
    put_list(o, "keys", a->keys, a->nkeys);
    put_list(o, "args", a->args, a->nargs);
}

/* ---------------------------------------------------------------- entry point */

typedef const char *(*run_parser)(RedisModuleString **, int, const ai_run_known *, ai_run_args *,
                                  char *);
typedef const char *(*model_store_parser)(RedisModuleString **, int, ai_model_store_args *);
typedef const char *(*script_store_parser)(RedisModuleString **, int, ai_script_store_args *);

static int at_least_3(int argc) { return argc >= 3; }
static int at_least_4(int argc) { return argc >= 4; }
static int at_least_6(int argc) { return argc >= 6; }
static int at_least_8(int argc) { return argc >= 8; }
static int five_or_seven(int argc) { return argc == 5 || argc == 7; }

/* Each parser with its command's arity check, which comes before the parse. */
static const struct {
    const char *name;
    int (*arity_ok)(int argc);
    run_parser run;
    model_store_parser model_store;
    script_store_parser script_store;
} COMMANDS[] = {
    {"AI.MODELSTORE", at_least_6, NULL, ai_parse_modelstore, NULL},
    {"AI.MODELSET", at_least_4, NULL, ai_parse_modelset, NULL},
    {"AI.SCRIPTSTORE", at_least_8, NULL, NULL, ai_parse_scriptstore},
    {"AI.SCRIPTSET", five_or_seven, NULL, NULL, ai_parse_scriptset},
    {"AI.MODELEXECUTE", at_least_8, ai_parse_modelexecute, NULL, NULL},
    {"AI.MODELRUN", at_least_6, ai_parse_modelrun, NULL, NULL},
    {"AI.SCRIPTEXECUTE", at_least_3, ai_parse_scriptexecute, NULL, NULL},
    {"AI.SCRIPTRUN", at_least_3, ai_parse_scriptrun, NULL, NULL},
};

/* Parses `line` (arguments separated by single spaces; argv[0] names the parser) and writes
 * "ERR..." (the parser's error) or the summary of what it parsed into out[0..cap).  For the run
 * parsers, in_dag and the model's known counts (-1: unknown) are what the key lookup tells.
 * Returns 0 when it parsed, 1 for a parse error, 2 when the arity check (the command's, not
 * the parser's) refuses the line, -1 for an unknown command. */
__attribute__((visibility("default"))) int harness_parse(const char *line, int in_dag,
                                                         long long model_nin,
                                                         long long model_nout, char *out,
                                                         size_t cap) {
    RedisModule_StringPtrLen = fake_ptr_len;
    RedisModule_StringToLongLong = fake_to_ll;
    RedisModule_StringToDouble = fake_to_double;
    out_buf o = {out, cap, 0};
    out[0] = '\0';
    char *copy = strdup(line);
    int argc = 0;
    for (const char *p = line; *p; p++)
        if (*p == ' ') argc++;
    argc++;
    RedisModuleString *strs = calloc((size_t)argc, sizeof *strs);
    RedisModuleString **argv = calloc((size_t)argc, sizeof *argv);
    char *tok = copy;
    for (int i = 0; i < argc; i++) {
        char *sp = strchr(tok, ' ');
        if (sp) *sp = '\0';
        strs[i].ptr = tok;
        strs[i].len = strlen(tok);
        argv[i] = &strs[i];
        tok = sp ? sp + 1 : tok + strlen(tok);
    }
    int rc = -1;
    for (size_t c = 0; c < sizeof COMMANDS / sizeof *COMMANDS; c++) {
        if (strcasecmp(argv[0]->ptr, COMMANDS[c].name) != 0) continue;
        if (!COMMANDS[c].arity_ok(argc)) {
            rc = 2;
            break;
        }
        const char *err;
        char errbuf[AI_PARSE_ERR_MAX];
        if (COMMANDS[c].model_store) {
            ai_model_store_args a;
            err = COMMANDS[c].model_store(argv, argc, &a);
            if (!err) model_store_summary(&o, &a);
        } else if (COMMANDS[c].script_store) {
            ai_script_store_args a;
            err = COMMANDS[c].script_store(argv, argc, &a);
            if (!err) script_store_summary(&o, &a);
        } else {
            ai_run_known known = {in_dag, model_nin, model_nout};
            ai_run_args a;
            err = COMMANDS[c].run(argv, argc, &known, &a, errbuf);
            if (!err) run_summary(&o, &a);
            ai_run_args_free(&a);
        }
        if (err) put(&o, "%s", err);
        rc = err ? 1 : 0;
        break;
    }
    free(argv);
    free(strs);
    free(copy);
    return rc;
}
