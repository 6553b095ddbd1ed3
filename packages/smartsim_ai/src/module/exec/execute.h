/*
 * Executing one request's ops through a worker process (run-queue threads only).
 */
#ifndef SMARTSIM_AI_EXECUTE_H
#define SMARTSIM_AI_EXECUTE_H

#include "request.h"
#include "worker_channel.h"

/* Run every op of `r` in order; the first failing op stops the rest (they stay NA). */
void execute_request(ai_worker *w, ai_request *r);

/* Run a model on `ninputs` tensors; on success fills outputs (new references, NULL for an
 * absent output) and returns 0; on failure sets op's error and returns -1. */
int execute_model(ai_worker *w, ai_op *op, ai_model *model, ai_tensor **inputs, size_t ninputs,
                  ai_tensor **outputs, size_t noutputs);

/* Name a model's inputs/outputs by loading it in a one-off worker, on the calling thread
 * (server loading only); -1 with *err (ai_free) when it does not load. */
int ai_model_derive_names(ai_model *m, char **err);

/* The version a worker reported for `backend` (into out); 0 when none has loaded it yet. */
int execute_backend_version(ai_backend backend, char *out, size_t cap);

/* Make sure the worker process is up (restarting it with a back-off); 0 when it is. */
int execute_ensure_worker(ai_worker *w, char *err, size_t errlen);

#endif
