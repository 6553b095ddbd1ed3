"""ML helpers: online training data through the database (framework-free).

``smartsim.ml.torch`` and ``smartsim.ml.tf`` wrap these for PyTorch and Keras; this module
imports no ML framework.
"""

from smartsim.ml.data import (
    DataDownloader,
    DataInfo,
    DynamicDataDownloader,
    StaticDataDownloader,
    TrainingDataUploader,
    form_name,
)

__all__ = [
    "DataDownloader",
    "DataInfo",
    "DynamicDataDownloader",
    "StaticDataDownloader",
    "TrainingDataUploader",
    "form_name",
]
