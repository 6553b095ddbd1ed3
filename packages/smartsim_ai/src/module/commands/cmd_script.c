/*
 * AI.SCRIPTSTORE / SCRIPTSET / SCRIPTGET / SCRIPTDEL (SCRIPTEXECUTE and SCRIPTRUN:
 * cmd_run.c).  The arguments parse in parse_store.c; a parsed script goes to a worker through
 * its device's run queue to be compiled, and is published under its key once compiled.
 */
#include "alloc.h"
#include "args.h"
#include "cmd_stored.h"
#include "commands.h"
#include "errors.h"
#include "keyspace.h"
#include "parse.h"
#include "reply.h"
#include "run_queue.h"

/* ---------------------------------------------------------------- store */

static int scriptstore_reply(RedisModuleCtx *ctx, ai_request *r) {
    ai_op *op = &r->ops[0];
    if (op->status < 0) return RedisModule_ReplyWithError(ctx, op->error);
    ai_script *s = op->script;
    return ai_store_publish(ctx, r, &ai_script_kind, s, "TORCH", s->device, s->tag, s->tag_len);
}

/* After the arity check: the parse, then the script built from its arguments and queued for
 * compiling. */
static int store_script(RedisModuleCtx *ctx, RedisModuleString **argv, int argc,
                        const char *(*parse)(RedisModuleString **, int, ai_script_store_args *)) {
    ai_script_store_args a;
    const char *err = parse(argv, argc, &a);
    if (err) return RedisModule_ReplyWithError(ctx, err);
    char **eps = ai_arg_dup_all(a.entry_points, a.n_entry_points);
    size_t slen;
    const char *src = RedisModule_StringPtrLen(a.source, &slen);
    ai_script *s = ai_script_new(a.device, a.tag, a.tag_len, src, slen, a.n_entry_points, eps);
    ai_free_names(eps, a.n_entry_points);
    ai_exec_script_id(s);
    return ai_store_submit(ctx, argv, argc, AI_OP_LOAD_SCRIPT, s, s->device, scriptstore_reply);
}

int ai_cmd_scriptstore(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc < 8) return ai_reply_arity(ctx, "AI.SCRIPTSTORE");
    return store_script(ctx, argv, argc, ai_parse_scriptstore);
}

int ai_cmd_scriptset(RedisModuleCtx *ctx, RedisModuleString **argv, int argc) {
    if (argc != 5 && argc != 7) return ai_reply_arity(ctx, "AI.SCRIPTSET");
    return store_script(ctx, argv, argc, ai_parse_scriptset);
}

/* ---------------------------------------------------------------- get / del */

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
    return ai_stored_del(ctx, argv, argc, &ai_script_kind, "AI.SCRIPTDEL");
}
