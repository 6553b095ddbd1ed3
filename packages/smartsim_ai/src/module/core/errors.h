/*
 * Every error reply of the `ai` module, byte for byte as RedisAI 1.2.7 sends it
 * (../../../../shared/reference/redisai-commands.md), typos and missing "ERR "
 * prefixes included, so that conformance tests can cite them.  Strings marked
 * "ours" have no RedisAI counterpart (RedisAI crashed or misbehaved there, or the
 * failure is one of this engine's worker processes).
 *
 * First the errors of parsing each command (commands/), then those that arise while a
 * request runs (exec/): worker processes and time limits, batching, the calls a script
 * makes back into the server.  A name ending in _FMT is a printf format.  Log lines
 * (RedisModule_Log, worker_log) are not here: only what a client or a script receives.
 */
#ifndef SMARTSIM_AI_ERRORS_H
#define SMARTSIM_AI_ERRORS_H

#include <stdarg.h>
#include <stddef.h>

/* Shared by every command. */
#define AI_ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define AI_ERR_TENSOR_KEY_EMPTY "ERR tensor key is empty or in a different shard"
#define AI_ERR_MODEL_KEY_EMPTY "ERR model key is empty"
#define AI_ERR_SCRIPT_KEY_EMPTY "ERR script key is empty"
#define AI_ERR_IN_TRANSACTION "ERR Cannot run RedisAI command within a transaction or a LUA script"
#define AI_ERR_OOM "ERR out of memory" /* ours */
/* the server's text, with RedisAI's upper-case command name */
#define AI_ERR_ARITY_FMT "ERR wrong number of arguments for '%s' command"

/* AI.TENSORSET / AI.TENSORGET */
#define AI_ERR_INVALID_DTYPE "ERR invalid data type"
#define AI_ERR_SHAPE "ERR invalid or negative value found in tensor shape"
#define AI_ERR_SHAPE_TOO_LARGE                                                       \
    "ERR tensor shape is too large: the element count or byte size overflows, or a " \
    "zero-filled tensor would exceed 512 MB" /* ours */
#define AI_ERR_BLOB_SINGLE \
    "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"
#define AI_ERR_DATA_LENGTH "ERR data length does not match tensor shape and type"
#define AI_ERR_BOOL_VALUES "ERR BOOL tensor elements must be 0 or 1"
#define AI_ERR_STRING_COUNT "ERR Number of string elements in data blob does not match tensor length"
#define AI_ERR_VALUES_COUNT "ERR wrong number of values was given in 'AI.TENSORSET' command"
#define AI_ERR_INVALID_VALUE "ERR invalid value"
#define AI_ERR_CSTRING_NUL "ERR C-string value contains null character"
#define AI_ERR_DATA_FORMAT "ERR unsupported data format"
#define AI_ERR_BLOB_AND_VALUES "ERR both BLOB and VALUES specified"
#define AI_ERR_UNSUPPORTED_DTYPE "ERR unsupported dtype"

/* AI.CONFIG */
#define AI_ERR_UNSUPPORTED_BACKEND "ERR unsupported backend"
#define AI_ERR_LOADING_BACKEND "ERR error loading backend"
#define AI_ERR_BACKENDSPATH_MISSING "ERR BACKENDSPATH: missing path argument"
#define AI_ERR_CHUNK_SIZE_MISSING "ERR MODEL_CHUNK_SIZE: missing chunk size"
#define AI_ERR_CHUNK_SIZE_INVALID "ERR MODEL_CHUNK_SIZE: invalid chunk size"
#define AI_ERR_UNSUPPORTED_SUBCOMMAND "ERR unsupported subcommand"

/* AI.MODELSTORE / AI.MODELSET / AI.MODELGET */
#define AI_ERR_INVALID_DEVICE "ERR Invalid DEVICE"
#define AI_ERR_BATCHSIZE "ERR Invalid argument for BATCHSIZE"
#define AI_ERR_MINBATCHSIZE "ERR Invalid argument for MINBATCHSIZE"
#define AI_ERR_MINBATCHSIZE_WITHOUT "ERR MINBATCHSIZE specified without BATCHSIZE"
#define AI_ERR_MINBATCHTIMEOUT "ERR Invalid argument for MINBATCHTIMEOUT"
#define AI_ERR_MINBATCHTIMEOUT_WITHOUT_BATCHSIZE "ERR MINBATCHTIMEOUT specified without BATCHSIZE"
#define AI_ERR_MINBATCHTIMEOUT_WITHOUT "ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"
#define AI_ERR_MISSING_BLOB "ERR Insufficient arguments, missing model BLOB"
#define AI_ERR_TF_INPUTS "ERR INPUTS not specified for TF"
#define AI_ERR_TF_OUTPUTS "ERR OUTPUTS not specified for TF"
#define AI_ERR_INPUT_COUNT_ARG "ERR Invalid argument for input_count"
#define AI_ERR_OUTPUT_COUNT_ARG "ERR Invalid argument for output_count"
#define AI_ERR_MODEL_INPUTS_ARGS \
    "ERR number of model inputs does not match the number of given arguments"
#define AI_ERR_MODEL_OUTPUTS_ARGS \
    "ERR number of model outputs does not match the number of given arguments"
#define AI_ERR_INPUTS_NOT_FOR_BACKEND "ERR INPUTS argument should not be specified for this backend"
#define AI_ERR_EXPECTED_BLOB "ERR Invalid argument, expected BLOB"
#define AI_ERR_COULD_NOT_LOAD_BACKEND "ERR Could not load backend"
#define AI_ERR_TFLITE_BATCHING "ERR Auto-batching not supported by the TFLITE backend"
#define AI_ERR_TF_INOUT_MISSING "ERR Insufficient arguments, INPUTS and OUTPUTS not specified"
#define AI_ERR_INPUTS_NOT_SPECIFIED "ERR INPUTS not specified"
#define AI_ERR_OUTPUTS_NOT_SPECIFIED "ERR OUTPUTS not specified"

/* AI.MODELEXECUTE / AI.MODELRUN */
#define AI_ERR_INPUT_COUNT_POSITIVE "ERR Input count must be a positive integer"
#define AI_ERR_OUTPUT_COUNT_POSITIVE "ERR Output count must be a positive integer"
#define AI_ERR_INPUTS_MODEL_MISMATCH \
    "Number of keys given as INPUTS here does not match model definition"
#define AI_ERR_OUTPUTS_MODEL_MISMATCH \
    "Number of keys given as OUTPUTS here does not match model definition"
#define AI_ERR_MODELEXECUTE_INPUT_KEYS                                                       \
    "ERR number of input keys to AI.MODELEXECUTE command does not match the number of given " \
    "arguments"
#define AI_ERR_MODELEXECUTE_OUTPUT_KEYS                                                       \
    "ERR number of output keys to AI.MODELEXECUTE command does not match the number of given " \
    "arguments"
#define AI_ERR_INVALID_ARGUMENT_FMT "Invalid argument: %s"
#define AI_ERR_TIMEOUT_MISSING "ERR No value provided for TIMEOUT"
#define AI_ERR_TIMEOUT_INVALID "ERR Invalid value for TIMEOUT"

/* AI.SCRIPTSTORE / AI.SCRIPTSET / AI.SCRIPTGET */
#define AI_ERR_MISSING_ENTRY_POINTS "ERR Insufficient arguments, missing script entry points"
#define AI_ERR_ENTRY_POINTS_NUMBER \
    "ERR Non numeric entry points number provided to AI.SCRIPTSTORE command"
#define AI_ERR_MISSING_SOURCE "ERR Insufficient arguments, missing script SOURCE"
#define AI_ERR_UNSUPPORTED_DEVICE "ERR unsupported device"

/* AI.SCRIPTEXECUTE / AI.SCRIPTRUN */
#define AI_ERR_SCRIPTEXECUTE_FIRST_SCOPE \
    "ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command"
#define AI_ERR_SCRIPTEXECUTE_TIMEOUT_MISSING "ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE"
#define AI_ERR_SCRIPTEXECUTE_PARSE "ERR Encountered problem parsing AI.SCRIPTEXECUTE"
#define AI_ERR_SCRIPTEXECUTE_UNEXPECTED_FMT \
    "ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: %s"
#define AI_ERR_SCRIPTEXECUTE_ALREADY_FMT "ERR Already Encountered %s scope in AI.SCRIPTEXECUTE command"
#define AI_ERR_KEYS_MISSING_ARGS "ERR Missing arguments after KEYS keyword"
#define AI_ERR_KEYS_COUNT "ERR Invalid or negative value found in number of KEYS"
#define AI_ERR_KEYS_MISMATCH                                                                     \
    "ERR Number of pre declared KEYS to be used in the command does not match the number of " \
    "given arguments"
#define AI_ERR_SCRIPTEXECUTE_ARGS "ERR Invalid arguments provided to AI.SCRIPTEXECUTE"
#define AI_ERR_SCRIPTEXECUTE_COUNT_FMT "ERR Invalid argument for %s count in AI.SCRIPTEXECUTE"
#define AI_ERR_SCRIPTEXECUTE_MISMATCH_FMT \
    "ERR number of %s to AI.SCRIPTEXECUTE command does not match the number of given arguments"
#define AI_ERR_SCRIPTRUN_TIMEOUT_TWICE "ERR Already encountered an TIMEOUT section in SCRIPTRUN"
#define AI_ERR_SCRIPTRUN_INPUTS_TWICE "ERR Already encountered an INPUTS section in SCRIPTRUN"
#define AI_ERR_SCRIPTRUN_INPUTS_KEYWORD_TWICE "ERR Already encountered an INPUTS keyword in SCRIPTRUN"
#define AI_ERR_SCRIPTRUN_OUTPUTS_TWICE "ERR Already encountered an OUTPUTS keyword in SCRIPTRUN"
#define AI_ERR_SCRIPTRUN_VARIADIC_OUTSIDE \
    "ERR Encountered a variable size list of tensors outside of input section"
#define AI_ERR_SCRIPTRUN_VARIADIC_TWICE "ERR Already encountered a variable size list of tensors"
#define AI_ERR_SCRIPTRUN_UNRECOGNIZED "ERR Unrecongnized parameter to SCRIPTRUN"

/* AI.DAGEXECUTE / AI.DAGRUN and their _RO forms */
#define AI_ERR_DAG_UNEXPECTED_FMT "ERR Invalid DAG command. Unexpected argument:  %s"
#define AI_ERR_DAG_NEEDS_KEYWORD                                                           \
    "ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of " \
    "ROUTING, LOAD, PERSIST keywords"
#define AI_ERR_DAG_EMPTY "ERR DAG is empty"
#define AI_ERR_DAG_LOAD_MISSING "ERR missing arguments after LOAD keyword in DAG command"
#define AI_ERR_DAG_LOAD_COUNT "ERR invalid or negative value found in number of keys to LOAD"
#define AI_ERR_DAG_LOAD_MISMATCH \
    "ERR number of keys to LOAD into DAG does not match the number of given arguments"
#define AI_ERR_DAG_PERSIST_MISSING "ERR missing arguments after PERSIST keyword in DAG command"
#define AI_ERR_DAG_PERSIST_COUNT "ERR invalid or negative value found in number of keys to PERSIST"
#define AI_ERR_DAG_PERSIST_UNIQUE "ERR PERSIST keys must be unique"
#define AI_ERR_DAG_PERSIST_MISMATCH                                                              \
    "ERR number of keys to PERSIST after DAG execution does not match the number of given " \
    "arguments"
#define AI_ERR_DAG_PERSIST_RO "ERR PERSIST cannot be specified in a read-only DAG"
#define AI_ERR_DAG_ROUTING_MISSING "ERR Missing ROUTING value"
#define AI_ERR_DAG_TIMEOUT_IN_OP "ERR TIMEOUT not allowed within a DAG command"
#define AI_ERR_DAG_UNSUPPORTED_OP "Unsupported command within DAG"
#define AI_ERR_DAG_DEPRECATED_OP_FMT "Deprecated %s cannot be used in AI.DAGEXECUTE command"
#define AI_ERR_DAGRUN_NEW_OP_FMT "%s cannot be used in a deprecated AI.DAGRUN command"
#define AI_ERR_DAG_MISSING_ARGS_FMT "ERR missing arguments for '%s' command"
#define AI_ERR_DAG_TENSORSET_ARITY "wrong number of arguments for 'AI.TENSORSET' command"
#define AI_ERR_DAG_TENSORGET_ARITY "wrong number of arguments for 'AI.TENSORGET' command"
#define AI_ERR_DAG_SCRIPTEXECUTE_RO \
    "ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG"
#define AI_ERR_DAG_INPUT_NOT_FOUND "ERR INPUT key cannot be found in DAG"
#define AI_ERR_DAG_PERSIST_NOT_FOUND "ERR PERSIST key cannot be found in DAG"

/* AI.INFO */
#define AI_ERR_NO_RUN_INFO "ERR cannot find run info for key"

/* ------------------------------------------------------------ while a request runs (exec/) */

/* Submitting a run (exec/submit.c); ours. */
#define AI_ERR_CANNOT_BLOCK "ERR could not block the client for this run"
#define AI_ERR_NO_RUN_QUEUE_FMT "ERR could not create the run queue for device %s"

/* Worker processes (exec/execute.c, run_queue.c, worker_channel.c); ours unless marked. */
#define AI_ERR_WORKER_FMT "ERR %s" /* a worker that cannot start: one of the next two */
#define AI_ERR_WORKER_SOCKETPAIR_FMT "socketpair: %s"
#define AI_ERR_WORKER_SPAWN_FMT "cannot start the worker %s: %s (set the WORKER_PYTHON module argument)"
#define AI_ERR_WORKERS_BUSY_FMT                                                              \
    "ERR no worker process for device %s: WORKERS_MAX (%lld) worker processes are running " \
    "and all are busy; retry later, or raise the module argument WORKERS_MAX"
#define AI_ERR_WORKER_EXITED_FMT                                                              \
    "ERR the worker process for device %s exited before answering (%s): check that %s can " \
    "import smartsim_ai (module argument WORKER_PYTHON) and see the server log"
/* pid, device, how it ended, then AI_ERR_WORKER_RESTARTED or AI_ERR_WORKER_NOT_RESTARTED */
#define AI_ERR_WORKER_DIED_FMT \
    "ERR the worker process %d for device %s died (%s) while running this request; %s"
#define AI_ERR_WORKER_RESTARTED "it has been restarted, retry the command"
#define AI_ERR_WORKER_NOT_RESTARTED "restarting it failed"
#define AI_ERR_WORKER_LOAD_REPLY_FMT "ERR unexpected reply %d from the worker to a load"
#define AI_ERR_WORKER_REPLY_FMT "ERR unexpected reply %d from the worker"
#define AI_ERR_WORKER_MALFORMED_RESULT "ERR malformed result from the worker"
#define AI_ERR_WORKER_LOST_MODEL "ERR the worker lost the model while running it"
#define AI_ERR_WORKER_LOST_SCRIPT "ERR the worker lost the script while running it"
#define AI_ERR_OUTPUT_COUNT "ERR Model did not generate the expected number of outputs" /* RedisAI's */
#define AI_ERR_OUTPUT_NOT_STORABLE                                                       \
    "ERR the model produced an output this database cannot store (a zero-sized dimension " \
    "or an inconsistent buffer)"
#define AI_ERR_OP_FAILED "ERR the op failed"

/* Time limits (exec/execute.c): the worker is killed and restarted; ours, but for the first
 * words of MODEL_EXECUTION_TIMEOUT's, RedisAI's ONNX timeout error. */
#define AI_ERR_MODEL_EXECUTION_TIMEOUT_FMT                                                   \
    "ERR Exiting due to terminate flag being set to true: the run took longer than "        \
    "MODEL_EXECUTION_TIMEOUT (%lld ms), its worker process was restarted"
#define AI_ERR_SCRIPT_EXECUTION_TIMEOUT_FMT                                                  \
    "ERR the script ran longer than MODEL_EXECUTION_TIMEOUT (%lld ms); its worker process " \
    "was restarted"
#define AI_ERR_RUN_TIMEOUT_FMT                                                                \
    "ERR the run took longer than RUN_TIMEOUT (%lld ms) and was stopped; its worker process " \
    "was restarted (raise the module argument RUN_TIMEOUT for longer runs, 0: no limit)"
#define AI_ERR_LOAD_TIMEOUT_FMT                                                                \
    "ERR the worker took longer than MODEL_LOAD_TIMEOUT (%lld ms) to load the %s (backend " \
    "import included); its worker process was restarted"

/* Auto-batching (exec/batching.c) */
#define AI_ERR_BATCH_SIZE_OUTPUT "ERR Model did not generate the expected batch size"
#define AI_ERR_TF_BATCH_SIZE_OUTPUT \
    "ERR Tensorflow batching error: model did not generate the expected batch size"
#define AI_ERR_BATCHED_RUN_FAILED "ERR the batched run failed" /* ours */

/* A script's calls into the server (exec/script_calls.c): errors its redis.execute(...) or
 * redisAI.model_execute(...) gets; ours, modelled on the server's ACL errors. */
#define AI_ERR_CALL_NO_ACL_API                                                       \
    "ERR this server lacks the module ACL API (Valkey or Redis >= 7.0 has it): scripts " \
    "cannot call it"
#define AI_ERR_CALL_USER_GONE_FMT "NOPERM the user '%s' that ran this script no longer exists"
#define AI_ERR_CALL_INVALID "Invalid argument" /* strerror(EINVAL): a call without a command */
#define AI_ERR_CALL_NOT_ALLOWED_FMT                                                        \
    "ERR scripts may not call '%s': only data commands are allowed (see the engine's " \
    "docs/security.md)"
#define AI_ERR_CALL_UNKNOWN_COMMAND_FMT "ERR unknown command '%s'" /* the server's text */
#define AI_ERR_CALL_NOPERM_COMMAND_FMT                                                      \
    "NOPERM User %s has no permissions to run the '%s' command or to access one of its keys " \
    "(called from a script)"
#define AI_ERR_CALL_NOPERM_MODEL_KEY_FMT \
    "NOPERM User %s has no permissions to access the model key '%.*s' (called from a script)"
#define AI_ERR_CALL_MODEL_NOT_LOOKED_UP "ERR the model was not looked up by this script"

/* Formats an error text into buf[0..size) as one RESP error line: CR and LF become spaces,
 * and with `all_controls` every other control byte too (client arguments echoed in parse
 * errors; worker errors keep their tabs).  Returns buf. */
char *ai_vformat_error(char *buf, size_t size, int all_controls, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
/* ai_vformat_error with all_controls set: the parsers' formatted errors (parse.h). */
char *ai_format_error(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
