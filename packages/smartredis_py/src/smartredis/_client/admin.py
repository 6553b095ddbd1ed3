"""Address-targeted admin and info calls, and the ensemble prefix switches."""

from __future__ import annotations

from smartredis import _commands as cmd
from smartredis._checks import typecheck
from smartredis._client.core import ClientCore
from smartredis._wire import info
from smartredis.error import RedisRuntimeError


def _addresses(value: list[str], name: str = "addresses") -> list[str]:
    if isinstance(value, str):
        return [value]
    typecheck(value, name, list)
    for item in value:
        typecheck(item, name, str)
    return value


class AdminMixin(ClientCore):
    """INFO, CLUSTER INFO, AI.INFO, FLUSHDB, CONFIG GET/SET, SAVE and prefix controls."""

    def get_db_node_info(self, addresses: list[str]) -> list[dict]:
        """``INFO EVERYTHING`` of each address, as ``{section: {field: value}}``."""
        return [
            info.parse_info(self._executor.call_at(a, cmd.info("EVERYTHING")))
            for a in _addresses(addresses)
        ]

    def get_db_cluster_info(self, addresses: list[str]) -> list[dict]:
        """``CLUSTER INFO`` of each address (cluster clients only)."""
        addresses = _addresses(addresses)
        if not self._executor.is_cluster:
            raise RedisRuntimeError("Cannot run on non-cluster environment")
        return [
            info.parse_flat_info(self._executor.call_at(a, cmd.cluster_info())) for a in addresses
        ]

    def get_ai_info(self, address: list[str], key: str, reset_stat: bool = False) -> list[dict]:
        """``AI.INFO`` of model/script ``key`` on each address (no ensemble prefix)."""
        addresses = _addresses(address, "address")
        typecheck(key, "key", str)
        typecheck(reset_stat, "reset_stat", bool)
        results = []
        ex = self._executor
        for addr in addresses:
            target = ex.model_copy_at(addr, key)
            reply = ex.call_at(addr, cmd.ai_info(target, reset_stat))
            if isinstance(reply, list):
                results.append(info.parse_pairs(reply, strip_hash_tag=ex.is_cluster))
            else:
                results.append({})
        return results

    def flush_db(self, addresses: list[str]) -> None:
        """``FLUSHDB`` on each address."""
        for addr in _addresses(addresses):
            self._executor.call_at(addr, cmd.flushdb())

    def config_get(self, expression: str, address: str) -> dict:
        """``CONFIG GET expression`` on ``address`` as a dict (``{}`` if nothing matches)."""
        typecheck(expression, "expression", str)
        typecheck(address, "address", str)
        reply = self._executor.call_at(address, cmd.config_get(expression))
        return info.parse_pairs(reply)

    def config_set(self, config_param: str, value: str, address: str) -> None:
        """``CONFIG SET config_param value`` on ``address``."""
        typecheck(config_param, "config_param", str)
        typecheck(value, "value", str)
        typecheck(address, "address", str)
        self._executor.call_at(address, cmd.config_set(config_param, value))

    def save(self, addresses: list[str]) -> None:
        """``SAVE`` (a synchronous RDB dump) on each address."""
        for addr in _addresses(addresses):
            self._executor.call_at(addr, cmd.save())

    # ensemble prefixes (no traffic)
    def set_data_source(self, source_id: str) -> None:
        """Read with prefix ``source_id`` (one of the SSKEYIN items)."""
        typecheck(source_id, "source_id", str)
        self._prefix.set_data_source(source_id)

    def use_tensor_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix tensor keys (default True)."""
        typecheck(use_prefix, "use_prefix", bool)
        self._prefix.tensors = use_prefix

    def use_dataset_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix dataset keys (default True)."""
        typecheck(use_prefix, "use_prefix", bool)
        self._prefix.datasets = use_prefix

    def use_list_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix aggregation list keys (default True)."""
        typecheck(use_prefix, "use_prefix", bool)
        self._prefix.lists = use_prefix

    def use_model_ensemble_prefix(self, use_prefix: bool) -> None:
        """Prefix model and script keys (default False)."""
        typecheck(use_prefix, "use_prefix", bool)
        self._prefix.models = use_prefix
