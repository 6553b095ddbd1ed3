"""The CRC16 slot and the per-shard prefix, without a server."""

import pytest

from smartredis._wire.cluster import crc16, hash_tag, key_slot, shard_prefix


def test_crc16_reference_vector():
    # the Redis Cluster specification's test vector
    assert crc16(b"123456789") == 0x31C3


@pytest.mark.parametrize(
    ("key", "tag"),
    [
        (b"{user1000}.following", b"user1000"),
        (b"foo{}{bar}", b"foo{}{bar}"),
        (b"foo{{bar}}zap", b"{bar"),
        (b"foo{bar}{zap}", b"bar"),
        (b"plain", b"plain"),
    ],
)
def test_hash_tag_follows_the_redis_spec(key, tag):
    assert hash_tag(key) == tag


def test_key_slot_of_str_and_bytes_agree():
    assert key_slot("{ds}.meta") == key_slot(b"{ds}.x") == crc16(b"ds") % 16384


@pytest.mark.parametrize(
    ("slot", "prefix"),
    [
        (0, b"\x00\x00"),
        (5461, b"8M"),
        (10922, b"p\x9a"),
        (10923, bytes.fromhex("edeb")),
        (4096, bytes.fromhex("1102")),
        (8192, bytes.fromhex("2204")),
        (12288, bytes.fromhex("3306")),
    ],
)
def test_shard_prefix_matches_the_official_bytes(slot, prefix):
    assert shard_prefix(slot) == prefix


def test_every_slot_has_a_brace_free_prefix_hashing_back_to_it():
    lengths = {2: 0, 3: 0}
    for slot in range(16384):
        prefix = shard_prefix(slot)
        assert crc16(prefix) == slot
        assert b"{" not in prefix and b"}" not in prefix
        lengths[len(prefix)] += 1
    assert lengths == {2: 16129, 3: 255}


def test_prefixed_model_key_routes_to_the_shard():
    for lower in (0, 5461, 10923):
        key = b"{" + shard_prefix(lower) + b"}.model"
        assert key_slot(key) == lower


def test_shard_prefix_rejects_bad_slots():
    with pytest.raises(ValueError, match="outside"):
        shard_prefix(16384)
