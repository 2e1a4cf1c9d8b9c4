"""Analytic calibration of the LEWIE model from a household-group SAM (base prices and wages 1).

Pure functions: a SAM and a `Structure` in, a `Calibration` (parameters and base levels of every
variable, keyed by labels) out. GAMS names of the published code are given in brackets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lewie.sam.accounts import LEAKAGES, account

from lewie.model import registry
from lewie.errors import CalibrationError
from lewie.model.labour import elasticity_of
from lewie.model.liquidity import split_base_rent
from lewie.model.sets import Structure

# model parameter -> GAMS name (for documentation and workbook users), from the registry
GAMS_NAMES = {name: e.gams for name, e in registry.PARAMETERS.items()}
RATE_OF = {"savings": "savings_rate", "transfers": "transfer_rate", "spending": "outside_rate"}


@dataclass
class Calibration:
    """Parameters and base levels of one economy, keyed by labels (tuples for multi-index)."""

    structure: Structure
    params: dict[str, dict] = field(default_factory=dict)
    levels: dict[str, dict] = field(default_factory=dict)
    # sparse index sets (which entries exist)
    factor_uses: tuple[tuple[str, str, str], ...] = ()  # (good, factor, household), FD > 0
    input_uses: tuple[tuple[str, str, str], ...] = ()  # (good, input good, household), ID > 0
    consumption: tuple[tuple[str, str], ...] = ()  # (good, household), QC > 0
    labour_supply: tuple[tuple[str, str], ...] = ()  # (factor, household), endowment > 0
    shadow_price: dict = field(default_factory=dict)  # (good, factor, household) budget use -> base λ0
    # the SAM's factor payments / value added per use: what parameter tables estimate and Monte Carlo
    # draws; equal to params["factor_share"] except where a shadow price > 1 moves the liquidity rent
    payment_share: dict = field(default_factory=dict)
    shadow_price_se: dict = field(default_factory=dict)  # budget use -> standard error of λ0 (drawn)

    def drawn(self, name: str) -> dict:
        """The values Monte Carlo draws of parameter ``name`` vary around (`lewie.model.recalibration`, `lewie.runs.sampling`)."""
        return self.payment_share if name == "factor_share" and self.payment_share else self.params[name]


def calibrate(sam: pd.DataFrame, s: Structure, *, tol: float = 1e-9) -> Calibration:
    """Calibrate every parameter from the SAM (base prices and wages are 1)."""
    S = sam
    H, G, F = s.households, s.goods, s.factors
    _check_supported_flows(S, s, tol)
    cal = Calibration(structure=s)
    p, lv = cal.params, cal.levels

    qp = {(g, h): S.at[account("act", g, h), account("com", g)] for g, h in s.activities}
    bad = [f"act:{g}:{h}" for (g, h), v in qp.items() if v <= 0]
    if bad:
        raise CalibrationError(f"activities with no output (row act:g:h, column com:g): {bad}")
    ids = {(g, gg, h): S.at[account("com", gg), account("act", g, h)]
           for g, h in s.activities for gg in G}
    cal.input_uses = tuple(k for k, v in ids.items() if v != 0)
    fds = {(g, f, h): S.at[account("fac", f), account("act", g, h)]
           for g, h in s.activities for f in F}
    cal.factor_uses = tuple(k for k, v in fds.items() if v != 0)
    for (g, f, h) in cal.factor_uses:
        if fds[g, f, h] < 0:
            raise CalibrationError(f"negative payment to factor '{f}' by activity 'act:{g}:{h}'")
    va = {(g, h): sum(fds[g, f, h] for f in F) for g, h in s.activities}
    no_va = [f"act:{g}:{h}" for (g, h), v in va.items() if v <= 0]
    if no_va:
        raise CalibrationError(f"activities with no factor payments (value added): {no_va}")

    # budget-constrained inputs (lewie.model.liquidity): the SAM pays them their budget; their shadow price λ0
    # gives them a base rent taken out of the fixed factors' returns, and a share λ0·B/VA of value added
    budget_uses = [k for k in cal.factor_uses if (k[1], k[2]) in s.budget_constrained]
    cal.shadow_price = {k: s.budget_shadow_price.get((k[0], k[2]), 1.0) for k in budget_uses}
    cal.shadow_price_se = {k: s.budget_shadow_price_se.get((k[0], k[2]), 0.0) for k in budget_uses}
    payments = dict(fds)
    fds, liquidity_rent = split_base_rent(payments, budget_uses, s.fixed_factors, s.budget_shadow_price)
    p["input_share"] = {k: ids[k] / qp[k[0], k[2]] for k in cal.input_uses}
    p["va_share"] = {k: va[k] / qp[k] for k in s.activities}
    p["factor_share"] = {k: (fds[k] + liquidity_rent.get(k, 0.0)) / va[k[0], k[2]] for k in cal.factor_uses}
    cal.payment_share = {k: payments[k] / va[k[0], k[2]] for k in cal.factor_uses}
    p["tfp"] = {(g, h): va[g, h] / math.prod(fds[g, f, hh] ** p["factor_share"][g, f, hh]
                                             for (gg, f, hh) in cal.factor_uses if (gg, hh) == (g, h))
                for g, h in s.activities}
    p["fixed_factor"] = {k: fds[k] for k in cal.factor_uses if k[1] in s.fixed_factors}
    budget = {k: fds[k] for k in budget_uses}
    p["input_budget"] = budget
    p["input_finance"] = {k: 0.0 for k in budget_uses}  # outside money paying for inputs (a transfer's share)

    income = {h: S.loc[account("hh", h)].sum() for h in H}
    for h, y in income.items():
        if y <= 0:
            raise CalibrationError(f"household 'hh:{h}' has no income (row total {y:g})")
    for leak in LEAKAGES:
        p[RATE_OF[leak]] = {h: S.at[account("out", leak), account("hh", h)] / income[h] for h in H}
    local = {h: income[h] * (1 - sum(p[RATE_OF[k]][h] for k in LEAKAGES)) for h in H}
    qc = {(g, h): S.at[account("com", g), account("hh", h)] for g in G for h in H}
    cal.consumption = tuple(k for k, v in qc.items() if v != 0)
    p["budget_share"] = {k: qc[k] / local[k[1]] for k in cal.consumption}
    p["min_consumption"] = {k: 0.0 for k in cal.consumption}
    p["cpi_weight"] = {k: qc[k] / income[k[1]] for k in cal.consumption}
    p["exogenous_income"] = {h: S.at[account("hh", h), account("out", "world")] for h in H}

    endow = {(f, h): S.at[account("hh", h), account("fac", f)] for f in s.tradable_factors for h in H}
    cal.labour_supply = tuple(k for k, v in endow.items() if v != 0)
    p["labour_endowment"] = {k: endow[k] for k in cal.labour_supply}
    p["labour_elasticity"] = {(f, h): elasticity_of(s, f, h) for f, h in cal.labour_supply}
    p["world_price"] = {g: 1.0 for g in s.goods_at("world")}
    p["world_wage"] = {f: 1.0 for f in s.factors_at("world")}

    # household marketed surpluses at base, then the fixed net trade that pins local prices
    hms = {(g, h): qp.get((g, h), 0.0) - qc[g, h]
           - sum(ids[a, g, h] for a, hh in s.activities if hh == h) for g in G for h in H}
    hfms = {(f, h): endow.get((f, h), 0.0) - sum(fds[g, f, hh] for g, hh in s.activities if hh == h)
            for f in s.tradable_factors for h in H}
    vms = {(g, v): sum(hms[g, h] for h in s.members(v)) for g in G for v in s.villages}
    vfms = {(f, v): sum(hfms[f, h] for h in s.members(v)) for f in s.tradable_factors for v in s.villages}
    p["village_net_trade"] = {(g, v): vms[g, v] for g in s.goods_at("village") for v in s.villages}
    p["zone_net_trade"] = {g: sum(vms[g, v] for v in s.villages) for g in s.goods_at("zone")}
    p["village_factor_trade"] = {(f, v): vfms[f, v] for f in s.factors_at("village") for v in s.villages}
    p["zone_factor_trade"] = {f: sum(vfms[f, v] for v in s.villages) for f in s.factors_at("zone")}
    p["exogenous_demand"] = {(g, v): 0.0 for g in G for v in s.villages}
    p["in_kind"] = {(g, h): 0.0 for g in G for h in H}  # goods received in kind (in-kind transfers)
    p["outside_price"] = 1.0
    _check_priced_markets(cal, s)

    # base levels (prices and wages 1: quantities are values at base prices)
    lv["price_household"] = {(g, h): 1.0 for g in G for h in H}
    lv["price_village"] = {(g, v): 1.0 for g in s.goods_at("village") for v in s.villages}
    lv["price_zone"] = {g: 1.0 for g in s.goods_at("zone")}
    lv["wage_village"] = {(f, v): 1.0 for f in s.factors_at("village") for v in s.villages}
    lv["wage_zone"] = {f: 1.0 for f in s.factors_at("zone")}
    lv["price_value_added"] = dict(p["va_share"])
    lv["value_added"] = dict(va)
    lv["production"] = dict(qp)
    lv["factor_demand"] = {k: fds[k] for k in cal.factor_uses}
    lv["rent"] = {k: 1.0 for k in p["fixed_factor"]}
    lv["liquidity_rent"] = dict(liquidity_rent)
    lv["intermediate_demand"] = {k: ids[k] for k in cal.input_uses}
    lv["consumption"] = {k: qc[k] for k in cal.consumption}
    lv["income"] = dict(income)
    lv["cpi"] = {h: 1.0 for h in H}
    lv["real_income"] = dict(income)
    for leak, name in (("transfers", "transfers_out"), ("savings", "savings"), ("spending", "outside_spending")):
        lv[name] = {h: S.at[account("out", leak), account("hh", h)] for h in H}
    lv["labour_supply"] = {k: endow[k] for k in cal.labour_supply}
    lv["household_surplus"] = hms
    lv["village_surplus"] = vms
    lv["zone_surplus"] = {g: sum(vms[g, v] for v in s.villages) for g in G}
    lv["household_factor_surplus"] = hfms
    lv["village_factor_surplus"] = vfms
    lv["zone_factor_surplus"] = {f: sum(vfms[f, v] for v in s.villages) for f in s.tradable_factors}
    return cal


def _check_supported_flows(S: pd.DataFrame, s: Structure, tol: float) -> None:
    """Fail on SAM flows the model has no place for, and on fixed-factor rents paid to others."""
    scale = max(1.0, float(np.abs(S.to_numpy()).max()))
    from lewie.sam.check import unsupported_flows  # the one rule `lewie sam check` uses too
    acts = {account("act", g, h): (g, h) for g, h in s.activities}
    problems = [f"({r}, {c}) = {v:g}" for r, c, v in unsupported_flows(S)]
    if problems:
        raise CalibrationError("SAM flows the LEWIE model has no place for: " + "; ".join(problems[:10])
                               + (f"; and {len(problems) - 10} more" if len(problems) > 10 else ""))
    for f in s.fixed_factors:
        col = account("fac", f)
        for h in s.households:
            owned = sum(S.at[col, a] for a, (g, hh) in acts.items() if hh == h)
            paid = S.at[account("hh", h), col]
            if abs(owned - paid) > tol * scale:
                raise CalibrationError(
                    f"fixed factor '{f}' is activity-specific, so its rent goes to the household group "
                    f"that uses it: 'hh:{h}' should receive {owned:g} from 'fac:{f}' but receives {paid:g}. "
                    f"If '{f}' is traded, list it under [markets]")
        for cell in ((account("out", "world"), col), (col, account("out", "world"))):
            if S.at[cell] != 0:
                raise CalibrationError(f"fixed factor '{f}' is traded with the outside ({cell[0]}, {cell[1]}) "
                                       f"= {S.at[cell]:g}; if it is tradable, list it under [markets]")


def _check_priced_markets(cal: Calibration, s: Structure) -> None:
    """A market cleared locally needs someone there whose demand or supply responds to its price."""
    for g in s.goods:
        level = s.market_level[g]
        if level == "world":
            continue
        places = s.villages if level == "village" else (None,)
        for v in places:
            hh = s.members(v) if v else s.households
            active = any((g, h) in s.activities for h in hh) or any((g, h) in cal.consumption for h in hh) \
                or any(gg == g and h in hh for _, gg, h in cal.input_uses)
            if not active:
                where = f"village '{v}'" if v else "the local economy"
                raise CalibrationError(f"good '{g}' clears at {level} level but nobody in {where} produces, "
                                       "consumes or uses it, so its price is not determined; "
                                       "set it to another market level")
    for f in s.tradable_factors:
        level = s.market_level[f]
        if level == "world":
            continue
        places = s.villages if level == "village" else (None,)
        for v in places:
            hh = s.members(v) if v else s.households
            active = any(ff == f and h in hh for _, ff, h in cal.factor_uses) \
                or any(ff == f and h in hh for ff, h in cal.labour_supply)
            if not active:
                where = f"village '{v}'" if v else "the local economy"
                raise CalibrationError(f"factor '{f}' clears at {level} level but nobody in {where} supplies or "
                                       "uses it, so its wage is not determined; set it to another market level")
