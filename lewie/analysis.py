"""Derived results: changes, percentage changes, income and production multipliers, synergies.

Functions of a results Dataset (never stored as suffixed copies). Every function keeps the
Dataset's other dims (``variant``, later ``draw``), so ``float(...)`` works when there is one variant
and ``.sel(variant=...)`` picks one otherwise.
"""
from __future__ import annotations

from itertools import combinations

import xarray as xr


def change(ds: xr.Dataset, var: str | None = None):
    """Simulated minus base, for one variable or the whole Dataset."""
    obj = ds if var is None else ds[var]
    out = obj.sel(state="simulated", drop=True) - obj.sel(state="base", drop=True)
    return out


def pct_change(ds: xr.Dataset, var: str | None = None):
    """Percentage change from the base (NaN where the base is zero)."""
    obj = ds if var is None else ds[var]
    base = obj.sel(state="base", drop=True)
    return 100.0 * (obj.sel(state="simulated", drop=True) - base) / base.where(base != 0)


def cost(ds: xr.Dataset) -> xr.DataArray:
    """Each variant's cost (the multipliers' denominator): its interventions' costs, each defaulting
    to the value transferred."""
    return ds["cost"]


def beneficiary_mask(ds: xr.Dataset) -> xr.DataArray:
    """True for the household groups a variant's interventions reach directly (variant, household)."""
    return ds["beneficiary"]


def income_change(ds: xr.Dataset, *, real: bool = False, by: str = "total"):
    """Change in nominal (or real) income: ``total``, by ``household``, by ``village`` or by ``group``
    (beneficiaries vs non-beneficiaries of each variant)."""
    d = change(ds, "real_income" if real else "income")
    if by == "household":
        return d
    if by == "total":
        return d.sum("household")
    if by == "village":
        return d.groupby(ds["household_village"].rename("village_of")).sum().rename(village_of="village")
    if by == "group":
        mask = beneficiary_mask(ds)
        return xr.concat([d.where(mask, 0).sum("household"), d.where(~mask, 0).sum("household")],
                         dim=xr.DataArray(["beneficiaries", "non_beneficiaries"], dims="group", name="group"))
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
    return ds["production"] * ds["household_price"]


def production_change(ds: xr.Dataset, *, by: str = "good"):
    """Change in output (base-price value) by activity (``good``) or by ``household`` and activity."""
    d = change(ds, "production")
    return d.sum("household") if by == "good" else d


def production_multiplier(ds: xr.Dataset):
    """Change in the value of output by activity per unit of intervention cost."""
    pv = production_value(ds)
    d = (pv.sel(state="simulated", drop=True) - pv.sel(state="base", drop=True)).sum("household")
    out = d / cost(ds)
    out.attrs = {"long_name": "production multiplier", "units": "per unit of cost"}
    return out


def value_added_multiplier(ds: xr.Dataset):
    """Change in nominal value added (value-added price × output), all activities, per unit of cost."""
    va = ds["production"] * ds["value_added_price"].fillna(0)
    d = (va.sel(state="simulated", drop=True) - va.sel(state="base", drop=True)).sum(("good", "household"))
    return d / cost(ds)


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


def synergy(ds: xr.Dataset, var: str | None = None, *, real: bool = False, by: str = "household"):
    """Effect of each combined variant minus the sum of the effects of the variants it combines.

    ``var`` defaults to income (real income with ``real=True``); ``by="household"`` keeps the
    variable's dims, ``by="total"`` sums over household groups. The result has one entry per
    combined variant (see `combinations_of`), whose parts are given by the ``parts`` coordinate.
    Zero means the programmes' effects add up; positive, that together they do more.
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
    combos = combinations_of(ds)
    if combos:
        rows = [d.sel(variant=v) - sum(d.sel(variant=u) for u in parts) for v, parts in combos.items()]
        out = xr.concat(rows, dim="variant", coords="minimal", compat="override")
        out = out.assign_coords(variant=list(combos), parts=("variant", [" + ".join(p) for p in combos.values()]))
    else:
        out = d.isel(variant=slice(0, 0)).assign_coords(parts=("variant", []))
    if by == "total" and "household" in out.dims:
        out = out.sum("household")
    what = ds[var].attrs.get("long_name", var)
    out.attrs = {"long_name": f"synergy in {what} (combined variant minus the sum of its parts)",
                 "units": ds[var].attrs.get("units", "")}
    return out
