"""Write docs/economics.md: each mechanism lewie models for productive and social-protection programmes,
its equations (rendered from the Pyomo model of scenarios/example_liquidity.toml, as `lewie equations`
renders them, so the page cannot drift from the model), what it means for synergy, and references.

Run: .venv/bin/python tools/economics_doc.py > docs/economics.md
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MECHANISMS = [
    ("Liquidity constraint on purchased inputs that keeps the books",
     ["eq_factor_demand", "eq_liquidity_rent", "eq_income"],
     """Farm households buy seed and fertiliser with the cash they have at planting time
(`[input_budget]`: which tradable factors, which household groups). Spending on a constrained input is
fixed, `w·FD = B + F` (own cash B [pibudget]; outside finance F: the share of a cash transfer that pays
for inputs, or an input pack a programme pays for), instead of the first-order condition. The shadow
price λ of the constraint is the marginal value product of a unit of money spent on the input,
`λ·w·FD = PVA·QP·fshare`; λ > 1 means it binds. `shadow_price` (one number, per activity, or per
activity and group) gives λ at the base: the input's share of value added is then λ·B/VA, and the base
rent (λ − 1)·B is taken out of what the SAM records as returns to the activity's fixed factors
(`lewie.model.liquidity`). The rent `RL = PVA·QP·fshare − w·FD = (λ − 1)·w·FD` is income of the household
that holds the constraint, so every activity account closes: output value = intermediate inputs +
factor payments + RL (checked for every variant of every bundled scenario by tests/test_accounts.py).
Who pays: the purchases are costs of the activity, so the household's own money; savings-group credit
(`kind = "input_budget"`) relaxes B without new money (repaid from the harvest within the year); a
transfer with `input_budget_share` σ pays σ of itself for inputs — taken out of the transfer, not added
to it; an input pack (`paid_by = "outside"`) is the programme's money. With λ = 1 extra inputs do not
pay (credit lowers income by what the inputs cost above their return); at the margin, income rises by
λ − 1 per unit of credit (closed form: tests/test_accounts.py). Under `gams_compat` the published GAMS
form is kept: the rent is nobody's income and λ must be 1.

**Synergy.** A productivity package raises the marginal value of inputs (λ rises); a transfer that
relaxes the constraint then buys inputs worth more. The combined gain exceeds the sum by
(b + c)·VA·[(1 + x)^(1/(1−a)) − 1]·[(1 + σT/B)^(c/(1−a)) − 1] in a one-activity economy priced outside
(labour share a, land b, inputs c = λ·B/VA; tests/test_synergy.py), arising in the channels `liquidity
constraint` and the activity's `fixed-factor rents` of `lewie.analysis.synergy_by_channel`."""),
    ("Labour markets and supply elasticities",
     ["eq_labour_supply", "eq_village_factor_market"],
     """Several labour factors (family, hired, ...) are tradable factors of the SAM, each clearing at its
own market level (`[markets]`). `[labour_supply] elasticity` is one number, a table per household
group, or a table per factor (each a number or a table per group) (`lewie.model.labour`); every value must be
finite and ≥ 0. Supply is `HFSUP = hfsupzero·(w/P)^ε`: ε = 100 (the published default) is practically
perfectly elastic — idle labour at the going wage, so multipliers are upper bounds; ε = 0 fixes supply,
so more demand only raises the wage. `lewie.model.labour.constrained_labour(scenario, ε)` is the
constrained-labour sensitivity every programme-pair case reports in docs/multipliers.md.

**Synergy.** With elastic labour, extra demand from cash and extra supply from a package both hire idle
labour at a constant wage: their effects add up and labour adds little synergy. With constrained
labour, a package that needs more labour competes with the transfer's demand: synergy through the
`<factor>: wages` channel can turn negative."""),
    ("Local markets and the closure",
     ["eq_village_market", "eq_zone_market"],
     """Each good clears at village or zone level (its price is endogenous, net trade fixed) or is
priced outside (`world`: trade free). A productivity package raising output of a good that clears
locally lowers its price; if the good is priced outside, its extra output is sold out. The stated
closure of each case is argued in its PROVENANCE.md; docs/multipliers.md shows every programme pair
also with the goods its programmes act on cleared locally. A negative nominal multiplier under local
clearing is a correct LEWIE result.

**Synergy.** Extra demand from cash meets extra supply from a package in the same local market: the
price fall the package alone would cause is partly undone by the transfer's demand, and the transfer's
inflation by the package's supply — synergy shows in that good's `fixed-factor rents` and the local
wages."""),
    ("Programmes modelled as the programmes",
     ["eq_household_surplus", "eq_village_surplus"],
     """`public_works`: wages from outside for labour time taken from the workers' supply (`labour_time`
per unit of wages at base wages). `asset_transfer`: productive assets (goats, tools) bought in the
beneficiaries' village markets (a demand shock there, share `bought_locally`) and added to an
activity's fixed factor at `service_rate` of their value a year; the cost is the purchase, the annual
service flow is reported separately (`intervention_service_flow`). `leakage_rate`: savings groups that
keep savings local lower the savings rate. `school_meals`: food eaten by the pupils' households
(received in kind: they buy that much less), bought from local producers (exogenous demand in their
villages) or imported. Each against a closed form in tests/test_programmes.py."""),
]

REFERENCES = """## References
- Taylor, J. E. and M. J. Filipski (2014). *Beyond Experiments in Development Economics: Local Economy-wide
  Impact Evaluation.* Oxford University Press.
- FAO From Protection to Production (PtoP) LEWIE country reports (Kenya CT-OVC, Lesotho CGP, Ghana LEAP,
  Malawi SCT, Zambia CGP, Zimbabwe HSCT, Ethiopia SCTPP; Kagin, Taylor & Daidone 2021 for Lesotho CGP and
  SPRINGS), summarised in the project reference `published-figures.md`.
- Filipski, M. and B. Belton (2018). Give a man a fishpond: modeling the impacts of aquaculture in the
  rural economy. *World Development* 110 (the public GAMS code lewie reproduces under `gams_compat`).
"""


def page() -> str:
    import lewie
    from lewie.model.equations import to_latex

    sim = lewie.Simulation(REPO / "scenarios" / "example_liquidity.toml").load().validate().calibrate().build()
    m = sim.model
    out = ["# The economics of lewie's mechanisms", "",
           "Generated by `tools/economics_doc.py` (`.venv/bin/python tools/economics_doc.py > docs/economics.md`).",
           "Equations are rendered from the Pyomo model of `scenarios/example_liquidity.toml`, one instance per",
           "block, as `lewie equations` renders every block; `lewie equations <scenario>` lists them all.", ""]
    for title, blocks, text in MECHANISMS:
        out += [f"## {title}", "", text, ""]
        for name in blocks:
            c = m.find_component(name)
            first = None
            for k, con in c.items():  # an instance that shows the mechanism (a constrained use if any)
                if first is None or (name == "eq_factor_demand" and k in m.budget_uses) \
                        or (name == "eq_income" and k == "eligible"):
                    first = con
                    if name not in ("eq_factor_demand", "eq_income"):
                        break
            if first is None:
                out += [f"`{name}`: {c.doc} (no instance in this example: every good clears elsewhere)", ""]
                continue
            out += [f"`{name}` ({len(c)} equations): {c.doc}", "", "$$", to_latex(first.expr), "$$", ""]
    out.append(REFERENCES)
    return "\n".join(out)


if __name__ == "__main__":
    print(page(), end="")
