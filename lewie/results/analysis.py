"""Derived results: changes, percentage changes, income and production multipliers, prices, CPI,
inequality, synergies, bands over Monte Carlo draws, and which drawn parameters drive the bands.

Functions of a results Dataset (never stored as suffixed copies). Every function keeps the
Dataset's other dims (``variant``, ``draw``, sweep dims such as ``labour_supply_elasticity``), so
``float(...)`` works when there is one variant and ``.sel(variant=...)`` picks one otherwise.

Monte Carlo results have a ``draw`` dim (0 = the point estimates) and ``status(variant, draw)``,
"converged" or "failed: <reason>". Every function here reads the model's variables through
`converged_only`, so a failed draw is NaN in whatever it returns and never enters a statistic;
`bands` then summarises over the converged draws and counts them (``n_draws``).
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
import xarray as xr

from lewie.results.statistics import CONVERGED  # the status of a solve that converged


# ------------------------------------------------------------------------------------------------
# converged draws
# ------------------------------------------------------------------------------------------------
def converged(ds: xr.Dataset) -> xr.DataArray | None:
    """True where a solve converged: ``status == "converged"`` (dims of ``status``, e.g. variant and
    draw); None when the Dataset has no ``status`` (a deterministic run, which raises on failure)."""
    if "status" not in ds:
        return None
    return ds["status"].astype(str) == CONVERGED


def _valid(ds: xr.Dataset, var: str) -> xr.DataArray:
    """``ds[var]`` with failed solves set to NaN (numeric variables that carry every dim of ``status``)."""
    da = ds[var]
    ok = converged(ds)
    if ok is None or da.dtype.kind not in "fiuc" or not set(ok.dims) <= set(da.dims) or bool(ok.all()):
        return da
    return da.where(ok)


def converged_only(ds: xr.Dataset) -> xr.Dataset:
    """The Dataset with every numeric variable set to NaN where its solve failed (see `converged`)."""
    ok = converged(ds)
    if ok is None or bool(ok.all()):
        return ds
    return ds.assign({name: _valid(ds, name) for name in ds.data_vars if name != "status"})


def n_failed(ds: xr.Dataset) -> xr.DataArray | None:
    """Number of failed solves over all draws (draw 0 included), per variant and sweep point, or None
    without ``status``."""
    ok = converged(ds)
    if ok is None:
        return None
    dims = [d for d in ok.dims if d == "draw"]
    return (~ok).sum(dims) if dims else (~ok).astype(int)


# ------------------------------------------------------------------------------------------------
# changes and multipliers
# ------------------------------------------------------------------------------------------------
def change(ds: xr.Dataset, var: str | None = None):
    """Simulated minus base, for one variable or the whole Dataset."""
    obj = converged_only(ds) if var is None else _valid(ds, var)
    out = obj.sel(state="simulated", drop=True) - obj.sel(state="base", drop=True)
    return out


def pct_change(ds: xr.Dataset, var: str | None = None):
    """Percentage change from the base (NaN where the base is zero)."""
    obj = converged_only(ds) if var is None else _valid(ds, var)
    base = obj.sel(state="base", drop=True)
    return 100.0 * (obj.sel(state="simulated", drop=True) - base) / base.where(base != 0)


def cost(ds: xr.Dataset) -> xr.DataArray:
    """Each variant's cost (the multipliers' denominator): its interventions' costs, each defaulting
    to the value transferred. A variant that costs nothing (a GAMS dashboard's price or productivity
    sim) has no multipliers: its cost is NaN here, so they are NaN, not infinite."""
    return ds["cost"].where(ds["cost"] > 0)


def beneficiary_mask(ds: xr.Dataset) -> xr.DataArray:
    """True for the household groups a variant's interventions reach directly (variant, household)."""
    return ds["beneficiary"]


GROUPS = ("beneficiaries", "non_beneficiaries")
EFFECTS = ("direct + indirect", "spillover")
"""The ``effect`` of each group: beneficiaries gain directly (the transfer, the better technology) and
indirectly (through local markets); non-beneficiaries gain only by spillover."""


def income_change(ds: xr.Dataset, *, real: bool = False, by: str = "total"):
    """Change in nominal (or real) income: ``total``, by ``household``, by ``village`` or by ``group``
    (beneficiaries vs non-beneficiaries of each variant; the ``effect`` coordinate names the
    beneficiaries' change "direct + indirect" and the others' "spillover")."""
    d = change(ds, "real_income" if real else "income")
    if by == "household":
        return d
    if by == "total":
        return d.sum("household", min_count=1)
    if by == "village":
        out = d.groupby(ds["household_village"].rename("village_of")).sum(min_count=1)
        return out.rename(village_of="village")
    if by == "group":
        mask = beneficiary_mask(ds)
        out = xr.concat([d.where(mask, 0).sum("household", skipna=False),
                         d.where(~mask, 0).sum("household", skipna=False)],
                        dim=xr.DataArray(list(GROUPS), dims="group", name="group"))
        return out.assign_coords(effect=("group", list(EFFECTS)))
    raise ValueError(f"by must be total, household, village or group, not {by!r}")


def income_multiplier(ds: xr.Dataset, *, real: bool = False, by: str = "total"):
    """Income change per unit of intervention cost (nominal or real); ``by`` as in `income_change`.

    Beneficiaries' share is the direct plus indirect effect on them; non-beneficiaries' share is the
    spillover. With every good priced outside, a cash transfer's nominal multiplier is exactly 1.
    """
    out = income_change(ds, real=real, by=by) / cost(ds)
    out.attrs = {"long_name": f"{'real' if real else 'nominal'} income multiplier", "units": "per unit of cost"}
    return out


def production_value(ds: xr.Dataset) -> xr.DataArray:
    """Value of output at the producer's current price."""
    return _valid(ds, "production") * _valid(ds, "household_price")


def production_change(ds: xr.Dataset, *, by: str = "good"):
    """Change in output (base-price value) by activity (``good``) or by ``household`` and activity."""
    d = change(ds, "production")
    return d.sum("household", min_count=1) if by == "good" else d


def production_multiplier(ds: xr.Dataset):
    """Change in the value of output by activity per unit of intervention cost."""
    pv = production_value(ds)
    d = (pv.sel(state="simulated", drop=True) - pv.sel(state="base", drop=True)).sum("household", min_count=1)
    out = d / cost(ds)
    out.attrs = {"long_name": "production multiplier", "units": "per unit of cost"}
    return out


def value_added_multiplier(ds: xr.Dataset):
    """Change in nominal value added (value-added price × output), all activities, per unit of cost."""
    va = _valid(ds, "production") * _valid(ds, "value_added_price").fillna(0)
    d = va.sel(state="simulated", drop=True) - va.sel(state="base", drop=True)
    out = d.sum(("good", "household"), min_count=1) / cost(ds)
    out.attrs = {"long_name": "value-added multiplier", "units": "per unit of cost"}
    return out


# ------------------------------------------------------------------------------------------------
# prices, wages, CPI, inequality
# ------------------------------------------------------------------------------------------------
def price_change(ds: xr.Dataset, *, local: bool = True) -> xr.DataArray:
    """Percentage change of each good's market price by village (``good``, ``village``); with
    ``local=True`` only goods whose price is set locally (market level other than ``world``)."""
    out = pct_change(ds, "price")
    if local and "market_level" in ds:
        keep = [str(g) for g, lvl in zip(ds["good"].values, ds["market_level"].values) if str(lvl) != "world"]
        out = out.sel(good=keep)
    out.attrs = {"long_name": "change in the market price", "units": "%"}
    return out


def wage_change(ds: xr.Dataset, *, local: bool = True) -> xr.DataArray:
    """Percentage change of each tradable factor's wage by village (``factor``, ``village``); with
    ``local=True`` only factors whose wage is set locally (not ``world``, not fixed factors)."""
    out = pct_change(ds, "wage")
    if local and "factor_market_level" in ds:
        keep = [str(f) for f, lvl in zip(ds["factor"].values, ds["factor_market_level"].values)
                if str(lvl) not in ("world", "fixed")]
        out = out.sel(factor=keep)
    out.attrs = {"long_name": "change in the wage", "units": "%"}
    return out


def cpi_change(ds: xr.Dataset) -> xr.DataArray:
    """Percentage change of each household group's consumer price index (``household``)."""
    out = pct_change(ds, "cpi")
    out.attrs = {"long_name": "change in the consumer price index", "units": "%"}
    return out


def theil(ds: xr.Dataset, *, real: bool = True) -> xr.DataArray:
    """Theil T index of per-household (real) income across household groups, in each state.

        T = Σ_h s_h · ln(s_h / p_h),   s_h = Y_h / Σ_k Y_k,   p_h = n_h / Σ_k n_k

    where Y_h is the group's total (real) income and n_h its number of households: the
    between-group Theil index of per-household income y_h = Y_h / n_h, T = Σ_h p_h (y_h/μ) ln(y_h/μ).
    ``n_h`` is the Dataset's ``household_count(household)`` when it has one; otherwise every group
    counts as one unit (p_h = 1/H), i.e. the index of the groups' total incomes. Inequality within
    a group is not seen. A group with zero income adds 0 (s ln s → 0); negative incomes give NaN.
    """
    y = _valid(ds, "real_income" if real else "income")
    if "household_count" in ds:
        n = ds["household_count"].astype(float)
    else:
        n = xr.ones_like(ds["household"], dtype=float)
    p = n / n.sum("household")
    s = y / y.sum("household")
    with np.errstate(divide="ignore", invalid="ignore"):
        term = s * np.log(s / p)
    out = term.where(s != 0, 0.0).sum("household", skipna=False)
    out.attrs = {"long_name": f"Theil T index of {'real ' if real else ''}income per household across groups",
                 "units": "1"}
    return out


def inequality_change(ds: xr.Dataset, *, real: bool = True) -> xr.DataArray:
    """Change in the Theil T index (`theil`): simulated minus base; positive = more unequal."""
    t = theil(ds, real=real)
    out = t.sel(state="simulated", drop=True) - t.sel(state="base", drop=True)
    out.attrs = {"long_name": "change in the " + t.attrs["long_name"], "units": "1"}
    return out


# ------------------------------------------------------------------------------------------------
# bands over draws
# ------------------------------------------------------------------------------------------------
STATISTICS = ("point", "mean", "std", "p05", "p50", "p95", "mcse", "n_draws")
"""What `bands` returns: the point estimate (draw 0), then mean, standard deviation, 5th, 50th and
95th percentiles, Monte Carlo standard error of the mean (std/√n) — as `lewie.results.statistics` defines
them — and n_draws, over the converged random draws (1..N)."""


def band_statistics(da: xr.DataArray, dim: str = "draw") -> xr.DataArray:
    """mean, std, p05, p50, p95, mcse (`lewie.results.statistics.describe`, whose definitions these are) and
    n_draws of ``da`` over ``dim``, skipping NaN (failed draws); a leading ``statistic`` dim replaces
    ``dim``. With no values along ``dim`` every statistic is NaN and n_draws 0."""
    from lewie.results.statistics import STATISTICS as DESCRIBED, describe
    other = [d for d in da.dims if d != dim]
    if da.sizes.get(dim, 0) == 0:
        empty = np.full((len(DESCRIBED) + 1,) + tuple(da.sizes[d] for d in other), np.nan)
        empty[-1] = 0.0
        coords = {k: c for k, c in da.coords.items() if dim not in c.dims}
        return xr.DataArray(empty, dims=("statistic", *other), coords={**coords, "statistic": [*DESCRIBED, "n_draws"]})
    stats = describe(da, dim)
    n = da.count(dim).astype(float).expand_dims(statistic=["n_draws"])
    out = xr.concat([stats, n], dim="statistic", coords="minimal", compat="override")
    return out.transpose("statistic", *other)


def has_draws(obj: xr.Dataset | xr.DataArray, dim: str = "draw") -> bool:
    """True when there is at least one random draw (a ``draw`` other than 0)."""
    return dim in obj.dims and bool((obj[dim] != 0).any())


def bands(da: xr.DataArray, dim: str = "draw", *, status: xr.DataArray | None = None) -> xr.DataArray:
    """Point estimate and band statistics of ``da`` over the converged draws (a leading ``statistic``
    dim: `STATISTICS`).

    ``point`` is draw 0 (the point estimates); mean, std, percentiles, mcse and n_draws are over
    the random draws 1..N whose value is not NaN — the analysis functions make failed draws NaN, and
    ``status`` (``status == "converged"``) can mask a DataArray that did not come through them.
    Without random draws (no ``draw`` dim, or only draw 0) ``point`` is the value and the other
    statistics are NaN with n_draws = 0.
    """
    if status is not None and dim in status.dims and dim in da.dims:
        ok = (status.astype(str) == CONVERGED)
        ok = ok.sel({d: da[d] for d in ok.dims if d in da.dims})
        if set(ok.dims) <= set(da.dims):
            da = da.where(ok)
    if dim in da.dims:
        draws = da[dim].values
        point = (da.sel({dim: 0}, drop=True) if (draws == 0).any()
                 else xr.full_like(da.isel({dim: 0}, drop=True), np.nan, dtype=float))
        stats = band_statistics(da.isel({dim: np.flatnonzero(draws != 0)}), dim)
    else:
        point = da
        empty = np.full((len(STATISTICS) - 1,) + da.shape, np.nan)
        empty[-1] = 0.0
        stats = xr.DataArray(empty, dims=("statistic", *da.dims))
    other = [d for d in point.dims]
    values = np.concatenate([np.asarray(point.transpose(*other).values, dtype=float)[None],
                             stats.transpose("statistic", *other).values])
    coords = {k: c for k, c in point.coords.items()}
    out = xr.DataArray(values, dims=("statistic", *other), coords={**coords, "statistic": list(STATISTICS)})
    out.attrs = dict(da.attrs)
    return out


def running_mean(da: xr.DataArray, dim: str = "draw") -> xr.DataArray:
    """Mean of the converged random draws 1..k for k = 1..N (NaN draws skipped), to show Monte Carlo
    convergence: it should settle as k grows."""
    sample = da.sel({dim: da[dim] != 0})
    valid = sample.notnull()
    total = sample.fillna(0).cumsum(dim)
    count = valid.cumsum(dim)
    out = total / count.where(count > 0)
    out.attrs = {"long_name": f"running mean of {da.attrs.get('long_name', da.name or 'the value')}",
                 "units": da.attrs.get("units", "")}
    return out


# ------------------------------------------------------------------------------------------------
# which drawn parameters drive the band
# ------------------------------------------------------------------------------------------------
def variance_decomposition(ds: xr.Dataset, target: xr.DataArray | str, *, dim: str = "draw",
                           bins: int | None = 0) -> xr.Dataset:
    """How much of the spread of ``target`` over draws each drawn parameter explains.

    ``target`` is a DataArray with a ``draw`` dim (e.g. ``income_multiplier(ds)``) or the name of
    one of the Dataset's variables; the drawn parameters are ``ds["parameter_value"](draw, entry)``.
    For every cell of the target's other dims (variant, ...), over the draws where the target is
    finite, a linear regression of the standardised target on the standardised parameters gives

    * ``src(entry)`` — standardised regression coefficients, β_j·σ(x_j)/σ(y): the change in y, in
      standard deviations, for one standard deviation of x_j, the others held fixed;
    * ``share(entry)`` — SRC_j² / Σ_k SRC_k², each parameter's share of the explained variance
      (exact when the parameters are uncorrelated; shares that are rescaled to sum to one, such as
      the factor shares of an activity, are correlated, and their SRCs then share the effect);
    * ``r_squared`` — the regression's R²: how much of the variance a linear model explains (when it
      is low, read ``first_order`` instead);
    * ``first_order(entry)`` — with ``bins`` (0 = about √N/2 bins, None = skip): first-order
      sensitivity index Var(E[y | x_j]) / Var(y), estimated by averaging y within equal-count bins
      of x_j (biased upwards by about (bins − 1)/N);
    * ``n_draws`` — draws used.

    Parameters that do not vary over the draws get SRC 0 and share 0. With more varying parameters
    than draws − 1 the regression is not identified: ``src``, ``share`` and ``r_squared`` are NaN.
    """
    if "parameter_value" not in ds:
        raise ValueError("the results have no drawn parameters ('parameter_value(draw, entry)'): "
                         "run a Monte Carlo study to decompose the band")
    y = ds[target] if isinstance(target, str) else target
    if dim not in y.dims:
        raise ValueError(f"the target has no '{dim}' dim: nothing to decompose")
    x = ds["parameter_value"]
    common = np.intersect1d(y[dim].values, x[dim].values)
    y, x = y.sel({dim: common}), x.sel({dim: common}).transpose(dim, "entry")
    others = [d for d in y.dims if d != dim]
    ys = y.transpose(dim, *others).values.reshape(len(common), -1)
    xv = np.asarray(x.values, dtype=float)
    n_cells, k = ys.shape[1], xv.shape[1]
    src = np.full((n_cells, k), np.nan)
    first = np.full((n_cells, k), np.nan)
    r2 = np.full(n_cells, np.nan)
    used = np.zeros(n_cells)
    for c in range(n_cells):
        m = np.isfinite(ys[:, c]) & np.isfinite(xv).all(axis=1)
        yv, xm = ys[m, c], xv[m]
        n = len(yv)
        used[c] = n
        if n < 3 or not np.std(yv) > 0:
            continue
        sx = xm.std(axis=0)
        vary = sx > 1e-12 * np.maximum(1.0, np.abs(xm).max(axis=0))  # not drawn: constant up to rounding
        zx = (xm[:, vary] - xm[:, vary].mean(axis=0)) / sx[vary]
        zy = (yv - yv.mean()) / yv.std()
        if vary.sum() < n - 1:
            beta, *_ = np.linalg.lstsq(zx, zy, rcond=None)
            src[c] = 0.0
            src[c, vary] = beta
            r2[c] = 1.0 - float(np.sum((zy - zx @ beta) ** 2)) / float(np.sum(zy ** 2))
        if bins is not None:
            nb = int(bins) if bins else max(2, int(round(np.sqrt(n) / 2)))
            first[c] = 0.0
            for j in np.flatnonzero(vary):
                ranks = np.argsort(np.argsort(xm[:, j], kind="stable"), kind="stable")
                b = ranks * nb // n
                means = np.bincount(b, weights=zy, minlength=nb)
                counts = np.bincount(b, minlength=nb)
                ok = counts > 0
                first[c, j] = float(np.sum(means[ok] ** 2 / counts[ok])) / float(np.sum(zy ** 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = src ** 2 / np.sum(src ** 2, axis=1, keepdims=True)
    shape = [y.sizes[d] for d in others]

    def cells(arr, extra=()):
        return arr.reshape(shape + list(extra))

    coords = {d: y[d] for d in others}
    ecoords = {c: x[c] for c in x.coords if x[c].dims == ("entry",)}
    out = xr.Dataset(
        {"src": (others + ["entry"], cells(src, (k,))),
         "share": (others + ["entry"], cells(share, (k,))),
         "first_order": (others + ["entry"], cells(first, (k,))),
         "r_squared": (others, cells(r2)),
         "n_draws": (others, cells(used))},
        coords={**coords, **ecoords})
    for c in y.coords:  # keep the target's non-dim coords that live on its other dims (e.g. parts)
        if c not in out.coords and set(y[c].dims) <= set(others):
            out = out.assign_coords({c: y[c]})
    what = y.attrs.get("long_name", y.name or "the target")
    out["src"].attrs = {"long_name": f"standardised regression coefficient of {what}", "units": "1"}
    out["share"].attrs = {"long_name": "share of the explained variance (SRC² / Σ SRC²)", "units": "1"}
    out["first_order"].attrs = {"long_name": "first-order sensitivity index (binned)", "units": "1"}
    out["r_squared"].attrs = {"long_name": "R² of the linear regression on the drawn parameters", "units": "1"}
    out["n_draws"].attrs = {"long_name": "draws used", "units": "1"}
    return out


# ------------------------------------------------------------------------------------------------
# combined programmes
# ------------------------------------------------------------------------------------------------
def variant_interventions(ds: xr.Dataset) -> dict[str, frozenset[str]]:
    """The set of interventions each variant combines."""
    inc = ds["includes"]
    names = [str(i) for i in inc["intervention"].values]
    return {str(v): frozenset(n for n, on in zip(names, inc.sel(variant=v).values) if on)
            for v in ds["variant"].values}


def combinations_of(ds: xr.Dataset) -> dict[str, tuple[str, ...]]:
    """Each combined variant and the variants it combines: a variant whose interventions are the
    union of two or more other variants' disjoint sets. When several such splits exist, the one with
    the fewest parts is used (ties: the first in file order), e.g. ``cgp+springs = cgp + springs``."""
    sets = variant_interventions(ds)
    order = list(sets)
    out = {}
    for v, whole in sets.items():
        parts = [u for u in order if u != v and sets[u] and sets[u] < whole]
        found = None
        for k in range(2, len(parts) + 1):
            for combo in combinations(parts, k):
                members = [sets[u] for u in combo]
                if sum(len(m) for m in members) == len(whole) and frozenset().union(*members) == whole:
                    found = combo
                    break
            if found:
                break
        if found:
            out[v] = found
    return out


def _combined_minus_singles(ds: xr.Dataset, d: xr.DataArray) -> xr.DataArray:
    """``d`` of each combined variant minus the sum of ``d`` over its single parts (`combinations_of`),
    with a ``parts`` coordinate naming them; empty along ``variant`` when there is no combination."""
    combos = combinations_of(ds)
    if not combos:
        return d.isel(variant=slice(0, 0)).assign_coords(parts=("variant", []))
    rows = [d.sel(variant=v) - sum(d.sel(variant=u) for u in parts) for v, parts in combos.items()]
    out = xr.concat(rows, dim="variant", coords="minimal", compat="override")
    return out.assign_coords(variant=list(combos), parts=("variant", [" + ".join(p) for p in combos.values()]))


def synergy(ds: xr.Dataset, var: str | None = None, *, real: bool = False, by: str = "household"):
    """Effect of each combined variant minus the sum of the effects of the variants it combines.

    ``var`` defaults to income (real income with ``real=True``); ``by="household"`` keeps the
    variable's dims, ``by="total"`` sums over household groups. The result has one entry per
    combined variant (see `combinations_of`), whose parts are given by the ``parts`` coordinate.
    Zero means the programmes' effects add up; positive, that together they do more.

    With draws it is computed draw by draw (each draw's combined run minus the same draw's single
    runs), so ``bands(synergy(ds))`` is the band of the synergy itself, not a difference of bands; a
    draw in which the combination or any part failed is NaN.
    """
    if var is None:
        var = "real_income" if real else "income"
    elif real:
        if var != "income":
            raise ValueError("real=True applies to income; give var='real_income' or leave var out")
        var = "real_income"
    if by not in ("household", "total"):
        raise ValueError(f"by must be household or total, not {by!r}")
    d = change(ds, var)
    out = _combined_minus_singles(ds, d)
    if by == "total" and "household" in out.dims:
        out = out.sum("household", min_count=1)
    what = ds[var].attrs.get("long_name", var)
    out.attrs = {"long_name": f"synergy in {what} (combined variant minus the sum of its parts)",
                 "units": ds[var].attrs.get("units", "")}
    return out


def synergy_multiplier(ds: xr.Dataset, *, real: bool = False) -> xr.DataArray:
    """Total synergy in (real) income per unit of the combined variant's cost: how much the
    combination's income multiplier exceeds the cost-weighted sum of its parts' multipliers."""
    syn = synergy(ds, real=real, by="total")
    out = syn / cost(ds).sel(variant=syn["variant"])
    out.attrs = {"long_name": f"synergy in {'real' if real else 'nominal'} income per unit of the combined cost",
                 "units": "per unit of cost"}
    return out


# ------------------------------------------------------------------------------------------------
# where income changes, and synergy, come from
# ------------------------------------------------------------------------------------------------
def _lagged_product(price: xr.DataArray, qty: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Δ(p·q) = Δp·q_sim + p_base·Δq: the price part and the quantity part (exact). Quantities are
    valued at base prices, so quantity shocks of single programmes add up in the quantity part and
    interactions through prices show in the price part."""
    p0, p1 = price.sel(state="base", drop=True), price.sel(state="simulated", drop=True)
    q0, q1 = qty.sel(state="base", drop=True), qty.sel(state="simulated", drop=True)
    return (p1 - p0) * q1, p0 * (q1 - q0)


def income_change_by_channel(ds: xr.Dataset) -> xr.DataArray:
    """Each household group's change in nominal income split by where it comes from (dim ``channel``):

    * ``transfers``: exogenous income and outside finance of inputs (cash from outside);
    * ``in kind: prices`` / ``in kind: quantities``: goods received in kind, valued at local prices;
    * ``liquidity constraint``: rents of liquidity-constrained inputs, (λ − 1) × spending
      (`lewie.model.liquidity`; not income under gams_compat, so left out there);
    * ``<good>: fixed-factor rents`` (Δrent × units: local output prices and productivity acting
      through the activity's land, capital, livestock) and ``<good>: fixed-factor units`` (base rent ×
      added units: asset transfers, factor endowments);
    * ``<factor>: wages`` (Δwage × supply: the factor's market) and ``<factor>: labour supplied``
      (base wage × Δsupply).

    The channels add up exactly to `change(ds, "income")` (each price-quantity pair is
    Δ(p·q) = Δp·q_sim + p_base·Δq).
    """
    d = converged_only(ds)
    parts: dict[str, xr.DataArray] = {}
    zero = change(d, "income") * 0.0
    finance = d["input_finance"].sum(["good", "factor"]) if "input_finance" in d else 0.0
    cash = d["exogenous_income"] + finance
    parts["transfers"] = zero + (cash.sel(state="simulated", drop=True) - cash.sel(state="base", drop=True))
    if "in_kind" in d:
        pr, qu = _lagged_product(d["household_price"], d["in_kind"])
        parts["in kind: prices"], parts["in kind: quantities"] = pr.sum("good"), qu.sum("good")
    if "liquidity_rent" in d and not int(d.attrs.get("gams_compat", 0)):
        parts["liquidity constraint"] = change(d, "liquidity_rent").sum(["good", "factor"])
    fixed = d["factor_market_level"] == "fixed"
    rent = d["rent"].where(fixed).fillna(0.0)
    units = d["factor_demand"].where(fixed, 0.0)
    pr, qu = _lagged_product(rent, units)
    for g in d["good"].values:
        if float(abs(units.sel(good=g)).max()) > 0:
            parts[f"{g}: fixed-factor rents"] = pr.sel(good=g).sum("factor")
            parts[f"{g}: fixed-factor units"] = qu.sel(good=g).sum("factor")
    wage = d["wage"].sel(village=d["household_village"]).drop_vars(["village", "household_village"], errors="ignore")
    pr, qu = _lagged_product(wage.fillna(0.0), d["factor_supply"])
    for f in d["factor"].values:
        if float(abs(d["factor_supply"].sel(factor=f)).max()) > 0:
            parts[f"{f}: wages"], parts[f"{f}: labour supplied"] = pr.sel(factor=f), qu.sel(factor=f)
    out = xr.concat([zero + v for v in parts.values()], dim="channel", coords="minimal", compat="override")
    out = out.assign_coords(channel=list(parts))
    out.attrs = {"long_name": "change in nominal income by channel", "units": ds["income"].attrs.get("units", "")}
    return out


def synergy_by_channel(ds: xr.Dataset, *, by: str = "total") -> xr.DataArray:
    """`synergy` of nominal income split by channel (`income_change_by_channel`): for each combined
    variant, the combined change through a channel minus the sum of its parts' changes through it.
    The channels add up to ``synergy(ds, by=...)``; e.g. a cash transfer relaxing a liquidity
    constraint on inputs that a productivity package makes more valuable shows its synergy in
    ``liquidity constraint`` and in the activity's ``fixed-factor rents``, while extra demand meeting
    extra supply in a local market shows in that market's rents and wages. Computed draw by draw, so
    ``bands(synergy_by_channel(ds))`` is the band of each channel's synergy."""
    if by not in ("household", "total"):
        raise ValueError(f"by must be household or total, not {by!r}")
    d = income_change_by_channel(ds)
    out = _combined_minus_singles(ds, d)
    if by == "total":
        out = out.sum("household", min_count=1)
    out.attrs = {"long_name": "synergy in nominal income by channel (combined variant minus the sum of its parts)",
                 "units": d.attrs.get("units", "")}
    return out


def shadow_price(ds: xr.Dataset) -> xr.DataArray:
    """Shadow price λ of each liquidity-constrained input use (`lewie.model.liquidity`): 1 + rent / spending,
    where spending is the input's price × quantity; NaN where the use is not constrained. λ < 1 in a
    simulated state means the budget no longer binds: the model, whose constraint always binds (as in
    the published GAMS code), then makes the household spend more on inputs than it would choose."""
    d = converged_only(ds)
    wage = d["wage"].sel(village=d["household_village"]).drop_vars(["village", "household_village"], errors="ignore")
    spending = wage * d["factor_demand"]
    constrained = (d["liquidity_rent"] != 0) | (d["input_finance"] != 0)
    if "state" in constrained.dims:
        constrained = constrained.any("state")
    out = (1.0 + d["liquidity_rent"] / spending.where(spending != 0)).where(constrained)
    out.attrs = {"long_name": "shadow price of a liquidity-constrained input (marginal value product per unit "
                              "spent)", "units": "1"}
    return out


def sweep_dims(ds: xr.Dataset) -> list[str]:
    """The dims of the results that are sweeps of a scenario setting (attribute ``sweeps``), in order."""
    names = str(ds.attrs.get("sweeps", "") or "")
    return [d for d in names.split(",") if d and d in ds.dims]
