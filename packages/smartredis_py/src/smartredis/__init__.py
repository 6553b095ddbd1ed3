"""smartredis: a pure-Python SmartRedis client, wire-compatible with SmartRedis 0.6.1."""

__version__ = "0.1.0"
