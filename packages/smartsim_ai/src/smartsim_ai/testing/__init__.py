"""Test helpers: real servers with the ``ai`` module, started on free ports.

Used by every package's tests (through the pytest plugin in
:mod:`smartsim_ai.testing.pytest_plugin`) and by the benchmarks.
"""

from smartsim_ai.testing.servers import LocalCluster, ServerProcess, free_port

__all__ = ["LocalCluster", "ServerProcess", "free_port"]
