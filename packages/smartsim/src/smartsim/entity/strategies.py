"""Permutation strategies: parameter names and value lists in, one dict per model out."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

from smartsim.error import SmartSimError, SSUnsupportedError, UserStrategyError

Strategy = Callable[..., list[dict[str, Any]]]


def create_all_permutations(
    param_names: list[str], param_values: list[list[Any]], **_: Any
) -> list[dict[str, Any]]:
    """Every combination (cartesian product)."""
    return [dict(zip(param_names, combo)) for combo in itertools.product(*param_values)]


def step_values(
    param_names: list[str], param_values: list[list[Any]], **_: Any
) -> list[dict[str, Any]]:
    """The i-th value of every parameter together (all lists must have the same length)."""
    lengths = {len(v) for v in param_values}
    if len(lengths) > 1:
        raise SmartSimError(
            "the 'step' strategy needs value lists of one length; got "
            + ", ".join(f"{n}: {len(v)}" for n, v in zip(param_names, param_values))
        )
    return [dict(zip(param_names, combo)) for combo in zip(*param_values)]


def random_permutations(
    param_names: list[str], param_values: list[list[Any]], n_models: int = 0, **_: Any
) -> list[dict[str, Any]]:
    """``n_models`` distinct combinations drawn at random (all of them if there are fewer)."""
    if isinstance(n_models, bool) or not isinstance(n_models, int) or n_models < 1:
        raise SmartSimError(
            "the 'random' strategy needs n_models=<int >= 1>, e.g. "
            "create_ensemble(..., perm_strategy='random', n_models=4)"
        )
    total = 1
    for values in param_values:
        total *= len(values)
    if n_models >= total:
        return create_all_permutations(param_names, param_values)
    picked = random.sample(range(total), n_models)
    out = []
    for index in picked:
        combo = []
        for values in reversed(param_values):
            index, rem = divmod(index, len(values))
            combo.append(values[rem])
        out.append(dict(zip(param_names, reversed(combo))))
    return out


STRATEGIES: dict[str, Strategy] = {
    "all_perm": create_all_permutations,
    "step": step_values,
    # SmartSim 0.4's and 0.8's docstrings name the step strategy "stepped" (their code only
    # accepted "step"); both names work here
    "stepped": step_values,
    "random": random_permutations,
}


def resolve_strategy(perm_strat: str | Strategy) -> Strategy:
    """The strategy function for a name or a callable."""
    if callable(perm_strat):
        return perm_strat
    if isinstance(perm_strat, str) and perm_strat in STRATEGIES:
        return STRATEGIES[perm_strat]
    raise SSUnsupportedError(
        f"permutation strategy {perm_strat!r} is not supported; use one of "
        f"{', '.join(STRATEGIES)} or a callable f(names, values, **kwargs) -> list[dict]"
    )


def run_strategy(
    perm_strat: str | Strategy,
    param_names: list[str],
    param_values: list[list[Any]],
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Run a strategy and check it returned a list of dicts."""
    func = resolve_strategy(perm_strat)
    try:
        result = func(param_names, param_values, **kwargs)
    except (SmartSimError, SSUnsupportedError):
        raise
    except Exception as exc:
        if func in STRATEGIES.values():
            raise
        raise UserStrategyError(perm_strat) from exc
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise UserStrategyError(perm_strat)
    return result
