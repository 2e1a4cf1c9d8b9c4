"""Results as an xarray Dataset whose dims are the model's sets (household, good, factor, village)
and ``state`` (base, simulated). Derived quantities live in `lewie.analysis` as functions.
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


def to_dataset(s: Structure, states: dict[str, dict], attrs: dict) -> xr.Dataset:
    """Assemble snapshots (one per state) into a Dataset with a ``state`` dim."""
    coords = _coords(s)
    state_names = list(states)
    data_vars = {}
    for out_name, (comp, dims, long_name, units) in OUTPUTS.items():
        shape = (len(state_names),) + tuple(len(coords[d]) for d in dims)
        fill = 0.0 if out_name in _ZERO_WHEN_ABSENT else np.nan
        arr = np.full(shape, fill)
        pos = [{lab: i for i, lab in enumerate(coords[d])} for d in dims]
        for si, st in enumerate(state_names):
            for key, val in states[st][comp].items():
                key = key if isinstance(key, tuple) else (key,)
                arr[(si,) + tuple(p[k] for p, k in zip(pos, key))] = val
        data_vars[out_name] = (("state",) + dims, arr, {"long_name": long_name, "units": units})
    # prices and wages by village: what a household of that village pays or earns
    price = np.full((len(state_names), len(s.goods), len(s.villages)), np.nan)
    wage = np.full((len(state_names), len(s.factors), len(s.villages)), np.nan)
    for si, st in enumerate(state_names):
        ph = states[st]["price_household"]
        for vi, v in enumerate(s.villages):
            h0 = s.members(v)[0] if s.members(v) else None
            for gi, g in enumerate(s.goods):
                if h0 is not None:
                    price[si, gi, vi] = ph[g, h0]
            for fi, f in enumerate(s.factors):
                if f in s.tradable_factors:
                    wage[si, fi, vi] = states[st]["wages"][f, v]
    data_vars["price"] = (("state", "good", "village"), price, {"long_name": "market price", "units": "index (base = 1)"})
    data_vars["wage"] = (("state", "factor", "village"), wage, {"long_name": "wage of a tradable factor", "units": "index (base = 1)"})
    hv = [s.village_of[h] for h in s.households]
    ds = xr.Dataset(data_vars, coords={**coords, "state": state_names, "household_village": ("household", hv)})
    ds["household_village"].attrs = {"long_name": "village of the household group"}
    ds["market_level"] = ("good", [s.market_level[g] for g in s.goods])
    ds["market_level"].attrs = {"long_name": "market level at which the good clears"}
    ds["factor_market_level"] = ("factor", [s.market_level.get(f, "fixed") for f in s.factors])
    ds["factor_market_level"].attrs = {"long_name": "market level of a tradable factor, or 'fixed'"}
    ds.attrs.update(attrs)
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


__all__ = ["OUTPUTS", "VARIABLES", "snapshot", "to_dataset", "wage_snapshot"]


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
