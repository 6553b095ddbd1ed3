"""smartsim_ai: the tensor database engine.

A Valkey/Redis module (``ai``) that speaks the RedisAI protocol, plus the Python
workers that run models.  This package also knows where the server binary and
the built module are (:func:`find_server`, :func:`module_path`).
"""

from smartsim_ai.locate import (
    ModuleNotBuiltError,
    ServerBinary,
    ServerNotFoundError,
    find_server,
    module_path,
)

__version__ = "0.1.0"

__all__ = [
    "ModuleNotBuiltError",
    "ServerBinary",
    "ServerNotFoundError",
    "__version__",
    "find_server",
    "module_path",
]
