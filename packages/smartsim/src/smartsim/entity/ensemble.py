"""Ensemble: many models from one RunSettings, by parameter permutations or replicas."""

from __future__ import annotations

from typing import Any

from smartsim.entity.entity import SmartSimEntity
from smartsim.entity.entity_list import EntityList
from smartsim.entity.model import Model
from smartsim.entity.strategies import Strategy, run_strategy
from smartsim.error import EntityExistsError, SmartSimError
from smartsim.settings.base import BatchSettings, RunSettings


def _param_lists(params: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    names: list[str] = []
    values: list[list[Any]] = []
    for name, value in params.items():
        if not isinstance(name, str):
            raise TypeError(f"ensemble parameter names must be str, got {name!r}")
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError(f"ensemble parameter {name!r} has an empty list of values")
            values.append(list(value))
        elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
            values.append([value])
        else:
            raise TypeError(
                f"ensemble parameter {name!r} must be a list, int, float or str, "
                f"not {type(value).__name__}"
            )
        names.append(name)
    return names, values


class Ensemble(EntityList):
    """A group of models, launched together (or as one batch job with batch_settings).

    Valid combinations: run_settings with params and/or replicas; batch_settings alone
    (members come from :meth:`add_model`); batch_settings with run_settings and
    params/replicas. Members are named ``<name>_<i>``, get a copy of the run settings,
    have key prefixing on and get ``params_as_args`` appended to their arguments.
    """

    def __init__(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        params_as_args: list[str] | None = None,
        batch_settings: BatchSettings | None = None,
        run_settings: RunSettings | None = None,
        perm_strat: str | Strategy = "all_perm",
        path: str | None = None,
        **kwargs: Any,
    ) -> None:
        if params is not None and not isinstance(params, dict):
            raise TypeError(f"params must be a dict, not {type(params).__name__}")
        if batch_settings is not None and not isinstance(batch_settings, BatchSettings):
            raise TypeError("batch_settings must be a BatchSettings (create_batch_settings)")
        if run_settings is not None and not isinstance(run_settings, RunSettings):
            raise TypeError("run_settings must be a RunSettings (create_run_settings)")
        self.params = dict(params or {})
        self.params_as_args = list(params_as_args or [])
        self.run_settings = run_settings
        self._perm_strat = perm_strat
        super().__init__(name, path, batch_settings=batch_settings, **kwargs)

    def _initialize_entities(self, **kwargs: Any) -> None:
        replicas = kwargs.pop("replicas", None)
        if replicas is not None and (
            isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 1
        ):
            raise ValueError(f"replicas must be an int >= 1, got {replicas!r}")
        rs = self.run_settings
        if rs is None:
            if self.batch_settings is None:
                raise SmartSimError(
                    f"ensemble {self.name!r} needs run_settings (with params or replicas) "
                    "or batch_settings (then add members with add_model)"
                )
            if self.params or replicas:
                raise SmartSimError(
                    f"ensemble {self.name!r}: params and replicas need run_settings as well"
                )
            if kwargs:
                raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
            return
        if not self.params and not replicas:
            raise SmartSimError(
                f"ensemble {self.name!r} has run_settings but neither params nor replicas; "
                "give params={...} or replicas=<n>"
            )
        if self.params:
            names, values = _param_lists(self.params)
            perms = run_strategy(self._perm_strat, names, values, **kwargs)
        else:
            if kwargs:
                raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
            perms = [{}]
        index = 0
        for perm in perms:
            for _ in range(replicas or 1):
                model = Model(
                    f"{self.name}_{index}",
                    perm,
                    self.path,
                    rs.copy(),
                    params_as_args=self.params_as_args,
                )
                model.enable_key_prefixing()
                self.entities.append(model)
                index += 1

    @property
    def models(self) -> list[Model]:
        """The members."""
        return list(self.entities)  # type: ignore[arg-type]

    def add_model(self, model: Model) -> None:
        """Add a member (its name must be new in this ensemble)."""
        if not isinstance(model, Model):
            raise TypeError(f"add_model takes a Model, not {type(model).__name__}")
        if any(m.name == model.name for m in self.entities):
            raise EntityExistsError(f"ensemble {self.name!r} already has a model {model.name!r}")
        self.entities.append(model)

    def register_incoming_entity(self, incoming_entity: SmartSimEntity) -> None:
        """Register ``incoming_entity`` with every member."""
        for model in self.models:
            model.register_incoming_entity(incoming_entity)

    def enable_key_prefixing(self) -> None:
        """Key prefixing on for every member."""
        for model in self.models:
            model.enable_key_prefixing()

    def query_key_prefixing(self) -> bool:
        """True when every member prefixes its keys."""
        return all(model.query_key_prefixing() for model in self.models)

    def attach_generator_files(
        self,
        to_copy: str | list[str] | None = None,
        to_symlink: str | list[str] | None = None,
        to_configure: str | list[str] | None = None,
    ) -> None:
        """Attach the same files to every member."""
        for model in self.models:
            model.attach_generator_files(to_copy, to_symlink, to_configure)
