"""DUMP payloads for tests: the footer's CRC64 (Jones polynomial, as Redis computes it)."""

from __future__ import annotations

import struct


def _crc_table() -> list[int]:
    poly = int(f"{0xAD93D23594C935A9:064b}"[::-1], 2)  # Jones polynomial, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC = _crc_table()


def crc64(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = _CRC[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def with_crc(body: bytes) -> bytes:
    """A payload whose body (value, then 2-byte RDB version) carries its checksum: RESTORE
    then hands it to the type's loader, whatever the bytes."""
    return body + struct.pack("<Q", crc64(body))
