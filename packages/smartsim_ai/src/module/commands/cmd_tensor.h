/* AI.TENSORSET / AI.TENSORGET, and their parsing/reply helpers (also used by DAG ops). */
#ifndef SMARTSIM_AI_CMD_TENSOR_H
#define SMARTSIM_AI_CMD_TENSOR_H

#include "rm_api.h"
#include "tensor.h"

/* Builds a tensor from `TYPE dim... [BLOB data | VALUES v...]` (argv[0] is the type).
 * Returns a new tensor (refcount 1), or NULL with *err set to an errors.h string. */
ai_tensor *ai_tensor_from_args(RedisModuleString **argv, int argc, const char **err);

typedef enum { AI_TENSOR_FMT_NONE = 0, AI_TENSOR_FMT_BLOB, AI_TENSOR_FMT_VALUES } ai_tensor_fmt;

/* Parses TENSORGET's format tokens (META, BLOB, VALUES in any order and case).
 * No token means META + BLOB.  Returns NULL or an errors.h string. */
const char *ai_tensor_parse_format(RedisModuleString **argv, int argc, int *meta,
                                   ai_tensor_fmt *fmt);

/* Replies as AI.TENSORGET does for the given format. */
int ai_tensor_reply(RedisModuleCtx *ctx, const ai_tensor *t, int meta, ai_tensor_fmt fmt);

#endif
