"""IterableDatasets over the database's training data, and a DataLoader for them.

Each DataLoader worker becomes a replica of its own: it connects in the worker process and reads
every ``num_workers``-th batch, so workers never serve the same sample twice in an epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from smartsim.ml.data import DynamicDataDownloader, StaticDataDownloader


class _TorchMixin:
    def _data_generation(self, indices: np.ndarray) -> Any:
        batch = super()._data_generation(indices)  # type: ignore[misc]
        if isinstance(batch, tuple):
            return tuple(torch.from_numpy(np.ascontiguousarray(b)) for b in batch)
        return torch.from_numpy(np.ascontiguousarray(batch))


class StaticDataGenerator(_TorchMixin, StaticDataDownloader, IterableDataset):
    """The static downloader as an IterableDataset of ready batches (torch tensors).

    Samples are read in the process that iterates (``init_samples=False`` by default), so a
    :class:`DataLoader` with workers connects from each worker.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("init_samples", False)
        StaticDataDownloader.__init__(self, **kwargs)


class DynamicDataGenerator(_TorchMixin, DynamicDataDownloader, IterableDataset):
    """The dynamic downloader (new batches every epoch) as an IterableDataset."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("init_samples", False)
        DynamicDataDownloader.__init__(self, **kwargs)


class DataLoader(torch.utils.data.DataLoader):
    """A DataLoader whose workers each read their own share of the uploaded batches."""

    def __init__(self, dataset: StaticDataGenerator | DynamicDataGenerator, **kwargs: Any):
        if kwargs.get("batch_size") is not None:
            raise ValueError(
                "the dataset yields whole batches (set batch_size on the generator); "
                "DataLoader's batch_size must stay None"
            )
        kwargs["batch_size"] = None
        if kwargs.get("num_workers", 0) > 0:
            kwargs.setdefault("persistent_workers", True)
        super().__init__(dataset, worker_init_fn=self.worker_init_fn, **kwargs)

    @staticmethod
    def worker_init_fn(worker_id: int) -> None:
        """Make this worker replica ``worker_id`` of the generator's replicas and connect."""
        info = get_worker_info()
        dataset = info.dataset
        dataset.replica_rank = dataset.replica_rank * info.num_workers + worker_id
        dataset.num_replicas = dataset.num_replicas * info.num_workers
        dataset.init_sources()
        dataset.init_samples()
