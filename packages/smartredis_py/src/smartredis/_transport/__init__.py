"""Executors that send argument lists to the database: standalone and Redis Cluster.

Both expose the same small interface (:class:`smartredis._transport.base.Executor`):
``execute(args, key)``, ``get_tensor(key)``, ``pipeline(commands, key)``, the list of
``nodes`` and address lookup.  Command code never touches a socket.
"""

from smartredis._transport.base import Executor, Node, Security, Timeouts
from smartredis._transport.cluster import ClusterExecutor
from smartredis._transport.standalone import StandaloneExecutor

__all__ = ["ClusterExecutor", "Executor", "Node", "Security", "StandaloneExecutor", "Timeouts"]
