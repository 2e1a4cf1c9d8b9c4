"""The registry of every variable and parameter of the LEWIE model and of every variable of its
results: name, role, dims, units, long name, GAMS name. One table, from which come

* the Pyomo declarations' docs and index sets (`lewie.model.declaration`: ``VARIABLES``, ``PARAMETERS``),
* the results metadata and which model components the results report (`lewie.results.dataset.OUTPUTS`,
  ``long_name`` / ``units`` of every results variable),
* the dims exports and comparisons know (`RESULT_DIMS`), the labels of residual reports
  (`INDEX_DIMS`, `constraint_labels`),
* the GAMS-name mapping (`gams_names`, `workbook_names`, `gams_spellings`, `from_gams`), from which the
  workbook import (`lewie.sam.workbook.GAMS_PARAMETER`) and supplied draws (`lewie.runs.sampling.GAMS_NAMES`)
  take theirs,
* the reference table docs/registry.md (`markdown`).

A leaf module (it imports nothing of lewie), so the solvers, verification, results and exports can
all read it.
"""
from __future__ import annotations

from dataclasses import dataclass

CURRENCY = "SAM currency"
AT_BASE = f"{CURRENCY} at base prices"
INDEX = "index (base = 1)"

# the dims of each index set of the model, so reports name households, goods, factors, villages
INDEX_DIMS = {
    "goods_h": ("good", "household"), "activities": ("good", "household"),
    "factor_uses": ("good", "factor", "household"), "fixed_uses": ("good", "factor", "household"),
    "budget_uses": ("good", "factor", "household"), "input_uses": ("good", "input", "household"),
    "consumption_pairs": ("good", "household"), "labour_pairs": ("factor", "household"),
    "households": ("household",), "goods": ("good",), "tradable_factors": ("factor",),
    "zone_goods": ("good",), "zone_factors": ("factor",), "village_goods_v": ("good", "village"),
    "village_factors_v": ("factor", "village"), "goods_v": ("good", "village"),
    "tradable_h": ("factor", "household"), "tradable_v": ("factor", "village"),
    "world_goods": ("good",), "world_factors": ("factor",),
}

# the dims of results Datasets: the model's sets, and those of a run (sweep dims come on top)
SET_DIMS = ("household", "good", "factor", "village", "input_good")
RESULT_DIMS = ("variant", "draw", "state") + SET_DIMS + ("intervention", "entry")

ROLES = {
    "variable": "a variable of the model (Pyomo Var)",
    "parameter": "a parameter of the model (mutable Pyomo Param)",
    "derived": "a results variable computed from the model's variables (by village)",
    "economy": "a property of the economy (labels)",
    "variant": "what a variant is: its interventions, cost and beneficiaries",
    "draws": "what a draw is: its drawn parameters and notes",
    "run": "how a solve went",
}


@dataclass(frozen=True)
class Entry:
    """One variable or parameter of the model, or one variable of the results."""

    name: str  # the Pyomo component (variables, parameters) or the results variable
    role: str  # see ROLES
    long_name: str
    units: str = ""  # '' for labels, flags and counts
    index: str | None = None  # the Pyomo index set of a model component (None: scalar)
    gams: str = ""  # name in the published GAMS model code (genCD)
    workbook: str = ""  # variable of the GAMS input workbook (alldata row label) that gives it
    aliases: tuple[str, ...] = ()  # other GAMS spellings accepted when reading (lower case)
    output: str = ""  # the results variable that reports a model component ('' when none)
    dims: tuple[str, ...] = ()  # dims of that results variable beyond variant / sweeps / draw / state

    @property
    def model_dims(self) -> tuple[str, ...]:
        """Dims of a model component's index."""
        return INDEX_DIMS.get(self.index, ()) if self.index else ()

    @property
    def result_name(self) -> str:
        return self.output if self.role in ("variable", "parameter") else self.name


def _v(name, index, long_name, units, gams, output="", dims=()):
    return Entry(name, "variable", long_name, units, index, gams, output=output, dims=dims)


def _p(name, index, long_name, units, gams, workbook="", aliases=(), output="", dims=()):
    return Entry(name, "parameter", long_name, units, index, gams, workbook, tuple(aliases), output, dims)


H, GH, GFH, FH, GV = ("household",), ("good", "household"), ("good", "factor", "household"), ("factor", "household"), \
    ("good", "village")

ENTRIES: tuple[Entry, ...] = (
    # ---- variables, in declaration order
    _v("price_household", "goods_h", "price faced by the household group", INDEX, "PH", "household_price", GH),
    _v("price_village", "village_goods_v", "village market price", INDEX, "PV"),
    _v("price_zone", "zone_goods", "zone market price", INDEX, "PZ"),
    _v("price_value_added", "activities", "value-added price", "index", "PVA", "value_added_price", GH),
    _v("wage_village", "village_factors_v", "village wage", INDEX, "WV"),
    _v("wage_zone", "zone_factors", "zone wage", INDEX, "WZ"),
    _v("rent", "fixed_uses", "rent of an activity-specific fixed factor", INDEX, "R", "rent", GFH),
    _v("production", "activities", "output of the activity", AT_BASE, "QP", "production", GH),
    _v("value_added", "activities", "value added of the activity (quantity)", AT_BASE, "QVA", "value_added", GH),
    _v("factor_demand", "factor_uses", "factor demand of the activity", AT_BASE, "FD", "factor_demand", GFH),
    _v("intermediate_demand", "input_uses", "intermediate demand of the activity for a good", AT_BASE, "ID",
       "intermediate_demand", ("good", "input_good", "household")),
    _v("consumption", "consumption_pairs", "consumption", AT_BASE, "QC", "consumption", GH),
    _v("income", "households", "nominal income", CURRENCY, "Y", "income", H),
    _v("cpi", "households", "consumer price index of the household group", INDEX, "CPI", "cpi", H),
    _v("real_income", "households", "real income (income deflated by the CPI)", AT_BASE, "RY", "real_income", H),
    _v("transfers_out", "households", "transfers paid outside the local economy", CURRENCY, "TROUT", "transfers_out", H),
    _v("savings", "households", "savings", CURRENCY, "SAV", "savings", H),
    _v("outside_spending", "households", "spending outside the local economy", CURRENCY, "EXPROC", "outside_spending", H),
    _v("labour_supply", "labour_pairs", "factor (labour) supply of the household group", AT_BASE, "HFSUP",
       "factor_supply", FH),
    _v("household_surplus", "goods_h", "marketed surplus (output − own use − consumption)", AT_BASE, "HMS",
       "marketed_surplus", GH),
    _v("village_surplus", "goods_v", "marketed surplus of the village", AT_BASE, "VMS", "village_marketed_surplus", GV),
    _v("zone_surplus", "goods", "marketed surplus of the local economy", AT_BASE, "ZMS"),
    _v("household_factor_surplus", "tradable_h", "factor marketed surplus of the household group", AT_BASE, "HFMS",
       "factor_marketed_surplus", FH),
    _v("village_factor_surplus", "tradable_v", "factor marketed surplus of the village", AT_BASE, "VFMS"),
    _v("zone_factor_surplus", "tradable_factors", "factor marketed surplus of the local economy", AT_BASE, "ZFMS"),
    _v("liquidity_rent", "budget_uses", "rent of a liquidity-constrained input ((shadow price − 1) × spending), "
       "income of the household", CURRENCY, "— (not in GAMS)", "liquidity_rent", GFH),
    # ---- parameters, in declaration order
    _p("input_share", "input_uses", "intermediate input per unit of output", "1", "idsh", "idsh"),
    _p("va_share", "activities", "value added per unit of output", "1", "vash"),
    _p("factor_share", "factor_uses", "Cobb-Douglas share of the factor in value added", "1", "fshare", "fshare"),
    _p("tfp", "activities", "shift (total factor productivity) of value added", "1", "pshift"),
    _p("fixed_factor", "fixed_uses", "fixed factor of the activity", AT_BASE, "fixfac"),
    _p("input_budget", "budget_uses", "budget of a budget-constrained factor use", CURRENCY, "pibudget"),
    _p("savings_rate", "households", "share of income saved", "1", "savsh", "savsh"),
    _p("transfer_rate", "households", "share of income transferred outside the local economy", "1", "troutsh",
       "transfout", aliases=("transfout",)),
    _p("outside_rate", "households", "share of income spent outside the local economy", "1", "exprocsh", "EXPROLES",
       aliases=("exproles",)),
    _p("budget_share", "consumption_pairs", "marginal budget share (linear expenditure system)", "1", "eshare",
       "eshare"),
    _p("min_consumption", "consumption_pairs", "minimum consumption (linear expenditure system)", AT_BASE, "emin",
       "emin"),
    _p("cpi_weight", "consumption_pairs", "weight of the good in the CPI (its base budget share)", "1",
       "base budget share in CPI"),
    _p("exogenous_income", "households", "exogenous income (transfers in, remittances)", CURRENCY, "exinc",
       output="exogenous_income", dims=H),
    _p("labour_endowment", "labour_pairs", "factor supply at the base wage", AT_BASE, "hfsupzero"),
    _p("labour_elasticity", "labour_pairs", "elasticity of factor supply to the wage", "1", "hfsupel"),
    _p("world_price", "world_goods", "price of a good priced outside the local economy", INDEX, "PZ (fixed)"),
    _p("world_wage", "world_factors", "wage of a factor priced outside the local economy", INDEX, "WZ (fixed)"),
    _p("village_net_trade", "village_goods_v", "fixed net trade of the village in a village good", AT_BASE, "vmsfix"),
    _p("zone_net_trade", "zone_goods", "fixed net trade of the local economy in a zone good", AT_BASE, "zmsfix"),
    _p("village_factor_trade", "village_factors_v", "fixed net trade of the village in a village factor", AT_BASE,
       "vfmsfix"),
    _p("zone_factor_trade", "zone_factors", "fixed net trade of the local economy in a zone factor", AT_BASE,
       "zfmsfix"),
    _p("exogenous_demand", "goods_v", "exogenous local demand (procurement, resold goods)", AT_BASE, "—",
       output="exogenous_demand", dims=GV),
    _p("in_kind", "goods_h", "goods received in kind (resold share included)", AT_BASE, "—", output="in_kind",
       dims=GH),
    _p("outside_price", None, "price level outside the local economy", INDEX, "— (1 in GAMS)"),
    _p("input_finance", "budget_uses", "outside money paying for liquidity-constrained inputs (a transfer's share, "
       "credit, an input pack)", CURRENCY, "— (not in GAMS)", output="input_finance", dims=GFH),
    # ---- results variables computed from the model's
    Entry("price", "derived", "market price", INDEX, dims=GV),
    Entry("wage", "derived", "wage of a tradable factor", INDEX, dims=("factor", "village")),
    # ---- the economy
    Entry("market_level", "economy", "market level at which the good clears", dims=("good",)),
    Entry("factor_market_level", "economy", "market level of a tradable factor, or 'fixed'", dims=("factor",)),
    # ---- what the variants are
    Entry("intervention_kind", "variant", "kind of intervention", dims=("intervention",)),
    Entry("intervention_cost", "variant", "cost of the intervention", CURRENCY, dims=("intervention",)),
    Entry("intervention_service_flow", "variant", "annual service flow of the assets an intervention transfers (its "
          "cost is the purchase)", CURRENCY, dims=("intervention",)),
    Entry("includes", "variant", "the variant includes the intervention", dims=("variant", "intervention")),
    Entry("cost", "variant", "cost of the variant's interventions (the multipliers' denominator)", CURRENCY,
          dims=("variant",)),
    Entry("beneficiary", "variant", "the household group receives something directly", dims=("variant", "household")),
    # ---- the draws
    Entry("parameter_value", "draws", "value of the drawn parameter in the draw (calibration input)", "1",
          dims=("draw", "entry")),
    Entry("draw_note", "draws", "what was done to the draw's values ('' when nothing)", dims=("draw",)),
    # ---- how each solve went
    Entry("status_code", "run", "outcome of the solve (see status for the text, reason for why)",
          dims=("variant", "draw")),
    Entry("status", "run", "outcome of the solve: converged, or failed: <what failed>", dims=("variant", "draw")),
    Entry("reason", "run", "why the solve failed (when converged: '' or how it was accepted)", dims=("variant", "draw")),
    Entry("solver_iterations", "run", "solver iterations", dims=("variant", "draw")),
    Entry("max_relative_residual", "run", "worst relative residual of the verified solution (each equation relative "
          "to the magnitude of the quantities it is built from)", "1", dims=("variant", "draw")),
    Entry("pyomo_verified", "run", "the draw's base and solutions were re-checked by Pyomo's own evaluation of every "
          "constraint", dims=("draw",)),
)

BY_NAME = {e.name: e for e in ENTRIES}
VARIABLES = {e.name: e for e in ENTRIES if e.role == "variable"}
PARAMETERS = {e.name: e for e in ENTRIES if e.role == "parameter"}
RESULTS = {e.result_name: e for e in ENTRIES if e.result_name}
"""Every variable of a results Dataset (besides coordinates), by its name in the results."""


def attrs(result_name: str) -> dict:
    """``long_name`` and ``units`` (when it has units) of a results variable."""
    e = RESULTS[result_name]
    return {"long_name": e.long_name, **({"units": e.units} if e.units else {})}


def gams_names() -> dict[str, str]:
    """Model parameter and variable -> its name in the published GAMS code."""
    return {e.name: e.gams for e in ENTRIES if e.role in ("variable", "parameter") and e.gams}


def workbook_names() -> dict[str, str]:
    """Model parameter -> the variable of the GAMS input workbook that gives it."""
    return {e.name: e.workbook for e in PARAMETERS.values() if e.workbook}


def gams_spellings(name: str) -> tuple[str, ...]:
    """The lower-case names a model parameter or variable goes by in GAMS code and workbooks: its GAMS
    name, its workbook variable and the aliases (``transfer_rate``: troutsh, transfout)."""
    e = BY_NAME[name]
    return tuple(dict.fromkeys(x for x in (e.gams.lower(), e.workbook.lower(), *e.aliases) if x))


# the GAMS set of each model dim, in the order of lewie's label columns (good, good2, factor, household)
GAMS_SETS = (("good", "g"), ("input", "gg"), ("factor", "f"), ("household", "h"))


def gams_label_sets(name: str) -> tuple[str, str, str, str]:
    """The GAMS set behind each of lewie's label columns (good, good2, factor, household) for a model
    parameter or variable, '' where it has no such index: ``factor_share`` -> ``('g', '', 'f', 'h')``
    (GAMS ``fshare(g,f,h)``)."""
    dims = BY_NAME[name].model_dims
    return tuple(gams if dim in dims else "" for dim, gams in GAMS_SETS)  # type: ignore[return-value]


def from_gams(name: str) -> str | None:
    """The lewie parameter or variable a GAMS or workbook name means (any case; aliases accepted)."""
    key = name.strip().lower()
    for e in ENTRIES:
        if e.role in ("variable", "parameter") and key in {e.gams.lower(), e.workbook.lower(), *e.aliases} - {""}:
            return e.name
    return None


def constraint_labels(con) -> str:
    """The labels of one equation of the model, e.g. ``good=crops, household=eligible``."""
    comp = con.parent_component()
    idx = con.index()
    if idx is None:
        return ""
    idx = idx if isinstance(idx, tuple) else (idx,)
    dims = INDEX_DIMS.get(comp.index_set().name, tuple(f"i{k}" for k in range(len(idx))))
    return ", ".join(f"{d}={v}" for d, v in zip(dims, idx))


def markdown() -> str:
    """The registry as reference tables (docs/registry.md is this text)."""
    def esc(s):
        return str(s).replace("|", "\\|")

    lines = ["# Variables and parameters", "",
             "Generated from `lewie/model/registry.py` (`python -m lewie.model.registry > docs/registry.md`); a test checks "
             "that this file is up to date.", "",
             "## Model variables and parameters", "",
             "| name | role | index (dims) | long name | units | GAMS | workbook | in the results as |",
             "|---|---|---|---|---|---|---|---|"]
    for e in ENTRIES:
        if e.role not in ("variable", "parameter"):
            continue
        index = f"{e.index} ({', '.join(e.model_dims)})" if e.index else "scalar"
        out = f"`{e.output}` ({', '.join(e.dims)})" if e.output else ""
        lines.append(f"| `{e.name}` | {e.role} | {index} | {esc(e.long_name)} | {esc(e.units)} | {esc(e.gams)} | "
                     f"{esc(e.workbook)} | {out} |")
    lines += ["", "## Other results variables", "",
              "Every results Dataset also has these (dims besides `variant`, the sweep dims, `draw` and `state`).", "",
              "| name | role | dims | long name | units |", "|---|---|---|---|---|"]
    for e in ENTRIES:
        if e.role in ("variable", "parameter"):
            continue
        lines.append(f"| `{e.name}` | {e.role} | {', '.join(e.dims)} | {esc(e.long_name)} | {esc(e.units)} |")
    lines += ["", "## Roles", ""] + [f"- **{k}**: {v}" for k, v in ROLES.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
