"""A key missing under an ensemble prefix: the error says which prefix was applied and why.

The first lines stay upstream's (class, ``Client.<method> execution failed``, the server's
reply); the explanation follows. Each hint is then followed, to show that it is right.
"""

from __future__ import annotations

import numpy as np
import pytest

from smartredis import Client, Dataset
from smartredis.error import RedisKeyError, RedisRuntimeError

MISSING_TENSOR = (
    "Client.get_tensor execution failed\n"
    "Redis error when executing command: ERR tensor key is empty or in a different shard"
)


def make(monkeypatch, address: str, cluster: bool = False, **env: str) -> Client:
    for var in ("SSKEYIN", "SSKEYOUT", "SR_DB_TYPE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    return Client(cluster, address=address)


def test_no_prefix_configured_keeps_the_upstream_message(client):
    with pytest.raises(RedisRuntimeError) as info:
        client.get_tensor("x")
    assert str(info.value) == MISSING_TENSOR


def test_applied_prefix_names_sskeyin_the_data_source_and_the_way_out(
    ai_server, ai_client, monkeypatch
):
    c = make(monkeypatch, ai_server.address, SSKEYIN="sim_0,sim_1")
    with pytest.raises(RedisRuntimeError) as info:
        c.get_tensor("x")
    text = str(info.value)
    assert text.startswith(MISSING_TENSOR + "\n")
    assert (
        "The ensemble prefix 'sim_0' was applied (key read: 'sim_0.x') because SSKEYIN is "
        "'sim_0,sim_1' and use_tensor_ensemble_prefix is on" in text
    )
    assert "call set_data_source() with one of: 'sim_1'." in text
    assert "If it was stored without a prefix, call use_tensor_ensemble_prefix(False)." in text

    # the hints work: the unprefixed key, then another member's
    ai_client.execute_command("AI.TENSORSET", "x", "FLOAT", 1, "VALUES", 1.0)
    c.use_tensor_ensemble_prefix(False)
    assert c.get_tensor("x").tolist() == [1.0]
    c.use_tensor_ensemble_prefix(True)
    c.set_data_source("sim_1")
    with pytest.raises(RedisRuntimeError, match=r"'sim_1' was applied \(key read: 'sim_1\.x'\)"):
        c.get_tensor("x")
    ai_client.execute_command("AI.TENSORSET", "sim_1.x", "FLOAT", 1, "VALUES", 2.0)
    assert c.get_tensor("x").tolist() == [2.0]
    c.close()


def test_prefix_switched_off_is_named(ai_server, ai_client, monkeypatch):
    c = make(monkeypatch, ai_server.address, SSKEYIN="sim_0")
    c.use_tensor_ensemble_prefix(False)
    with pytest.raises(RedisRuntimeError) as info:
        c.get_tensor("x")
    assert str(info.value).endswith(
        "No ensemble prefix was applied (key read: 'x') because "
        "use_tensor_ensemble_prefix(False) is in effect, although SSKEYIN is 'sim_0'; call "
        "use_tensor_ensemble_prefix(True) to read 'sim_0.x'."
    )
    c.close()


def test_sskeyout_without_sskeyin_is_named(ai_server, ai_client, monkeypatch):
    c = make(monkeypatch, ai_server.address, SSKEYOUT="out")
    c.put_tensor("x", np.zeros(2))
    with pytest.raises(RedisRuntimeError) as info:
        c.get_tensor("x")  # written as out.x, read as x
    assert "because SSKEYIN is not set, while this client writes under the prefix 'out'" in str(
        info.value
    )
    assert "'out.x'" in str(info.value)
    c.close()


def test_datasets_lists_models_and_tensor_copies(ai_server, ai_client, monkeypatch):
    c = make(monkeypatch, ai_server.address, SSKEYIN="sim_0")
    with pytest.raises(RedisKeyError) as info:
        c.get_dataset("d")
    text = str(info.value)
    assert text.startswith('Client.get_dataset execution failed\nThe requested DataSet, "d"')
    assert "(key read: 'sim_0.{d}.meta')" in text and "use_dataset_ensemble_prefix(False)" in text
    with pytest.raises(RedisRuntimeError, match=r"key read: 'sim_0.\{d\}.meta'"):
        c.delete_dataset("d")
    with pytest.raises(RedisKeyError, match=r"^Client\.rename_dataset execution failed"):
        c.rename_dataset("d", "e")
    with pytest.raises(RedisRuntimeError, match=r"use_list_ensemble_prefix\(False\)"):
        c.copy_list("L", "M")
    for call in (lambda: c.copy_tensor("x", "y"), lambda: c.rename_tensor("x", "y")):
        with pytest.raises(RedisRuntimeError, match=r"key read: 'sim_0\.x'"):
            call()
    c.use_model_ensemble_prefix(True)
    with pytest.raises(
        RedisRuntimeError, match=r"key read: 'sim_0\.m'(.|\n)*use_model_ensemble_prefix"
    ):
        c.get_model("m")
    # a dataset stored unprefixed is found once the switch is off, as the message says
    ds = Dataset("d")
    ds.add_meta_scalar("t", 1)
    c.use_dataset_ensemble_prefix(False)
    c.put_dataset(ds)
    assert c.get_dataset("d").get_meta_scalars("t").tolist() == [1]
    c.close()


def test_cluster_get_tensor(ai_cluster, monkeypatch):
    c = make(monkeypatch, ai_cluster.addresses[0], cluster=True, SSKEYIN="sim_0,sim_1")
    with pytest.raises(RedisRuntimeError) as info:
        c.get_tensor("missing-in-cluster")
    assert "The ensemble prefix 'sim_0' was applied (key read: 'sim_0.missing-in-cluster')" in (
        str(info.value)
    )
    c.close()
