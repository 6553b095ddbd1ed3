/*
 * Worker-side object ids: a model/script is known to workers by a process-unique id kept in
 * its `exec` field, and this registry counts the live objects of each device (a device with
 * none lets its run queue stop its workers) and lists the ids of freed objects, which every
 * queue thread tells its worker to drop (UNLOAD) before its next request.  Any thread.
 */
#ifndef SMARTSIM_AI_EXEC_IDS_H
#define SMARTSIM_AI_EXEC_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "script.h"

/* A device string as queues and counts key it: upper-cased, cut to cap - 1 bytes. */
void ai_exec_device_name(const char *device, char *out, size_t cap);

/* The object's id, made (and counted for its device) on first use. */
uint64_t ai_exec_model_id(ai_model *m);
uint64_t ai_exec_script_id(ai_script *s);
/* An object's last reference went: tell every worker to drop it (ai_exec_forgotten), uncount
 * it and free *exec (set to NULL).  Returns 1 when its device has no object left (its run
 * queue may then stop its workers: run_queue_wake). */
int ai_exec_release(void **exec);
/* How many live objects name `device` (upper-cased). */
long ai_exec_device_objects(const char *device);
/* Ids freed since `*cursor`; returns how many were copied into out (at most cap). */
size_t ai_exec_forgotten(size_t *cursor, uint64_t *out, size_t cap);

#endif
