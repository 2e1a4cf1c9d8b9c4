"""The short plain-text summary `lewie run` prints."""
from __future__ import annotations

import xarray as xr

from . import analysis as A


def _table(header: list[str], rows: list[list], widths: list[int]) -> list[str]:
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*header)] + [fmt.format(*r) for r in rows]


def summary(ds: xr.Dataset) -> str:
    """Multipliers, income change by household group, production change by activity, price and wage
    changes, for a single-run results Dataset."""
    out = [f"{ds.attrs.get('scenario', '')}",
           f"solver {ds.attrs.get('solver')}: {ds.attrs.get('solver_status')} in "
           f"{ds.attrs.get('solver_iterations')} iterations; worst relative residual "
           f"{ds.attrs.get('max_relative_residual', float('nan')):.1e}",
           f"intervention cost {A.cost(ds):,.2f}; beneficiaries: {ds.attrs.get('beneficiaries') or '-'}", ""]
    nom = A.income_multiplier(ds, by="group")
    real = A.income_multiplier(ds, by="group", real=True)
    out.append("Income multipliers (income change per unit of cost)")
    rows = [["total", f"{float(A.income_multiplier(ds)):.3f}", f"{float(A.income_multiplier(ds, real=True)):.3f}"]]
    rows += [[str(g), f"{float(nom.sel(group=g)):.3f}", f"{float(real.sel(group=g)):.3f}"] for g in nom["group"].values]
    out += _table(["", "nominal", "real"], rows, [20, 9, 9]) + [""]

    out.append("Income change by household group")
    dn, dr, pc = A.change(ds, "income"), A.change(ds, "real_income"), A.pct_change(ds, "income")
    rows = [[h, f"{float(dn.sel(household=h)):,.2f}", f"{float(dr.sel(household=h)):,.2f}",
             f"{float(pc.sel(household=h)):.2f}%"] for h in ds["household"].values]
    out += _table(["household", "nominal", "real", "% nominal"], rows, [20, 12, 12, 10]) + [""]

    out.append("Production change by activity (base-price value)")
    dp = A.production_change(ds)
    base = ds["production"].sel(state="base").sum("household")
    rows = [[g, f"{float(dp.sel(good=g)):,.2f}",
             f"{100 * float(dp.sel(good=g)) / float(base.sel(good=g)):.2f}%" if float(base.sel(good=g)) else "-"]
            for g in ds["good"].values]
    out += _table(["activity", "change", "%"], rows, [20, 12, 10]) + [""]

    out.append("Price and wage changes (local markets)")
    rows = []
    pp = A.pct_change(ds, "price")
    for g in ds["good"].values:
        if str(ds["market_level"].sel(good=g).item()) == "world":
            continue
        for v in ds["village"].values:
            rows.append([f"price {g}", str(v), f"{float(pp.sel(good=g, village=v)):.3f}%"])
    wp = A.pct_change(ds, "wage")
    for f in ds["factor"].values:
        if str(ds["factor_market_level"].sel(factor=f).item()) in ("world", "fixed"):
            continue
        for v in ds["village"].values:
            rows.append([f"wage {f}", str(v), f"{float(wp.sel(factor=f, village=v)):.3f}%"])
    out += _table(["", "village", "change"], rows, [20, 12, 10]) if rows else ["  (no local markets)"]
    return "\n".join(out)
