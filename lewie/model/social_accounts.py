"""A SAM rebuilt from any solved state of the model (values at that state's prices).

At the calibrated base it must equal the input SAM; at a simulated state every account still
balances (activities by zero profit, households by their budget, the outside by Walras' law).
"""
from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo

from lewie.sam.accounts import LEAKAGES, account

from lewie.model.declaration import factor_price, goods_price

_LEAK_VAR = {"savings": "savings", "transfers": "transfers_out", "spending": "outside_spending"}


def sam_from_model(m: pyo.Block, structure) -> pd.DataFrame:
    """The SAM of the state held in the model's variables."""
    s = structure
    v = pyo.value
    labels = ([account("act", g, h) for g, h in s.activities] + [account("com", g) for g in s.goods]
              + [account("fac", f) for f in s.factors] + [account("hh", h) for h in s.households]
              + [account("out", o) for o in ("world", *LEAKAGES)])
    sam = pd.DataFrame(0.0, index=pd.Index(labels, name="row"), columns=pd.Index(labels, name="column"))
    world = account("out", "world")
    for g, h in s.activities:
        act = account("act", g, h)
        sam.at[act, account("com", g)] = v(m.price_household[g, h] * m.production[g, h])
    for g, gg, h in m.input_uses:
        sam.at[account("com", gg), account("act", g, h)] += v(m.price_household[gg, h] * m.intermediate_demand[g, gg, h])
    for g, f, h in m.factor_uses:
        pay = v(factor_price(m, f, h, g) * m.factor_demand[g, f, h])
        sam.at[account("fac", f), account("act", g, h)] += pay
        if f in s.fixed_factors:
            sam.at[account("hh", h), account("fac", f)] += pay
    _liquidity_rents(sam, m, s)
    for f, h in m.labour_pairs:
        sam.at[account("hh", h), account("fac", f)] += v(factor_price(m, f, h) * m.labour_supply[f, h])
    for g, h in m.consumption_pairs:
        sam.at[account("com", g), account("hh", h)] = v(m.price_household[g, h] * m.consumption[g, h])
    for h in s.households:
        hh = account("hh", h)
        for leak in LEAKAGES:
            sam.at[account("out", leak), hh] = v(getattr(m, _LEAK_VAR[leak])[h])
        # exogenous income, and goods received in kind (valued at the household's prices)
        sam.at[hh, world] = v(m.exogenous_income[h]) + sum(
            v(m.price_household[g, h] * m.in_kind[g, h]) for g in s.goods if (g, h) in m.in_kind) + sum(
            v(m.input_finance[k]) for k in m.budget_uses if k[2] == h)
    for leak in LEAKAGES:
        sam.at[world, account("out", leak)] = sam.loc[account("out", leak)].sum()
    # local procurement is bought with outside money: the outside pays for it
    for g in s.goods:
        for vil in s.villages:
            demand = v(m.exogenous_demand[g, vil])
            if demand:
                h0 = s.members(vil)[0]
                sam.at[account("com", g), world] += v(goods_price(m, g, h0)) * demand
    # net trade with the outside closes the commodity and tradable-factor accounts
    for acc in [account("com", g) for g in s.goods] + [account("fac", f) for f in s.tradable_factors]:
        gap = sam.loc[acc].sum() - sam[acc].sum()
        if gap > 0:
            sam.at[world, acc] += gap
        else:
            sam.at[acc, world] += -gap
    return sam


def _liquidity_rents(sam: pd.DataFrame, m: pyo.Block, s) -> None:
    """The rent of an activity's liquidity-constrained inputs is paid to its household through the
    activity's fixed factors, in proportion to their returns (the SAM records it as returns to the fixed
    factors: `lewie.model.liquidity`), or directly (cell hh, act) when the activity has none. Under
    gams_compat the rent is income of nobody, as in the published GAMS code."""
    if getattr(s, "gams_compat", False):
        return
    by_act: dict = {}
    for g, f, h in m.budget_uses:
        by_act[g, h] = by_act.get((g, h), 0.0) + pyo.value(m.liquidity_rent[g, f, h])
    for (g, h), rent in by_act.items():
        if rent == 0.0:
            continue
        act = account("act", g, h)
        fixed = {f: pyo.value(m.rent[gg, f, hh] * m.factor_demand[gg, f, hh])
                 for gg, f, hh in m.fixed_uses if (gg, hh) == (g, h)}
        total = sum(fixed.values())
        if not fixed or total == 0.0:
            sam.at[account("hh", h), act] += rent
            continue
        for f, pay in fixed.items():
            sam.at[account("fac", f), act] += rent * pay / total
            sam.at[account("hh", h), account("fac", f)] += rent * pay / total


def net_flows(sam: pd.DataFrame) -> pd.DataFrame:
    """Express two-way trade cells with the outside as one net cell (row or column), as SAMs store it."""
    out = sam.copy()
    world = "out:world"
    for acc in out.index:
        if acc == world:
            continue
        a, b = out.at[acc, world], out.at[world, acc]
        if acc.startswith(("com:", "fac:")) and a and b:
            net = a - b
            out.at[acc, world], out.at[world, acc] = (net, 0.0) if net > 0 else (0.0, -net)
    return out
