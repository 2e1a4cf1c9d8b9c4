"""Interventions as changes to the model's parameters (pure: base parameters in, new values out).

Each intervention is first resolved against the economy into an `Effect`: additive changes and
multiplicative factors on named parameters, its cost and its direct beneficiaries. A variant's
parameters are the base values with the effects of its interventions combined (`apply`):
``new = base × Π factors + Σ changes``. How each kind maps to the model (GAMS names in brackets):

- ``cash_transfer``: the amount is added to the groups' exogenous income [exinc]; with
  ``input_budget_share`` σ, σ × amount is taken out of it and pays for the group's budget-constrained
  inputs instead (``input_finance``, which raises the budget and is the household's money: see
  `lewie.model.liquidity`), split in proportion to the base budgets; under ``gams_compat`` the GAMS form.
- ``in_kind_transfer``: the goods (quantity Q at base prices) are received from outside. A household
  that consumes goods it would otherwise have bought buys that much less (in-kind receipts are
  infra-marginal, as in LEWIE studies), so what it consumes is worth its value at the local price in
  cash plus that quantity of extra supply in its village; the resold share s is extra village supply
  too, less the resale cost τ lost in transit, its revenue going to the household. Both parts land
  in the model's ``in_kind[g, h] = Q·(1 − s·τ)``: it adds ``PH·in_kind`` to the household's income
  [Y] and ``in_kind`` to its marketed surplus [HMS]. For a good priced outside, an in-kind transfer
  with no resale cost is exactly a cash transfer of its value.
- ``productivity``: total factor productivity [pshift] of the activity × (1 + change).
- ``factor_endowment``: units added to the activity's fixed factor [fixfac] (base rent 1); the result
  must stay positive (an activity cannot lose all of a fixed factor).
- ``input_budget``: the amount is added to the purchased-input budgets [pibudget] of the activities,
  in proportion to the base budgets: credit repaid within the year (``paid_by = "household"``), or
  inputs a programme pays for (``paid_by = "outside"``: ``input_finance``, the household's money).
- ``labour_supply``: units added to the groups' endowment of a tradable factor [hfsupzero], which
  then responds to the wage like the rest of their supply.
- ``local_procurement``: an exogenous demand for the good [exogenous_demand], paid for from outside,
  placed in the villages of the sellers in proportion to their base output of the good. Within a
  village the market is one market, so buying from some groups raises the price every seller there
  gets. A good priced outside does not respond to local demand: its procurement only changes trade.
- ``public_works``: the wage bill is exogenous income [exinc]; the time worked (``labour_time`` ×
  wages, at base wages) is taken from the workers' endowment of the labour factor [hfsupzero].
- ``asset_transfer``: the purchase (the cost) is exogenous demand for ``good`` in the beneficiaries'
  villages (share ``bought_locally``; the rest imported); ``service_rate`` × value is added to the
  activity's fixed factor [fixfac]; the annual service flow is reported beside the cost.
- ``leakage_rate``: the savings / transfers-out / outside-spending rate [savsh, troutsh, exprocsh]
  + change (savings groups keeping money local).
- ``school_meals``: food received in kind by the eaters' households [in_kind]; the share bought
  locally is exogenous demand in the sellers' villages, as ``local_procurement``.

Amounts for several groups: ``amount_per_household`` × each group's number of households (the
parameter table's ``household_count`` rows); a total ``amount`` is split by ``shares``, or, for
factor endowments, input budgets and labour, in proportion to the base quantities it adds to.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Mapping

from lewie.model.calibration import Calibration
from lewie.errors import InputError, unknown_label
from lewie.config.scenario_errors import scenario_error

log = logging.getLogger("lewie")


@dataclass(frozen=True)
class Effect:
    """One intervention resolved against an economy."""

    name: str
    kind: str
    add: dict[str, dict] = field(default_factory=dict)  # parameter -> index -> additive change
    scale: dict[str, dict] = field(default_factory=dict)  # parameter -> index -> multiplicative factor
    cost: float = 0.0  # the multipliers' denominator
    beneficiaries: tuple[str, ...] = ()  # household groups that receive something directly
    service_flow: float = 0.0  # annual service flow of transferred assets (reported beside the cost)


class _Ctx:
    """Where an intervention sits (for errors naming the file, the key, its line and the intervention)."""

    def __init__(self, i: int, name: str, file, gams_compat: bool = False):
        self.i, self.name, self.file, self.gams_compat = i, name, file, gams_compat

    def error(self, message: str, key: str | None = None, label: str | None = None) -> InputError:
        field_ = f"interventions[{self.i}]" + (f".{key}" if key else "")
        return scenario_error(message, file=self.file, field=field_, label=label, intervention=self.name)


def check_labels(interventions, structure, *, file=None, names=None) -> None:
    """Every good, activity, factor and household an intervention names exists in the economy."""
    s = structure
    names = names or [getattr(itv, "name", None) or itv.kind for itv in interventions]
    activities = tuple(dict.fromkeys(g for g, _ in s.activities))
    for i, itv in enumerate(interventions):
        ctx = _Ctx(i, names[i], file)
        for j, h in enumerate(getattr(itv, "households", None) or []):
            if h not in s.households:
                raise ctx.error(unknown_label("household", h, s.households), f"households[{j}]", h)
        if getattr(itv, "good", None) is not None and itv.good not in s.goods:
            raise ctx.error(unknown_label("good", itv.good, s.goods), "good", itv.good)
        if hasattr(itv, "activity") and itv.activity not in activities:
            raise ctx.error(unknown_label("activity", itv.activity, activities), "activity", itv.activity)
        for j, g in enumerate(getattr(itv, "activities", None) or []):
            if g not in activities:
                raise ctx.error(unknown_label("activity", g, activities), f"activities[{j}]", g)
        if getattr(itv, "factor", None) is not None and itv.factor not in s.factors:
            raise ctx.error(unknown_label("factor", itv.factor, s.factors), "factor", itv.factor)
        for j, h in enumerate(getattr(itv, "sellers", None) or []):
            if h not in s.households:
                raise ctx.error(unknown_label("household", h, s.households), f"sellers[{j}]", h)


def resolve(itv, cal: Calibration, *, i: int = 0, name: str | None = None,
            household_count: Mapping[str, float] | None = None, file=None, gams_compat: bool = False) -> Effect:
    """The parameter changes, cost and beneficiaries of one intervention in this economy
    (``gams_compat``: as the GAMS code has it where lewie differs, see docs/gams.md)."""
    name = name or getattr(itv, "name", None) or itv.kind
    ctx = _Ctx(i, name, file, gams_compat)
    fn = _KINDS.get(itv.kind)
    if fn is None:  # pragma: no cover - the schema admits only known kinds
        raise ctx.error(f"unknown intervention kind '{itv.kind}'", "kind")
    add: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    scale: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: 1.0))
    value = fn(itv, cal, add, scale, ctx, household_count or {})
    cost = itv.cost if itv.cost is not None else value
    return Effect(name=name, kind=itv.kind, add={k: dict(v) for k, v in add.items()},
                  scale={k: dict(v) for k, v in scale.items()}, cost=float(cost),
                  beneficiaries=tuple(getattr(itv, "households", None) or ()),
                  service_flow=float(getattr(ctx, "service_flow", 0.0)))


def resolve_all(interventions, cal: Calibration, *, household_count=None, file=None, names=None,
                gams_compat: bool = False) -> list[Effect]:
    names = names or [None] * len(interventions)
    return [resolve(itv, cal, i=i, name=names[i], household_count=household_count, file=file,
                    gams_compat=gams_compat) for i, itv in enumerate(interventions)]


def combine(effects) -> dict[str, dict]:
    """The effects combined, parameter -> index -> (factor, change), so that each parameter becomes
    ``base × factor + change``: factors multiply (two productivity gains), changes add (two
    transfers to one group). The one place effects are combined: `apply` evaluates it at the
    calibration, the Monte Carlo engine at each draw's own base parameters."""
    add: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    scale: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: 1.0))
    for e in effects:
        for name, changes in e.add.items():
            for k, d in changes.items():
                add[name][k] += d
        for name, factors in e.scale.items():
            for k, f in factors.items():
                scale[name][k] *= f
    out: dict[str, dict] = {}
    for name in list(scale) + [n for n in add if n not in scale]:
        keys = list(dict.fromkeys(list(scale.get(name, {})) + list(add.get(name, {}))))
        out[name] = {k: (scale[name][k], add[name][k]) for k in keys}
    return out


def apply(effects, cal: Calibration, *, file=None, where: str | None = None) -> dict[str, dict]:
    """New values of every parameter the effects change: ``base × Π factors + Σ changes``.

    Effects combine: two transfers to one group raise its exogenous income by both amounts; two
    productivity gains multiply. The combined fixed factors must stay positive.
    """
    by: dict[tuple, list[str]] = defaultdict(list)
    for e in effects:
        for part in (e.add, e.scale):
            for name, entries in part.items():
                for k in entries:
                    by[name, k].append(e.name)
    out: dict[str, dict] = {}
    for name, entries in combine(effects).items():
        base = cal.params[name]
        out[name] = {k: base[k] * f + a for k, (f, a) in entries.items()}
    for k, v in out.get("fixed_factor", {}).items():
        if not v > 0:
            g, f, h = k
            raise scenario_error(
                f"interventions {sorted(set(by['fixed_factor', k]))} leave activity '{g}' of household "
                f"'{h}' with {v:g} units of fixed factor '{f}' (base {cal.params['fixed_factor'][k]:g}); "
                "an activity cannot lose all of a fixed factor", file=file, field=where, label=f)
    return out


def shocked_parameters(interventions, cal: Calibration, *, household_count=None, file=None) -> dict[str, dict]:
    """New values of every parameter the interventions, applied together, change."""
    return apply(resolve_all(interventions, cal, household_count=household_count, file=file), cal, file=file)


def beneficiaries(interventions) -> list[str]:
    """Household groups that receive something directly (file order)."""
    out: list[str] = []
    for itv in interventions:
        for h in getattr(itv, "households", None) or []:
            if h not in out:
                out.append(h)
    return out


# ------------------------------------------------------------------------------------------------
# one function per kind: fill `add` / `scale`, return the value transferred (the default cost)
# ------------------------------------------------------------------------------------------------
def _totals(itv, ctx: _Ctx, counts: Mapping[str, float], weights: Mapping[str, float] | None = None
            ) -> dict[str, float]:
    """The amount each household group gets."""
    hh = itv.households
    if itv.amount_per_household is not None:
        missing = [h for h in hh if h not in counts]
        if missing:
            raise ctx.error(f"amount_per_household needs the number of households of group(s) {missing}: give "
                            "a parameter table ('parameters') with a 'household_count' row for each",
                            "amount_per_household", missing[0])
        return {h: itv.amount_per_household * counts[h] for h in hh}
    if itv.shares is not None:
        total = sum(itv.shares.values())
        return {h: itv.amount * itv.shares[h] / total for h in hh}
    if len(hh) == 1:
        return {hh[0]: itv.amount}
    if weights is None:  # pragma: no cover - the schema requires shares here
        raise ctx.error("a total amount for several groups needs 'shares'", "shares")
    total = sum(weights.get(h, 0.0) for h in hh)
    if total <= 0:
        raise ctx.error("nothing to split the amount by: the groups have no base quantity; give 'shares'",
                        "shares")
    return {h: itv.amount * weights.get(h, 0.0) / total for h in hh}


def _cash_transfer(itv, cal, add, scale, ctx, counts) -> float:
    totals = _totals(itv, ctx, counts)
    # the share paying for inputs is taken out of the transfer (lewie.model.liquidity): outside finance of
    # the inputs [input_finance], the rest exogenous income; the GAMS form under gams_compat
    finance = not (ctx.gams_compat or cal.structure.gams_compat)
    for h, amount in totals.items():
        # the share σ paying for inputs is taken out of the transfer, not added to it: lewie makes it
        # outside finance of the inputs [input_finance] (lewie.model.liquidity); GAMS (5_Generic_Simulation.gms,
        # budget constraint on) raises the budget: exinc += (1 − shSCTprod)·transfer,
        # pibudget += shSCTprod·transfer·pibsh (gams_compat)
        add["exogenous_income"][h] += amount * (1.0 - itv.input_budget_share)
        if itv.input_budget_share:
            budgets = {k: v for k, v in cal.params["input_budget"].items() if k[2] == h}
            if not budgets:
                raise ctx.error(f"input_budget_share is set but household '{h}' has no budget-constrained "
                                "inputs (see [input_budget])", "input_budget_share", h)
            base = sum(budgets.values())
            for k, b in budgets.items():
                add["input_finance" if finance else "input_budget"][k] += itv.input_budget_share * amount * b / base
    return sum(totals.values())


def _in_kind_transfer(itv, cal, add, scale, ctx, counts) -> float:
    totals = _totals(itv, ctx, counts)
    kept = 1.0 - itv.resold_share * itv.resale_cost  # share of the goods not lost in resale
    for h, q in totals.items():
        add["in_kind"][itv.good, h] += q * kept
    return sum(totals.values())


def _productivity(itv, cal, add, scale, ctx, counts) -> float:
    for j, h in enumerate(itv.households):
        if (itv.activity, h) not in cal.params["tfp"]:
            runs = [hh for g, hh in cal.params["tfp"] if g == itv.activity]
            raise ctx.error(f"household '{h}' does not run activity '{itv.activity}' (it is run by {runs})",
                            f"households[{j}]", h)
        scale["tfp"][itv.activity, h] *= 1.0 + itv.change
    return 0.0


def _factor_endowment(itv, cal, add, scale, ctx, counts) -> float:
    g, f = itv.activity, itv.factor
    fixed = cal.params["fixed_factor"]
    if f in cal.structure.tradable_factors:
        raise ctx.error(f"factor '{f}' is tradable (listed under [markets]); add to a household's supply of it "
                        "with kind = \"labour_supply\"", "factor", f)
    for j, h in enumerate(itv.households):
        if (g, f, h) not in fixed:
            users = [hh for gg, ff, hh in fixed if (gg, ff) == (g, f)]
            raise ctx.error(f"activity '{g}' of household '{h}' uses no '{f}' in the SAM, so the model has no "
                            f"rent for it (groups using '{f}' in '{g}': {users})", f"households[{j}]", h)
    totals = _totals(itv, ctx, counts, {h: fixed[g, f, h] for h in itv.households})
    for h, units in totals.items():
        new = fixed[g, f, h] + units
        if not new > 0:
            key = "amount_per_household" if itv.amount_per_household is not None else "amount"
            raise ctx.error(f"activity '{g}' of household '{h}' would be left with {new:g} units of fixed factor "
                            f"'{f}' (base {fixed[g, f, h]:g}); an activity cannot lose all of a fixed factor",
                            key, f)
        add["fixed_factor"][g, f, h] += units
    return max(0.0, sum(totals.values()))


def _input_budget(itv, cal, add, scale, ctx, counts) -> float:
    budgets = cal.params["input_budget"]
    uses = {k: b for k, b in budgets.items() if k[0] in itv.activities and k[2] in itv.households}
    for j, h in enumerate(itv.households):
        if not any(k[2] == h for k in uses):
            raise ctx.error(f"household '{h}' has no budget-constrained inputs in activities {itv.activities} "
                            "(see [input_budget])", f"households[{j}]", h)
    for j, g in enumerate(itv.activities):
        if not any(k[0] == g for k in uses):
            raise ctx.error(f"activity '{g}' has no budget-constrained inputs for households {itv.households} "
                            "(see [input_budget])", f"activities[{j}]", g)
    per_h = {h: sum(b for k, b in uses.items() if k[2] == h) for h in itv.households}
    totals = _totals(itv, ctx, counts, per_h)
    target = "input_finance" if getattr(itv, "paid_by", "household") == "outside" else "input_budget"
    for k, b in uses.items():
        add[target][k] += totals[k[2]] * b / per_h[k[2]]
    return sum(totals.values())


def _labour_endowments(itv, cal, ctx, *, fixed_hint: str, missing: str) -> dict:
    """The labour endowments ``itv`` changes: its ``factor`` must be tradable (``fixed_hint`` says what
    to do instead) and supplied by each of its ``households`` (``missing`` says why it must be)."""
    f = itv.factor
    endow = cal.params["labour_endowment"]
    if f not in cal.structure.tradable_factors:
        raise ctx.error(f"factor '{f}' is a fixed, activity-specific factor; {fixed_hint}", "factor", f)
    for j, h in enumerate(itv.households):
        if (f, h) not in endow:
            have = [hh for ff, hh in endow if ff == f]
            raise ctx.error(f"household '{h}' has no endowment of '{f}' in the SAM (row hh:{h}, column fac:{f}), "
                            f"so {missing} (groups supplying '{f}': {have})", f"households[{j}]", h)
    return endow


def _labour_supply(itv, cal, add, scale, ctx, counts) -> float:
    f = itv.factor
    endow = _labour_endowments(itv, cal, ctx, fixed_hint='add units of it with kind = "factor_endowment"',
                               missing="the model has no supply of it to add to")
    totals = _totals(itv, ctx, counts, {h: endow[f, h] for h in itv.households})
    for h, units in totals.items():
        add["labour_endowment"][f, h] += units
    return sum(totals.values())


def _local_procurement(itv, cal, add, scale, ctx, counts) -> float:
    g = itv.good
    sellers = itv.households or list(cal.structure.households)
    for j, h in enumerate(itv.households or []):
        if cal.levels["production"].get((g, h), 0.0) <= 0:
            raise ctx.error(f"household '{h}' does not produce '{g}'", f"households[{j}]", h)
    who = f"households {itv.households}" if itv.households else "the local economy"
    _place_demand(g, itv.amount, sellers, cal, add, ctx, "good", who=who)
    return itv.amount


def _price(itv, cal, add, scale, ctx, counts) -> float:
    """A price fixed outside the local economy shifts: the world price of a good (GAMS ``PZ.fx(gtw)``,
    a dashboard's ``pzSim``) or the world wage of a tradable factor, by ``change`` (a share of the base
    price) or ``absolute`` (added to the base price of 1)."""
    s = cal.structure
    if itv.good is not None:
        name, label, key, kind = "world_price", itv.good, "good", "good"
        level = s.market_level.get(itv.good, "")
    else:
        name, label, key, kind = "world_wage", itv.factor, "factor", "factor"
        if itv.factor not in s.tradable_factors:
            raise ctx.error(f"factor '{itv.factor}' is a fixed, activity-specific factor: it has rents, not a "
                            "price set outside", "factor", itv.factor)
        level = next((lvl for lvl in ("village", "zone", "world") if itv.factor in s.factors_at(lvl)), "")
    base = cal.params[name]
    if label not in base:
        raise ctx.error(f"{kind} '{label}' clears at the {level} market, so its price is set inside the local "
                        f"economy; a price intervention shifts a price fixed outside (list it under "
                        "[markets] world)", key, label)
    new = base[label] * (1.0 + itv.change) if itv.change is not None else base[label] + itv.absolute
    if not new > 0:
        raise ctx.error(f"the price of {kind} '{label}' would be {new:g}", "absolute", label)
    if itv.change is not None:
        scale[name][label] *= 1.0 + itv.change
    else:
        add[name][label] += itv.absolute
    return 0.0


def _public_works(itv, cal, add, scale, ctx, counts) -> float:
    """Wages as exogenous income; the time worked (labour_time × wages, at base wages) leaves the
    workers' supply of the labour factor [hfsupzero]."""
    f = itv.factor
    endow = _labour_endowments(itv, cal, ctx, fixed_hint="public works take time from a labour factor listed "
                                                         "under [markets]",
                               missing="public works cannot take its time")
    totals = _totals(itv, ctx, counts)
    for h, wages in totals.items():
        time = itv.labour_time * wages
        if not endow[f, h] - time > 0:
            raise ctx.error(f"public works would take {time:g} of '{f}' from household '{h}', which supplies "
                            f"{endow[f, h]:g} at base", "labour_time", h)
        add["exogenous_income"][h] += wages
        add["labour_endowment"][f, h] -= time
    return sum(totals.values())


def _place_demand(g, amount, sellers, cal, add, ctx, key, who: str | None = None) -> None:
    """Exogenous demand for good g, in the sellers' villages in proportion to their base output."""
    s = cal.structure
    output = {h: cal.levels["production"].get((g, h), 0.0) for h in sellers}
    total = sum(output.values())
    if not total > 0:
        raise ctx.error(f"nobody in {who or list(sellers)} produces '{g}', so it cannot be bought locally", key, g)
    if s.market_level[g] == "world":
        log.warning("intervention '%s': '%s' is priced outside, so buying it locally changes only trade with "
                    "the outside", ctx.name, g)
    for v in s.villages:
        share = sum(output[h] for h in sellers if s.village_of[h] == v) / total
        if share:
            add["exogenous_demand"][g, v] += amount * share


def _asset_transfer(itv, cal, add, scale, ctx, counts) -> float:
    """The purchase: demand for the good in the beneficiaries' villages (the share bought locally);
    the assets: service_rate × value added to the activity's fixed factor [fixfac]."""
    s = cal.structure
    g, f = itv.activity, itv.factor
    fixed = cal.params["fixed_factor"]
    if f in s.tradable_factors:
        raise ctx.error(f"factor '{f}' is tradable; an asset adds to an activity's fixed factor", "factor", f)
    for j, h in enumerate(itv.households):
        if (g, f, h) not in fixed:
            users = [hh for gg, ff, hh in fixed if (gg, ff) == (g, f)]
            raise ctx.error(f"activity '{g}' of household '{h}' uses no '{f}' in the SAM, so the model has no rent "
                            f"for the assets (groups using '{f}' in '{g}': {users})", f"households[{j}]", h)
    totals = _totals(itv, ctx, counts)
    for h, value in totals.items():
        add["fixed_factor"][g, f, h] += itv.service_rate * value
        if itv.bought_locally:
            v = s.village_of[h]
            if s.market_level[itv.good] == "world":
                log.warning("intervention '%s': '%s' is priced outside, so buying it locally changes only trade "
                            "with the outside", ctx.name, itv.good)
            add["exogenous_demand"][itv.good, v] += itv.bought_locally * value
    ctx.service_flow = itv.service_rate * sum(totals.values())
    return sum(totals.values())


def _leakage_rate(itv, cal, add, scale, ctx, counts) -> float:
    """The rate [savsh / troutsh / exprocsh] + change; every rate stays >= 0 and their sum < 1."""
    from lewie.model.calibration import RATE_OF
    name = RATE_OF[itv.rate]
    for j, h in enumerate(itv.households):
        new = cal.params[name][h] + itv.change
        total = new + sum(cal.params[RATE_OF[k]][h] for k in RATE_OF if k != itv.rate)
        if not (new >= 0 and total < 1):
            raise ctx.error(f"household '{h}': {itv.rate} rate {cal.params[name][h]:g} + {itv.change:g} = {new:g}; "
                            "a rate must stay >= 0 and the rates must leave something to spend locally",
                            "change", h)
        add[name][h] += itv.change
    return 0.0


def _school_meals(itv, cal, add, scale, ctx, counts) -> float:
    """Food received in kind by the eaters' households [in_kind]; the share bought locally is
    exogenous demand in the sellers' villages (as local_procurement)."""
    totals = _totals(itv, ctx, counts)
    for h, q in totals.items():
        add["in_kind"][itv.good, h] += q
    total = sum(totals.values())
    if itv.bought_locally:
        sellers = itv.sellers or list(cal.structure.households)
        if itv.sellers:
            for j, h in enumerate(itv.sellers):
                if cal.levels["production"].get((itv.good, h), 0.0) <= 0:
                    raise ctx.error(f"household '{h}' does not produce '{itv.good}'", f"sellers[{j}]", h)
        _place_demand(itv.good, itv.bought_locally * total, sellers, cal, add, ctx, "good")
    return total


_KINDS = {"price": _price, "cash_transfer": _cash_transfer, "in_kind_transfer": _in_kind_transfer, "productivity": _productivity,
          "factor_endowment": _factor_endowment, "input_budget": _input_budget, "labour_supply": _labour_supply,
          "local_procurement": _local_procurement, "public_works": _public_works, "asset_transfer": _asset_transfer,
          "leakage_rate": _leakage_rate, "school_meals": _school_meals}
