"""Statistics over Monte Carlo draws: mean, standard deviation, 5th / 50th / 95th percentiles and the
Monte Carlo standard error of the mean, over the draws that converged.

    ds = lewie.run("scenarios/example_workbook.toml", draws=200)
    lewie.summarize(ds)                                           # every result variable
    lewie.summarize(ds, "income")                                  # one variable
    lewie.summarize(ds, lewie.analysis.income_multiplier(ds))     # anything computed from ds

Definitions (for n converged random draws x_1..x_n):

* ``mean`` = Σx/n; ``std`` = sqrt(Σ(x − mean)²/(n − 1)) (NaN when n < 2);
* ``p05``, ``p50``, ``p95``: percentiles with linear interpolation between order statistics
  (numpy's default, ``numpy.percentile(..., method="linear")``);
* ``mcse`` = std/√n, the Monte Carlo standard error of the mean (draws are independent).

The draws are the random draws 1..N; draw 0, the point estimates, is not one of them (it is given
separately, ``ds.sel(draw=0)``) unless ``include_point_estimate=True`` or it is the only draw. A
(variant, draw) whose solve failed (``status`` other than "converged") is left out, visibly: the
output has ``n_draws`` (how many draws each statistic uses) and attributes ``excluded_solves``
(failed solves among the draws summarised) and ``excluded_draws`` (draws with at least one).
"""
from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from lewie.model import registry

STATISTICS = ("mean", "std", "p05", "p50", "p95", "mcse")
CONVERGED = "converged"
# how each solve went (the registry's "run" variables: status, status_code, reason, ...) and draw notes
_BOOKKEEPING = {n for n, e in registry.RESULTS.items() if e.role == "run"} | {"draw_note"}


def describe(da: xr.DataArray, dim: str = "draw") -> xr.DataArray:
    """The `STATISTICS` of ``da`` over ``dim``, skipping NaN; a ``statistic`` dim replaces ``dim``."""
    if dim not in da.dims:
        raise ValueError(f"{da.name or 'the variable'} has no '{dim}' dim (dims: {da.dims})")

    def stats(x: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            n = np.sum(~np.isnan(x), axis=-1)
            mean = np.nanmean(x, axis=-1)
            std = np.where(n > 1, np.nanstd(x, axis=-1, ddof=1), np.nan)
            p = np.nanpercentile(x, [5, 50, 95], axis=-1)
            mcse = np.where(n > 0, std / np.sqrt(np.maximum(n, 1)), np.nan)
        return np.stack([mean, std, p[0], p[1], p[2], mcse], axis=-1)

    out = xr.apply_ufunc(stats, da.astype(float), input_core_dims=[[dim]], output_core_dims=[["statistic"]],
                         keep_attrs=True)
    out = out.assign_coords(statistic=list(STATISTICS))
    return out.transpose("statistic", ...)


def _converged(ds: xr.Dataset) -> xr.DataArray | None:
    if "status" not in ds:
        return None
    return ds["status"].astype(str) == CONVERGED


def _mask_for(ok: xr.DataArray, da: xr.DataArray, dim: str) -> xr.DataArray:
    """Where ``da`` may be used: converged, reduced (all) over the dims of ``status`` ``da`` lacks
    (a draw counts for a variable without a ``variant`` dim only if every variant converged)."""
    extra = [d for d in ok.dims if d not in da.dims and d != dim]
    return ok.all(extra) if extra else ok


def summarize(ds: xr.Dataset | xr.DataArray, var: str | xr.DataArray | None = None, dim: str = "draw", *,
              include_point_estimate: bool = False) -> xr.Dataset:
    """Statistics of results over draws (module docstring): a Dataset with a ``statistic`` dim
    (`STATISTICS`), ``n_draws`` and the counts of excluded solves in its attributes.

    ``var``: None (every numeric variable with the ``draw`` dim, the drawn ``parameter_value``
    included), a variable name, or a DataArray computed from ``ds`` (e.g. an income multiplier).
    ``ds`` may itself be a DataArray with a ``draw`` dim (``lewie.summarize(income_multiplier(ds))``):
    its statistics over the draws where it is not NaN (the analysis functions make failed solves NaN).
    """
    counted = None  # a DataArray: n_draws counts its non-NaN values over the draws used
    if isinstance(ds, xr.DataArray):
        if var is not None:
            raise TypeError("give either a DataArray, or a Dataset and a variable of it, not both")
        name = str(ds.name) if ds.name is not None else "value"
        da = ds.rename(name)
        if dim not in da.dims:
            raise ValueError(f"'{name}' has no '{dim}' dim (dims: {da.dims})")
        ds, var = da.reset_coords(drop=True).to_dataset(), name
        counted = ds[name]
    if dim not in ds.dims:
        raise ValueError(f"the results have no '{dim}' dim")
    if var is None:
        arrays = {k: ds[k] for k in ds.data_vars if dim in ds[k].dims and k not in _BOOKKEEPING
                  and ds[k].dtype.kind in "fiu"}
    elif isinstance(var, str):
        if var not in ds:
            from lewie.errors import unknown_label
            raise KeyError(unknown_label("variable", var, list(ds.data_vars)))
        arrays = {var: ds[var]}
    else:
        arrays = {var.name or "value": var}
    draws = ds[dim]
    random = draws != 0
    use = draws if include_point_estimate or not bool(random.any()) else draws[random]
    ok = _converged(ds)
    if ok is not None:
        ok = ok.sel({dim: use})
    out = {}
    for name, da in arrays.items():
        if dim not in da.dims:
            raise ValueError(f"'{name}' has no '{dim}' dim")
        da = da.sel({dim: use})
        if ok is not None:
            da = da.where(_mask_for(ok, da, dim))
        out[name] = describe(da, dim)
        out[name].attrs = dict(da.attrs)
    res = xr.Dataset(out)
    if ok is not None:
        n = ok.sum(dim)
        res["n_draws"] = n
        failed = ~ok
        res.attrs["excluded_solves"] = int(failed.sum())
        res.attrs["excluded_draws"] = int(failed.any([d for d in failed.dims if d != dim]).sum()) \
            if failed.ndim > 1 else int(failed.sum())
    else:
        res["n_draws"] = xr.DataArray(int(use.size))
        res.attrs["excluded_solves"] = 0
        res.attrs["excluded_draws"] = 0
    if counted is not None:
        res["n_draws"] = counted.sel({dim: use}).notnull().sum(dim)
    res["n_draws"].attrs = {"long_name": "converged draws each statistic is computed over"}
    res["statistic"].attrs = {"long_name": "mean, standard deviation (n−1), 5th / 50th / 95th percentiles "
                                           "(linear interpolation), Monte Carlo standard error of the mean"}
    res.attrs["statistics_over"] = (f"draws {int(use.min())}..{int(use.max())}" if use.size else "no draws") + \
        ("" if include_point_estimate or not bool(random.any()) else " (random draws; draw 0, the point estimates, "
                                                                         "left out)")
    return res
