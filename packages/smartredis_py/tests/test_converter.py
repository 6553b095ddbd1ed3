"""DatasetConverter with real xarray, through a real server."""

from __future__ import annotations

import numpy as np
import pytest

from smartredis import Dataset, DatasetConverter

xr = pytest.importorskip("xarray")


def test_xarray_roundtrip_through_the_server(client):
    ds = Dataset("xr")
    ds.add_tensor("temp", np.arange(6, dtype=np.float64).reshape(2, 3))
    ds.add_tensor("x", np.array([10.0, 20.0]))
    ds.add_meta_string("x_dim", "x")
    ds.add_meta_string("y_dim", "y")
    ds.add_meta_string("units", "K")
    DatasetConverter.add_metadata_for_xarray(
        ds, data_names=["temp"], dim_names=["x_dim", "y_dim"], coord_names=["x"],
        attr_names=["units"],
    )  # fmt: skip
    DatasetConverter.add_metadata_for_xarray(ds, data_names="x", dim_names="x_dim")
    client.put_dataset(ds)
    arrays = DatasetConverter.transform_to_xarray(client.get_dataset("xr"))
    assert list(arrays) == ["temp"]
    temp = arrays["temp"]
    assert temp.dims == ("x", "y")
    assert temp.attrs == {"units": "K"}
    np.testing.assert_array_equal(temp.coords["x"].values, [10.0, 20.0])
    np.testing.assert_array_equal(temp.values, np.arange(6).reshape(2, 3))


def test_bad_arguments():
    with pytest.raises(TypeError):
        DatasetConverter.add_metadata_for_xarray("not a dataset", "a", "b")
    with pytest.raises(TypeError):
        DatasetConverter.add_metadata_for_xarray(Dataset("d"), 3, "b")
