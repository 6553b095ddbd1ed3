"""Every command the client sends, built here: builders return argument lists; nothing is
sent here (the executors in ``_transport`` send them, the client mixins choose them).

These are the exact verbs and argument orders of SmartRedis 0.6.1 (see the wire reference):
AI.MODELSTORE/AI.MODELEXECUTE for models, the older AI.SCRIPTSET/AI.SCRIPTRUN for scripts,
HMSET for dataset metadata, UNLINK for tensors in a cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

Key = str | bytes
Arg = str | bytes | int | memoryview
Args = list[Arg]

TENSORSET = "AI.TENSORSET"
TENSORGET = "AI.TENSORGET"
MODELSTORE = "AI.MODELSTORE"
MODELGET = "AI.MODELGET"
MODELDEL = "AI.MODELDEL"
MODELEXECUTE = "AI.MODELEXECUTE"
SCRIPTSET = "AI.SCRIPTSET"
SCRIPTGET = "AI.SCRIPTGET"
SCRIPTDEL = "AI.SCRIPTDEL"
SCRIPTRUN = "AI.SCRIPTRUN"
AI_INFO = "AI.INFO"
AI_CONFIG = "AI.CONFIG"
MODEL_CHUNK_SIZE = "MODEL_CHUNK_SIZE"

#: Commands that are safe to send again after a lost reply (no side effect, or the same
#: effect twice).  Any other command is never resent once it may have reached the server.
IDEMPOTENT = frozenset(
    {
        "AI.TENSORSET", "AI.TENSORGET", "AI.MODELGET", "AI.SCRIPTGET", "AI.MODELSTORE",
        "AI.SCRIPTSET", "AI.INFO", "AI.CONFIG", "EXISTS", "GET", "HGETALL", "HEXISTS",
        "HMSET", "HSET", "LLEN", "LRANGE", "PING", "INFO", "CLUSTER", "CONFIG", "DEL",
        "UNLINK", "SAVE", "FLUSHDB",
    }
)  # fmt: skip


# ---- tensors and plain keys -------------------------------------------------------------


def tensorset(key: str | bytes, type_name: str, dims: Sequence[int], blob: Arg) -> Args:
    return [TENSORSET, key, type_name, *dims, "BLOB", blob]


def tensorget(key: str | bytes) -> Args:
    return [TENSORGET, key, "META", "BLOB"]


def exists(key: Key) -> Args:
    return ["EXISTS", key]


def delete(*keys: Key, verb: str = "DEL") -> Args:
    """``DEL keys...`` (``verb="UNLINK"``: how a cluster client deletes a tensor)."""
    return [verb, *keys]


def unlink(*keys: Key) -> Args:
    return ["UNLINK", *keys]


def rename(src: Key, dst: Key) -> Args:
    return ["RENAME", src, dst]


# ---- models and scripts ------------------------------------------------------------------


def modelstore(
    key: str | bytes,
    backend: str,
    device: str,
    chunks: Sequence[Arg],
    *,
    tag: str = "",
    batch_size: int = 0,
    min_batch_size: int = 0,
    min_batch_timeout: int = 0,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
) -> Args:
    args: Args = [MODELSTORE, key, backend, device]
    if tag:
        args += ["TAG", tag]
    if batch_size > 0:
        args += ["BATCHSIZE", batch_size]
    if min_batch_size > 0:
        args += ["MINBATCHSIZE", min_batch_size]
    if min_batch_timeout > 0:
        args += ["MINBATCHTIMEOUT", min_batch_timeout]
    if inputs:
        args += ["INPUTS", len(inputs), *inputs]
    if outputs:
        args += ["OUTPUTS", len(outputs), *outputs]
    return [*args, "BLOB", *chunks]


def modelexecute(
    key: str | bytes, inputs: Sequence[str | bytes], outputs: Sequence[str | bytes], timeout: int
) -> Args:
    return [
        MODELEXECUTE, key, "INPUTS", len(inputs), *inputs,
        "OUTPUTS", len(outputs), *outputs, "TIMEOUT", timeout,
    ]  # fmt: skip


def scriptset(key: str | bytes, device: str, source: str) -> Args:
    return [SCRIPTSET, key, device, "SOURCE", source]


def scriptrun(
    key: str | bytes, function: str, inputs: Sequence[str | bytes], outputs: Sequence[str | bytes]
) -> Args:
    return [SCRIPTRUN, key, function, "INPUTS", *inputs, "OUTPUTS", *outputs]


def modelget(key: str | bytes) -> Args:
    return [MODELGET, key, "BLOB"]


def scriptget(key: str | bytes) -> Args:
    return [SCRIPTGET, key, "SOURCE"]


def modeldel(key: str | bytes) -> Args:
    return [MODELDEL, key]


def scriptdel(key: str | bytes) -> Args:
    return [SCRIPTDEL, key]


def ai_info(key: str | bytes, reset_stat: bool) -> Args:
    return [AI_INFO, key, "RESETSTAT"] if reset_stat else [AI_INFO, key]


def get_chunk_size() -> Args:
    return [AI_CONFIG, "GET", MODEL_CHUNK_SIZE]


def set_chunk_size(size: int) -> Args:
    return [AI_CONFIG, MODEL_CHUNK_SIZE, size]


# ---- datasets ----------------------------------------------------------------------------


def put_dataset_meta(meta: str, fields: Sequence[tuple[str, bytes]]) -> list[Args]:
    """The first two commands of put_dataset: clear the hash, then write every field."""
    flat: Args = []
    for name, value in fields:
        flat += [name, value]
    return [["DEL", meta], ["HMSET", meta, *flat]]


def ack_dataset(meta: str) -> Args:
    return ["HSET", meta, ".COMPLETE", "1"]


def hgetall(meta: Key) -> Args:
    return ["HGETALL", meta]


def hexists(meta: Key, field: str) -> Args:
    return ["HEXISTS", meta, field]


# ---- aggregation lists -------------------------------------------------------------------


def rpush(key: Key, *values: Key) -> Args:
    return ["RPUSH", key, *values]


def lrange(key: Key, start: int, end: int) -> Args:
    return ["LRANGE", key, start, end]


def llen(key: Key) -> Args:
    return ["LLEN", key]


# ---- connection and admin ----------------------------------------------------------------


def ping() -> Args:
    return ["PING"]


def cluster_slots() -> Args:
    return ["CLUSTER", "SLOTS"]


def info(section: str = "EVERYTHING") -> Args:
    return ["INFO", section]


def cluster_info() -> Args:
    return ["CLUSTER", "INFO"]


def flushdb() -> Args:
    return ["FLUSHDB"]


def config_get(expression: str) -> Args:
    return ["CONFIG", "GET", expression]


def config_set(param: str, value: str) -> Args:
    return ["CONFIG", "SET", param, value]


def save() -> Args:
    return ["SAVE"]


def chunk(data: bytes | memoryview, size: int) -> list[memoryview]:
    """Split model bytes into ``size`` pieces (views, no copies)."""
    view = memoryview(data).cast("B") if not isinstance(data, memoryview) else data.cast("B")
    if size <= 0:
        raise ValueError(f"The model chunk size must be positive, not {size}.")
    return [view[i : i + size] for i in range(0, max(len(view), 1), size)]
