"""Derived results: changes, percentage changes, income and production multipliers.

Functions of a results Dataset (never stored as suffixed copies). Every function keeps the
Dataset's other dims (e.g. ``draw``, ``variant``) so it works on Monte Carlo results unchanged.
"""
from __future__ import annotations

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


def cost(ds: xr.Dataset) -> float:
    """The interventions' cost recorded in the results (the multipliers' denominator)."""
    return float(ds.attrs["intervention_cost"])


def beneficiary_mask(ds: xr.Dataset) -> xr.DataArray:
    names = [h for h in str(ds.attrs.get("beneficiaries", "")).split(",") if h]
    return ds["household"].isin(names)


def income_change(ds: xr.Dataset, *, real: bool = False, by: str = "total"):
    """Change in nominal (or real) income: ``total``, by ``household``, by ``village`` or by ``group``
    (beneficiaries vs non-beneficiaries)."""
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
