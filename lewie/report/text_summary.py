"""The short plain-text summary `lewie run` prints."""
from __future__ import annotations

import xarray as xr

from lewie.results import analysis as A
from lewie.results.analysis import sweep_dims


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


def _money_band(ds: xr.Dataset, da: xr.DataArray) -> str:
    """'[p05, p95]' of a money amount over the converged random draws."""
    from lewie.results.statistics import summarize
    st = summarize(ds, da.rename("value"))["value"].squeeze()
    lo, hi = float(st.sel(statistic="p05")), float(st.sel(statistic="p95"))
    return f"[{lo:,.2f}, {hi:,.2f}]" if lo == lo else "-"


def _band(ds: xr.Dataset, da: xr.DataArray) -> str:
    """'[p05, p95]' of a scalar-per-draw quantity over the converged random draws."""
    from lewie.results.statistics import summarize
    st = summarize(ds, da.rename("value"))["value"].squeeze()
    lo, hi = float(st.sel(statistic="p05")), float(st.sel(statistic="p95"))
    return f"[{lo:.3f}, {hi:.3f}]" if lo == lo else "-"


def _bands(ds: xr.Dataset, da: xr.DataArray, dim: str, *, money: bool) -> list[str]:
    """`_band` (or `_money_band`) of each element of ``da`` along ``dim``, in its order, from one
    `summarize` (each element's percentiles are its own, as if summarized alone)."""
    from lewie.results.statistics import summarize
    st = summarize(ds, da.rename("value"))["value"]
    lo, hi = st.sel(statistic="p05"), st.sel(statistic="p95")
    out = []
    for label in da[dim].values:
        a, b = float(lo.sel({dim: label}).squeeze()), float(hi.sel({dim: label}).squeeze())
        out.append(("-" if a != a else f"[{a:,.2f}, {b:,.2f}]") if money else
                   ("-" if a != a else f"[{a:.3f}, {b:.3f}]"))
    return out


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
    for v in variants:
        out += _variant_summary(ds.sel(variant=[v]), v, several=len(variants) > 1, draws=draws) + [""]
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
                row.append(_band(sub, A.income_multiplier(sub)))
            rows.append(row)
    header = ["variant", "setting", "nominal", "real"] + (["nominal 5-95%"] if draws else [])
    return (["Sensitivity: total income multipliers at each swept setting (point estimates)"]
            + _table(header, rows, [14, 34, 9, 9] + ([18] if draws else [])))


def _variant_summary(ds: xr.Dataset, v: str, *, several: bool, draws: bool = False) -> list[str]:
    full = ds.isel({d: 0 for d in sweep_dims(ds)})
    one = _point(ds).squeeze("variant", drop=True)
    names = [str(i) for i, on in zip(one["intervention"].values, one["includes"].values) if on]
    benef = [str(h) for h, on in zip(one["household"].values, one["beneficiary"].values) if on]
    out = []
    if several:
        out.append(f"== variant '{v}': {', '.join(names) or '(no interventions)'}")
    from lewie.results.provenance import currency_of
    cur = currency_of(ds)
    if _sweep_note(ds):
        out.append(f"(figures {_sweep_note(ds)})")
    out.append(f"intervention cost {float(one['cost']):,.2f} {cur}; beneficiaries: {', '.join(benef) or '-'}")
    out.append("")
    nom = A.income_multiplier(one, by="group")
    real = A.income_multiplier(one, by="group", real=True)
    out.append("Income multipliers (income change per unit of cost)")
    rows = [["total", f"{float(A.income_multiplier(one)):.3f}", f"{float(A.income_multiplier(one, real=True)):.3f}"]]
    rows += [[str(g), f"{float(nom.sel(group=g)):.3f}", f"{float(real.sel(group=g)):.3f}"] for g in nom["group"].values]
    widths = [20, 9, 9]
    header = ["", "nominal", "real"]
    if draws:
        bn, br = A.income_multiplier(full, by="group"), A.income_multiplier(full, by="group", real=True)
        rows[0] += [_band(full, A.income_multiplier(full)), _band(full, A.income_multiplier(full, real=True))]
        for r, a, b in zip(rows[1:], _bands(full, bn, "group", money=False), _bands(full, br, "group", money=False)):
            r += [a, b]
        header += ["nominal 5-95%", "real 5-95%"]
        widths += [18, 18]
    out += _table(header, rows, widths) + [""]

    out.append(f"Income change by household group ({cur})")
    dn, dr, pc = A.change(one, "income"), A.change(one, "real_income"), A.pct_change(one, "income")
    rows = [[h, f"{float(dn.sel(household=h)):,.2f}", f"{float(dr.sel(household=h)):,.2f}",
             f"{float(pc.sel(household=h)):.2f}%"] for h in one["household"].values]
    header, widths = ["household", "nominal", "real", "% nominal"], [20, 12, 12, 10]
    if draws:
        fn, fr = A.change(full, "income"), A.change(full, "real_income")
        bn, br = (_bands(full, x.sel(household=one["household"].values), "household", money=True) for x in (fn, fr))
        for r, a, b in zip(rows, bn, br):
            r += [a, b]
        header += ["nominal 5-95%", "real 5-95%"]
        widths += [24, 24]
    out += _table(header, rows, widths) + [""]

    out.append("Production change by activity (base-price value)")
    dp = A.production_change(one)
    base = one["production"].sel(state="base").sum("household")
    rows = [[g, f"{float(dp.sel(good=g)):,.2f}",
             f"{100 * float(dp.sel(good=g)) / float(base.sel(good=g)):.2f}%" if float(base.sel(good=g)) else "-"]
            for g in one["good"].values]
    out += _table(["activity", "change", "%"], rows, [20, 12, 10]) + [""]

    out.append("Price and wage changes (local markets)")
    rows = []
    pp = A.pct_change(one, "price")
    for g in one["good"].values:
        if str(one["market_level"].sel(good=g).item()) == "world":
            continue
        for vil in one["village"].values:
            rows.append([f"price {g}", str(vil), f"{float(pp.sel(good=g, village=vil)):.3f}%"])
    wp = A.pct_change(one, "wage")
    for f in one["factor"].values:
        if str(one["factor_market_level"].sel(factor=f).item()) in ("world", "fixed"):
            continue
        for vil in one["village"].values:
            rows.append([f"wage {f}", str(vil), f"{float(wp.sel(factor=f, village=vil)):.3f}%"])
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
