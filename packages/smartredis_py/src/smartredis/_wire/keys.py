"""Key names and ensemble prefixes.

A prefix ``p`` is written ``p.`` in front of the whole key.  Writes use the put prefix
(``SSKEYOUT``); reads use the current get prefix (the chosen ``SSKEYIN`` item).  Tensors,
datasets and lists are prefixed by default; models and scripts are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smartredis.error import RedisRuntimeError


def dataset_base(name: str) -> str:
    """The hash-tagged base key of a dataset: ``{name}``."""
    return "{" + name + "}"


def meta_key(base: str) -> str:
    """The metadata hash of the dataset whose (prefixed) base key is ``base``."""
    return base + ".meta"


def dataset_tensor_key(base: str, tensor: str) -> str:
    """The key of tensor ``tensor`` of the dataset whose (prefixed) base key is ``base``."""
    return base + "." + tensor


def dataset_name_from_entry(entry: str) -> str:
    """The dataset name stored in an aggregation-list entry: between first ``{`` and last ``}``."""
    start, end = entry.find("{"), entry.rfind("}")
    if start < 0 or end <= start:
        raise RedisRuntimeError(f"The aggregation list entry {entry!r} is not a dataset key.")
    return entry[start + 1 : end]


def split_prefixes(sskeyin: str) -> list[str]:
    """The items of an ``SSKEYIN`` value (comma separated, empty items dropped)."""
    return [item for item in sskeyin.split(",") if item]


#: The ``Prefixer`` flag that the ``use_<family>_ensemble_prefix`` switch sets.
_SWITCHES = {"tensor": "tensors", "dataset": "datasets", "list": "lists", "model": "models"}


@dataclass
class Prefixer:
    """Ensemble prefix state of one client and the key builders that use it."""

    put_prefix: str = ""
    get_prefixes: list[str] = field(default_factory=list)
    get_prefix: str = ""
    tensors: bool = True
    datasets: bool = True
    lists: bool = True
    models: bool = False
    sskeyin: str = ""

    @classmethod
    def from_values(cls, sskeyin: str, sskeyout: str) -> Prefixer:
        """Build the state from the ``SSKEYIN`` and ``SSKEYOUT`` values."""
        items = split_prefixes(sskeyin)
        return cls(
            put_prefix=sskeyout,
            get_prefixes=items,
            get_prefix=items[0] if items else "",
            sskeyin=sskeyin,
        )

    def explain_get(self, family: str, name: str) -> str:
        """Why the key read for ``name`` has (or lacks) an ensemble prefix, for the error of a
        missing key; "" when no ensemble prefix is configured at all.

        :param family: "tensor", "dataset", "list" or "model" (the ``use_*_ensemble_prefix``
            switch that decides)
        """
        use = getattr(self, _SWITCHES[family])
        switch = f"use_{family}_ensemble_prefix"
        stored = dataset_base(name) + ".meta" if family == "dataset" else name
        read = self._join(self.get_prefix, use, stored)
        if use and self.get_prefix:
            others = [p for p in self.get_prefixes if p != self.get_prefix]
            hint = (
                f"The ensemble prefix '{self.get_prefix}' was applied (key read: '{read}') "
                f"because SSKEYIN is '{self.sskeyin}' and {switch} is on; "
                f"'{self.get_prefix}' is the data source (the first SSKEYIN item unless "
                "set_data_source() chose another). "
            )
            if others:
                hint += f"To read another member's {family}, call set_data_source() with one of: "
                hint += ", ".join(f"'{p}'" for p in others) + ". "
            return hint + f"If it was stored without a prefix, call {switch}(False)."
        if self.get_prefix:
            return (
                f"No ensemble prefix was applied (key read: '{read}') because {switch}(False) "
                f"is in effect, although SSKEYIN is '{self.sskeyin}'; call {switch}(True) to "
                f"read '{self.get_prefix}.{stored}'."
            )
        if use and self.put_prefix:
            return (
                f"No ensemble prefix was applied (key read: '{read}') because SSKEYIN is not "
                f"set, while this client writes under the prefix '{self.put_prefix}' (SSKEYOUT): "
                f"set SSKEYIN to read data stored with a prefix, e.g. '{self.put_prefix}."
                f"{stored}'."
            )
        return ""

    def set_data_source(self, source: str) -> None:
        """Read from ``source``, which must be one of the ``SSKEYIN`` items."""
        if source not in self.get_prefixes:
            raise RedisRuntimeError(
                f"Client error: data source {source} could not be found during client "
                "initialization"
            )
        self.get_prefix = source

    @staticmethod
    def _join(prefix: str, use: bool, name: str) -> str:
        return f"{prefix}.{name}" if use and prefix else name

    def tensor_put(self, name: str) -> str:
        return self._join(self.put_prefix, self.tensors, name)

    def tensor_get(self, name: str) -> str:
        return self._join(self.get_prefix, self.tensors, name)

    def dataset_put(self, name: str) -> str:
        """The put-prefixed base key ``[p.]{name}``."""
        return self._join(self.put_prefix, self.datasets, dataset_base(name))

    def dataset_get(self, name: str) -> str:
        """The get-prefixed base key ``[g.]{name}``."""
        return self._join(self.get_prefix, self.datasets, dataset_base(name))

    def list_put(self, name: str) -> str:
        return self._join(self.put_prefix, self.lists, name)

    def list_get(self, name: str) -> str:
        return self._join(self.get_prefix, self.lists, name)

    def model_put(self, name: str) -> str:
        return self._join(self.put_prefix, self.models, name)

    def model_get(self, name: str) -> str:
        return self._join(self.get_prefix, self.models, name)
