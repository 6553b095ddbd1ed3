"""Parsing of the replies of INFO, CLUSTER INFO, CONFIG GET and AI.INFO."""

from __future__ import annotations

from smartredis.error import RedisRuntimeError


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def parse_info(reply: object) -> dict[str, dict[str, str]]:
    """``INFO`` text -> ``{section: {field: value}}`` (only ``\\r\\n`` terminated lines)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in _text(reply).split("\r\n"):
        if line.startswith("#"):
            current = sections.setdefault(line[1:].strip(), {})
        elif ":" in line and current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return sections


def parse_flat_info(reply: object) -> dict[str, str]:
    """``CLUSTER INFO`` text -> ``{field: value}``."""
    result: dict[str, str] = {}
    for line in _text(reply).split("\r\n"):
        if ":" in line:
            name, _, value = line.partition(":")
            result[name] = value
    return result


def parse_pairs(reply: object, strip_hash_tag: bool = False) -> dict[str, str]:
    """A flat key/value array (AI.INFO, CONFIG GET) -> dict of strings.

    With ``strip_hash_tag`` a leading ``{..}.`` is removed from string values (the per-shard
    prefix of model keys in cluster mode).
    """
    if not isinstance(reply, (list, tuple)) or len(reply) % 2:
        raise RedisRuntimeError("The reply is not an even-length array of field/value pairs.")
    result: dict[str, str] = {}
    for name, value in zip(reply[0::2], reply[1::2]):
        if isinstance(value, float):
            text = f"{value:f}"
        elif isinstance(value, bytes):
            text = value.decode("utf-8", "replace")
            if strip_hash_tag and text.startswith("{"):
                end = text.find("}.")
                if end > 0:
                    text = text[end + 2 :]
        else:
            text = str(value)
        result[_text(name)] = text
    return result
