"""The settings tables of a scenario file, each a strict pydantic model: markets, labour supply, input
budgets, Monte Carlo, dashboard, sweeps; and the number types every table uses (no coercion, finite).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, Mapping

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, model_validator


class _Strict(BaseModel):
    # allow_inf_nan=False: every float of every table is finite, also in fields added later
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Numbers in a scenario are exactly what the file says: a TOML integer or float, finite. No coercion:
# ``true`` is not 1, ``"480"`` is not 480, ``nan`` and ``inf`` are refused (TOML can write them).
Number = Annotated[float, Strict(), AllowInfNan(False)]
Count = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]


class Markets(_Strict):
    """Market level at which each good and each tradable factor clears.

    ``village``: a price per village clears the village market (its net trade with the rest is fixed);
    ``zone``: one price clears the local economy's market (its net trade with the outside is fixed);
    ``world``: the price is fixed by outside markets and trade is free. Factors not listed here are
    fixed, activity-specific factors (land, capital, ...) with their own rents.
    """

    village: list[str] = Field(default=[], description="Goods and tradable factors whose price clears each "
                                                       "village's market.")
    zone: list[str] = Field(default=[], description="Goods and tradable factors whose one price clears the whole "
                                                    "local economy's market.")
    world: list[str] = Field(default=[], description="Goods and tradable factors priced by outside markets "
                                                     "(fixed price, free trade).")


NonNegative = Annotated[Number, Field(ge=0)]


def check_elasticities(el) -> None:
    """Every elasticity finite and >= 0 (raises ValueError, which the scenario schema reports)."""
    def bad(v) -> bool:
        return not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0)
    items = [((), el)] if not isinstance(el, Mapping) else [((k,), v) for k, v in el.items()]
    for key, v in items:
        if isinstance(v, Mapping):
            for h, x in v.items():
                if bad(x):
                    raise ValueError(f"elasticity of '{key[0]}' for '{h}' is {x}: it must be finite and >= 0")
        elif bad(v):
            where = f" of '{key[0]}'" if key else ""
            raise ValueError(f"elasticity{where} is {v}: it must be finite and >= 0")


def check_shadow_prices(value, *, what: str = "shadow price", minimum: float = 1.0) -> None:
    """Every shadow price finite and >= 1 (standard errors: >= 0); raises ValueError, which the
    scenario schema reports."""
    def bad(v) -> bool:
        return not (isinstance(v, (int, float)) and math.isfinite(v) and v >= minimum)
    if not isinstance(value, Mapping):
        if bad(value):
            raise ValueError(f"{what} {value} must be finite and >= {minimum:g}"
                             + (" (1: the constraint just binds)" if minimum == 1.0 else ""))
        return
    for g, v in value.items():
        for h, x in (v.items() if isinstance(v, Mapping) else [(None, v)]):
            if bad(x):
                who = f"'{g}'" + (f" of '{h}'" if h else "")
                raise ValueError(f"{what} of {who} is {x}: it must be finite and >= {minimum:g}")


class LabourSupply(_Strict):
    """Elasticity of household labour supply to the wage: a number, a table per household group, or a
    table per labour factor (each a number or a table per household group), e.g.
    ``elasticity = {family = {eligible = 0.5, ineligible = 1}, hired = 100}``.

    100 is practically perfectly elastic (the published default), 0 is fixed supply. Every value must
    be finite and non-negative (see `lewie.model.labour`).
    """

    elasticity: NonNegative | dict[str, NonNegative | dict[str, NonNegative]] = Field(
        default=100.0, description="Elasticity of labour supply to the wage (≥ 0): one number for every group, "
                                   "a table giving each household group's, or a table per labour factor (each "
                                   "a number or a table per group); a list of numbers is a sweep.")

    @model_validator(mode="after")
    def _finite_non_negative(self):
        check_elasticities(self.elasticity)
        return self


class InputBudget(_Strict):
    """Purchased inputs bought with a fixed budget (liquidity constraint) instead of by the
    first-order condition. Defaults to every household group that uses the factors."""

    factors: list[str] = Field(min_length=1, description="Tradable factors (purchased inputs) bought with the "
                                                         "fixed budget.")
    households: list[str] | None = Field(default=None, description="Household groups whose purchases are "
                                                                   "budget-constrained (default: every group that "
                                                                   "uses the factors).")
    shadow_price: Number | dict[str, Number | dict[str, Number]] = Field(
        default=1.0, description="Marginal value product of a unit of money spent on the constrained inputs at "
                                 "the base (1: the constraint just binds; 1.4: a unit more of inputs would earn "
                                 "1.4): one number, a table per activity, or per activity and household group. "
                                 "Finite and >= 1. The rent (shadow price − 1) × spending is income of the "
                                 "household that holds the constraint (see `lewie.model.liquidity`).")
    shadow_price_se: Number | dict[str, Number | dict[str, Number]] = Field(
        default=0.0, description="Standard error of the shadow price (an estimated marginal return), same form as "
                                 "shadow_price; Monte Carlo draws it (normal, redrawn until >= 1).")

    @model_validator(mode="after")
    def _shadow_prices(self):
        check_shadow_prices(self.shadow_price)
        check_shadow_prices(self.shadow_price_se, what="standard error", minimum=0.0)
        return self


class MonteCarloSettings(_Strict):
    """Monte Carlo settings: ``draws`` parameter draws besides the point estimates (draw 0), the seed,
    how shares are drawn, or a file of draws supplied from elsewhere (see `lewie.runs.sampling`)."""

    draws: Count = Field(default=0, ge=0, description="Number of random parameter draws (0: point estimates only).")
    seed: Count = Field(default=0, ge=0, description="Seed of the random number generator (≥ 0).")
    distribution: Literal["normal", "dirichlet"] = Field(
        default="normal", description="'normal': the published GAMS procedure (truncated normal draws, shares "
                                      "rescaled); 'dirichlet': Dirichlet share vectors and beta rates with the "
                                      "same means and standard errors.")
    draws_file: Path | None = Field(
        default=None, description="Draws supplied from elsewhere (CSV or netCDF, draw × parameter), used "
                                  "instead of lewie's own; relative to the scenario file.")


class Dashboard(_Strict):
    """Shocks from a GAMS LEWIE simulation dashboard: each ``sim`` of the sheet becomes a variant whose
    rows ``good | factor | household | value`` add ``value`` units (a total for the household group, at
    base price 1) of the factor: a ``factor_endowment`` of the activity ``good`` when the factor is
    fixed, a ``labour_supply`` (cost = value) when it is a labour factor."""

    file: Path | None = Field(default=None, description="Workbook with the dashboard (default: the scenario's "
                                                        "workbook); relative to the scenario file.")
    sheet: str = Field(default="Sims", min_length=1, description="Sheet of the dashboard.")
    index: str = Field(default="Index", min_length=1,
                       description="The dashboard workbook's own index sheet: when it lists simActive / facSim / "
                                   "pzSim / pshiftSim, the shocks are read through it (lewie.sam.dashboard); "
                                   "otherwise from 'sheet'.")


class Sweep(_Strict):
    """A scenario setting given as a list: the results get a dim ``dim`` with these values."""

    dim: str = Field(description="Name of the results' dim.")
    path: tuple[str | int, ...] = Field(description="Keys leading to the setting.")
    values: tuple[float, ...] = Field(description="The setting's values.")


# ------------------------------------------------------------------------------------------------
# interventions
# ------------------------------------------------------------------------------------------------
