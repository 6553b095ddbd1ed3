"""What PBS's and Grid Engine's ``qsub`` settings share: ``-q``, ``-A`` and ``-l`` resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from smartsim.settings.base import BatchSettings


class QsubLikeSettings(BatchSettings):
    """Base of :class:`~smartsim.settings.pbs.QsubBatchSettings` and
    :class:`~smartsim.settings.sge.SgeQsubBatchSettings`."""

    #: the scheduler's name in the ``resources`` type error
    scheduler: ClassVar[str] = ""

    def __init__(self, resources: Mapping[str, Any] | None, **kwargs: Any) -> None:
        if resources is not None and not isinstance(resources, Mapping):
            raise TypeError(
                f"resources must be a dict of {self.scheduler} resource names to values"
            )
        self.resources: dict[str, Any] = dict(resources or {})
        super().__init__("qsub", **kwargs)

    def set_queue(self, queue: str) -> None:
        """``-q``."""
        self.batch_args["q"] = str(queue)

    def set_account(self, account: str) -> None:
        """``-A``."""
        self.batch_args["A"] = str(account)

    def set_resource(self, resource_name: str, value: Any) -> None:
        """Any ``-l name=value`` resource."""
        if not isinstance(resource_name, str) or not resource_name:
            raise TypeError("resource_name must be a non-empty str")
        self.resources[resource_name] = value
