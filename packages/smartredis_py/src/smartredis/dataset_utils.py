"""DatasetConverter: xarray DataArrays <-> Dataset metadata conventions of SmartRedis."""

from __future__ import annotations

import functools
import typing as t

from smartredis.dataset import Dataset
from smartredis.error import RedisRuntimeError
from smartredis.util import typecheck

if t.TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
else:
    xr = None  # imported by the first call that needs it (extra ``smartredis_py[xarray]``)

__all__ = ["DatasetConverter", "get_data", "typecheck_stringlist"]

_F = t.TypeVar("_F", bound=t.Callable[..., t.Any])

#: The official message, naming the distribution that installs this client: the official
#: one's ``pip install smartredis[xarray]`` would install the other client over this one.
XARRAY_MISSING = (
    "Optional package xarray must be installed; "
    "Consider running `pip install smartredis_py[xarray]`"
)


def _requires_xarray(fn: _F) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        global xr
        try:
            import xarray as xr
        except ImportError as exc:
            raise RedisRuntimeError(XARRAY_MISSING) from exc
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def get_data(dataset: Dataset, name: str, dtype: str) -> list[str]:
    """The comma-separated names in field ``_xarray_<name>_<dtype>_names``, as a list."""
    return dataset.get_meta_strings(f"_xarray_{name}_{dtype}_names")[0].split(",")


def typecheck_stringlist(names: list[str], strings_name: str, string_name: str) -> None:
    """``TypeError`` unless ``names`` is a list of str (``strings_name`` names the list)."""
    typecheck(names, strings_name, list)
    for name in names:
        typecheck(name, string_name, str)


def _names(value: str | list[str] | None, label: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise TypeError(f"Argument {label} must be a str or a list of str")


class DatasetConverter:
    """Store and rebuild xarray DataArrays through dataset metadata."""

    @staticmethod
    def add_metadata_for_xarray(
        dataset: Dataset,
        data_names: str | list[str],
        dim_names: str | list[str],
        coord_names: str | list[str] | None = None,
        attr_names: str | list[str] | None = None,
    ) -> None:
        """Record how tensors ``data_names`` form DataArrays (dims, coords, attrs are fields)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Argument dataset is of type {type(dataset)}, not Dataset")
        data = _names(data_names, "data_names") or []
        dims = _names(dim_names, "dim_names") or []
        coords = _names(coord_names, "coord_names")
        attrs = _names(attr_names, "attr_names")
        for name in data:
            dataset.add_meta_string("_xarray_data_names", name)
            dataset.add_meta_string(f"_xarray_{name}_dim_names", ",".join(dims))
            dataset.add_meta_string(
                f"_xarray_{name}_coord_names", ",".join(coords) if coords else "null"
            )
            dataset.add_meta_string(
                f"_xarray_{name}_attr_names", ",".join(attrs) if attrs else "null"
            )

    @staticmethod
    @_requires_xarray
    def transform_to_xarray(dataset: Dataset) -> dict:
        """Rebuild the DataArrays recorded with add_metadata_for_xarray: ``{name: DataArray}``."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Argument dataset is of type {type(dataset)}, not Dataset")
        names = dataset.get_meta_strings("_xarray_data_names")

        def listed(field: str) -> list[str]:
            value = dataset.get_meta_strings(field)[0]
            return [] if value == "null" else value.split(",")

        coord_of = {n: listed(f"_xarray_{n}_coord_names") for n in names}
        all_coords = {c for cs in coord_of.values() for c in cs}
        result = {}
        for name in names:
            if name in all_coords:
                continue
            dims = [dataset.get_meta_strings(d)[0] for d in listed(f"_xarray_{name}_dim_names")]
            coords = {}
            for coord in coord_of[name]:
                cdims = [
                    dataset.get_meta_strings(d)[0] for d in listed(f"_xarray_{coord}_dim_names")
                ]
                cattrs = {
                    a: dataset.get_meta_strings(a)[0] for a in listed(f"_xarray_{coord}_attr_names")
                }
                coords[coord] = xr.DataArray(
                    dataset.get_tensor(coord), dims=cdims, name=coord, attrs=cattrs
                )
            attrs = {
                a: dataset.get_meta_strings(a)[0] for a in listed(f"_xarray_{name}_attr_names")
            }
            result[name] = xr.DataArray(
                dataset.get_tensor(name), dims=dims, coords=coords, name=name, attrs=attrs
            )
        return result
