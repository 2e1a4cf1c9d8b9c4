"""The SAM of a stored state (base or simulated) of any variant and draw, rebuilt from a results
Dataset alone: no re-solve, no scenario or SAM file needed.

The same accounting as `lewie.model.social_accounts.sam_from_model` (which reads a built Pyomo model),
read from the stored results: values at the state's prices (output and intermediate inputs at the
household's prices, factors at their wage or rent, consumption at the household's prices), the
households' leakages, exogenous income plus goods received in kind (``in_kind``, valued at the
household's prices), exogenous local demand (``exogenous_demand``) paid by the outside, and net
trade with the outside closing each commodity and tradable-factor account. Every account balances
(activities by zero profit, households by their budget, the outside by Walras' law). At the base of
draw 0 it is the input SAM.

    ds = lewie.run("scenarios/example_village.toml")
    sam = sam_from_results(ds, variant="all", state="simulated", draw=0)
    ds.lewie.sam(state="simulated")          # the same, through the accessor
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from lewie.sam.accounts import LEAKAGES, account

from lewie.errors import InputError, unknown_label
from lewie.model.social_accounts import net_flows

NEEDED = ("production", "intermediate_demand", "factor_demand", "rent", "wage", "factor_supply", "consumption",
          "household_price", "price", "savings", "transfers_out", "outside_spending", "exogenous_income",
          "in_kind", "exogenous_demand", "factor_market_level")
_LEAK_VAR = {"savings": "savings", "transfers": "transfers_out", "spending": "outside_spending"}
_STATES = ("base", "simulated")


def _pick(ds: xr.Dataset, dim: str, value, *, file=None):
    values = [x.item() if hasattr(x, "item") else x for x in ds[dim].values]
    for x in values:
        if str(x) == str(value) or (isinstance(x, (int, float)) and _num(value) == x):
            return x
    if dim == "draw":
        raise InputError(f"draw {value} is not in the results (draws {min(values)}..{max(values)})", file=file,
                         field="--draw", label=str(value))
    raise InputError(unknown_label(dim.replace("_", " "), str(value), [str(x) for x in values]), file=file,
                     field=f"--{dim}" if dim in ("variant", "draw", "state") else "--at", label=str(value))


def _num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def select_state(ds: xr.Dataset, *, variant=None, state: str = "simulated", draw=0, at: dict | None = None,
                 file=None) -> xr.Dataset:
    """One state of the results: a variant (default: the only one), state, draw and, with sweeps, one
    value of each sweep dim (``at``; default: the only value). Bad labels are `InputError`s."""
    missing = [v for v in NEEDED if v not in ds]
    if missing:
        raise InputError(f"these results lack {', '.join(missing)} (written by an older lewie?); run the scenario "
                         "again to export its SAMs", file=file)
    at = dict(at or {})
    sel = {}
    if "variant" in ds.dims:
        if variant is None:
            if ds.sizes["variant"] != 1:
                raise InputError("the results have several variants; choose one with --variant: "
                                 + ", ".join(str(v) for v in ds["variant"].values), file=file, field="--variant")
            variant = ds["variant"].values[0]
        sel["variant"] = _pick(ds, "variant", variant, file=file)
    if state not in _STATES:
        raise InputError(unknown_label("state", state, _STATES), file=file, field="--state", label=str(state))
    sel["state"] = state
    if "draw" in ds.dims:
        sel["draw"] = _pick(ds, "draw", draw, file=file)
    from lewie.results.analysis import sweep_dims
    for d in sweep_dims(ds):
        if d in at:
            sel[d] = _pick(ds, d, at.pop(d), file=file)
        elif ds.sizes[d] == 1:
            sel[d] = ds[d].values[0]
        else:
            raise InputError(f"the results sweep {d} over {', '.join(f'{x:g}' for x in ds[d].values)}; choose "
                             f"one with --at {d}=VALUE", file=file, field="--at", label=d)
    if at:
        k = next(iter(at))
        raise InputError(unknown_label("sweep", k, sweep_dims(ds)), file=file, field="--at", label=k)
    one = ds.sel(sel)
    if "status" in one and str(one["status"].values) != "converged":
        raise InputError(f"this solve did not converge ({one['status'].values}: {one['reason'].values}); it has "
                         "no SAM", file=file)
    return one


def sam_from_state(one: xr.Dataset, *, activities_from: xr.DataArray | None = None) -> pd.DataFrame:
    """The SAM (two-way trade cells with the outside kept apart, as `sam_from_model` gives it) of one
    state selected with `select_state`; the activities are the (good, household) pairs with positive
    ``activities_from`` (default: the state's own production), household by household."""
    H = [str(h) for h in one["household"].values]
    G = [str(g) for g in one["good"].values]
    F = [str(f) for f in one["factor"].values]
    V = [str(v) for v in one["village"].values]
    village_of = dict(zip(H, (str(v) for v in one["household_village"].values)))
    level = dict(zip(F, (str(x) for x in one["factor_market_level"].values)))
    fixed = [f for f in F if level[f] == "fixed"]
    tradable = [f for f in F if level[f] != "fixed"]

    def arr(name):
        return np.asarray(one[name].values, dtype=float)

    # the economy's structure: activities have output at the base (draw 0), as in the SAM
    base_prod = np.asarray((one["production"] if activities_from is None else activities_from).values, dtype=float)
    prod, ph, cons = arr("production"), arr("household_price"), arr("consumption")
    fd, inter, rent, wage = arr("factor_demand"), arr("intermediate_demand"), arr("rent"), arr("wage")
    supply, exo, in_kind, demand = arr("factor_supply"), arr("exogenous_income"), arr("in_kind"), arr("exogenous_demand")
    price = arr("price")
    activity = [(g, h) for hi, h in enumerate(H) for gi, g in enumerate(G) if base_prod[gi, hi] > 0]
    labels = ([account("act", g, h) for g, h in activity] + [account("com", g) for g in G]
              + [account("fac", f) for f in F] + [account("hh", h) for h in H]
              + [account("out", o) for o in ("world", *LEAKAGES)])
    n = len(labels)
    pos = {lab: i for i, lab in enumerate(labels)}
    sam = np.zeros((n, n))
    gi_, hi_, fi_, vi_ = ({x: i for i, x in enumerate(L)} for L in (G, H, F, V))
    world = pos[account("out", "world")]

    def fprice(f, h, g):
        if f in fixed:
            return rent[gi_[g], fi_[f], hi_[h]]
        return wage[fi_[f], vi_[village_of[h]]]

    for g, h in activity:
        a = pos[account("act", g, h)]
        gi, hi = gi_[g], hi_[h]
        sam[a, pos[account("com", g)]] = ph[gi, hi] * prod[gi, hi]
        for gg in G:
            q = inter[gi, gi_[gg], hi]
            if q:
                sam[pos[account("com", gg)], a] += ph[gi_[gg], hi] * q
        for f in F:
            q = fd[gi, fi_[f], hi]
            if q:
                pay = fprice(f, h, g) * q
                sam[pos[account("fac", f)], a] += pay
                if f in fixed:
                    sam[pos[account("hh", h)], pos[account("fac", f)]] += pay
    for f in tradable:
        for h in H:
            q = supply[fi_[f], hi_[h]]
            if q:
                sam[pos[account("hh", h)], pos[account("fac", f)]] += wage[fi_[f], vi_[village_of[h]]] * q
    for g in G:
        for h in H:
            q = cons[gi_[g], hi_[h]]
            if q:
                sam[pos[account("com", g)], pos[account("hh", h)]] = ph[gi_[g], hi_[h]] * q
    for h in H:
        hh = pos[account("hh", h)]
        for leak in LEAKAGES:
            sam[pos[account("out", leak)], hh] = float(one[_LEAK_VAR[leak]].sel(household=h))
        sam[hh, world] = exo[hi_[h]] + sum(ph[gi_[g], hi_[h]] * in_kind[gi_[g], hi_[h]] for g in G
                                            if in_kind[gi_[g], hi_[h]])
    for leak in LEAKAGES:
        sam[world, pos[account("out", leak)]] = sam[pos[account("out", leak)]].sum()
    for g in G:  # local procurement is bought with outside money: the outside pays for it
        for v in V:
            q = demand[gi_[g], vi_[v]]
            if q:
                sam[pos[account("com", g)], world] += price[gi_[g], vi_[v]] * q
    for acc in [account("com", g) for g in G] + [account("fac", f) for f in tradable]:
        i = pos[acc]
        gap = sam[i].sum() - sam[:, i].sum()
        if gap > 0:
            sam[world, i] += gap
        else:
            sam[i, world] += -gap
    index = pd.Index(labels, name="row")
    return pd.DataFrame(sam, index=index, columns=pd.Index(labels, name="column"))


def sam_from_results(ds: xr.Dataset, *, variant=None, state: str = "simulated", draw=0, at: dict | None = None,
                     net: bool = True, file=None) -> pd.DataFrame:
    """The SAM of one stored state (see the module docstring), in lewie's SAM layout; ``net`` (default)
    writes two-way trade with the outside as one net cell, as SAM files store it. Activities are those
    with output at the base (the accounts of the input SAM)."""
    one = select_state(ds, variant=variant, state=state, draw=draw, at=at, file=file)
    base = select_state(ds, variant=variant, state="base", draw=draw, at=at, file=file)
    sam = sam_from_state(one, activities_from=base["production"])
    return net_flows(sam) if net else sam




def imbalance(sam: pd.DataFrame) -> pd.Series:
    """Row total minus column total of every account (zero for a balanced SAM)."""
    return sam.sum(axis=1) - sam.sum(axis=0)


__all__ = ["sam_from_results", "sam_from_state", "select_state", "imbalance", "NEEDED"]
