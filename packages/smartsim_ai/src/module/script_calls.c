/*
 * Script callbacks (see script_calls.h).
 */
#include "script_calls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"
#include "model_type.h"
#include "run_queue.h"

static RedisModuleCtx *ctx_of(script_calls *sc) {
    if (!sc->ctx) sc->ctx = RedisModule_GetThreadSafeContext(sc->bc);
    return sc->ctx;
}

static void add_value(wbuf *b, RedisModuleCallReply *reply, int depth) {
    int type = RedisModule_CallReplyType(reply);
    size_t len = 0;
    if (type == REDISMODULE_REPLY_STRING || type == REDISMODULE_REPLY_ERROR) {
        const char *s = RedisModule_CallReplyStringPtr(reply, &len);
        wbuf_u8(b, type == REDISMODULE_REPLY_STRING ? WVAL_STR : WVAL_ERROR);
        wbuf_bytes_copy(b, s, len); /* the reply is freed before the frame is sent */
    } else if (type == REDISMODULE_REPLY_INTEGER) {
        wbuf_u8(b, WVAL_INT);
        wbuf_u64(b, (uint64_t)RedisModule_CallReplyInteger(reply));
    } else if (type == REDISMODULE_REPLY_ARRAY && depth < 32) {
        size_t n = RedisModule_CallReplyLength(reply);
        wbuf_u8(b, WVAL_ARRAY);
        wbuf_u32(b, (uint32_t)n);
        for (size_t i = 0; i < n; i++)
            add_value(b, RedisModule_CallReplyArrayElement(reply, i), depth + 1);
    } else {
        wbuf_u8(b, WVAL_NIL);
    }
}

static void add_error_value(wbuf *b, const char *msg) {
    wbuf_u8(b, WVAL_ERROR);
    wbuf_bytes_copy(b, msg, strlen(msg));
}

static void serve_call(script_calls *sc, wbuf *b, rbuf *r) {
    uint32_t argc = rbuf_u32(r);
    if (r->bad || argc == 0 || argc > (1u << 20)) {
        add_error_value(b, "Invalid argument");
        return;
    }
    RedisModuleCtx *ctx = ctx_of(sc);
    size_t cmd_len;
    const char *cmd_p = rbuf_bytes(r, &cmd_len);
    char *cmd = ai_strndup(cmd_p, cmd_len);
    RedisModuleString **args = ai_calloc(argc, sizeof(RedisModuleString *));
    RedisModule_ThreadSafeContextLock(ctx);
    for (uint32_t i = 1; i < argc; i++) {
        size_t len;
        const char *s = rbuf_bytes(r, &len);
        args[i - 1] = RedisModule_CreateString(ctx, s, len);
    }
    errno = 0;
    RedisModuleCallReply *reply = RedisModule_Call(ctx, cmd, "!v", args, (size_t)(argc - 1));
    int saved = errno;
    if (reply) {
        add_value(b, reply, 0);
        RedisModule_FreeCallReply(reply);
    }
    for (uint32_t i = 1; i < argc; i++) RedisModule_FreeString(ctx, args[i - 1]);
    RedisModule_ThreadSafeContextUnlock(ctx);
    if (!reply) add_error_value(b, strerror(saved ? saved : EINVAL));
    ai_free(args);
    ai_free(cmd);
}

static void add_model_info(wbuf *b, ai_model *m, int with_blob) {
    wbuf_u64(b, ai_exec_model_id(m));
    wbuf_str(b, ai_backend_names[m->backend]);
    wbuf_str(b, m->device);
    wbuf_u32(b, (uint32_t)m->ninputs);
    for (size_t i = 0; i < m->ninputs; i++) wbuf_str(b, m->inputs[i]);
    wbuf_u32(b, (uint32_t)m->noutputs);
    for (size_t i = 0; i < m->noutputs; i++) wbuf_str(b, m->outputs[i]);
    wbuf_u8(b, (uint8_t)with_blob);
    if (with_blob) wbuf_bytes(b, m->blob, m->blob_len); /* the held reference keeps it */
}

/* The model at `key` (a new reference, kept in sc), or NULL with *err set. */
static ai_model *lookup_model(script_calls *sc, const char *key, size_t len, const char **err) {
    RedisModuleCtx *ctx = ctx_of(sc);
    RedisModule_ThreadSafeContextLock(ctx);
    RedisModuleString *name = RedisModule_CreateString(ctx, key, len);
    RedisModuleKey *k = RedisModule_OpenKey(ctx, name, REDISMODULE_READ);
    ai_model *m = NULL;
    int kt = RedisModule_KeyType(k);
    if (kt == REDISMODULE_KEYTYPE_EMPTY) {
        *err = AI_ERR_MODEL_KEY_EMPTY;
    } else if (kt != REDISMODULE_KEYTYPE_MODULE || RedisModule_ModuleTypeGetType(k) != ai_model_type) {
        *err = AI_ERR_WRONGTYPE;
    } else {
        m = ai_model_incref(RedisModule_ModuleTypeGetValue(k));
        ai_exec_model_id(m);
    }
    RedisModule_CloseKey(k);
    RedisModule_FreeString(ctx, name);
    RedisModule_ThreadSafeContextUnlock(ctx);
    if (m) {
        if (sc->nmodels == sc->cap) {
            sc->cap = sc->cap ? 2 * sc->cap : 4;
            sc->models = ai_realloc(sc->models, sc->cap * sizeof(ai_model *));
        }
        sc->models[sc->nmodels++] = m;
    }
    return m;
}

int script_calls_serve(script_calls *sc, ai_worker *w, int type, rbuf *r) {
    wbuf b;
    if (type == WMSG_CALL) {
        wbuf_init(&b, WMSG_CALL_REPLY, 0);
        serve_call(sc, &b, r);
    } else if (type == WMSG_MODEL_LOOKUP) {
        size_t len;
        const char *key = rbuf_bytes(r, &len);
        const char *err = NULL;
        ai_model *m = lookup_model(sc, key, len, &err);
        if (m) {
            wbuf_init(&b, WMSG_MODEL_INFO, 0);
            add_model_info(&b, m, 0);
        } else {
            wbuf_init(&b, WMSG_ERROR, 0);
            wbuf_str(&b, err);
        }
    } else { /* WMSG_MODEL_FETCH */
        uint64_t id = rbuf_u64(r);
        ai_model *m = NULL;
        for (size_t i = 0; i < sc->nmodels && !m; i++)
            if (ai_exec_model_id(sc->models[i]) == id) m = sc->models[i];
        if (m) {
            wbuf_init(&b, WMSG_MODEL_INFO, 0);
            add_model_info(&b, m, 1);
        } else {
            wbuf_init(&b, WMSG_ERROR, 0);
            wbuf_str(&b, "ERR the model was not looked up by this script");
        }
    }
    int rc = worker_send(w, &b);
    wbuf_free(&b);
    return rc;
}

void script_calls_end(script_calls *sc) {
    if (sc->ctx) RedisModule_FreeThreadSafeContext(sc->ctx);
    for (size_t i = 0; i < sc->nmodels; i++) ai_model_decref(sc->models[i]);
    ai_free(sc->models);
    memset(sc, 0, sizeof *sc);
}
