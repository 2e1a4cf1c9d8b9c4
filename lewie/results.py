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
    "liquidity_rent": ("liquidity_rent", ("good", "factor", "household"), "rent of a liquidity-constrained input ((shadow price − 1) × spending), income of the household", CURRENCY),
    "input_finance": ("input_finance", ("good", "factor", "household"), "outside money paying for liquidity-constrained inputs (a transfer's share)", CURRENCY),
    "in_kind": ("in_kind", ("good", "household"), "goods received in kind (school meals, food transfers)", f"{CURRENCY} at base prices"),
}
_ZERO_WHEN_ABSENT = {"production", "value_added", "factor_demand", "intermediate_demand", "consumption",
                     "factor_supply", "marketed_surplus", "village_marketed_surplus", "factor_marketed_surplus",
                     "liquidity_rent", "input_finance", "in_kind"}


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
    ds = xr.Dataset(data_vars, coords={**_coords(s), "variant": variants, "state": ["base", "simulated"]})
    ds.attrs.update(attrs)
    return _set_metadata(ds, s)


def _set_metadata(ds: xr.Dataset, s: Structure) -> xr.Dataset:
    """Coordinates and maps every results Dataset carries: villages of households, market levels."""
    ds = ds.assign_coords(household_village=("household", [s.village_of[h] for h in s.households]))
    ds["variant"].attrs = {"long_name": "programme variant (a named set of interventions)"}
    ds["household_village"].attrs = {"long_name": "village of the household group"}
    ds["market_level"] = ("good", [s.market_level[g] for g in s.goods])
    ds["market_level"].attrs = {"long_name": "market level at which the good clears"}
    ds["factor_market_level"] = ("factor", [s.market_level.get(f, "fixed") for f in s.factors])
    ds["factor_market_level"].attrs = {"long_name": "market level of a tradable factor, or 'fixed'"}
    return ds


class OutputMap:
    """Where every output (`OUTPUTS`, prices and wages by village) sits in a compiled system's
    variable vector x and parameter vector p, so results of many solves are gathered with numpy.

    The same values `snapshot` reads from the Pyomo model, for a batch: ``arrays(X, P)`` with X
    (..., n) and P (..., k) gives each output with the batch's leading dims.
    """

    def __init__(self, s: Structure, model: pyo.Block, system):
        coords = _coords(s)
        self.items = []
        for out_name, (comp, dims, long_name, units) in OUTPUTS.items():
            c = model.find_component(comp)
            is_var = c.ctype is pyo.Var
            positions = system.var_positions(c) if is_var else system.param_positions(c)
            shape = tuple(len(coords[d]) for d in dims)
            pos = [{lab: i for i, lab in enumerate(coords[d])} for d in dims]
            src, dst = [], []
            for key, j in positions.items():
                key = key if isinstance(key, tuple) else (key,)
                src.append(j)
                dst.append(np.ravel_multi_index(tuple(p[k] for p, k in zip(pos, key)), shape))
            fill = 0.0 if out_name in _ZERO_WHEN_ABSENT else np.nan
            self.items.append((out_name, dims, shape, fill, "x" if is_var else "p", np.array(src, dtype=np.int64),
                               np.array(dst, dtype=np.int64), {"long_name": long_name, "units": units}))
        G, V, F = len(s.goods), len(s.villages), len(s.factors)
        ph = system.var_positions(model.price_household)
        src, dst = [], []
        for vi, v in enumerate(s.villages):
            members = s.members(v)
            for gi, g in enumerate(s.goods):
                if members:
                    src.append(ph[g, members[0]])
                    dst.append(gi * V + vi)
        self.items.append(("price", ("good", "village"), (G, V), np.nan, "x", np.array(src, dtype=np.int64),
                           np.array(dst, dtype=np.int64), {"long_name": "market price", "units": "index (base = 1)"}))
        wv = system.var_positions(model.wage_village)
        wz = system.var_positions(model.wage_zone)
        ww = system.param_positions(model.world_wage)
        xs, xd, ps, pd_ = [], [], [], []
        for fi, f in enumerate(s.factors):
            if f not in s.tradable_factors:
                continue
            for vi, v in enumerate(s.villages):
                if (f, v) in wv:
                    xs.append(wv[f, v]), xd.append(fi * V + vi)
                elif f in wz:
                    xs.append(wz[f]), xd.append(fi * V + vi)
                else:
                    ps.append(ww[f]), pd_.append(fi * V + vi)
        wage_attrs = {"long_name": "wage of a tradable factor", "units": "index (base = 1)"}
        self.items.append(("wage", ("factor", "village"), (F, V), np.nan, "x", np.array(xs, dtype=np.int64),
                           np.array(xd, dtype=np.int64), wage_attrs))
        self.items.append(("wage", ("factor", "village"), (F, V), None, "p", np.array(ps, dtype=np.int64),
                           np.array(pd_, dtype=np.int64), wage_attrs))

    def arrays(self, X: np.ndarray, P: np.ndarray) -> dict[str, tuple]:
        """name -> (dims, array of shape X.shape[:-1] + the output's shape, attrs)."""
        lead = X.shape[:-1]
        out: dict[str, tuple] = {}
        for name, dims, shape, fill, kind, src, dst, attrs in self.items:
            if fill is None:  # more values of an output already started
                flat = out[name][1].reshape(lead + (-1,))
            else:
                flat = np.full(lead + (int(np.prod(shape)),), fill)
            if src.size:
                flat[..., dst] = (X if kind == "x" else P)[..., src]
            out[name] = (dims, flat.reshape(lead + shape), attrs)
        return out


def draws_dataset(s: Structure, outputs_base: dict, outputs_sim: dict, *, variants: list[str],
                  sweeps: dict[str, list[float]], draws: list[int], attrs: dict) -> xr.Dataset:
    """Results of draws: dims ``variant``, the sweep dims, ``draw``, ``state`` and the model's sets.

    ``outputs_base`` and ``outputs_sim`` come from `OutputMap.arrays`: the base of each (sweep point,
    draw), with leading shape (*sweeps, draw), and each solution, with leading shape (variant,
    *sweeps, draw); the base is the same for every variant.
    """
    lead = ("variant",) + tuple(sweeps) + ("draw",)
    data_vars = {}
    for name, (dims, sim, a) in outputs_sim.items():
        base = np.broadcast_to(outputs_base[name][1], sim.shape)
        data_vars[name] = (lead + ("state",) + dims, np.stack([base, sim], axis=len(lead)), a)
    coords = {**_coords(s), "variant": list(variants), **{k: list(v) for k, v in sweeps.items()},
              "draw": np.asarray(draws, dtype=np.int64), "state": ["base", "simulated"]}
    ds = xr.Dataset(data_vars, coords=coords)
    ds["draw"].attrs = {"long_name": "Monte Carlo draw (0: the point estimates)"}
    for k in sweeps:
        ds[k].attrs = {"long_name": f"sensitivity sweep of the scenario setting {k}"}
    ds.attrs.update(attrs)
    return _set_metadata(ds, s)


def add_variant_info(ds: xr.Dataset, effects, variant_map: dict[str, list[int]], *,
                     sweeps: dict[str, list[float]] | None = None, effects_by_point=None) -> xr.Dataset:
    """What each variant is: its interventions, cost and direct beneficiaries.

    ``intervention`` is a dim (the scenario's interventions, in file order); ``includes(variant,
    intervention)`` says which a variant combines; ``cost(variant)`` is the multipliers' denominator;
    ``beneficiary(variant, household)`` marks the groups that receive something directly. With sweeps
    that change costs (``effects_by_point``: the effects at each sweep point, first sweep slowest),
    ``intervention_cost`` and ``cost`` also have the sweep dims.
    """
    variants = [str(v) for v in ds["variant"].values]
    households = [str(h) for h in ds["household"].values]
    names = [e.name for e in effects]
    sweeps = sweeps or {}
    points = effects_by_point if effects_by_point is not None else [effects]
    includes = np.zeros((len(variants), len(effects)), dtype=bool)
    for vi, v in enumerate(variants):
        includes[vi, variant_map[v]] = True
    icost = np.array([[e.cost for e in pt] for pt in points], dtype=float).reshape(len(points), len(effects))
    cost = icost @ includes.T.astype(float) if len(effects) else np.zeros((len(points), len(variants)))
    if len(points) > 1 and not (icost == icost[:1]).all():
        shape = tuple(len(v) for v in sweeps.values())
        icost_da = (("intervention",) + tuple(sweeps), np.moveaxis(icost.reshape(shape + (len(effects),)), -1, 0))
        cost_da = (("variant",) + tuple(sweeps), np.moveaxis(cost.reshape(shape + (len(variants),)), -1, 0))
    else:
        icost_da, cost_da = ("intervention", icost[0]), ("variant", cost[0])
    benef = np.zeros((len(variants), len(households)), dtype=bool)
    for vi, v in enumerate(variants):
        for i in variant_map[v]:
            for h in effects[i].beneficiaries:
                benef[vi, households.index(h)] = True
    ds = ds.assign_coords(intervention=("intervention", names))
    ds["intervention"].attrs = {"long_name": "intervention (scenario name, or its kind)"}
    ds["intervention_kind"] = ("intervention", [e.kind for e in effects])
    ds["intervention_kind"].attrs = {"long_name": "kind of intervention"}
    ds["intervention_cost"] = icost_da
    ds["intervention_cost"].attrs = {"long_name": "cost of the intervention", "units": CURRENCY}
    ds["intervention_service_flow"] = ("intervention", [float(getattr(e, "service_flow", 0.0)) for e in effects])
    ds["intervention_service_flow"].attrs = {"long_name": "annual service flow of the assets an intervention "
                                             "transfers (its cost is the purchase)", "units": CURRENCY}
    ds["includes"] = (("variant", "intervention"), includes)
    ds["includes"].attrs = {"long_name": "the variant includes the intervention"}
    ds["cost"] = cost_da
    ds["cost"].attrs = {"long_name": "cost of the variant's interventions (the multipliers' denominator)",
                        "units": CURRENCY}
    ds["beneficiary"] = (("variant", "household"), benef)
    ds["beneficiary"].attrs = {"long_name": "the household group receives something directly"}
    return ds


def add_solver_info(ds: xr.Dataset, status: np.ndarray, reason: np.ndarray, iterations: np.ndarray,
                    residual: np.ndarray, *, dims: tuple[str, ...]) -> xr.Dataset:
    """Outcome of every solve: ``status`` ("converged" or "failed: <what>"), ``reason`` (why it
    failed; for a converged solve "" or a note on how it was accepted), ``solver_iterations`` and
    ``max_relative_residual`` (of the verified solution; NaN when failed), each over ``dims``
    (variant, sweeps, draw)."""
    ds["status"] = (dims, np.asarray(status, dtype=object).astype(str))
    ds["status"].attrs = {"long_name": "outcome of the solve: converged, or failed: <what failed>"}
    ds["reason"] = (dims, np.asarray(reason, dtype=object).astype(str))
    ds["reason"].attrs = {"long_name": "why the solve failed (when converged: '' or how it was accepted)"}
    ds["solver_iterations"] = (dims, np.asarray(iterations, dtype=np.int64))
    ds["solver_iterations"].attrs = {"long_name": "solver iterations"}
    ds["max_relative_residual"] = (dims, np.asarray(residual, dtype=float))
    ds["max_relative_residual"].attrs = {"long_name": "worst relative residual of the verified solution",
                                         "units": "1"}
    return ds


def add_parameter_values(ds: xr.Dataset, keys: list[tuple], values: np.ndarray) -> xr.Dataset:
    """``parameter_value(draw, entry)``: the drawn shares each draw was calibrated with. ``entry`` is
    ``parameter|good|good2|factor|household``, with each label also a coordinate (``entry_parameter``
    ...; '' where the entry has no such label)."""
    names = ["|".join(k) for k in keys]
    ds = ds.assign_coords(entry=("entry", names))
    for n, lab in enumerate(("parameter", "good", "good2", "factor", "household")):
        ds = ds.assign_coords({f"entry_{lab}": ("entry", [k[n] for k in keys])})
    ds["entry"].attrs = {"long_name": "drawn parameter entry: parameter|good|good2|factor|household"}
    ds["parameter_value"] = (("draw", "entry"), np.asarray(values, dtype=float).reshape(ds.sizes["draw"], len(keys)))
    ds["parameter_value"].attrs = {"long_name": "value of the drawn parameter in the draw (calibration input)",
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


__all__ = ["OUTPUTS", "VARIABLES", "snapshot", "to_dataset", "add_variant_info", "add_solver_info",
           "add_parameter_values", "draws_dataset", "OutputMap", "wage_snapshot"]


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
