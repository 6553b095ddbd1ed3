"""The standalone executor: every command goes to the one server."""

from __future__ import annotations

from collections.abc import Sequence

from smartredis._commands import Key
from smartredis._transport.base import (
    Node,
    Reader,
    RunPlan,
    Security,
    Timeouts,
    canonical_address,
    hiredis_reader,
)
from smartredis._wire.address import Address
from smartredis.error import RedisRuntimeError


class StandaloneExecutor:
    """Commands to a single server (TCP or Unix socket); see ``base.Executor``."""

    is_cluster = False
    delete_verb = "DEL"

    def __init__(
        self, address: Address, timeouts: Timeouts, security: Security | None = None
    ) -> None:
        self.timeouts = timeouts
        self.node = Node(address, timeouts, security)
        self.nodes = [self.node]
        self.node.ping()

    def node_for_key(self, key: Key | None = None) -> Node:
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
        key: Key | None = None,
        reader: Reader = hiredis_reader,
        read_timeout: float = 0,
    ) -> object:
        """Send one command; return its reply or raise the mapped error."""
        return self.node.call(args, reader, read_timeout)

    def pipeline(
        self,
        commands: Sequence[Sequence[object]],
        key: Key | None = None,
        reader: Reader = hiredis_reader,
        read_timeout: float = 0,
    ) -> list[object]:
        """Send ``commands`` together; error replies are returned in place."""
        return self.node.pipeline(commands, reader, read_timeout)

    def scatter(
        self,
        commands: Sequence[tuple[Sequence[object], Key]],
        reader: Reader = hiredis_reader,
        threads: int = 1,
    ) -> list[object]:
        """One pipeline of every command (there is one node)."""
        return self.node.pipeline([args for args, _ in commands], reader)

    def call_at(self, address: str, args: Sequence[object]) -> object:
        return self.node_for_address(address).call(args)

    def same_slot(self, a: Key, b: Key) -> bool:
        return True

    def model_copies(self, key: Key) -> list[Key]:
        return [key]

    def model_copy(self, key: Key) -> Key:
        return key

    def model_copy_at(self, address: str, key: Key) -> Key:
        self.node_for_address(address)  # the address must be this server's
        return key

    def run_plan(self, key: Key, inputs: Sequence[Key], outputs: Sequence[Key]) -> RunPlan:
        return RunPlan.direct(key, inputs, outputs)

    def close(self) -> None:
        self.node.close()

    def __str__(self) -> str:
        return f"standalone database at {self.node.address}"
