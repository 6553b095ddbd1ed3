"""Cobalt ``qsub`` batch settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smartsim.settings.base import (
    BatchSettings,
    check_positive_int,
    format_directives,
    hosts_to_str,
)


class CobaltBatchSettings(BatchSettings):
    """Settings for Cobalt's ``qsub``."""

    reserved_batch_args = frozenset({"cwd", "error", "e", "output", "o", "outputprefix", "O"})

    def __init__(
        self,
        nodes: int | None = None,
        time: str = "",
        queue: str | None = None,
        account: str | None = None,
        batch_args: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            "qsub",
            batch_args=batch_args,
            nodes=nodes,
            time=time,
            queue=queue,
            account=account,
            **kwargs,
        )

    def set_walltime(self, walltime: str) -> None:
        """``--time``."""
        self.batch_args["time"] = str(walltime)

    def set_nodes(self, num_nodes: int) -> None:
        """``--nodecount``."""
        self.batch_args["nodecount"] = check_positive_int(num_nodes, "nodes")

    def set_hostlist(self, host_list: str | list[str]) -> None:
        """``--attrs location=a,b``."""
        self.batch_args["attrs"] = f"location={hosts_to_str(host_list)}"

    def set_tasks(self, num_tasks: int) -> None:
        """``--proccount``."""
        self.batch_args["proccount"] = check_positive_int(num_tasks, "tasks")

    def set_queue(self, queue: str) -> None:
        """``--queue``."""
        self.batch_args["queue"] = str(queue)

    def set_account(self, account: str) -> None:
        """``--project``."""
        self.batch_args["project"] = str(account)

    def format_batch_args(self) -> list[str]:
        """``-k v`` for one-letter keys, ``--key v`` otherwise (bare flags for None)."""
        return format_directives(self.batch_args)
