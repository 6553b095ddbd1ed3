"""The Dataset object itself (no server)."""

import numpy as np
import pytest

from smartredis import Dataset
from smartredis.error import RedisKeyError, RedisRuntimeError


def test_tensors_are_copied_in_insertion_order():
    ds = Dataset("d")
    data = np.arange(6, dtype=np.uint16).reshape(3, 2)
    ds.add_tensor("z", np.asfortranarray(data))
    ds.add_tensor("a", data[:, :1])
    data[0, 0] = 99
    assert ds.get_tensor_names() == ["z", "a"]
    assert ds.get_tensor("z")[0, 0] == 0
    assert ds.get_tensor_dims("a") == [3, 1]
    assert ds.get_tensor_type("z") is np.uint16
    assert ds.get_tensor_type("z") is np.uint16


def test_tensor_errors():
    ds = Dataset("d")
    ds.add_tensor("t", np.zeros(2))
    with pytest.raises(RedisRuntimeError, match="already exists"):
        ds.add_tensor("t", np.zeros(2))
    with pytest.raises(TypeError):
        ds.add_tensor("b", np.zeros(2, dtype=bool))
    with pytest.raises(TypeError):
        ds.add_tensor("l", [1, 2])
    with pytest.raises(RedisKeyError):
        ds.get_tensor("missing")


def test_metadata_types_and_errors():
    ds = Dataset("d")
    ds.add_meta_scalar("f", np.float32(1))
    ds.add_meta_scalar("f", np.float32(2))
    ds.add_meta_string("s", "a")
    assert ds.get_meta_scalars("f").tolist() == [1.0, 2.0]
    assert ds.get_metadata_field_type("f") is np.float32  # upstream says float64 (a bug)
    assert ds.get_metadata_field_type("s") is str
    with pytest.raises(RedisRuntimeError):
        ds.add_meta_string("f", "x")
    with pytest.raises(RedisRuntimeError):
        ds.add_meta_scalar("f", 1.0)  # DOUBLE into a FLOAT field
    with pytest.raises(RedisRuntimeError):
        ds.get_meta_scalars("missing")
    with pytest.raises(TypeError):
        ds.add_meta_scalar("b", True)
    with pytest.raises(TypeError):
        ds.add_meta_string("s", 3)
    with pytest.raises(TypeError):
        Dataset(3)
    assert "Tensors" in str(ds)
