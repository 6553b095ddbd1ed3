"""smartredis: a pure-Python SmartRedis client, wire-compatible with SmartRedis 0.6.1.

``from smartredis import Client, Dataset, ConfigOptions`` works as with the official
client; errors are in ``smartredis.error``.
"""

from smartredis._original import warn_if_original_installed
from smartredis.client import Client
from smartredis.configoptions import ConfigOptions
from smartredis.dataset import Dataset
from smartredis.dataset_utils import DatasetConverter
from smartredis.logcontext import LogContext
from smartredis.logger import (
    LLDebug,
    LLDeveloper,
    LLInfo,
    LLQuiet,
    log_data,
    log_error,
    log_warning,
)
from smartredis.srobject import SRObject

__version__ = "0.1.0"

warn_if_original_installed()

__all__ = [
    "Client",
    "ConfigOptions",
    "Dataset",
    "DatasetConverter",
    "LLDebug",
    "LLDeveloper",
    "LLInfo",
    "LLQuiet",
    "LogContext",
    "SRObject",
    "log_data",
    "log_error",
    "log_warning",
]
