"""The kinds of intervention a scenario can list (``[[interventions]]`` with a ``kind``), one strict pydantic model
each; how each becomes changes to the model's parameters is `lewie.model.interventions`.
"""
from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import Field, model_validator

from lewie.config.settings import NonNegative, Number, _Strict
from lewie.errors import did_you_mean


class _Intervention(_Strict):
    name: str | None = Field(default=None, min_length=1,
                             description="Unique name; required when the scenario has [variants].")
    cost: Number | None = Field(default=None, ge=0,
                                description="Multipliers' denominator (SAM currency); defaults to the value "
                                            "transferred. A variant's total cost must be positive.")


class _Amount(_Intervention):
    """An amount for one or several household groups: ``amount`` (a total, split by ``shares``) or
    ``amount_per_household`` (× each group's number of households, from the parameter table)."""

    households: list[str] = Field(min_length=1, description="Household groups receiving it.")
    amount: Number | None = Field(default=None, ge=0, description="Total amount (SAM units).")
    amount_per_household: Number | None = Field(
        default=None, ge=0, description="Amount per household, times each group's number of households.")
    shares: dict[str, NonNegative] | None = Field(
        default=None, description="Weights splitting a total ``amount`` among the groups (normalised to sum to 1).")

    # a total ``amount`` for several groups needs ``shares`` (no base quantity to split it by)
    _split_needs_shares: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_amount(self):
        if (self.amount is None) == (self.amount_per_household is None):
            raise ValueError("give exactly one of 'amount' (a total) and 'amount_per_household'")
        if self.shares is not None:
            if self.amount is None:
                raise ValueError("'shares' split a total 'amount'; with 'amount_per_household' each group "
                                 "gets the amount per household times its number of households")
            missing = [h for h in self.households if h not in self.shares]
            extra = [h for h in self.shares if h not in self.households]
            if missing or extra:
                hint = "".join(did_you_mean(e, missing) for e in extra[:1])
                raise ValueError(f"shares must name exactly the households {self.households} "
                                 f"(missing {missing}, extra {extra}){hint}")
            if any(s < 0 for s in self.shares.values()):
                raise ValueError("shares must be non-negative")
            if sum(self.shares.values()) <= 0:
                raise ValueError("shares must not all be zero")
        elif (self._split_needs_shares and self.amount is not None and len(self.households) > 1):
            raise ValueError("a total 'amount' for several household groups needs 'shares' saying how it is "
                             "split among them (or give 'amount_per_household')")
        if len(set(self.households)) != len(self.households):
            raise ValueError(f"households are listed twice: {self.households}")
        return self


class CashTransfer(_Amount):
    """Cash from outside the local economy, added to the beneficiaries' exogenous income.

    ``input_budget_share`` of it also relaxes the beneficiaries' purchased-input budget constraint
    (see [input_budget]). Cost defaults to the amount.
    """

    kind: Literal["cash_transfer"] = Field(description="'cash_transfer'.")
    input_budget_share: Number = Field(default=0.0, ge=0, le=1,
                                       description="Share of the cash that relaxes the purchased-input budget "
                                                   "(0 to 1).")


class InKindTransfer(_Amount):
    """Goods from outside the local economy (``amount``: their value at base prices).

    The households consume them or resell ``resold_share`` locally, losing ``resale_cost`` (a share)
    of what they resell. Cost defaults to the amount.
    """

    kind: Literal["in_kind_transfer"] = Field(description="'in_kind_transfer'.")
    good: str = Field(description="The good given.")
    resold_share: Number = Field(default=0.0, ge=0, le=1, description="Share of the goods resold locally (0 to 1).")
    resale_cost: Number = Field(default=0.0, ge=0, le=1,
                                description="Share of what is resold that is lost in reselling it (0 to 1).")


class Productivity(_Intervention):
    """A proportional change in the total factor productivity of an activity of the households
    (``change = 0.05``: +5%). Transfers no value, so ``cost`` is required."""

    kind: Literal["productivity"] = Field(description="'productivity'.")
    activity: str = Field(description="The activity (a good) whose productivity changes.")
    households: list[str] = Field(min_length=1, description="Household groups whose activity changes.")
    change: Number = Field(gt=-1, description="Proportional change of total factor productivity (0.05: +5%; "
                                              "> -1).")
    cost: Number = Field(ge=0, description="Multipliers' denominator (required: nothing is transferred).")


class FactorEndowment(_Amount):
    """Units of a fixed factor (land, a fish pond, livestock, capital) added to an activity of the
    households, at base rent 1; negative when a unit moves from one activity to another. A total
    ``amount`` for several groups is split in proportion to their base endowments unless ``shares``
    says otherwise. Cost defaults to the amount (0 for a negative amount)."""

    kind: Literal["factor_endowment"] = Field(description="'factor_endowment'.")
    activity: str = Field(description="The activity (a good) whose fixed factor changes.")
    factor: str = Field(description="The fixed factor.")
    amount: Number | None = Field(default=None, description="Total units added (may be negative).")
    amount_per_household: Number | None = Field(default=None, description="Units per household (may be negative).")
    _split_needs_shares: ClassVar[bool] = False


class InputBudgetChange(_Amount):
    """Money added to the purchased-input budget of the households' ``activities`` (see
    [input_budget]), split in proportion to the base budgets unless ``shares`` says how among the
    groups. Cost defaults to the amount."""

    kind: Literal["input_budget"] = Field(description="'input_budget'.")
    activities: list[str] = Field(min_length=1, description="Activities (goods) whose input budget grows.")
    paid_by: Literal["household", "outside"] = Field(
        default="household", description="'household': credit (savings groups) repaid from the harvest within "
                                         "the year, so no new money; 'outside': a programme pays for the inputs "
                                         "(an input pack), which is the household's money too (see lewie.model.liquidity).")
    _split_needs_shares: ClassVar[bool] = False


class LabourSupplyChange(_Amount):
    """Units of a tradable factor (labour) added to the households' endowment, e.g. new residents.
    A total ``amount`` for several groups is split in proportion to their base endowments unless
    ``shares`` says otherwise. Transfers no value, so ``cost`` is required."""

    kind: Literal["labour_supply"] = Field(description="'labour_supply'.")
    factor: str = Field(description="The tradable factor (labour) added.")
    cost: Number = Field(ge=0, description="Multipliers' denominator (required: nothing is transferred).")
    _split_needs_shares: ClassVar[bool] = False


class LocalProcurement(_Intervention):
    """A good bought locally with money from outside the local economy (``amount``: base-price value),
    e.g. school feeding buying beans from local farmers; optionally only from some household groups.
    Cost defaults to the amount."""

    kind: Literal["local_procurement"] = Field(description="'local_procurement'.")
    good: str = Field(description="The good bought.")
    amount: Number = Field(ge=0, description="Value bought, at base prices (SAM units).")
    households: list[str] | None = Field(default=None, min_length=1,
                                         description="Sellers (default: every group that produces the good).")


class PriceChange(_Intervention):
    """A change of a price set outside the local economy: the world price of a ``good`` or the world wage
    of a tradable ``factor`` (both listed under [markets] world), by ``change`` (0.1: +10%) or by
    ``absolute`` (added to the base price of 1). Transfers no value, so ``cost`` is required (the
    multipliers' denominator)."""

    kind: Literal["price"] = Field(description="'price'.")
    good: str | None = Field(default=None, description="The good whose world price changes (give this or 'factor').")
    factor: str | None = Field(default=None, description="The tradable factor whose world wage changes.")
    change: Number | None = Field(default=None, gt=-1, description="Proportional change (0.1: +10%).")
    absolute: Number | None = Field(default=None, description="Change added to the base price of 1.")
    cost: Number = Field(ge=0, description="Multipliers' denominator (required: nothing is transferred).")

    @model_validator(mode="after")
    def _one_of_each(self):
        if (self.good is None) == (self.factor is None):
            raise ValueError("give exactly one of 'good' and 'factor'")
        if (self.change is None) == (self.absolute is None):
            raise ValueError("give exactly one of 'change' (proportional) and 'absolute'")
        return self


class PublicWorks(_Amount):
    """Wages paid from outside for work on public works (PSNP, cash for work): ``amount`` (the wage
    bill) is exogenous income of the workers, and the labour time they give, ``labour_time`` × amount
    at base wages (1: the payment equals the base-wage value of the time), is taken from their supply
    of ``factor``. Cost defaults to the wage bill."""

    kind: Literal["public_works"] = Field(description="'public_works'.")
    factor: str = Field(description="The labour factor whose time the works take (listed under [markets]).")
    labour_time: Number = Field(default=1.0, ge=0, description="Labour time worked per unit of wages paid, at "
                                                               "base wages (0: free cash).")


class AssetTransfer(_Amount):
    """Productive assets given to households (goats, tools): ``amount`` is what buying them costs (the
    programme's cost); a share ``bought_locally`` of it is spent in the beneficiaries' village markets
    for ``good`` (a demand shock there; the rest is imported); the assets add ``service_rate`` ×
    amount a year (at base rent 1) to the fixed factor ``factor`` of the beneficiaries' ``activity``.
    The annual service flow is reported separately (``intervention_service_flow``): the cost is the
    whole purchase, the simulated year has one year of services."""

    kind: Literal["asset_transfer"] = Field(description="'asset_transfer'.")
    activity: str = Field(description="The beneficiaries' activity that uses the assets (e.g. livestock).")
    factor: str = Field(description="The activity's fixed factor the assets add to (e.g. Capital).")
    good: str = Field(description="The good the assets are bought as (e.g. livestock).")
    service_rate: Number = Field(gt=0, le=1, description="Annual service flow per unit of asset value (e.g. 0.25).")
    bought_locally: Number = Field(default=1.0, ge=0, le=1, description="Share of the purchase made in the "
                                                                       "beneficiaries' village markets.")


class LeakageChange(_Intervention):
    """A change in the share of income the households save, send away or spend outside (``rate``),
    e.g. savings groups that keep savings circulating locally: ``change = -0.02`` lowers the rate by
    two points. Transfers no value, so ``cost`` is required."""

    kind: Literal["leakage_rate"] = Field(description="'leakage_rate'.")
    households: list[str] = Field(min_length=1, description="Household groups whose rate changes.")
    rate: Literal["savings", "transfers", "spending"] = Field(description="Which leakage: savings, transfers "
                                                                           "out, or spending outside.")
    change: Number = Field(ge=-1, le=1, description="Change of the rate (-0.02: two points lower).")
    cost: Number = Field(ge=0, description="Multipliers' denominator (required: nothing is transferred).")


class SchoolMeals(_Amount):
    """Food eaten by the named household groups (pupils' households) in school meals: ``amount`` of
    ``good`` at base prices, received in kind (infra-marginal: they buy that much less), of which a
    share ``bought_locally`` is bought from the local producers of the good (paid from outside, as
    ``local_procurement``), the rest imported. Cost defaults to the amount."""

    kind: Literal["school_meals"] = Field(description="'school_meals'.")
    good: str = Field(description="The food served (a good of the SAM).")
    bought_locally: Number = Field(default=1.0, ge=0, le=1, description="Share of the food bought from local "
                                                                         "producers (the rest is imported).")
    sellers: list[str] | None = Field(default=None, min_length=1,
                                      description="Household groups the food is bought from (default: every "
                                                  "producer of the good).")


INTERVENTION_KINDS = (PriceChange, CashTransfer, InKindTransfer, Productivity, FactorEndowment, InputBudgetChange,
                      LabourSupplyChange, LocalProcurement, PublicWorks, AssetTransfer, LeakageChange, SchoolMeals)
Intervention = Annotated[Union[INTERVENTION_KINDS], Field(discriminator="kind")]  # type: ignore[valid-type]
KIND_MODELS = {m.model_fields["kind"].annotation.__args__[0]: m for m in INTERVENTION_KINDS}
