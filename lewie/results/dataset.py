"""Results as an xarray Dataset whose dims are the model's sets (household, good, factor, village),
``variant`` (the scenario's named sets of interventions) and ``state`` (base, simulated), plus the
``intervention`` dim of the variant metadata. Derived quantities live in `lewie.analysis` as functions.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import xarray as xr

from lewie.model import registry
from lewie.lazy_imports import defer_xarray_dask_probe
from lewie.model.declaration import VARIABLES, market_price
from lewie.model.sets import Structure

defer_xarray_dask_probe()  # results are numpy arrays: building them need not import dask.array
from lewie.results import accessor  # noqa: E402,F401  (registers ds.lewie on every Dataset lewie makes or reads)

CURRENCY = registry.CURRENCY

# the order of the model's outputs in results Datasets; what each is comes from the registry
_ORDER = ("income", "real_income", "cpi", "exogenous_income", "savings", "transfers_out", "outside_spending",
          "production", "value_added", "value_added_price", "factor_demand", "intermediate_demand", "consumption",
          "household_price", "rent", "factor_supply", "marketed_surplus", "village_marketed_surplus",
          "factor_marketed_surplus", "liquidity_rent", "input_finance", "in_kind", "exogenous_demand")
_BY_OUTPUT = {e.output: e for e in registry.ENTRIES if e.output}
# output variable -> (model component, dims, long name, units), from the registry (`lewie.model.registry`)
OUTPUTS = {o: (_BY_OUTPUT[o].name, _BY_OUTPUT[o].dims, _BY_OUTPUT[o].long_name, _BY_OUTPUT[o].units)
           for o in _ORDER + tuple(o for o in _BY_OUTPUT if o not in _ORDER)}
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


def _set_metadata(ds: xr.Dataset, s: Structure) -> xr.Dataset:
    """Coordinates and maps every results Dataset carries: villages of households, market levels."""
    ds = ds.assign_coords(household_village=("household", [s.village_of[h] for h in s.households]))
    ds["variant"].attrs = {"long_name": "programme variant (a named set of interventions)"}
    ds["household_village"].attrs = {"long_name": "village of the household group"}
    ds["market_level"] = ("good", [s.market_level[g] for g in s.goods])
    ds["market_level"].attrs = registry.attrs("market_level")
    ds["factor_market_level"] = ("factor", [s.market_level.get(f, "fixed") for f in s.factors])
    ds["factor_market_level"].attrs = registry.attrs("factor_market_level")
    from lewie.results.provenance import apply_currency
    return apply_currency(ds)


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
                           np.array(dst, dtype=np.int64), registry.attrs("price")))
        xs, xd, ps, pd_ = [], [], [], []
        at = {}  # component name -> positions of its entries
        for fi, f in enumerate(s.factors):
            if f not in s.tradable_factors:
                continue
            for vi, v in enumerate(s.villages):
                name, index = market_price(s, "factor", f, v)  # the declaration's own selection
                comp = model.find_component(name)
                is_var = comp.ctype is pyo.Var
                if name not in at:
                    at[name] = system.var_positions(comp) if is_var else system.param_positions(comp)
                if is_var:
                    xs.append(at[name][index]), xd.append(fi * V + vi)
                else:
                    ps.append(at[name][index]), pd_.append(fi * V + vi)
        wage_attrs = registry.attrs("wage")
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
    ds["intervention_kind"].attrs = registry.attrs("intervention_kind")
    ds["intervention_cost"] = icost_da
    ds["intervention_cost"].attrs = registry.attrs("intervention_cost")
    ds["intervention_service_flow"] = ("intervention", [float(getattr(e, "service_flow", 0.0)) for e in effects])
    ds["intervention_service_flow"].attrs = registry.attrs("intervention_service_flow")
    ds["includes"] = (("variant", "intervention"), includes)
    ds["includes"].attrs = registry.attrs("includes")
    ds["cost"] = cost_da
    ds["cost"].attrs = registry.attrs("cost")
    ds["beneficiary"] = (("variant", "household"), benef)
    ds["beneficiary"].attrs = registry.attrs("beneficiary")
    from lewie.results.provenance import apply_currency
    return apply_currency(ds)


def add_solver_info(ds: xr.Dataset, status: np.ndarray, reason: np.ndarray, iterations: np.ndarray,
                    residual: np.ndarray, *, dims: tuple[str, ...]) -> xr.Dataset:
    """Outcome of every solve: ``status`` ("converged" or "failed: <what>"), ``reason`` (why it
    failed; for a converged solve "" or a note on how it was accepted), ``solver_iterations`` and
    ``max_relative_residual`` (of the verified solution; NaN when failed), each over ``dims``
    (variant, sweeps, draw)."""
    ds["status"] = (dims, np.asarray(status, dtype=object).astype(str))
    ds["status"].attrs = registry.attrs("status")
    ds["reason"] = (dims, np.asarray(reason, dtype=object).astype(str))
    ds["reason"].attrs = registry.attrs("reason")
    ds["solver_iterations"] = (dims, np.asarray(iterations, dtype=np.int64))
    ds["solver_iterations"].attrs = registry.attrs("solver_iterations")
    ds["max_relative_residual"] = (dims, np.asarray(residual, dtype=float))
    ds["max_relative_residual"].attrs = registry.attrs("max_relative_residual")
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
    ds["parameter_value"].attrs = registry.attrs("parameter_value")
    return ds


def wage_snapshot(model: pyo.Block, s: Structure) -> dict:
    """Wages by (factor, village) in the model now (village, zone or world wage)."""
    out = {}
    for f in s.tradable_factors:
        for v in s.villages:
            name, index = market_price(s, "factor", f, v)  # the declaration's own selection
            out[f, v] = pyo.value(model.find_component(name)[index])
    return out


__all__ = ["OUTPUTS", "VARIABLES", "snapshot", "add_variant_info", "add_solver_info",
           "add_parameter_values", "draws_dataset", "OutputMap", "wage_snapshot"]


# netCDF format of results files, chosen by measurement (benchmarks/netcdf_formats.py): for the
# results of 1,200 solves (35 variables, 8.5 MB) netCDF3 (64-bit offsets, SciPy's writer) writes in
# ~0.03 s where netCDF4/HDF5 (h5netcdf) takes ~0.3 s, nearly all of it HDF5 metadata per variable and
# dimension, and reads back 5-10× faster; the files are the same size (HDF5 uncompressed) and the
# variables, values and attributes are the same. Files written as netCDF4 are still read.
RESULTS_ENGINE = "scipy"
RESULTS_FORMAT = "NETCDF3_64BIT"


def save_results(ds: xr.Dataset, path) -> Path:
    """Write results to netCDF (see `RESULTS_FORMAT`); attributes are plain strings and numbers.

    netCDF3 has no 64-bit integers: integer variables are written as 32-bit (and read back as
    64-bit by `load_results`); results whose integers do not fit are written as netCDF4 (h5netcdf).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, val in ds.attrs.items():
        if not isinstance(val, (str, int, float, np.integer, np.floating)):
            raise TypeError(f"attribute {name!r} is {type(val).__name__}; results attributes must be strings or numbers")
    from lewie.files import atomic_write
    with atomic_write(path, what="results file") as tmp:  # a failure never leaves a half-written .nc
        if _fits_netcdf3(ds):
            _write_netcdf3(ds, tmp)
        else:
            ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def _write_netcdf3(ds: xr.Dataset, path) -> None:
    """``ds.to_netcdf(path, engine="scipy", format=RESULTS_FORMAT)``, the same bytes, through the store
    directly with a plain lock: ``to_netcdf`` asks Dask which scheduler is active (importing Dask and
    dask.distributed, ~0.4 s) to choose the lock, though results are numpy arrays."""
    import threading
    from xarray.backends import ScipyDataStore
    store = ScipyDataStore(str(path), mode="w", format=RESULTS_FORMAT, lock=threading.Lock())
    try:
        ds.dump_to_store(store)
    finally:
        store.close()


def netcdf3_bytes(ds: xr.Dataset) -> bytes:
    """``bytes(ds.to_netcdf(engine="scipy"))``, the same bytes, through the store directly: as
    `_write_netcdf3`, without asking Dask which scheduler is active (which imports Dask and
    dask.distributed, ~0.3 s, in a process that uses neither)."""
    from xarray.backends import ScipyDataStore
    from xarray.backends.common import BytesIOProxy
    target = BytesIOProxy()
    store = ScipyDataStore(target, mode="w")
    try:
        ds.dump_to_store(store)
    finally:
        store.close()
    return bytes(target.getbuffer())


def _fits_netcdf3(ds: xr.Dataset) -> bool:
    lim = np.iinfo(np.int32)
    for v in ds.variables.values():
        if v.dtype.kind in "iu" and v.size and (v.values.min() < lim.min or v.values.max() > lim.max):
            return False
        if v.dtype.kind == "u" or v.dtype.kind not in "biufSUO":
            return False
    return True


def results_engine(path) -> str:
    """The xarray engine that reads a results file: netCDF3 ('CDF' signature) or netCDF4/HDF5."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    return "scipy" if magic[:3] == b"CDF" else "h5netcdf"


def load_results(path) -> xr.Dataset:
    """Read results written by `save_results` (fully loaded, file closed); netCDF3 or netCDF4."""
    from lewie.files import load_lewie_results
    return load_lewie_results(Path(path), required=(), dims=())
