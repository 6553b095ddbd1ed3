/*
 * The pure parsers of the model and script commands: each reads a command's arguments into a
 * struct and returns NULL, or the error RedisAI 1.2.7 sends (an errors.h string; a run op's
 * *_FMT error is formatted into the caller's `err` buffer of AI_PARSE_ERR_MAX bytes, which is
 * then returned).  They never reply, open keys or create server objects: they only read argument
 * bytes and numbers (RedisModule_StringPtrLen / StringToLongLong), so they run without a
 * server (tests/test_parsers.py).  Names, blobs and sources in the structs point into argv.
 *
 * The commands (cmd_model.c, cmd_script.c, cmd_dag.c) keep what needs the server: arity,
 * the MULTI/Lua refusal, the key lookup, then the parse given what the lookup learned, then
 * the binding of names and the submission.  That is RedisAI's order of checks.
 */
#ifndef SMARTSIM_AI_PARSE_H
#define SMARTSIM_AI_PARSE_H

#include <stddef.h>

#include "model.h"
#include "rm_api.h"

#define AI_PARSE_ERR_MAX 512 /* as ai_reply_errorf's buffer */

/* AI.MODELSTORE / AI.MODELSET key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m
 * [MINBATCHTIMEOUT ms]]] [INPUTS ... OUTPUTS ...] BLOB part... */
typedef struct ai_model_store_args {
    ai_backend backend;
    const char *device; /* argv's bytes, NUL-terminated */
    const char *tag;    /* NULL when no TAG */
    size_t tag_len;
    unsigned long long batch, minbatch, minbatchtimeout;
    RedisModuleString **in, **out; /* TF's input/output names */
    size_t nin, nout;
    RedisModuleString **blob; /* the BLOB's parts, concatenated by the command */
    size_t nblob;
} ai_model_store_args;

/* AI.SCRIPTSTORE key device [TAG t] ENTRY_POINTS n name... SOURCE src /
 * AI.SCRIPTSET key device [TAG t] SOURCE src */
typedef struct ai_script_store_args {
    const char *device;
    const char *tag; /* NULL when no TAG */
    size_t tag_len;
    RedisModuleString **entry_points;
    size_t n_entry_points;
    RedisModuleString *source;
} ai_script_store_args;

/* argv[0..argc) is the whole command (argv[1] the key); the caller checked the arity. */
const char *ai_parse_modelstore(RedisModuleString **argv, int argc, ai_model_store_args *a);
const char *ai_parse_modelset(RedisModuleString **argv, int argc, ai_model_store_args *a);
const char *ai_parse_scriptstore(RedisModuleString **argv, int argc, ai_script_store_args *a);
const char *ai_parse_scriptset(RedisModuleString **argv, int argc, ai_script_store_args *a);

/* What a run op's parse needs to know from its key lookup and its place.  The model's input
 * and output counts are -1 for a script, and for a model whose names a worker has not derived
 * yet (request.h): then the given counts are not checked. */
typedef struct ai_run_known {
    int in_dag; /* a DAG op: a TIMEOUT is refused once the op parsed */
    long long model_nin, model_nout;
} ai_run_known;

/* A run op: AI.MODELEXECUTE key INPUTS n ... OUTPUTS n ... [TIMEOUT ms], AI.MODELRUN key
 * [TIMEOUT ms] INPUTS ... [OUTPUTS ...], AI.SCRIPTEXECUTE key fn [KEYS n ...] [INPUTS n ...]
 * [ARGS n ...] [OUTPUTS n ...] [TIMEOUT ms], AI.SCRIPTRUN key fn [TIMEOUT ms] [INPUTS ...
 * [$] ...] [OUTPUTS ...].  The function name is argv[2] (scripts). */
typedef struct ai_run_args {
    RedisModuleString **in, **out; /* the input and output key (or DAG) names */
    size_t nin, nout;
    RedisModuleString **keys, **args; /* SCRIPTEXECUTE's KEYS and ARGS */
    size_t nkeys, nargs;
    long long timeout;         /* ms, clamped (ai_clamp_timeout); 0 when none */
    RedisModuleString **owned; /* SCRIPTRUN: the array in/out point into */
} ai_run_args;

const char *ai_parse_modelexecute(RedisModuleString **argv, int argc, const ai_run_known *known,
                                  ai_run_args *a, char *err);
const char *ai_parse_modelrun(RedisModuleString **argv, int argc, const ai_run_known *known,
                              ai_run_args *a, char *err);
const char *ai_parse_scriptexecute(RedisModuleString **argv, int argc, const ai_run_known *known,
                                   ai_run_args *a, char *err);
const char *ai_parse_scriptrun(RedisModuleString **argv, int argc, const ai_run_known *known,
                               ai_run_args *a, char *err);
/* Frees what a run parse allocated (SCRIPTRUN's name lists), after a success or an error. */
void ai_run_args_free(ai_run_args *a);

#endif
