"""Keras Sequences (``PyDataset`` in Keras 3) over the database's training data."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from smartsim.ml.data import StaticDataDownloader

_Sequence = getattr(tf.keras.utils, "PyDataset", None) or tf.keras.utils.Sequence

_KERAS_ARGS = ("workers", "use_multiprocessing", "max_queue_size")


class StaticDataGenerator(StaticDataDownloader, _Sequence):
    """The static downloader as a Keras Sequence: ``model.fit(generator, epochs=...)``."""

    def __init__(self, **kwargs: Any) -> None:
        keras_kwargs = {k: kwargs.pop(k) for k in _KERAS_ARGS if k in kwargs}
        _Sequence.__init__(self, **keras_kwargs)
        StaticDataDownloader.__init__(self, **kwargs)

    def __getitem__(self, index: int) -> Any:
        if index >= len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        return self._data_generation(
            self.indices[index * self.batch_size : (index + 1) * self.batch_size]
        )

    def on_epoch_end(self) -> None:
        """Reshuffle; the dynamic generator also fetches new batches."""
        if self.dynamic:
            self.update_data()
        else:
            self._shuffle()


class DynamicDataGenerator(StaticDataGenerator):
    """Fetches the batches uploaded since the last epoch at the end of every epoch."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["dynamic"] = True
        super().__init__(**kwargs)
