"""The standalone executor: every command goes to the one server."""

from __future__ import annotations

from collections.abc import Sequence

from smartredis._transport.base import (
    Node,
    Reader,
    Security,
    Timeouts,
    canonical_address,
    hiredis_reader,
)
from smartredis._wire.address import Address
from smartredis.error import RedisRuntimeError


class StandaloneExecutor:
    """Commands to a single server (TCP or Unix socket)."""

    is_cluster = False

    def __init__(
        self, address: Address, timeouts: Timeouts, security: Security | None = None
    ) -> None:
        self.node = Node(address, timeouts, security)
        self.nodes = [self.node]
        self.node.ping()

    def node_for_key(self, key: str | bytes | None = None) -> Node:
        return self.node

    def node_for_address(self, address: str) -> Node:
        wanted = canonical_address(address)
        if wanted != str(self.node.address):
            raise RedisRuntimeError(
                f"The provided address {address} does not match the address used to "
                f"initialize the non-cluster client connection ({self.node.address})."
            )
        return self.node

    def call(
        self,
        args: Sequence[object],
        key: str | bytes | None = None,
        reader: Reader = hiredis_reader,
        read_timeout: float = 0,
    ) -> object:
        """Send one command; return its reply or raise the mapped error."""
        return self.node.call(args, reader, read_timeout)

    def pipeline(
        self,
        commands: Sequence[Sequence[object]],
        key: str | bytes | None = None,
        reader: Reader = hiredis_reader,
    ) -> list[object]:
        """Send ``commands`` together; error replies are returned in place."""
        return self.node.pipeline(commands, reader)

    def close(self) -> None:
        self.node.close()

    def __str__(self) -> str:
        return f"standalone database at {self.node.address}"
