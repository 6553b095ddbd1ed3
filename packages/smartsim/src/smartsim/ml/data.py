"""Online training data through the database: simulations upload, training reads.

Producers (simulation ranks) call :meth:`TrainingDataUploader.put_batch`; each batch is one
SmartRedis dataset (tensors ``samples`` and ``targets``) appended to an aggregation list. A
trainer's :class:`DataDownloader` reads the lists of every producer and serves shuffled
mini-batches; the dynamic flavour picks up new batches every epoch, so a model trains while the
simulations run.

Names are those of SmartSim 0.4 (``name``, ``sample_prefix``, ``target_prefix``) and of later
versions (``list_name``, ``sample_name``, ``target_name``); either works.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

logger = logging.getLogger("smartsim.ml")

__all__ = [
    "DataDownloader",
    "DataInfo",
    "DynamicDataDownloader",
    "StaticDataDownloader",
    "TrainingDataUploader",
    "form_name",
]


def form_name(*args: Any) -> str:
    """Join the parts with underscores: ``form_name("samples", 3, 0) == "samples_3_0"``."""
    return "_".join(str(arg) for arg in args if arg is not None)


def _client(cluster: bool, address: str | None) -> Any:
    from smartredis import Client

    return Client(address=address, cluster=cluster)


def _pick(name: str, new: Any, old: Any, default: Any) -> Any:
    if new is not None and old is not None and new != old:
        raise ValueError(f"{name}: give either the SmartSim 0.4 name or the new one, not both")
    return new if new is not None else old if old is not None else default


class DataInfo:
    """What a trainer needs to know about an upload: list name, tensor names, classes."""

    def __init__(
        self,
        list_name: str,
        sample_name: str = "samples",
        target_name: str = "targets",
        num_classes: int | None = None,
    ) -> None:
        self.list_name = list_name
        self.sample_name = sample_name
        self.target_name = target_name
        self.num_classes = num_classes

    @property
    def dataset_name(self) -> str:
        return form_name(self.list_name, "info")

    def publish(self, client: Any) -> None:
        """Store this description as a dataset next to the list."""
        from smartredis import Dataset

        info = Dataset(self.dataset_name)
        info.add_meta_string("sample_name", self.sample_name)
        info.add_meta_string("target_name", self.target_name)
        if self.num_classes is not None:
            info.add_meta_scalar("num_classes", np.int64(self.num_classes))
        client.put_dataset(info)

    def download(self, client: Any) -> None:
        """Fill this description from the dataset a producer published."""
        info = client.get_dataset(self.dataset_name)
        self.sample_name = info.get_meta_strings("sample_name")[0]
        self.target_name = info.get_meta_strings("target_name")[0]
        if "num_classes" in info.get_metadata_field_names():
            self.num_classes = int(info.get_meta_scalars("num_classes")[0])

    def __repr__(self) -> str:
        return (
            f"DataInfo(list_name={self.list_name!r}, sample_name={self.sample_name!r}, "
            f"target_name={self.target_name!r}, num_classes={self.num_classes!r})"
        )


class _InfoNames:
    """The names of an upload, read from its :class:`DataInfo` (``self.info``)."""

    info: DataInfo

    @property
    def list_name(self) -> str:
        return self.info.list_name

    @property
    def sample_name(self) -> str:
        return self.info.sample_name

    @property
    def target_name(self) -> str:
        return self.info.target_name

    @property
    def num_classes(self) -> int | None:
        return self.info.num_classes


class TrainingDataUploader(_InfoNames):
    """Publishes batches of training data from a producer (e.g. one simulation rank)."""

    def __init__(
        self,
        name: str | None = None,
        sample_prefix: str | None = None,
        target_prefix: str | None = None,
        num_classes: int | None = None,
        producer_prefixes: Sequence[str] | str | None = None,
        cluster: bool = True,
        address: str | None = None,
        num_ranks: int | None = None,
        rank: int | None = None,
        verbose: bool = False,
        *,
        list_name: str | None = None,
        sample_name: str | None = None,
        target_name: str | None = None,
    ) -> None:
        list_name = _pick("list_name", list_name, name, "training_data")
        if not isinstance(list_name, str) or not list_name:
            raise TypeError("the list name must be a non-empty str")
        if rank is not None and (not isinstance(rank, int) or rank < 0):
            raise ValueError(f"rank must be a non-negative int, not {rank!r}")
        self.info = DataInfo(
            list_name,
            _pick("sample_name", sample_name, sample_prefix, "samples"),
            _pick("target_name", target_name, target_prefix, "targets"),
            num_classes,
        )
        self.producer_prefixes = producer_prefixes
        self.num_ranks = num_ranks
        self.rank = rank
        self.verbose = verbose
        self.batch_idx = 0
        self.client = _client(cluster, address)
        self.client.use_list_ensemble_prefix(True)

    # SmartSim 0.4's attribute names
    name = _InfoNames.list_name
    sample_prefix = _InfoNames.sample_name
    target_prefix = _InfoNames.target_name

    def publish_info(self) -> None:
        """Tell trainers the tensor names and number of classes (call once, e.g. on rank 0)."""
        self.info.publish(self.client)

    def put_batch(self, samples: np.ndarray, targets: np.ndarray | None = None) -> None:
        """Upload one batch (first axis: samples) and append it to the list."""
        from smartredis import Dataset

        samples = np.asarray(samples)
        if samples.ndim == 0:
            raise ValueError("samples must have a first axis (one entry per sample)")
        if targets is not None:
            targets = np.asarray(targets)
            if targets.shape[:1] != samples.shape[:1]:
                raise ValueError(
                    f"samples and targets disagree on the number of samples: "
                    f"{samples.shape[0]} vs {targets.shape[:1] or 'a scalar'}"
                )
        batch = Dataset(form_name(self.list_name, self.batch_idx, self.rank))
        batch.add_tensor(self.sample_name, np.ascontiguousarray(samples))
        if targets is not None:
            batch.add_tensor(self.target_name, np.ascontiguousarray(targets))
        self.client.put_dataset(batch)
        self.client.append_to_list(self.list_name, batch)
        if self.verbose:
            logger.info("put batch %s (%d samples)", batch.get_name(), samples.shape[0])
        self.batch_idx += 1


class DataDownloader(_InfoNames):
    """Mini-batches of what the producers uploaded, shuffled, split among replicas.

    ``producer_prefixes`` names the producers whose lists to read (ensemble members' key
    prefixes); by default the ``SSKEYIN`` prefixes SmartSim sets for a consumer, else none.
    Replica ``replica_rank`` of ``num_replicas`` (e.g. data-parallel trainers, or DataLoader
    workers) gets every ``num_replicas``-th batch of each producer.
    """

    def __init__(
        self,
        data_info_or_list_name: DataInfo | str | None = None,
        batch_size: int = 32,
        dynamic: bool = True,
        shuffle: bool = True,
        data_init_timeout: float = 30,
        producer_prefixes: Sequence[str] | str | None = None,
        cluster: bool = True,
        address: str | None = None,
        replica_rank: int = 0,
        num_replicas: int = 1,
        verbose: bool = False,
        init_samples: bool = True,
        num_classes: int | None = None,
        sample_name: str | None = None,
        target_name: str | None = None,
        uploader_info: str = "auto",
    ) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        if not (0 <= replica_rank < num_replicas):
            raise ValueError(f"replica_rank {replica_rank} is not in [0, {num_replicas})")
        if isinstance(data_info_or_list_name, DataInfo):
            self.info = data_info_or_list_name
            self._read_info = False
        else:
            self.info = DataInfo(
                data_info_or_list_name or "training_data",
                sample_name or "samples",
                target_name or "targets",
                num_classes,
            )
            self._read_info = uploader_info == "auto" and sample_name is None
        if num_classes is not None:
            self.info.num_classes = num_classes
        self.batch_size = batch_size
        self.dynamic = dynamic
        self.shuffle = shuffle
        self.data_init_timeout = data_init_timeout
        if isinstance(producer_prefixes, str):
            producer_prefixes = [producer_prefixes]
        self.producer_prefixes = list(producer_prefixes) if producer_prefixes else None
        self.cluster = cluster
        self.address = address
        self.replica_rank = replica_rank
        self.num_replicas = num_replicas
        self.verbose = verbose
        self.client: Any = None
        self.sources: list[str | None] = []
        self.samples: np.ndarray | None = None
        self.targets: np.ndarray | None = None
        self.num_samples = 0
        self.indices = np.arange(0)
        self._next: dict[str | None, int] = {}
        if init_samples:
            self.init_samples()

    @property
    def need_targets(self) -> bool:
        return bool(self.target_name)

    # --- loading ---------------------------------------------------------------------------
    def init_sources(self) -> None:
        """Connect and find the producers (in the process that will read: DataLoader workers
        call this themselves)."""
        if self.producer_prefixes is not None:
            # The client reads only from the SSKEYIN prefixes it was created with.
            saved = os.environ.get("SSKEYIN")
            os.environ["SSKEYIN"] = ",".join(self.producer_prefixes)
            try:
                self.client = _client(self.cluster, self.address)
            finally:
                if saved is None:
                    del os.environ["SSKEYIN"]
                else:
                    os.environ["SSKEYIN"] = saved
        else:
            self.client = _client(self.cluster, self.address)
        if self.producer_prefixes is not None:
            self.sources = list(self.producer_prefixes)
        elif os.environ.get("SSKEYIN"):
            self.sources = [p for p in os.environ["SSKEYIN"].split(",") if p]
        else:
            self.sources = [None]
        self._next = {source: 0 for source in self.sources}

    def _use_source(self, source: str | None) -> None:
        if source is None:
            self.client.use_list_ensemble_prefix(False)
            self.client.use_dataset_ensemble_prefix(False)
        else:
            self.client.set_data_source(source)
            self.client.use_list_ensemble_prefix(True)

    def _list_info(self) -> None:
        for source in self.sources:
            self._use_source(source)
            if self.client.dataset_exists(self.info.dataset_name):
                self.info.download(self.client)
                return

    def init_samples(self, init_trials: int = -1) -> None:
        """Wait until at least one batch is available (at most ``data_init_timeout`` s)."""
        if self.client is None:
            self.init_sources()
        deadline = time.monotonic() + self.data_init_timeout
        trials = 0
        while True:
            if self._read_info:
                self._list_info()
            self._update_samples_and_targets()
            if self.num_samples >= self.batch_size:
                self._read_info = False
                break
            trials += 1
            if (0 <= init_trials <= trials) or time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no training data after {self.data_init_timeout} s: list "
                    f"{self.list_name!r} of {self._describe_sources()} holds "
                    f"{self.num_samples} samples for replica {self.replica_rank}, fewer than "
                    f"one batch of {self.batch_size}. Are the producers running and "
                    "uploading with the same list name?"
                )
            time.sleep(0.2)
        self._shuffle()

    def _describe_sources(self) -> str:
        if self.sources == [None]:
            return "no producer prefix"
        return "producers " + ", ".join(repr(s) for s in self.sources)

    def _update_samples_and_targets(self) -> None:
        samples: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        for source in self.sources:
            self._use_source(source)
            length = self.client.get_list_length(self.list_name)
            start = self._next.get(source, 0)
            if length <= start:
                continue
            mine = [i for i in range(start, length) if i % self.num_replicas == self.replica_rank]
            if mine:
                batches = self.client.get_dataset_list_range(self.list_name, mine[0], mine[-1])
                for offset, dataset in enumerate(batches):
                    if (mine[0] + offset) % self.num_replicas != self.replica_rank:
                        continue
                    samples.append(dataset.get_tensor(self.sample_name))
                    if self.need_targets and self.target_name in dataset.get_tensor_names():
                        targets.append(dataset.get_tensor(self.target_name))
            self._next[source] = length
        if not samples:
            return
        new_samples = np.concatenate(samples)
        self.samples = (
            new_samples if self.samples is None else np.concatenate([self.samples, new_samples])
        )
        if targets:
            new_targets = np.concatenate(targets)
            self.targets = (
                new_targets if self.targets is None else np.concatenate([self.targets, new_targets])
            )
        self.num_samples = int(self.samples.shape[0])
        if self.verbose:
            logger.info("%d samples from list %r", self.num_samples, self.list_name)

    def update_data(self) -> None:
        """Fetch batches uploaded since the last call (dynamic downloaders do it every epoch)."""
        if self.client is None:
            self.init_samples()
            return
        self._update_samples_and_targets()
        self._shuffle()

    def _shuffle(self) -> None:
        self.indices = np.arange(self.num_samples)
        if self.shuffle:
            np.random.shuffle(self.indices)

    def _data_generation(self, indices: np.ndarray) -> Any:
        assert self.samples is not None
        x = self.samples[indices]
        if self.targets is None:
            return x
        y = self.targets[indices]
        if self.num_classes is not None:
            y = np.eye(self.num_classes, dtype=x.dtype if x.dtype.kind == "f" else np.float32)[
                np.asarray(y, dtype=np.int64).reshape(-1)
            ]
        return x, y

    def __len__(self) -> int:
        return self.num_samples // self.batch_size

    def __iter__(self) -> Iterator[Any]:
        if self.client is None:
            self.init_samples()
        elif self.dynamic:
            self.update_data()
        for i in range(len(self)):
            yield self._data_generation(
                self.indices[i * self.batch_size : (i + 1) * self.batch_size]
            )


class StaticDataDownloader(DataDownloader):
    """Reads the data once (SmartSim 0.4's static downloader)."""

    def __init__(
        self,
        batch_size: int = 32,
        shuffle: bool = True,
        uploader_info: str = "auto",
        uploader_name: str = "training_data",
        sample_prefix: str = "samples",
        target_prefix: str = "targets",
        uploader_ranks: int | None = None,
        num_classes: int | None = None,
        producer_prefixes: Sequence[str] | str | None = None,
        cluster: bool = True,
        address: str | None = None,
        replica_rank: int = 0,
        num_replicas: int = 1,
        verbose: bool = False,
        init_samples: bool = True,
        **kwargs: Any,
    ) -> None:
        explicit = uploader_info != "auto"
        super().__init__(
            uploader_name,
            batch_size=batch_size,
            dynamic=kwargs.pop("dynamic", False),
            shuffle=shuffle,
            producer_prefixes=producer_prefixes,
            cluster=cluster,
            address=address,
            replica_rank=replica_rank,
            num_replicas=num_replicas,
            verbose=verbose,
            init_samples=init_samples,
            num_classes=num_classes,
            sample_name=sample_prefix if explicit else None,
            target_name=target_prefix if explicit else None,
            uploader_info=uploader_info,
            **kwargs,
        )
        if not explicit and self.client is None:
            self.info.sample_name, self.info.target_name = sample_prefix, target_prefix
        self.uploader_ranks = uploader_ranks

    @property
    def uploader_name(self) -> str:
        return self.list_name


class DynamicDataDownloader(StaticDataDownloader):
    """Fetches the batches uploaded since the last epoch at the start of every epoch."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["dynamic"] = True
        super().__init__(**kwargs)
