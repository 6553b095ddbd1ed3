"""The cluster client against a real 3-shard cluster: routing, datasets, lists, admin."""

from __future__ import annotations

import numpy as np
import pytest
import redis

from smartredis import Dataset
from smartredis._wire.cluster import shard_prefix


def test_topology_and_prefixes(ai_cluster, cluster_client):
    shards = cluster_client._executor.shards
    assert [s.lower for s in shards] == [0, 5461, 10922]
    assert [s.prefix for s in shards] == [shard_prefix(0), b"8M", b"p\x9a"]


def test_tensors_across_shards(cluster_client):
    c = cluster_client
    for i in range(20):
        c.put_tensor(f"t{i}", np.full(3, i, dtype=np.int32))
    for i in range(20):
        np.testing.assert_array_equal(c.get_tensor(f"t{i}"), np.full(3, i))
    c.rename_tensor("t0", "renamed")  # different slots: copy + UNLINK
    assert not c.tensor_exists("t0") and c.tensor_exists("renamed")
    c.copy_tensor("t1", "copy")
    np.testing.assert_array_equal(c.get_tensor("copy"), np.full(3, 1))
    c.delete_tensor("copy")
    assert not c.tensor_exists("copy")


def test_datasets_and_lists_across_shards(cluster_client):
    c = cluster_client
    for i in range(10):
        ds = Dataset(f"ds{i}")
        ds.add_tensor("t", np.full(2, i, dtype=np.float64))
        ds.add_meta_string("name", f"n{i}")
        c.put_dataset(ds)
        c.append_to_list("L", ds)
    got = c.get_datasets_from_list("L")
    assert [d.get_meta_strings("name")[0] for d in got] == [f"n{i}" for i in range(10)]
    assert [float(d.get_tensor("t")[0]) for d in got] == list(range(10))
    c.copy_dataset("ds1", "other")
    assert c.get_dataset("other").get_meta_strings("name") == ["n1"]
    c.rename_list("L", "M")
    assert c.get_list_length("M") == 10 and c.get_list_length("L") == 0


def test_cluster_admin(ai_cluster, cluster_client):
    c = cluster_client
    infos = c.get_db_cluster_info(ai_cluster.addresses)
    assert all(i["cluster_state"] == "ok" for i in infos)
    assert c.get_db_node_info([ai_cluster.addresses[2]])[0]["Server"]["tcp_port"] == str(
        ai_cluster.nodes[2].port
    )
    with pytest.raises(Exception, match="not a node of the cluster"):
        c.flush_db(["127.0.0.1:1"])


def test_moved_reply_refreshes_the_map(ai_cluster, cluster_client):
    """A stale map (here: the map of a new client after slots moved) is corrected on MOVED."""
    c = cluster_client
    ex = c._executor
    # swap two shards' nodes in the client's map to simulate a stale topology
    ex.shards[0].node, ex.shards[1].node = ex.shards[1].node, ex.shards[0].node
    c.put_tensor("t", np.arange(3, dtype=np.int8))
    np.testing.assert_array_equal(c.get_tensor("t"), [0, 1, 2])
    r = redis.RedisCluster(host=ai_cluster.nodes[0].host, port=ai_cluster.nodes[0].port)
    assert r.exists("t")
    r.close()
