"""The LEWIE model, declared once in Pyomo: a square system of equations (no objective).

Every equation block of the published GAMS model (`genCD`) is here under a readable name; every
variable and parameter, with its index set, long name, units and GAMS name, is an entry of the
registry (`lewie.model.registry`), which the declarations below read; GAMS names are also in each
constraint's doc. Parameters that interventions or
Monte Carlo draws change are mutable Params, so one built model re-solves many shocks.
"""
from __future__ import annotations

import math

import pyomo.environ as pyo

from lewie.model import registry
from lewie.model.calibration import Calibration
from lewie.model.sets import Structure

# variable name -> (long name, units, GAMS name), from the registry (`lewie.model.registry`)
VARIABLES = {name: (e.long_name, e.units, e.gams) for name, e in registry.VARIABLES.items()}

# parameter name -> index set name (None for a scalar), from the registry
PARAMETERS = {name: e.index for name, e in registry.PARAMETERS.items()}


def build_model(cal: Calibration) -> pyo.ConcreteModel:
    """Build the square LEWIE system for a calibration, variables initialised at the base."""
    s = cal.structure
    m = pyo.ConcreteModel(name="lewie")
    _sets(m, cal)
    for name, index in PARAMETERS.items():
        args = () if index is None else (getattr(m, index),)
        e = registry.PARAMETERS[name]
        m.add_component(name, pyo.Param(*args, initialize=cal.params[name], mutable=True, within=pyo.Reals,
                                        doc=f"{e.long_name} [{e.gams}]"))
    _variables(m, cal)
    _equations(m, s)
    return m


def _sets(m, cal: Calibration) -> None:
    s = cal.structure
    m.households = pyo.Set(initialize=s.households, ordered=True, doc="household groups (h)")
    m.villages = pyo.Set(initialize=s.villages, ordered=True, doc="villages (v)")
    m.goods = pyo.Set(initialize=s.goods, ordered=True, doc="goods and activities (g)")
    m.factors = pyo.Set(initialize=s.factors, ordered=True, doc="factors (f)")
    m.tradable_factors = pyo.Set(initialize=s.tradable_factors, ordered=True, doc="tradable factors (ft)")
    m.activities = pyo.Set(initialize=s.activities, dimen=2, ordered=True, doc="activities (g, h) with output")
    m.factor_uses = pyo.Set(initialize=cal.factor_uses, dimen=3, ordered=True, doc="factor uses (g, f, h)")
    m.fixed_uses = pyo.Set(initialize=[k for k in cal.factor_uses if k[1] in s.fixed_factors], dimen=3,
                           ordered=True, doc="fixed-factor uses (g, fk, h)")
    m.budget_uses = pyo.Set(initialize=[k for k in cal.factor_uses if (k[1], k[2]) in s.budget_constrained],
                            dimen=3, ordered=True, doc="budget-constrained factor uses (g, f, h)")
    m.input_uses = pyo.Set(initialize=cal.input_uses, dimen=3, ordered=True, doc="intermediate uses (g, gg, h)")
    m.consumption_pairs = pyo.Set(initialize=cal.consumption, dimen=2, ordered=True, doc="consumed goods (g, h)")
    m.labour_pairs = pyo.Set(initialize=cal.labour_supply, dimen=2, ordered=True,
                             doc="factor endowments of households (ft, h)")
    m.world_goods = pyo.Set(initialize=s.goods_at("world"), ordered=True, doc="goods priced outside (gtw)")
    m.zone_goods = pyo.Set(initialize=s.goods_at("zone"), ordered=True, doc="goods clearing in the zone (gtz)")
    m.village_goods_v = pyo.Set(initialize=[(g, v) for g in s.goods_at("village") for v in s.villages],
                                dimen=2, ordered=True, doc="village goods by village (gtv, v)")
    m.world_factors = pyo.Set(initialize=s.factors_at("world"), ordered=True, doc="factors priced outside (ftw)")
    m.zone_factors = pyo.Set(initialize=s.factors_at("zone"), ordered=True, doc="factors clearing in the zone (ftz)")
    m.village_factors_v = pyo.Set(initialize=[(f, v) for f in s.factors_at("village") for v in s.villages],
                                  dimen=2, ordered=True, doc="village factors by village (ftv, v)")
    m.goods_v = pyo.Set(initialize=[(g, v) for g in s.goods for v in s.villages], dimen=2, ordered=True)
    m.goods_h = pyo.Set(initialize=[(g, h) for g in s.goods for h in s.households], dimen=2, ordered=True)
    m.tradable_h = pyo.Set(initialize=[(f, h) for f in s.tradable_factors for h in s.households], dimen=2,
                           ordered=True)
    m.tradable_v = pyo.Set(initialize=[(f, v) for f in s.tradable_factors for v in s.villages], dimen=2,
                           ordered=True)


def _variables(m, cal: Calibration) -> None:
    for name, e in registry.VARIABLES.items():
        m.add_component(name, pyo.Var(getattr(m, e.index), initialize=cal.levels[name],
                                      doc=f"{e.long_name} [{e.gams}]"))


MARKET_PRICES = {"good": ("price_village", "price_zone", "world_price"),
                 "factor": ("wage_village", "wage_zone", "world_wage")}


def market_price(s: Structure, kind: str, label: str, village: str) -> tuple[str, object]:
    """Where the price of good (``kind = "good"``) or tradable factor (``"factor"``) ``label`` is set for
    ``village``: the name of the model component and its index — the village market's price, the
    zone's, or the price given outside (`Structure.market_level`). The one selection: the equations
    (`goods_price`, `factor_price`) and the results (`lewie.results.dataset`) both use it."""
    in_village, in_zone, outside = MARKET_PRICES[kind]
    level = s.market_level.get(label, "world")
    if level == "village":
        return in_village, (label, village)
    return (in_zone if level == "zone" else outside), label


def goods_price(m, g, h):
    """Price of good g where household group h trades it: village, zone or world market."""
    name, index = market_price(m._structure, "good", g, m._structure.village_of[h])
    return getattr(m, name)[index]


def factor_price(m, f, h, g=None):
    """Price of factor f for household group h: rent of a fixed factor in activity g, else the wage."""
    if g is not None and (g, f, h) in m.fixed_uses:
        return m.rent[g, f, h]
    name, index = market_price(m._structure, "factor", f, m._structure.village_of[h])
    return getattr(m, name)[index]


def _equations(m, s) -> None:
    m._structure = s
    uses_of = {}  # (g, h) -> factors used
    for g, f, h in m.factor_uses:
        uses_of.setdefault((g, h), []).append(f)
    inputs_of = {}  # (g, h) -> intermediate goods used
    buyers_of = {}  # (gg, h) -> activities of h using gg
    for g, gg, h in m.input_uses:
        inputs_of.setdefault((g, h), []).append(gg)
        buyers_of.setdefault((gg, h), []).append(g)
    consumed = {}
    for g, h in m.consumption_pairs:
        consumed.setdefault(h, []).append(g)
    members = {v: [h for h in s.households if s.village_of[h] == v] for v in s.villages}

    def C(name, index, rule, doc):
        m.add_component(name, pyo.Constraint(index, rule=rule, doc=doc))

    C("eq_household_price", m.goods_h, lambda m, g, h: m.price_household[g, h] == goods_price(m, g, h),
      "household price = village price of village goods, zone/world price otherwise [PH]")
    C("eq_value_added_price", m.activities,
      lambda m, g, h: m.price_value_added[g, h] == m.price_household[g, h]
      - sum(m.input_share[g, gg, h] * m.price_household[gg, h] for gg in inputs_of.get((g, h), [])),
      "value-added price = output price − intermediate input cost per unit [PVA]")
    C("eq_value_added", m.activities,
      lambda m, g, h: m.value_added[g, h] == m.tfp[g, h]
      * math.prod(m.factor_demand[g, f, h] ** m.factor_share[g, f, h] for f in uses_of[g, h]),
      "Cobb-Douglas value added [QVA]")

    def factor_demand(m, g, f, h):
        cost = m.factor_demand[g, f, h] * factor_price(m, f, h, g)
        if (g, f, h) in m.budget_uses:
            return cost == m.input_budget[g, f, h] + m.input_finance[g, f, h]
        return cost == m.price_value_added[g, h] * m.production[g, h] * m.factor_share[g, f, h]
    C("eq_factor_demand", m.factor_uses, factor_demand,
      "factor demand: marginal value product = factor price, or spending = input budget (own cash + outside "
      "finance) [FD]")
    C("eq_liquidity_rent", m.budget_uses,
      lambda m, g, f, h: m.liquidity_rent[g, f, h] == m.price_value_added[g, h] * m.production[g, h]
      * m.factor_share[g, f, h] - m.factor_demand[g, f, h] * factor_price(m, f, h, g),
      "rent of a budget-constrained input: marginal value product − spending = (shadow price − 1) × spending")
    C("eq_output", m.activities, lambda m, g, h: m.production[g, h] * m.va_share[g, h] == m.value_added[g, h],
      "Leontief output from value added [QP]")
    C("eq_intermediate_demand", m.input_uses,
      lambda m, g, gg, h: m.intermediate_demand[g, gg, h] == m.input_share[g, gg, h] * m.production[g, h],
      "intermediate demand [ID]")

    def disposable(m, h):
        return (m.income[h] - m.transfers_out[h] - m.savings[h] - m.outside_spending[h]
                - sum(m.price_household[gg, h] * m.min_consumption[gg, h] for gg in consumed.get(h, [])))
    C("eq_consumption", m.consumption_pairs,
      lambda m, g, h: m.consumption[g, h] == m.min_consumption[g, h]
      + m.budget_share[g, h] / m.price_household[g, h] * disposable(m, h),
      "linear expenditure system [QC]")

    def income(m, h):
        rents = sum(m.rent[g, f, hh] * m.factor_demand[g, f, hh] for g, f, hh in m.fixed_uses if hh == h)
        wages = sum(factor_price(m, f, hh) * m.labour_supply[f, hh] for f, hh in m.labour_pairs if hh == h)
        in_kind = sum(m.price_household[g, h] * m.in_kind[g, h] for g in m.goods)
        total = rents + wages + m.exogenous_income[h] + in_kind
        for k in m.budget_uses:
            if k[2] == h:
                total = total + m.input_finance[k] + (0.0 if s.gams_compat else m.liquidity_rent[k])
        return m.income[h] == total
    C("eq_income", m.households, income,
      "full income = rents + wages + exogenous income + goods received in kind at local prices + outside "
      "finance of inputs + rents of liquidity-constrained inputs (none under gams_compat) [Y]")
    C("eq_cpi", m.households,
      lambda m, h: m.cpi[h] == sum(m.cpi_weight[g, h] * m.price_household[g, h] for g in consumed.get(h, []))
      + (m.transfer_rate[h] + m.savings_rate[h] + m.outside_rate[h]) * m.outside_price,
      "consumer price index with base budget shares; income leaving the local economy is priced at the "
      "outside price level (1, as in GAMS; equals the GAMS CPI when emin = 0) [CPI]")
    C("eq_real_income", m.households, lambda m, h: m.real_income[h] * m.cpi[h] == m.income[h],
      "real income = income / CPI [RY]")
    C("eq_transfers_out", m.households, lambda m, h: m.transfers_out[h] == m.transfer_rate[h] * m.income[h],
      "transfers out [TROUT]")
    C("eq_savings", m.households, lambda m, h: m.savings[h] == m.savings_rate[h] * m.income[h], "savings [SAV]")
    C("eq_outside_spending", m.households, lambda m, h: m.outside_spending[h] == m.outside_rate[h] * m.income[h],
      "spending outside the local economy [EXPROC]")

    def household_surplus(m, g, h):
        supply = m.production[g, h] if (g, h) in m.activities else 0.0
        demand = m.consumption[g, h] if (g, h) in m.consumption_pairs else 0.0
        inputs = sum(m.intermediate_demand[a, g, h] for a in buyers_of.get((g, h), []))
        return m.household_surplus[g, h] == supply + m.in_kind[g, h] - demand - inputs
    C("eq_household_surplus", m.goods_h, household_surplus,
      "household marketed surplus; goods received in kind add to the household's supply [HMS]")
    C("eq_village_surplus", m.goods_v,
      lambda m, g, v: m.village_surplus[g, v] == sum(m.household_surplus[g, h] for h in members[v])
      - m.exogenous_demand[g, v],
      "village marketed surplus, net of exogenous local demand (procurement, resold goods) [VMS]")
    C("eq_zone_surplus", m.goods, lambda m, g: m.zone_surplus[g] == sum(m.village_surplus[g, v] for v in m.villages),
      "zone marketed surplus [ZMS]")
    C("eq_village_market", m.village_goods_v,
      lambda m, g, v: m.village_surplus[g, v] == m.village_net_trade[g, v],
      "village goods market clears: net trade of the village fixed [PV]")
    C("eq_zone_market", m.zone_goods, lambda m, g: m.zone_surplus[g] == m.zone_net_trade[g],
      "zone goods market clears: net trade of the zone fixed [PZ]")
    C("eq_fixed_factor", m.fixed_uses, lambda m, g, f, h: m.factor_demand[g, f, h] == m.fixed_factor[g, f, h],
      "activity-specific fixed factor in fixed supply [R]")

    def household_factor_surplus(m, f, h):
        supply = m.labour_supply[f, h] if (f, h) in m.labour_pairs else 0.0
        return m.household_factor_surplus[f, h] == supply - sum(
            m.factor_demand[g, ff, hh] for g, ff, hh in m.factor_uses if ff == f and hh == h)
    C("eq_household_factor_surplus", m.tradable_h, household_factor_surplus, "household factor surplus [HFMS]")
    C("eq_village_factor_surplus", m.tradable_v,
      lambda m, f, v: m.village_factor_surplus[f, v] == sum(m.household_factor_surplus[f, h] for h in members[v]),
      "village factor surplus [VFMS]")
    C("eq_zone_factor_surplus", m.tradable_factors,
      lambda m, f: m.zone_factor_surplus[f] == sum(m.village_factor_surplus[f, v] for v in m.villages),
      "zone factor surplus [ZFMS]")
    C("eq_village_factor_market", m.village_factors_v,
      lambda m, f, v: m.village_factor_surplus[f, v] == m.village_factor_trade[f, v],
      "village factor market clears [WV]")
    C("eq_zone_factor_market", m.zone_factors, lambda m, f: m.zone_factor_surplus[f] == m.zone_factor_trade[f],
      "zone factor market clears [WZ]")
    C("eq_labour_supply", m.labour_pairs,
      lambda m, f, h: m.labour_supply[f, h] == m.labour_endowment[f, h]
      * (factor_price(m, f, h) / m.outside_price) ** m.labour_elasticity[f, h],
      "labour supply with constant elasticity to the wage relative to the outside price level "
      "(1, as in GAMS) [HFSUP]")


def equation_components(m):
    """The model's constraint blocks, in declaration order."""
    return list(m.component_objects(pyo.Constraint, active=True, descend_into=False))


def variable_components(m):
    return [m.find_component(n) for n in VARIABLES]
