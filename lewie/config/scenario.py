"""Scenario files: TOML, validated by pydantic (unknown keys are errors), paths relative to the file.

A scenario names the economy (a SAM, with an optional parameter table, or a GAMS LEWIE workbook, with
an optional simulation dashboard whose shocks become variants), the household → village map, the
market level at which each good and tradable factor clears, the labour supply elasticity,
purchased-input budget constraints, Monte Carlo settings, the interventions and named variants
(lists of interventions run side by side). A numeric setting given as a list is a sensitivity sweep
(`Sweep`: the results get a dim named after it). Labels are checked against the economy later
(`lewie.model.sets.build_structure`, `lewie.model.interventions`), where the economy is known; those of a
workbook economy match case-insensitively, as in GAMS (`canonical_labels`).

Every error names the file, the key, its line where it can be found, and the closest valid label.
"""
from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Mapping, Union

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from lewie.errors import InputError, did_you_mean, unknown_label

DEFAULT_VARIANT = "all"  # the one variant of a scenario without [variants]: every intervention


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
_INTERVENTION_KINDS = {m.model_fields["kind"].annotation.__args__[0]: m for m in INTERVENTION_KINDS}


class Scenario(_Strict):
    """One scenario: an economy, its closure, the interventions and the variants to simulate."""

    name: str = Field(min_length=1, description="Title of the scenario (shown in reports and results).")
    currency: str = Field(default="SAM currency", min_length=1,
                          description="Currency of the SAM's values (e.g. \"KES\"), carried to every table and figure.")
    year: Count | None = Field(default=None, description="Year the SAM's values are in (e.g. 2016), shown with the currency.")
    sam: Path | None = Field(default=None, description="The economy's SAM (CSV or XLSX), relative to the scenario "
                                                       "file; give this or 'workbook'.")
    parameters: Path | None = Field(default=None, description="Parameter table (household counts, standard "
                                                              "errors), relative to the scenario file.")
    workbook: Path | None = Field(default=None, description="A GAMS LEWIE input workbook (instead of a SAM), "
                                                            "relative to the scenario file.")
    purchased_inputs: list[str] = Field(
        default=[], description="Workbook economies: tradable factors bought from outside (not supplied by "
                                "households), e.g. [\"Input\"]; other factors under [markets] are labour.")
    gams_compat: Flag = Field(default=False, description="Workbook economies: accept what the GAMS code accepts "
                                                         "(recorded in the results and logged).")
    dashboard: Dashboard | None = Field(default=None, description="Shocks from a simulation dashboard sheet.")
    workbook_index: str = Field(default="Index", min_length=1,
                                description="Workbook economies: the index sheet gdxxrw reads (e.g. \"Index_divided\" "
                                            "or \"Index_divided!A2\", as the GAMS main file's input_sheet_index).")
    workbook_names: dict[str, str] = Field(
        default={}, description="Workbook economies: lewie parameter -> workbook variable name, overriding the "
                                "known spellings (see lewie.sam.workbook_names), e.g. transfer_rate = \"transfoutsh\".")
    villages: dict[str, list[str]] = Field(min_length=1, description="Each village's household groups "
                                                                      "(every group of the SAM in exactly one).")
    markets: Markets = Field(description="Market level at which each good and tradable factor clears.")
    labour_supply: LabourSupply = Field(default=LabourSupply(), description="Labour supply elasticity.")
    input_budget: InputBudget | None = Field(default=None, description="Purchased inputs bought with a fixed "
                                                                       "budget (liquidity constraint).")
    montecarlo: MonteCarloSettings = Field(default=MonteCarloSettings(), description="Monte Carlo settings.")
    interventions: list[Intervention] = Field(default=[], description="The interventions ([[interventions]] "
                                                                      "blocks, each with a 'kind').")
    variants: dict[str, list[str]] | None = Field(
        default=None, description="Named lists of interventions; without it one variant 'all' has them all.")
    sweeps: tuple[Sweep, ...] = Field(
        default=(), description="Settings given as lists (set by giving a list in the file, not directly); "
                                "the scenario holds each setting's first value.")
    source: Path | None = Field(default=None, exclude=True, description="File the scenario was read from.")

    def sweep_points(self) -> list[tuple[dict[str, float], "Scenario"]]:
        """Every combination of the sweeps' values (the first sweep varying slowest): its coordinates
        and the scenario with those values set. One point (no coordinates) without sweeps."""
        import itertools
        if not self.sweeps:
            return [({}, self)]
        base = self.model_dump(mode="python", exclude={"sweeps"})
        out = []
        for combo in itertools.product(*(sw.values for sw in self.sweeps)):
            data = _copy(base)
            for sw, v in zip(self.sweeps, combo):
                _set_path(data, sw.path, v)
            out.append(({sw.dim: v for sw, v in zip(self.sweeps, combo)},
                        Scenario.model_validate({**data, "source": self.source})))
        return out

    def intervention_names(self) -> list[str]:
        """Each intervention's name; an unnamed one is called by its kind (numbered if repeated)."""
        kinds = [i.kind for i in self.interventions]
        out = []
        for n, itv in enumerate(self.interventions):
            if itv.name is not None:
                out.append(itv.name)
            elif kinds.count(itv.kind) == 1:
                out.append(itv.kind)
            else:
                out.append(f"{itv.kind}_{kinds[:n + 1].count(itv.kind)}")
        return out

    def variant_map(self) -> dict[str, list[int]]:
        """Variant name -> positions of its interventions (file order); 'all' when there are no variants."""
        if self.variants is None:
            return {DEFAULT_VARIANT: list(range(len(self.interventions)))}
        pos = {n: i for i, n in enumerate(self.intervention_names())}
        return {v: [pos[n] for n in names] for v, names in self.variants.items()}


# ------------------------------------------------------------------------------------------------
# reading and checking
# ------------------------------------------------------------------------------------------------
def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; relative paths are resolved against its folder."""
    from lewie.files import read_text
    path = Path(path)
    text = read_text(path, what="scenario file")  # missing, a folder, not UTF-8: one clear error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    return scenario_from_dict(data, base=path.parent, source=path, text=text)


def scenario_from_dict(data: dict, *, base: Path | None = None, source: Path | None = None,
                       text: str | None = None) -> Scenario:
    """Validate a scenario given as a dict (paths relative to ``base``).

    A numeric setting given as a list of numbers (``labour_supply.elasticity = [0, 1, 100]``, an
    entry of a per-household elasticity table, or a number of an intervention such as ``amount``)
    is a sensitivity sweep: the scenario holds its first value and records the sweep (`Sweep`);
    every value is validated.
    """
    data = _copy(dict(data))
    if text is None and source is not None:
        text = _text_of(source)
    if "sweeps" in data:
        raise scenario_error("unknown key 'sweeps': to sweep a setting, give it as a list of values "
                             "(e.g. labour_supply.elasticity = [0, 1, 100])", file=source, field="sweeps", text=text)
    if base is not None:
        for key in ("sam", "parameters", "workbook"):
            if isinstance(data.get(key), str):
                data[key] = (base / data[key]).resolve()
        for table, key in (("montecarlo", "draws_file"), ("dashboard", "file")):
            if isinstance(data.get(table), dict) and isinstance(data[table].get(key), str):
                data[table] = {**data[table], key: (base / data[table][key]).resolve()}
    sweeps = _find_sweeps(data, source, text)
    first = _copy(data)
    for sw in sweeps:
        _set_path(first, sw.path, sw.values[0])
    try:
        sc = Scenario.model_validate({**first, "sweeps": sweeps, "source": source})
    except ValidationError as exc:
        raise InputError(_explain(exc, text, first), file=source) from None
    for sw in sweeps:  # every value of a sweep must be valid, not only the first
        for j, v in enumerate(sw.values[1:], start=1):
            trial = _copy(first)
            _set_path(trial, sw.path, v)
            try:
                Scenario.model_validate({**trial, "source": source})
            except ValidationError as exc:
                raise InputError(f"value {j} ({v:g}) of the sweep: " + _explain(exc, text, trial),
                                 file=source) from None
    _check(sc, text)
    return sc


def _text_of(path) -> str | None:
    """A scenario file's text for finding lines in errors (None when it cannot be read)."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _copy(data):
    """A deep copy of nested dicts and lists (leaves shared)."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _set_path(data, path, value) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def _numbers(value) -> bool:
    return (isinstance(value, list) and len(value) > 0
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))


def _takes_float(model: type[BaseModel], key: str) -> bool:
    field = model.model_fields.get(key)
    if field is None:
        return False
    return _is_float(field.annotation)


def _is_float(ann) -> bool:
    """A float, a constrained float (``Annotated[float, ...]``) or a union holding one."""
    import typing
    if ann is float:
        return True
    if typing.get_origin(ann) is typing.Annotated:
        return _is_float(typing.get_args(ann)[0])
    import types
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return any(_is_float(a) for a in typing.get_args(ann))
    return False


def _find_sweeps(data: dict, source, text) -> tuple["Sweep", ...]:
    """Numeric settings given as lists of numbers: the labour supply elasticity (or an entry of its
    per-household table) and the numbers of interventions (amount, change, cost, shares ...)."""
    found: list[tuple[str, tuple, list]] = []
    ls = data.get("labour_supply")
    if isinstance(ls, dict):
        el = ls.get("elasticity")
        if _numbers(el):
            found.append(("labour_supply_elasticity", ("labour_supply", "elasticity"), el))
        elif isinstance(el, dict):
            for h, v in el.items():
                if _numbers(v):
                    found.append((f"labour_supply_elasticity_{h}", ("labour_supply", "elasticity", h), v))
    items = data.get("interventions")
    if isinstance(items, list):
        kinds = [i.get("kind") if isinstance(i, dict) and isinstance(i.get("kind"), str) else None for i in items]
        for n, itv in enumerate(items):
            model = _INTERVENTION_KINDS.get(kinds[n]) if kinds[n] is not None else None
            if model is None:
                continue
            name = itv.get("name") if isinstance(itv.get("name"), str) else (
                itv["kind"] if kinds.count(itv["kind"]) == 1 else f"{itv['kind']}_{kinds[:n + 1].count(itv['kind'])}")
            for key, v in itv.items():
                if _numbers(v) and _takes_float(model, key):
                    found.append((f"{name}_{key}", ("interventions", n, key), v))
                elif key == "shares" and isinstance(v, dict):
                    for h, w in v.items():
                        if _numbers(w):
                            found.append((f"{name}_shares_{h}", ("interventions", n, "shares", h), w))
    out = []
    for dim, path, values in found:
        field = _format_loc(list(path))
        values = [float(v) for v in values]
        j = next((j for j, v in enumerate(values) if not math.isfinite(v)), None)
        if j is not None:
            raise scenario_error(f"value {j} of the sweep must be a finite number, not {_toml_value(values[j])}",
                                 file=source, field=field, text=text)
        if len(set(values)) != len(values):
            raise scenario_error(f"a sweep lists a value twice: {values}", file=source, field=field, text=text)
        if dim in RESERVED_DIMS or dim in [d for d, *_ in out]:
            raise scenario_error(f"the sweep's dim '{dim}' is already a dim of the results; rename the "
                                 "intervention", file=source, field=field, text=text)
        out.append((dim, path, tuple(values)))
    return tuple(Sweep(dim=d, path=p, values=v) for d, p, v in out)


RESERVED_DIMS = ("variant", "draw", "state", "household", "good", "factor", "village", "input_good",
                 "intervention", "entry", "statistic", "group")


def scenario_error(message: str, *, file=None, field: str | None = None, label: str | None = None,
                   text: str | None = None, intervention: str | None = None) -> InputError:
    """An InputError for a scenario key: "file: 'key' (intervention 'x', line n): message" (the
    intervention when the key is in one, the line when it can be found)."""
    if text is None and file is not None and Path(file).suffix == ".toml":
        text = _text_of(file)
    where = ""
    if field is not None:
        line = find_line(text, _parse_field(field))
        notes = ([f"intervention '{intervention}'"] if intervention else []) + ([f"line {line}"] if line else [])
        where = f"'{field}'" + (f" ({', '.join(notes)})" if notes else "") + ": "
    err = InputError(where + message, file=file, label=label)
    err.field = field
    return err


def _check(sc: Scenario, text: str | None) -> None:
    """Checks across keys: one economy source, unique intervention names, variants naming them."""
    src = sc.source
    if sc.sam is not None and sc.workbook is not None:
        raise scenario_error("give the economy as a SAM ('sam', with an optional 'parameters' table) or as a "
                             "workbook ('workbook'), not both", file=src, field="workbook", text=text)
    if sc.sam is None and sc.workbook is None:
        raise scenario_error("no economy: give 'sam' (a SAM file, with an optional 'parameters' table) or "
                             "'workbook' (a GAMS LEWIE input workbook)", file=src, field="sam", text=text)
    if sc.workbook is not None and sc.parameters is not None:
        raise scenario_error("a workbook holds its own parameters; 'parameters' goes with 'sam'", file=src,
                             field="parameters", text=text)
    if sc.workbook is None and (sc.workbook_names or sc.workbook_index != "Index"):
        key = "workbook_names" if sc.workbook_names else "workbook_index"
        raise scenario_error(f"'{key}' says how to read a GAMS workbook, but the scenario has no 'workbook'",
                             file=src, field=key, text=text)
    if sc.dashboard is not None and sc.dashboard.file is None and sc.workbook is None:
        raise scenario_error("the dashboard has no 'file' and the scenario no workbook to take it from", file=src,
                             field="dashboard.file", text=text)
    seen: dict[str, int] = {}
    for i, itv in enumerate(sc.interventions):
        if itv.name is None:
            if sc.variants is not None:
                raise scenario_error(f"this {itv.kind} intervention has no 'name'; every intervention needs one "
                                     "when the scenario has [variants]", file=src, field=f"interventions[{i}]",
                                     text=text)
            continue
        if itv.name in seen:
            raise scenario_error(f"intervention name '{itv.name}' is used twice (also by interventions"
                                 f"[{seen[itv.name]}])", file=src, field=f"interventions[{i}].name",
                                 label=itv.name, text=text)
        seen[itv.name] = i
    if sc.variants is None:
        return
    if not sc.variants:
        raise scenario_error("[variants] is empty; name at least one variant (or leave the table out to run "
                             "every intervention together)", file=src, field="variants", text=text)
    for v, names in sc.variants.items():
        if not names:
            raise scenario_error(f"variant '{v}' lists no interventions", file=src, field=f"variants.{v}", text=text)
        for j, n in enumerate(names):
            if n not in seen:
                raise scenario_error(unknown_label("intervention", n, seen), file=src, field=f"variants.{v}[{j}]",
                                     label=n, text=text)
            if n in names[:j]:
                raise scenario_error(f"variant '{v}' lists intervention '{n}' twice", file=src,
                                     field=f"variants.{v}[{j}]", label=n, text=text)


def _explain(exc: ValidationError, text: str | None, data: dict) -> str:
    """One readable message per validation problem: the key path, its line, the closest valid key."""
    lines = []
    for err in _union_branch(exc.errors(), data):
        raw = [p for p in err["loc"] if not _is_type_tag(p)]
        loc = _strip_tag(raw)
        key = _format_loc(loc)
        where = _where(text, loc, data)
        if err["type"] == "extra_forbidden":
            parent = _model_at(raw[:-1])
            hint = did_you_mean(str(loc[-1]), parent.model_fields) if parent else ""
            lines.append(f"unknown key '{key}'{where}{hint}")
        elif err["type"] == "union_tag_invalid":
            kinds = ", ".join(_INTERVENTION_KINDS)
            tag = err.get("ctx", {}).get("tag", "?")
            lines.append(f"'{key}.kind'{_where(text, loc + ['kind'], data)}: unknown intervention kind '{tag}'"
                         f"{did_you_mean(tag, _INTERVENTION_KINDS)}; valid: {kinds}")
        elif err["type"] == "union_tag_not_found":
            lines.append(f"missing key '{key}.kind'{where}: the intervention's kind, one of "
                         f"{', '.join(_INTERVENTION_KINDS)}")
        elif err["type"] == "missing":
            kind = _intervention(data, loc).get("kind") if _intervention(data, loc) is not None else None
            hint = ""
            if loc and loc[-1] == "cost" and kind in ("productivity", "labour_supply", "leakage_rate"):
                hint = (f": a {kind} intervention transfers no value, so its cost (the multipliers' "
                        "denominator) must be given")
            lines.append(f"missing key '{key}'{where}{hint}")
        else:
            msg = _message(err) or str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"'{key}'{where}: {msg}")
    return "; ".join(dict.fromkeys(lines))


_TYPE_TAG = re.compile(r"^(constrained-\w+|float|int|str|bool|none|list\[.*\]|dict\[.*\]|tuple\[.*\]|"
                       r"function-\w+\[.*\]|lax-or-strict\[.*\]|json-or-python\[.*\]|is-instance\[.*\])$")


def _is_type_tag(p) -> bool:
    """pydantic names the member of a union (``float``, ``dict[str,...]``) in its error locations."""
    return isinstance(p, str) and bool(_TYPE_TAG.match(p))


def _value_at(data, loc):
    for p in loc:
        if isinstance(data, dict) and p in data:
            data = data[p]
        elif isinstance(data, list) and isinstance(p, int) and p < len(data):
            data = data[p]
        else:
            return None
    return data


def _union_branch(errors, data) -> list:
    """Of the errors of a union (a number or a table of numbers), those of the member the value
    looks like: the table's when the file gives a table, else the number's."""
    by_loc: dict = {}
    for err in errors:
        loc = list(err["loc"])
        tags = [n for n, p in enumerate(loc) if _is_type_tag(p)]
        if not tags:
            by_loc.setdefault(("plain", tuple(loc)), []).append(err)
            continue
        head = tuple(loc[:tags[0]])
        by_loc.setdefault(("union", head), []).append(err)
    out = []
    for (kind, head), errs in by_loc.items():
        if kind == "plain":
            out.extend(errs)
            continue
        is_table = isinstance(_value_at(data, _strip_tag(list(head))), dict)
        want = [e for e in errs if str(e["loc"][len(head)]).startswith("dict[") == is_table]
        out.extend(want or errs)
    return out


def _toml_value(v) -> str:
    """A value as the TOML file writes it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    if isinstance(v, float) and v != v:
        return "nan"
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if isinstance(v, (int, float)):
        return f"{v:g}" if isinstance(v, float) else str(v)
    if isinstance(v, dict):
        return "a table"
    if isinstance(v, list):
        return "a list"
    return repr(v)


def _message(err) -> str | None:
    """A plain message for the type and range errors of numbers, saying what the file gave."""
    t, given = err["type"], err.get("input")
    ctx = err.get("ctx") or {}
    shown = _toml_value(given)
    if t in ("float_type", "int_type", "bool_type", "float_parsing", "int_parsing"):
        want = {"float_type": "a number", "float_parsing": "a number", "int_type": "a whole number",
                "int_parsing": "a whole number", "bool_type": "true or false"}[t]
        if isinstance(given, bool):
            why = " (true/false is not a number)" if t != "bool_type" else ""
            return f"must be {want}, not {shown}{why}"
        if isinstance(given, str):
            return f"must be {want}, not the text {shown}" + (" (write it without quotes)" if t != "bool_type" else "")
        if t == "int_type" and isinstance(given, float):
            return f"must be a whole number, not {shown}"
        return f"must be {want}, not {shown}"
    if t == "finite_number":
        return f"must be a finite number, not {shown}"
    for code, sym in (("greater_than_equal", "≥"), ("greater_than", ">"), ("less_than_equal", "≤"),
                      ("less_than", "<")):
        if t == code:
            bound = next(iter(ctx.values()), None)
            return f"must be {sym} {_toml_value(bound)}, not {shown}"
    return None


def _intervention(data: dict, loc) -> dict | None:
    if len(loc) >= 2 and loc[0] == "interventions" and isinstance(loc[1], int):
        items = data.get("interventions")
        if isinstance(items, list) and loc[1] < len(items) and isinstance(items[loc[1]], dict):
            return items[loc[1]]
    return None


def _where(text: str | None, loc, data: dict) -> str:
    """' (intervention 'x', line n)', ' (line n)' or ''."""
    parts = []
    itv = _intervention(data, loc)
    if itv is not None and isinstance(itv.get("name"), str):
        parts.append(f"intervention '{itv['name']}'")
    line = find_line(text, loc)
    if line:
        parts.append(f"line {line}")
    return f" ({', '.join(parts)})" if parts else ""


def _is_tag(loc, n: int) -> bool:
    """pydantic puts the kind of a tagged intervention in its error locations: interventions.0.<kind>.key."""
    return n == 2 and loc[0] == "interventions" and isinstance(loc[1], int) and loc[2] in _INTERVENTION_KINDS


def _strip_tag(loc) -> list:
    return [p for n, p in enumerate(loc) if not _is_tag(loc, n)]


def _format_loc(loc) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _parse_field(field: str) -> list:
    """'interventions[2].households[0]' -> ['interventions', 2, 'households', 0]."""
    out: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
        out.append(int(index) if index else name)
    return out


def _model_at(loc) -> type[BaseModel] | None:
    """The pydantic model a location points into (for 'did you mean' on unknown keys)."""
    model: type[BaseModel] | None = Scenario
    for n, p in enumerate(loc):
        if isinstance(p, int):
            continue
        if _is_tag(loc, n):
            model = _INTERVENTION_KINDS[p]
            continue
        field = model.model_fields.get(p) if model else None
        if field is None:
            return None
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if p == "interventions":
            model = None
    return model


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def find_line(text: str | None, loc) -> int | None:
    """Line (1-based) of the key at ``loc`` in a scenario's TOML text, or None when it is not found.

    Knows tables (``[markets]``), arrays of tables (the n-th ``[[interventions]]``) and top-level keys;
    a key missing from its table points at the table's header.
    """
    keys = list(loc)
    if not text or not keys or not isinstance(keys[0], str):
        return None
    lines = text.splitlines()
    headers = [(n, m.group(1)) for n, line in enumerate(lines) if (m := _HEADER.match(line))]
    if keys[0] == "interventions" and len(keys) > 1 and isinstance(keys[1], int):
        starts = [n for n, h in headers if h == "interventions"]
        if keys[1] >= len(starts):
            return None
        start, rest = starts[keys[1]], keys[2:]
    else:
        table = [n for n, h in headers if h == keys[0]]
        if not table:  # a top-level key
            return _key_line(lines, keys[0], 0, headers[0][0] if headers else len(lines))
        start, rest = table[0], keys[1:]
    end = next((n for n, _ in headers if n > start), len(lines))
    name = next((k for k in rest if isinstance(k, str)), None)
    if name is None:
        return start + 1
    return _key_line(lines, name, start + 1, end) or start + 1


def _key_line(lines, key: str, start: int, end: int) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for n in range(start, end):
        if pattern.match(lines[n]):
            return n + 1
    return None


# ------------------------------------------------------------------------------------------------
# economies with case-insensitive labels (GAMS workbooks)
# ------------------------------------------------------------------------------------------------
def canonical_labels(sc: Scenario, *, households, goods, factors) -> tuple[Scenario, list[str]]:
    """The scenario with every economy label in the economy's spelling, matching case-insensitively
    (GAMS labels: ``Labor``, ``labor`` and ``LABOR`` are one factor). Labels that match nothing are
    left as they are, for validation to report with a 'did you mean'. Returns the scenario and a
    note per label respelled."""
    notes: list[str] = []

    def lookup(choices):
        low = {str(c).lower(): c for c in choices}

        def fix(label):
            if not isinstance(label, str) or label in choices:
                return label
            new = low.get(label.lower())
            if new is None:
                return label
            notes.append(f"'{label}' read as '{new}'")
            return new
        return fix

    hh, gd, fc, gf = lookup(tuple(households)), lookup(tuple(goods)), lookup(tuple(factors)), \
        lookup(tuple(goods) + tuple(factors))
    data = sc.model_dump(mode="python")
    data["villages"] = {v: [hh(h) for h in members] for v, members in data["villages"].items()}
    data["markets"] = {lvl: [gf(x) for x in labels] for lvl, labels in data["markets"].items()}
    data["purchased_inputs"] = [fc(f) for f in data["purchased_inputs"]]
    el = data["labour_supply"]["elasticity"]
    if isinstance(el, dict):
        data["labour_supply"]["elasticity"] = {hh(h): v for h, v in el.items()}
    if data.get("input_budget"):
        ib = data["input_budget"]
        ib["factors"] = [fc(f) for f in ib["factors"]]
        if ib.get("households") is not None:
            ib["households"] = [hh(h) for h in ib["households"]]
    for itv in data["interventions"]:
        if itv.get("households") is not None:
            itv["households"] = [hh(h) for h in itv["households"]]
        if itv.get("shares") is not None:
            itv["shares"] = {hh(h): w for h, w in itv["shares"].items()}
        for key, fix in (("good", gd), ("activity", gd), ("factor", fc)):
            if key in itv:
                itv[key] = fix(itv[key])
        if itv.get("activities") is not None:
            itv["activities"] = [gd(g) for g in itv["activities"]]
    sweeps = []
    for sw in data["sweeps"]:  # a sweep of a per-household value names the household in its path
        path = list(sw["path"])
        if path[:2] == ["labour_supply", "elasticity"] and len(path) == 3:
            path[2] = hh(path[2])
        elif path[0] == "interventions" and len(path) == 4 and path[2] == "shares":
            path[3] = hh(path[3])
        sweeps.append({**sw, "path": tuple(path)})
    data["sweeps"] = sweeps
    return Scenario.model_validate({**data, "source": sc.source}), list(dict.fromkeys(notes))


def with_dashboard(sc: Scenario, rows, *, file=None) -> Scenario:
    """The scenario with the shocks of a simulation dashboard (`lewie.sam.workbook.read_dashboard`)
    added as variants, one per ``sim``, in the order met.

    Each row ``sim | good | factor | household | value`` adds ``value`` units of the factor to the
    household group (a total for the group, not per household; base price 1): a ``factor_endowment``
    of activity ``good`` when the factor is fixed (not under [markets]), a ``labour_supply`` with
    cost = value when it is a labour factor (a tradable factor not in ``purchased_inputs``; ``good``
    is then only part of the name). The intervention is named ``sim_factor_good_household``.
    """
    tradable = {x for level in ("village", "zone", "world") for x in getattr(sc.markets, level)}
    data = sc.model_dump(mode="python")
    names = sc.intervention_names()
    for itv, n in zip(data["interventions"], names):
        itv["name"] = n
    variants = dict(sc.variants) if sc.variants is not None else (
        {DEFAULT_VARIANT: names} if names else {})
    for n, r in enumerate(rows.itertuples(index=False)):
        where = f"dashboard row {n + 1} ({r.sim} | {r.good} | {r.factor} | {r.household} | {r.value:g})"
        name = f"{r.sim}_{r.factor}_{r.good}_{r.household}"
        if r.factor in sc.purchased_inputs:
            raise InputError(f"{where}: '{r.factor}' is a purchased input; a dashboard shock adds units of a fixed "
                             "factor or of labour", file=file, field="dashboard", label=r.factor)
        if r.factor in tradable:
            itv = {"name": name, "kind": "labour_supply", "factor": r.factor, "households": [r.household],
                   "amount": float(r.value), "cost": abs(float(r.value))}
        else:
            itv = {"name": name, "kind": "factor_endowment", "activity": r.good, "factor": r.factor,
                   "households": [r.household], "amount": float(r.value)}
        if name in names:
            raise InputError(f"{where}: intervention name '{name}' is already used", file=file, field="dashboard",
                             label=name)
        data["interventions"].append(itv)
        names.append(name)
        if r.sim in variants and r.sim not in {str(x.sim) for x in rows.iloc[:n].itertuples(index=False)}:
            raise InputError(f"{where}: simulation '{r.sim}' has the name of a variant of the scenario", file=file,
                             field="dashboard", label=str(r.sim))
        variants.setdefault(str(r.sim), []).append(name)
    data["variants"] = variants
    return revalidated(data, sc.source, file)


def revalidated(data: dict, source, file) -> "Scenario":
    """A scenario rebuilt from ``data`` (a scenario's dump with a dashboard's shocks added), validated
    and checked again; an error names the dashboard ``file``."""
    try:
        out = Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise InputError(f"dashboard: {_explain(exc, None, data)}", file=file) from None
    _check(out, None)
    return out
