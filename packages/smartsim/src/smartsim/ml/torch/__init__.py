"""PyTorch wrappers of the training-data downloaders (needs ``torch``)."""

from smartsim.ml._require import require

require("torch", "smartsim.ml.torch", "torch")

from smartsim.ml.torch.data import (  # noqa: E402
    DataLoader,
    DynamicDataGenerator,
    StaticDataGenerator,
)

__all__ = ["DataLoader", "DynamicDataGenerator", "StaticDataGenerator"]
