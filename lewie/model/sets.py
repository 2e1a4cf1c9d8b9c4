"""The sets of one economy: household groups, villages, goods, factors, activities and closures.

Built from a SAM's accounts and a scenario's closure; every scenario label is checked against the
economy here, with a 'did you mean' for misspellings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from lewie.sam.accounts import parse_account

from lewie.errors import InputError, unknown_label

LEVELS = ("village", "zone", "world")


@dataclass(frozen=True)
class Structure:
    """Sets and maps of one economy (all tuples keep the SAM's order)."""

    households: tuple[str, ...]
    villages: tuple[str, ...]
    goods: tuple[str, ...]
    factors: tuple[str, ...]
    village_of: dict[str, str]
    activities: tuple[tuple[str, str], ...]  # (good, household)
    market_level: dict[str, str]  # good or tradable factor -> village | zone | world
    fixed_factors: tuple[str, ...]
    tradable_factors: tuple[str, ...]
    labour_elasticity: dict[str, float]  # household -> elasticity of its labour supply
    budget_constrained: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (factor, household)
    # (factor, household) -> elasticity, when the scenario gives a table per labour factor (lewie.model.labour)
    factor_elasticity: dict[tuple[str, str], float] = field(default_factory=dict)
    # (activity, household) -> base shadow price of its budget-constrained inputs (lewie.model.liquidity)
    budget_shadow_price: dict[tuple[str, str], float] = field(default_factory=dict)
    budget_shadow_price_se: dict[tuple[str, str], float] = field(default_factory=dict)  # drawn by Monte Carlo
    gams_compat: bool = False  # the published GAMS form where it differs (liquidity rent income of nobody)

    def members(self, village: str) -> tuple[str, ...]:
        return tuple(h for h in self.households if self.village_of[h] == village)

    def goods_at(self, level: str) -> tuple[str, ...]:
        return tuple(g for g in self.goods if self.market_level[g] == level)

    def factors_at(self, level: str) -> tuple[str, ...]:
        return tuple(f for f in self.tradable_factors if self.market_level[f] == level)

    def check_label(self, kind: str, label: str, *, file=None, field=None) -> str:
        """Return ``label`` if it is a valid household / good / factor / village, else raise."""
        choices = {"household": self.households, "good": self.goods, "factor": self.factors,
                   "village": self.villages, "activity": tuple(g for g, _ in self.activities)}[kind]
        if label not in choices:
            raise InputError(unknown_label(kind, label, dict.fromkeys(choices)), file=file, field=field,
                             label=label)
        return label


def sam_sets(sam: pd.DataFrame) -> dict[str, tuple]:
    """Households, goods, factors and activities named by a SAM's account labels."""
    sets: dict[str, list] = {"act": [], "com": [], "fac": [], "hh": []}
    for lab in sam.index:
        acc = parse_account(lab)
        if acc.kind == "act":
            sets["act"].append((acc.name, acc.household))
        elif acc.kind in sets:
            sets[acc.kind].append(acc.name)
    return {"activities": tuple(sets["act"]), "goods": tuple(sets["com"]),
            "factors": tuple(sets["fac"]), "households": tuple(sets["hh"])}


def build_structure(sam: pd.DataFrame, scenario, *, sam_file: Path | None = None) -> Structure:
    """Combine the SAM's accounts with the scenario's closure, checking every label."""
    src = scenario.source
    sets = sam_sets(sam)
    households, goods, factors = sets["households"], sets["goods"], sets["factors"]
    for g, h in sets["activities"]:
        if g not in goods:
            raise InputError(f"activity 'act:{g}:{h}' produces a good with no commodity account: "
                             + unknown_label("good", g, goods), file=sam_file, label=g)
        if h not in households:
            raise InputError(f"activity 'act:{g}:{h}' is run by a household group with no account: "
                             + unknown_label("household", h, households), file=sam_file, label=h)

    village_of: dict[str, str] = {}
    for v, members in scenario.villages.items():
        for i, h in enumerate(members):
            if h not in households:
                raise InputError(unknown_label("household", h, households), file=src,
                                 field=f"villages.{v}[{i}]", label=h)
            if h in village_of:
                raise InputError(f"household '{h}' is listed in villages '{village_of[h]}' and '{v}'",
                                 file=src, field=f"villages.{v}", label=h)
            village_of[h] = v
    missing = [h for h in households if h not in village_of]
    if missing:
        raise InputError(f"household group(s) {missing} are in no village; list each under [villages]",
                         file=src, field="villages", label=missing[0])

    market_level: dict[str, str] = {}
    for level in LEVELS:
        for i, lab in enumerate(getattr(scenario.markets, level)):
            if lab not in goods and lab not in factors:
                raise InputError(unknown_label("good or factor", lab, goods + factors), file=src,
                                 field=f"markets.{level}[{i}]", label=lab)
            if lab in market_level:
                raise InputError(f"'{lab}' is assigned to two market levels: '{market_level[lab]}' and "
                                 f"'{level}'", file=src, field=f"markets.{level}", label=lab)
            market_level[lab] = level
    unpriced = [g for g in goods if g not in market_level]
    if unpriced:
        raise InputError(f"no market level for good(s) {unpriced}: the closure leaves their markets "
                         "without a price; list each under markets.village, markets.zone or markets.world",
                         file=src, field="markets", label=unpriced[0])
    tradable = tuple(f for f in factors if f in market_level)
    fixed = tuple(f for f in factors if f not in market_level)

    from lewie.model.labour import resolve_elasticities
    elasticity, factor_elasticity = resolve_elasticities(scenario.labour_supply.elasticity, households, tradable,
                                                         file=src)

    constrained: set[tuple[str, str]] = set()
    if scenario.input_budget is not None:
        ib = scenario.input_budget
        for i, f in enumerate(ib.factors):
            if f not in tradable:
                hint = unknown_label("tradable factor", f, tradable)
                raise InputError(hint, file=src, field=f"input_budget.factors[{i}]", label=f)
        hh = ib.households if ib.households is not None else households
        for i, h in enumerate(hh):
            if h not in households:
                raise InputError(unknown_label("household", h, households), file=src,
                                 field=f"input_budget.households[{i}]", label=h)
        constrained = {(f, h) for f in ib.factors for h in hh}
    shadow: dict[tuple[str, str], float] = {}
    shadow_se: dict[tuple[str, str], float] = {}
    if constrained:
        from lewie.model.liquidity import resolve_shadow_prices
        shadow = resolve_shadow_prices(scenario.input_budget.shadow_price, sets["activities"], constrained, file=src)
        shadow_se = resolve_shadow_prices(scenario.input_budget.shadow_price_se, sets["activities"], constrained,
                                          file=src, default=0.0)
        if getattr(scenario, "gams_compat", False) and any(v != 1.0 for v in shadow.values()):
            raise InputError("under gams_compat the input budget is the published GAMS form (its rent is income of "
                             "nobody), which needs shadow_price = 1", file=src, field="input_budget.shadow_price")

    structure = Structure(
        households=households, villages=tuple(scenario.villages), goods=goods, factors=factors,
        village_of=village_of, activities=sets["activities"], market_level=market_level,
        fixed_factors=fixed, tradable_factors=tradable, labour_elasticity=elasticity,
        budget_constrained=frozenset(constrained), factor_elasticity=factor_elasticity,
        budget_shadow_price=shadow, budget_shadow_price_se=shadow_se, gams_compat=bool(getattr(scenario, "gams_compat", False)))
    for i, itv in enumerate(scenario.interventions):
        for j, h in enumerate(getattr(itv, "households", []) or []):
            structure.check_label("household", h, file=src, field=f"interventions[{i}].households[{j}]")
    return structure
