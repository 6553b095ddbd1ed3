"""Redis Cluster hashing and SmartRedis's per-shard prefix.

SmartRedis stores every model and script once per shard, under ``{P}.<key>`` where the
prefix ``P`` is a short byte string whose CRC16 is exactly the shard's lowest slot.  The
prefix is found by running the CRC16 polynomial division backwards, so it is the same
bytes the official C++ client computes, and models set by either client are found by the other.
"""

from __future__ import annotations

SLOTS = 16384
_POLY = 0x1021
_BRACES = (ord("{"), ord("}"))


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ _POLY) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _make_table()


def crc16(data: bytes) -> int:
    """CRC16-XMODEM (polynomial 0x1021, initial value 0), as used by Redis Cluster."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def hash_tag(key: bytes) -> bytes:
    """The part of ``key`` that Redis hashes: the first non-empty ``{...}`` or the whole key."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def key_slot(key: bytes | str) -> int:
    """The cluster slot of ``key`` by the Redis Cluster specification."""
    if isinstance(key, str):
        key = key.encode()
    return crc16(hash_tag(key)) % SLOTS


def shard_prefix(lower_slot: int) -> bytes:
    """The prefix ``P`` (no braces inside) with ``crc16(P) == lower_slot``.

    Start from the remainder ``lower_slot`` and clear its 16 low bits by adding shifted
    copies of the polynomial; the bits above are a message whose CRC is the remainder.
    Should that message contain a brace, more bits are cleared (up to position 24) to
    get another message with the same CRC, exactly as the official client does.
    """
    if not 0 <= lower_slot < SLOTS:
        raise ValueError(f"slot {lower_slot} is outside 0..{SLOTS - 1}")
    value = lower_slot
    full_poly = 0x10000 | _POLY
    for bit in range(16):
        if value & (1 << bit):
            value ^= full_poly << bit
    steps = 16
    while True:
        n_bytes = (steps + 7) // 8
        prefix = (value >> 16).to_bytes(n_bytes, "big")
        if not any(b in _BRACES for b in prefix):
            return prefix
        if steps > 24:
            raise ValueError(f"no brace-free prefix found for slot {lower_slot}")
        if value & (1 << steps):
            value ^= full_poly << steps
        steps += 1
