"""The short plain-text summary `lewie run` prints."""
from __future__ import annotations

import xarray as xr

from . import analysis as A


def _table(header: list[str], rows: list[list], widths: list[int]) -> list[str]:
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*header)] + [fmt.format(*r) for r in rows]


def summary(ds: xr.Dataset) -> str:
    """Per variant: multipliers, income change by household group, production change by activity,
    price and wage changes; then, with several variants, their multipliers side by side and the
    synergy of each combined variant."""
    out = [f"{ds.attrs.get('scenario', '')}",
           f"solver {ds.attrs.get('solver')}: {ds.attrs.get('solver_status')} in "
           f"{ds.attrs.get('solver_iterations')} iterations; worst relative residual "
           f"{ds.attrs.get('max_relative_residual', float('nan')):.1e}", ""]
    variants = [str(v) for v in ds["variant"].values]
    for v in variants:
        out += _variant_summary(ds.sel(variant=[v]), v, several=len(variants) > 1) + [""]
    if len(variants) > 1:
        out += _comparison(ds) + [""]
        out += _synergy(ds)
    return "\n".join(out).rstrip()


def _variant_summary(ds: xr.Dataset, v: str, *, several: bool) -> list[str]:
    one = ds.squeeze("variant", drop=True)
    names = [str(i) for i, on in zip(one["intervention"].values, one["includes"].values) if on]
    benef = [str(h) for h, on in zip(one["household"].values, one["beneficiary"].values) if on]
    out = []
    if several:
        out.append(f"== variant '{v}': {', '.join(names) or '(no interventions)'}")
    out.append(f"intervention cost {float(one['cost']):,.2f}; beneficiaries: {', '.join(benef) or '-'}")
    out.append("")
    nom = A.income_multiplier(one, by="group")
    real = A.income_multiplier(one, by="group", real=True)
    out.append("Income multipliers (income change per unit of cost)")
    rows = [["total", f"{float(A.income_multiplier(one)):.3f}", f"{float(A.income_multiplier(one, real=True)):.3f}"]]
    rows += [[str(g), f"{float(nom.sel(group=g)):.3f}", f"{float(real.sel(group=g)):.3f}"] for g in nom["group"].values]
    out += _table(["", "nominal", "real"], rows, [20, 9, 9]) + [""]

    out.append("Income change by household group")
    dn, dr, pc = A.change(one, "income"), A.change(one, "real_income"), A.pct_change(one, "income")
    rows = [[h, f"{float(dn.sel(household=h)):,.2f}", f"{float(dr.sel(household=h)):,.2f}",
             f"{float(pc.sel(household=h)):.2f}%"] for h in one["household"].values]
    out += _table(["household", "nominal", "real", "% nominal"], rows, [20, 12, 12, 10]) + [""]

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
