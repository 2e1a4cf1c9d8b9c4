"""The short plain-text summary `lewie run` prints."""
from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from lewie.results import analysis as A
from lewie.results.analysis import sweep_dims
from lewie.results.statistics import CONVERGED, _mask_for


def _table(header: list[str], rows: list[list], widths: list[int]) -> list[str]:
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*header)] + [fmt.format(*r) for r in rows]


def _has_draws(ds: xr.Dataset) -> bool:
    """Random draws that carry parameter uncertainty: only then are bands shown."""
    from lewie.results.uncertainty import has_bands
    return has_bands(ds)


def _sweep_note(ds: xr.Dataset) -> str:
    """Which sweep value the point figures are at ('' without sweeps)."""
    sweeps = sweep_dims(ds)
    if not sweeps:
        return ""
    at = ", ".join(f"{d} = {ds[d].values[0]:g}" for d in sweeps)
    return f"at {at} (the first value of the sweep; every value: the sensitivity table below)"


def _point(ds: xr.Dataset) -> xr.Dataset:
    """The point estimates (draw 0) at the first value of every sweep."""
    if "draw" in ds.dims:
        ds = ds.sel(draw=0) if bool((ds["draw"] == 0).any()) else ds.isel(draw=0)
    return ds.isel({d: 0 for d in sweep_dims(ds)})


class _Bands:
    """5th and 95th percentiles over the converged random draws, exactly as
    `lewie.results.statistics.summarize` computes its ``p05`` and ``p95`` (the same draws, the same
    mask of failed solves, the same ``numpy.nanpercentile``), with the draws and the mask found once
    for the whole summary instead of once per figure."""

    def __init__(self, ds: xr.Dataset):
        draws = ds["draw"]
        random = draws != 0
        self.use = draws if not bool(random.any()) else draws[random]
        self.ok = (ds["status"].astype(str) == CONVERGED).sel(draw=self.use) if "status" in ds else None

    def __call__(self, da: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
        """(p05, p95) of ``da`` over its draws, with ``da``'s other dims."""
        if "draw" not in da.dims:
            raise ValueError(f"{da.name or 'the variable'} has no 'draw' dim (dims: {da.dims})")
        da = da.sel(draw=self.use)
        if self.ok is not None:
            ok = self.ok.sel(variant=da["variant"]) if "variant" in da.dims and "variant" in self.ok.dims else self.ok
            da = da.where(_mask_for(ok, da, "draw"))
        da = da.astype(float).transpose(..., "draw")
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            p = np.nanpercentile(da.values, [5, 50, 95], axis=-1)
        dims = da.dims[:-1]
        return xr.DataArray(p[0], dims=dims), xr.DataArray(p[2], dims=dims)


def _band(bands: _Bands, da: xr.DataArray) -> str:
    """'[p05, p95]' of a scalar-per-draw quantity over the converged random draws."""
    lo, hi = (float(x.squeeze()) for x in bands(da))
    return f"[{lo:.3f}, {hi:.3f}]" if lo == lo else "-"


_SUMMARY_VARIABLES = ("income", "real_income", "production", "price", "wage", "cost", "beneficiary", "includes",
                      "market_level", "factor_market_level", "status", "reason", "status_code")


def summary(ds: xr.Dataset) -> str:
    """The solver outcome and, with Monte Carlo draws, what the bands are and which solves failed;
    per variant: multipliers (point estimates, and with draws their 5th–95th percentile band),
    income change by household group, production change by activity, price and wage changes (at
    the point estimates); with several variants, their multipliers side by side and the synergy of
    each combined variant; with sweeps, the total multipliers at every sweep point."""
    from lewie.results.provenance import currency_of
    from lewie.results.uncertainty import NO_UNCERTAINTY, random_draws
    draws = _has_draws(ds)
    status = ds["status"].astype(str) if "status" in ds else None
    n = int(status.size) if status is not None else len(ds["variant"])
    failed = status != "converged" if status is not None else None
    n_failed = int(failed.sum()) if failed is not None else 0
    shape = " × ".join(f"{ds.sizes[d]} {d.replace('_', ' ')}" + ("s" if d in ("variant", "draw") and ds.sizes[d] != 1
                                                                  else "") for d in (status.dims if status is not None
                                                                                     else ("variant",)))
    out = [f"{ds.attrs.get('scenario', '')}",
           f"solver {ds.attrs.get('solver')}: {n} solve{'s' if n != 1 else ''} ({shape}), "
           + ("all converged" if not n_failed else f"{n_failed} failed") + f"; {ds.attrs.get('solver_iterations')} "
           f"iterations; worst relative residual {ds.attrs.get('max_relative_residual', float('nan')):.1e}"]
    if random_draws(ds):
        last = int(ds["draw"].max())
        method = ds.attrs.get("draw_method", "")
        src = (f"supplied by {ds.attrs.get('draws_file')}" if method == "supplied"
               else f"seed {ds.attrs.get('seed')}, method {method}")
        if draws:
            out.append(f"Monte Carlo: draws 1..{last} ({src}); bands are the 5th-95th percentiles over the converged "
                       "draws; other figures are at the point estimates (draw 0)")
        else:
            out.append(f"Monte Carlo: draws 1..{last} ({src}); {NO_UNCERTAINTY} (every draw is the point "
                       "estimates: the parameter table gives no standard errors)")
    out.append(f"levels in {currency_of(ds)}")
    if _sweep_note(ds):
        out.append(f"sweep: {', '.join(f'{d} = ' + ', '.join(f'{x:g}' for x in ds[d].values) for d in sweep_dims(ds))}; "
                   f"the tables per variant are {_sweep_note(ds)}")
    if n_failed:
        st = failed.stack(member=failed.dims)
        bad = st[st]
        out.append(f"failed: {n_failed} of {n} solves (left out of every statistic); first:")
        for i in range(min(3, bad.sizes["member"])):
            m = bad.isel(member=i)
            sel = {d: m[d].values for d in failed.dims}
            where = ", ".join(f"{d} {sel[d]}" for d in failed.dims)
            out.append(f"  {where}: {ds['status'].sel(sel).item()}: {ds['reason'].sel(sel).item()}")
    out.append("")
    variants = [str(v) for v in ds["variant"].values]
    ds = ds[[k for k in _SUMMARY_VARIABLES if k in ds.data_vars]]  # what the tables read: cheaper slicing
    fig = _Figures(ds, _Bands(ds.isel({d: 0 for d in sweep_dims(ds)})) if draws else None)
    for i in range(len(variants)):
        out += _variant_summary(ds, fig, i, several=len(variants) > 1) + [""]
    point = _point(ds)
    if len(variants) > 1:
        if _sweep_note(ds):
            out.append(f"(variants side by side and synergy {_sweep_note(ds)})")
        out += _comparison(point) + [""]
        out += _synergy(point)
    sweeps = sweep_dims(ds)
    if sweeps:
        out += [""] + _sensitivity(ds, sweeps, draws)
    return "\n".join(out).rstrip()


def _sensitivity(ds: xr.Dataset, sweeps: list[str], draws: bool) -> list[str]:
    import itertools
    nom, real = A.income_multiplier(ds), A.income_multiplier(ds, real=True)
    rows = []
    for v in ds["variant"].values:
        for combo in itertools.product(*(ds[d].values.tolist() for d in sweeps)):
            sel = dict(zip(sweeps, combo))
            at = {"variant": v, **sel}
            pn, pr = nom.sel(at), real.sel(at)
            if "draw" in pn.dims:
                pn, pr = pn.sel(draw=0), pr.sel(draw=0)
            row = [str(v), ", ".join(f"{d}={x:g}" for d, x in sel.items()), f"{float(pn):.3f}", f"{float(pr):.3f}"]
            if draws:
                sub = ds.sel({"variant": [v], **sel})
                row.append(_band(_Bands(sub), A.income_multiplier(sub)))
            rows.append(row)
    header = ["variant", "setting", "nominal", "real"] + (["nominal 5-95%"] if draws else [])
    return (["Sensitivity: total income multipliers at each swept setting (point estimates)"]
            + _table(header, rows, [14, 34, 9, 9] + ([18] if draws else [])))


class _Figures:
    """The figures of every variant's tables, computed once for all variants (the analysis functions
    work elementwise over ``variant``, so each variant's figures are the ones it would get alone) and
    kept as arrays indexed by variant: the point estimates (draw 0, first sweep value) and, with
    ``bands``, the 5th–95th percentile bands over the draws (first sweep value)."""

    def __init__(self, ds: xr.Dataset, bands: _Bands | None):
        point = _point(ds)
        self.point = point

        def arr(da, *dims):
            return da.transpose("variant", *dims).values

        self.mult = [arr(A.income_multiplier(point, real=r)) for r in (False, True)]
        group = A.income_multiplier(point, by="group")
        self.groups = [str(g) for g in group["group"].values]
        self.mult_group = [arr(group, "group"), arr(A.income_multiplier(point, by="group", real=True), "group")]
        self.households = [str(h) for h in point["household"].values]
        self.change = [arr(A.change(point, var), "household") for var in ("income", "real_income")]
        self.pct_income = arr(A.pct_change(point, "income"), "household")
        self.goods = [str(g) for g in point["good"].values]
        self.production = arr(A.production_change(point), "good")
        self.base_production = arr(point["production"].sel(state="base").sum("household"), "good")
        self.villages = [str(v) for v in point["village"].values]
        self.price = arr(A.pct_change(point, "price"), "good", "village")
        self.factors = [str(f) for f in point["factor"].values]
        self.wage = arr(A.pct_change(point, "wage"), "factor", "village")
        self.bands = bands is not None
        if bands is None:
            return
        full = ds.isel({d: 0 for d in sweep_dims(ds)})

        def band(da, *dims):
            return tuple(x.transpose("variant", *dims).values for x in bands(da))

        self.band_mult = [band(A.income_multiplier(full, real=r)) for r in (False, True)]
        self.band_group = [band(A.income_multiplier(full, by="group", real=r), "group") for r in (False, True)]
        self.band_change = [band(A.change(full, var).sel(household=point["household"].values), "household")
                            for var in ("income", "real_income")]


def _fmt_band(lo: float, hi: float, money: bool) -> str:
    if lo != lo:
        return "-"
    return f"[{lo:,.2f}, {hi:,.2f}]" if money else f"[{lo:.3f}, {hi:.3f}]"


def _variant_summary(ds: xr.Dataset, fig: _Figures, i: int, *, several: bool) -> list[str]:
    """The tables of variant ``i`` of ``ds`` (its figures from ``fig``)."""
    one = fig.point.isel(variant=i)
    names = [str(x) for x, on in zip(one["intervention"].values, one["includes"].values) if on]
    benef = [str(h) for h, on in zip(one["household"].values, one["beneficiary"].values) if on]
    out = []
    if several:
        out.append(f"== variant '{ds['variant'].values[i]}': {', '.join(names) or '(no interventions)'}")
    from lewie.results.provenance import currency_of
    cur = currency_of(ds)
    if _sweep_note(ds):
        out.append(f"(figures {_sweep_note(ds)})")
    out.append(f"intervention cost {float(one['cost']):,.2f} {cur}; beneficiaries: {', '.join(benef) or '-'}")
    out.append("")
    out.append("Income multipliers (income change per unit of cost)")
    rows = [["total", f"{float(fig.mult[0][i]):.3f}", f"{float(fig.mult[1][i]):.3f}"]]
    rows += [[g, f"{float(fig.mult_group[0][i, k]):.3f}", f"{float(fig.mult_group[1][i, k]):.3f}"]
             for k, g in enumerate(fig.groups)]
    widths = [20, 9, 9]
    header = ["", "nominal", "real"]
    if fig.bands:
        rows[0] += [_fmt_band(float(b[0][i]), float(b[1][i]), False) for b in fig.band_mult]
        for k, r in enumerate(rows[1:]):
            r += [_fmt_band(float(b[0][i, k]), float(b[1][i, k]), False) for b in fig.band_group]
        header += ["nominal 5-95%", "real 5-95%"]
        widths += [18, 18]
    out += _table(header, rows, widths) + [""]

    out.append(f"Income change by household group ({cur})")
    dn, dr, pc = fig.change[0][i], fig.change[1][i], fig.pct_income[i]
    rows = [[h, f"{float(dn[k]):,.2f}", f"{float(dr[k]):,.2f}", f"{float(pc[k]):.2f}%"]
            for k, h in enumerate(fig.households)]
    header, widths = ["household", "nominal", "real", "% nominal"], [20, 12, 12, 10]
    if fig.bands:
        for k, r in enumerate(rows):
            r += [_fmt_band(float(b[0][i, k]), float(b[1][i, k]), True) for b in fig.band_change]
        header += ["nominal 5-95%", "real 5-95%"]
        widths += [24, 24]
    out += _table(header, rows, widths) + [""]

    out.append("Production change by activity (base-price value)")
    dp, base = fig.production[i], fig.base_production[i]
    rows = [[g, f"{float(dp[k]):,.2f}", f"{100 * float(dp[k]) / float(base[k]):.2f}%" if float(base[k]) else "-"]
            for k, g in enumerate(fig.goods)]
    out += _table(["activity", "change", "%"], rows, [20, 12, 10]) + [""]

    out.append("Price and wage changes (local markets)")
    rows = []
    levels = ds["market_level"].values
    for k, g in enumerate(fig.goods):
        if str(levels[k]) == "world":
            continue
        for j, vil in enumerate(fig.villages):
            rows.append([f"price {g}", vil, f"{float(fig.price[i, k, j]):.3f}%"])
    levels = ds["factor_market_level"].values
    for k, f in enumerate(fig.factors):
        if str(levels[k]) in ("world", "fixed"):
            continue
        for j, vil in enumerate(fig.villages):
            rows.append([f"wage {f}", vil, f"{float(fig.wage[i, k, j]):.3f}%"])
    out += _table(["", "village", "change"], rows, [20, 12, 10]) if rows else ["  (no local markets)"]
    return out


def _comparison(ds: xr.Dataset) -> list[str]:
    nom, real = A.income_multiplier(ds), A.income_multiplier(ds, real=True)
    dn, dr = A.income_change(ds), A.income_change(ds, real=True)
    rows = [[str(v), f"{float(ds['cost'].sel(variant=v)):,.2f}", f"{float(dn.sel(variant=v)):,.2f}",
             f"{float(dr.sel(variant=v)):,.2f}", f"{float(nom.sel(variant=v)):.3f}", f"{float(real.sel(variant=v)):.3f}"]
            for v in ds["variant"].values]
    return (["Variants side by side (total income change and multipliers)"]
            + _table(["variant", "cost", "nominal", "real", "mult.", "real mult."], rows, [20, 14, 12, 12, 8, 10]))


def _synergy(ds: xr.Dataset) -> list[str]:
    nom, real = A.synergy(ds), A.synergy(ds, real=True)
    if nom.sizes["variant"] == 0:
        return []
    out = []
    for v, parts in zip(nom["variant"].values, nom["parts"].values):
        out.append(f"Synergy of '{v}' (its income change minus that of {parts})")
        rows = [[str(h), f"{float(nom.sel(variant=v, household=h)):,.2f}",
                 f"{float(real.sel(variant=v, household=h)):,.2f}"] for h in ds["household"].values]
        rows.append(["total", f"{float(nom.sel(variant=v).sum()):,.2f}", f"{float(real.sel(variant=v).sum()):,.2f}"])
        out += _table(["household", "nominal", "real"], rows, [20, 12, 12]) + [""]
    return out
