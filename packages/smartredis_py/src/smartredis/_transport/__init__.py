"""Executors that send argument lists to the database: standalone and Redis Cluster.

Layers, bottom up: ``resp`` (RESP2 packing and the in-place reader), ``connection`` (one
socket: connect, AUTH, TLS, send, read), ``replies`` (the one error-reply type and its
exception table), ``base`` (``Node``: a pool of connections with the retry rules; the
``Executor`` interface), ``standalone`` and ``cluster`` (the two executors).  Both executors
expose the same interface (:class:`smartredis._transport.base.Executor`), which also holds
every difference between a standalone database and a cluster.  Command code never touches a
socket.
"""

from smartredis._transport.base import Executor, Node, RunPlan, Security, Timeouts
from smartredis._transport.cluster import ClusterExecutor
from smartredis._transport.standalone import StandaloneExecutor

__all__ = [
    "ClusterExecutor",
    "Executor",
    "Node",
    "RunPlan",
    "Security",
    "StandaloneExecutor",
    "Timeouts",
]
