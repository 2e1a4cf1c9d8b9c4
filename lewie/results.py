"""Results as an xarray Dataset whose dims are the model's sets (household, good, factor, village),
``variant`` (the scenario's named sets of interventions) and ``state`` (base, simulated), plus the
``intervention`` dim of the variant metadata. Derived quantities live in `lewie.analysis` as functions.
"""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from .model import VARIABLES
from .structure import Structure

CURRENCY = "SAM currency"

# output variable -> (model component, dims, long name, units)
OUTPUTS = {
    "income": ("income", ("household",), "nominal income", CURRENCY),
    "real_income": ("real_income", ("household",), "real income (income deflated by the CPI)", f"{CURRENCY} at base prices"),
    "cpi": ("cpi", ("household",), "consumer price index of the household group", "index (base = 1)"),
    "exogenous_income": ("exogenous_income", ("household",), "exogenous income (transfers in, remittances)", CURRENCY),
    "savings": ("savings", ("household",), "savings", CURRENCY),
    "transfers_out": ("transfers_out", ("household",), "transfers paid outside the local economy", CURRENCY),
    "outside_spending": ("outside_spending", ("household",), "spending outside the local economy", CURRENCY),
    "production": ("production", ("good", "household"), "output of the activity", f"{CURRENCY} at base prices"),
    "value_added": ("value_added", ("good", "household"), "value added of the activity (quantity)", f"{CURRENCY} at base prices"),
    "value_added_price": ("price_value_added", ("good", "household"), "value-added price", "index"),
    "factor_demand": ("factor_demand", ("good", "factor", "household"), "factor demand of the activity", f"{CURRENCY} at base prices"),
    "intermediate_demand": ("intermediate_demand", ("good", "input_good", "household"), "intermediate demand of the activity for a good", f"{CURRENCY} at base prices"),
    "consumption": ("consumption", ("good", "household"), "consumption", f"{CURRENCY} at base prices"),
    "household_price": ("price_household", ("good", "household"), "price faced by the household group", "index (base = 1)"),
    "rent": ("rent", ("good", "factor", "household"), "rent of an activity-specific fixed factor", "index (base = 1)"),
    "factor_supply": ("labour_supply", ("factor", "household"), "factor (labour) supply of the household group", f"{CURRENCY} at base prices"),
    "marketed_surplus": ("household_surplus", ("good", "household"), "marketed surplus (output − own use − consumption)", f"{CURRENCY} at base prices"),
    "village_marketed_surplus": ("village_surplus", ("good", "village"), "marketed surplus of the village", f"{CURRENCY} at base prices"),
    "factor_marketed_surplus": ("household_factor_surplus", ("factor", "household"), "factor marketed surplus of the household group", f"{CURRENCY} at base prices"),
}
_ZERO_WHEN_ABSENT = {"production", "value_added", "factor_demand", "intermediate_demand", "consumption",
                     "factor_supply", "marketed_surplus", "village_marketed_surplus", "factor_marketed_surplus"}


def snapshot(model: pyo.Block, s: Structure) -> dict[str, dict]:
    """Values of every output variable and parameter held in the model now, and wages by village."""
    out = {}
    for name in {c for c, *_ in OUTPUTS.values()}:
        comp = model.find_component(name)
        out[name] = {k: pyo.value(comp[k]) for k in comp}
    out["wages"] = wage_snapshot(model, s)
    return out


def _coords(s: Structure) -> dict:
    return {"household": list(s.households), "good": list(s.goods), "factor": list(s.factors),
            "village": list(s.villages), "input_good": list(s.goods)}


def _state_arrays(s: Structure, snaps: list[dict]) -> dict[str, tuple]:
    """Output variables of a list of snapshots: name -> (dims, array with a leading snapshot axis, attrs)."""
    coords = _coords(s)
    out = {}
    for out_name, (comp, dims, long_name, units) in OUTPUTS.items():
        shape = (len(snaps),) + tuple(len(coords[d]) for d in dims)
        arr = np.full(shape, 0.0 if out_name in _ZERO_WHEN_ABSENT else np.nan)
        pos = [{lab: i for i, lab in enumerate(coords[d])} for d in dims]
        for si, snap in enumerate(snaps):
            for key, val in snap[comp].items():
                key = key if isinstance(key, tuple) else (key,)
                arr[(si,) + tuple(p[k] for p, k in zip(pos, key))] = val
        out[out_name] = (dims, arr, {"long_name": long_name, "units": units})
    # prices and wages by village: what a household of that village pays or earns
    price = np.full((len(snaps), len(s.goods), len(s.villages)), np.nan)
    wage = np.full((len(snaps), len(s.factors), len(s.villages)), np.nan)
    for si, snap in enumerate(snaps):
        ph = snap["price_household"]
        for vi, v in enumerate(s.villages):
            h0 = s.members(v)[0] if s.members(v) else None
            for gi, g in enumerate(s.goods):
                if h0 is not None:
                    price[si, gi, vi] = ph[g, h0]
            for fi, f in enumerate(s.factors):
                if f in s.tradable_factors:
                    wage[si, fi, vi] = snap["wages"][f, v]
    out["price"] = (("good", "village"), price, {"long_name": "market price", "units": "index (base = 1)"})
    out["wage"] = (("factor", "village"), wage, {"long_name": "wage of a tradable factor", "units": "index (base = 1)"})
    return out


def to_dataset(s: Structure, base: dict, solutions: dict[str, dict], attrs: dict) -> xr.Dataset:
    """Assemble the base and each variant's solution into a Dataset with dims ``variant`` (the
    variants, in order) and ``state`` (base, simulated); the base is the same for every variant."""
    variants = list(solutions)
    data_vars = {}
    for name, (dims, arr, a) in _state_arrays(s, [base] + [solutions[v] for v in variants]).items():
        b = np.broadcast_to(arr[:1], (len(variants),) + arr.shape[1:])
        data_vars[name] = (("variant", "state") + dims, np.stack([b, arr[1:]], axis=1), a)
    hv = [s.village_of[h] for h in s.households]
    ds = xr.Dataset(data_vars, coords={**_coords(s), "variant": variants, "state": ["base", "simulated"],
                                       "household_village": ("household", hv)})
    ds["variant"].attrs = {"long_name": "programme variant (a named set of interventions)"}
    ds["household_village"].attrs = {"long_name": "village of the household group"}
    ds["market_level"] = ("good", [s.market_level[g] for g in s.goods])
    ds["market_level"].attrs = {"long_name": "market level at which the good clears"}
    ds["factor_market_level"] = ("factor", [s.market_level.get(f, "fixed") for f in s.factors])
    ds["factor_market_level"].attrs = {"long_name": "market level of a tradable factor, or 'fixed'"}
    ds.attrs.update(attrs)
    return ds


def add_variant_info(ds: xr.Dataset, effects, variant_map: dict[str, list[int]], solve_info: dict) -> xr.Dataset:
    """What each variant is: its interventions, cost, direct beneficiaries and solver outcome.

    ``intervention`` is a dim (the scenario's interventions, in file order); ``includes(variant,
    intervention)`` says which a variant combines; ``cost(variant)`` is the multipliers' denominator;
    ``beneficiary(variant, household)`` marks the groups that receive something directly.
    """
    variants = [str(v) for v in ds["variant"].values]
    households = [str(h) for h in ds["household"].values]
    names = [e.name for e in effects]
    includes = np.zeros((len(variants), len(effects)), dtype=bool)
    for vi, v in enumerate(variants):
        includes[vi, variant_map[v]] = True
    icost = np.array([e.cost for e in effects], dtype=float)
    benef = np.zeros((len(variants), len(households)), dtype=bool)
    for vi, v in enumerate(variants):
        for i in variant_map[v]:
            for h in effects[i].beneficiaries:
                benef[vi, households.index(h)] = True
    ds = ds.assign_coords(intervention=("intervention", names))
    ds["intervention"].attrs = {"long_name": "intervention (scenario name, or its kind)"}
    ds["intervention_kind"] = ("intervention", [e.kind for e in effects])
    ds["intervention_kind"].attrs = {"long_name": "kind of intervention"}
    ds["intervention_cost"] = ("intervention", icost)
    ds["intervention_cost"].attrs = {"long_name": "cost of the intervention", "units": CURRENCY}
    ds["includes"] = (("variant", "intervention"), includes)
    ds["includes"].attrs = {"long_name": "the variant includes the intervention"}
    ds["cost"] = ("variant", includes.astype(float) @ icost if len(effects) else np.zeros(len(variants)))
    ds["cost"].attrs = {"long_name": "cost of the variant's interventions (the multipliers' denominator)",
                        "units": CURRENCY}
    ds["beneficiary"] = (("variant", "household"), benef)
    ds["beneficiary"].attrs = {"long_name": "the household group receives something directly"}
    ds["solver_iterations"] = ("variant", np.array([solve_info[v]["iterations"] for v in variants], dtype=np.int64))
    ds["solver_iterations"].attrs = {"long_name": "solver iterations"}
    ds["max_relative_residual"] = ("variant", np.array([solve_info[v]["max_relative_residual"] for v in variants]))
    ds["max_relative_residual"].attrs = {"long_name": "worst relative residual of the verified solution",
                                         "units": "1"}
    return ds


def wage_snapshot(model: pyo.Block, s: Structure) -> dict:
    """Wages by (factor, village) in the model now (village, zone or world wage)."""
    out = {}
    for f in s.tradable_factors:
        for v in s.villages:
            if (f, v) in model.village_factors_v:
                out[f, v] = pyo.value(model.wage_village[f, v])
            elif f in model.zone_factors:
                out[f, v] = pyo.value(model.wage_zone[f])
            else:
                out[f, v] = pyo.value(model.world_wage[f])
    return out


__all__ = ["OUTPUTS", "VARIABLES", "snapshot", "to_dataset", "add_variant_info", "wage_snapshot"]


def save_results(ds: xr.Dataset, path) -> "Path":
    """Write results to netCDF (h5netcdf engine); attributes are plain strings and numbers."""
    from pathlib import Path
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, val in ds.attrs.items():
        if not isinstance(val, (str, int, float, np.integer, np.floating)):
            raise TypeError(f"attribute {name!r} is {type(val).__name__}; results attributes must be strings or numbers")
    ds.to_netcdf(path, engine="h5netcdf")
    return path


def load_results(path) -> xr.Dataset:
    """Read results written by `save_results` (fully loaded, file closed)."""
    from pathlib import Path
    from .errors import InputError
    path = Path(path)
    if not path.exists():
        raise InputError("results file not found", file=path)
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
