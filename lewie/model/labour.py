"""Labour supply as LEWIE studies have it: several labour factors (family, hired, ...) each clearing at
its own market level, with a supply elasticity per factor and household group.

The scenario's ``[labour_supply] elasticity`` is one number, a table per household group, or a table
per labour factor whose entries are a number or a table per household group::

    elasticity = 100                                        # every factor, every group
    elasticity = {eligible = 1, ineligible = 100}           # per household group
    elasticity = {family = {eligible = 0.5, ineligible = 1}, hired = 100}   # per factor (and group)

Supply of factor f by group h is ``HFSUP(f,h) = hfsupzero(f,h)·(wage_f / outside price)^ε(f,h)``
(`lewie.model.declaration`, ``eq_labour_supply``): ε = 0 is fixed supply (constrained labour: more demand only
raises the wage), ε = 100 practically perfectly elastic (idle labour available at the going wage, the
published default, an upper bound on multipliers). `constrained_labour` gives the same scenario with
every elasticity set to one value, the sensitivity every case reports (docs/multipliers.md).
"""
from __future__ import annotations

import math
from typing import Mapping

from lewie.errors import InputError, unknown_label


def resolve_elasticities(el, households, factors, *, file=None) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """(elasticity per household group, elasticity per (factor, household group)) from the scenario's
    setting; the second is empty unless the setting is a table per factor. Labels are checked."""
    field = "labour_supply.elasticity"
    if not isinstance(el, Mapping):
        return {h: float(el) for h in households}, {}
    keys = list(el)
    if all(k in households for k in keys):
        if any(isinstance(v, Mapping) for v in el.values()):
            raise InputError("a table of elasticities per household group holds numbers", file=file, field=field)
        absent = [h for h in households if h not in el]
        if absent:
            raise InputError(f"labour supply elasticity missing for household group(s) {absent}", file=file,
                             field=field, label=absent[0])
        return {h: float(el[h]) for h in households}, {}
    for k in keys:
        if k not in factors:
            raise InputError("elasticity keys are household groups or labour factors: "
                             + unknown_label("household or factor", k, tuple(households) + tuple(factors)),
                             file=file, field=f"{field}.{k}", label=k)
    by_factor: dict[tuple[str, str], float] = {}
    for f, v in el.items():
        if isinstance(v, Mapping):
            for h in v:
                if h not in households:
                    raise InputError(unknown_label("household", h, households), file=file, field=f"{field}.{f}",
                                     label=h)
            absent = [h for h in households if h not in v]
            if absent:
                raise InputError(f"elasticity of '{f}' missing for household group(s) {absent}", file=file,
                                 field=f"{field}.{f}", label=absent[0])
            by_factor.update({(f, h): float(v[h]) for h in households})
        else:
            by_factor.update({(f, h): float(v) for h in households})
    return {h: math.nan for h in households}, by_factor


def elasticity_of(structure, f: str, h: str) -> float:
    """The supply elasticity of factor f for group h (a per-factor table must name every supplied factor)."""
    by_factor = getattr(structure, "factor_elasticity", None) or {}
    if by_factor:
        if (f, h) not in by_factor:
            named = sorted({ff for ff, _ in by_factor})
            raise InputError(f"household group '{h}' supplies labour factor '{f}', which the per-factor table of "
                             f"elasticities does not name (it names {named})", field="labour_supply.elasticity",
                             label=f)
        return by_factor[f, h]
    return structure.labour_elasticity[h]


def constrained_labour(scenario, elasticity: float):
    """The scenario with every labour supply elasticity set to ``elasticity`` (0: fixed labour supply,
    1: unit-elastic; the published default is 100)."""
    if not (math.isfinite(elasticity) and elasticity >= 0):
        raise InputError(f"labour supply elasticity {elasticity} must be finite and >= 0",
                         file=scenario.source, field="labour_supply.elasticity")
    data = scenario.model_dump(mode="python")
    data["labour_supply"] = {"elasticity": float(elasticity)}
    return type(scenario).model_validate({**data, "source": scenario.source})
