"""Print the markdown table of docs/multipliers.md: lewie's income multipliers of each country case's
cash transfer next to the published LEWIE multiplier.

For each case the cash-transfer variant named in CASES is run at the point estimates (no Monte Carlo
draws); cases whose programmes have no cash arm get a row saying so. A second table gives every
variant of every scenario.

Run: .venv/bin/python tools/multiplier_table.py > docs/multipliers.md   (the whole page), or
     .venv/bin/python tools/multiplier_table.py <case> ...            (table rows of some cases only)
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"


@dataclass(frozen=True)
class Row:
    case: str  # scenario file stem = data folder
    programme: str
    variant: str | None  # the cash-transfer variant; None when the case has no cash arm
    published_nominal: str
    published_real: str
    published_value: float | None  # the published nominal income multiplier the gap is measured against
    reason: str  # may use {production} (lewie production multiplier) and {villages} (split by village)


CASES = [
    Row("lesotho_cgp_springs", "CGP (cash)", "cgp", "up to 2.23", "> 1 (number not found)", 2.23,
        "2.23 is the top of the published range; in our economy crops and livestock are priced by "
        "South African markets (world) and a fifth or more of spending goes on outside goods, so less "
        "demand stays local"),
    Row("zambia_hgsf_casu", "HGSF + CASU (no cash arm)", None, "none published", "none published", None,
        "no cash arm (school feeding is procurement plus meals in kind; CASU a productivity and input "
        "package) and no published LEWIE multiplier to compare with"),
    Row("peru_juntos_haku_winay", "Juntos (cash)", "juntos", "none published", "none published", None,
        "no published LEWIE multiplier for Juntos"),
    Row("mali_cash_plus", "Nioro Cash (cash-only arm)", "cash", "none published", "none published", None,
        "no published LEWIE multiplier for Nioro Cash / Cash+"),
    Row("ethiopia_psnp_insct", "IN-SCT (direct support paid all year)", "in_sct",
        "2.52 (SCTPP, Hintalo-Wajirat)", "1.84 (SCTPP, Hintalo-Wajirat)", 2.52,
        "the published figure is for another programme and region (Tigray SCTPP, 2011-14); we borrow its "
        "ETB 155 a month but assume the share of income, the budgets and the sector mix"),
    Row("kenya_ct_ovc", "CT-OVC", "ct_ovc", "1.14 (production; 90% band 1.03-1.25)",
        "1.58 (real production value added)", None,
        "published figures are production multipliers, not income multipliers; lewie's production "
        "multiplier is {production:.2f}; the published economy had more household groups and markets"),
    Row("ghana_leap", "LEAP", "leap", "2.50", "as low as 1.50", 2.50,
        "transfer share of consumption and all budgets assumed; the published model's 1.50 real figure "
        "is its constrained-supply case, ours uses elastic labour (elasticity 100) throughout"),
    Row("malawi_sct", "SCT", "sct", "1.25 + 0.68 in trading centres = 1.93", "not found", 1.93,
        "split by village, lewie gives {villages}: our trading centre is small and villagers run shops "
        "themselves, so more of the gain stays in the villages than in the published model"),
    Row("zambia_cgp", "CGP", "cgp", "1.79", "as low as 1.34", 1.79,
        "supply is more elastic in our economy (elastic labour, town shops supplying the zone market); the "
        "published real 1.34 is its constrained-supply case"),
    Row("zimbabwe_hsct", "HSCT", "hsct", "1.73 (band 1.42-2.00)", "not found", 1.73,
        "inside the published band; transfer share of consumption and budgets assumed"),
]


def variant_multipliers(case: str, variants: list[str] | None = None) -> dict[str, dict]:
    """For each variant of a case's scenario (default: all), solved at the point estimates: cost,
    nominal and real total income multipliers, production multiplier, nominal multiplier by village."""
    import lewie

    sc = lewie.load_scenario(SCENARIOS / f"{case}.toml")
    sc = sc.model_copy(update={"montecarlo": sc.montecarlo.model_copy(update={"draws": 0})})
    ds = lewie.run(sc, variants=variants).sel(draw=0)  # the point estimates
    a = lewie.analysis
    nominal, real = a.income_multiplier(ds), a.income_multiplier(ds, real=True)
    production = a.production_multiplier(ds).sum("good")
    by_village = a.income_multiplier(ds, by="village")
    out = {}
    for v in map(str, ds["variant"].values):
        split = by_village.sel(variant=v).to_series()
        out[v] = {"cost": float(a.cost(ds).sel(variant=v)), "nominal": float(nominal.sel(variant=v)),
                  "real": float(real.sel(variant=v)), "production": float(production.sel(variant=v)),
                  "villages": " + ".join(f"{x:.2f} ({k})" for k, x in split.items())}
    return out


def cash_multipliers(case: str, variant: str) -> dict:
    """The multipliers of one (cash-transfer) variant of a case."""
    return variant_multipliers(case, [variant])[variant]


def table() -> str:
    """Cash transfers: lewie next to the published multipliers."""
    head = ("| case | programme | lewie nominal | lewie real | published nominal | published real | gap | "
            "likely reason |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in CASES:
        if r.variant is None:
            nom = real = gap = "—"
            reason = r.reason
        else:
            m = cash_multipliers(r.case, r.variant)
            nom, real = f"{m['nominal']:.2f}", f"{m['real']:.2f}"
            gap = f"{m['nominal'] - r.published_value:+.2f}" if r.published_value is not None else "—"
            reason = r.reason.format(**m)
        lines.append(f"| {r.case} | {r.programme} | {nom} | {real} | {r.published_nominal} | {r.published_real} | "
                     f"{gap} | {reason} |")
    return "\n".join(lines)


def variants_table() -> str:
    """Every variant of every case (no published figures exist for the non-cash programmes)."""
    lines = ["| case | variant | cost (SAM units) | lewie nominal | lewie real |", "|---|---|---|---|---|"]
    for r in CASES:
        for v, m in variant_multipliers(r.case).items():
            lines.append(f"| {r.case} | {v} | {m['cost']:,.0f} | {m['nominal']:.2f} | {m['real']:.2f} |")
    return "\n".join(lines)


PAGE = """# Income multipliers of the country cases

lewie's income multiplier of each country case's cash transfer, next to the published LEWIE
multiplier where one exists. Generated by `tools/multiplier_table.py`; regenerate with

    .venv/bin/python tools/multiplier_table.py > docs/multipliers.md

How the numbers are made: each case's scenario (`scenarios/<case>.toml`) is run with its
cash-transfer variant, at the point estimates (no Monte Carlo draws), with the scenario's closure. Multiplier =
change in total (nominal or real) income of all household groups of the local economy, per unit
transferred. The country datasets are built from published programme facts (household counts, transfer
size and its share of beneficiary income, where published) and assumptions for everything else (see each
`sam/data/<case>/PROVENANCE.md`); no parameter was set to reproduce a published multiplier, so the gap
measures how far an economy built from the published facts and typical shares lands from the study's
own survey-based model. Gap = lewie nominal − published nominal.

{table}

Notes.
- Published figures: the FAO From Protection to Production LEWIE reports; Taylor et al. 2013 for Kenya;
  Kagin, Taylor, Alfani, Davis 2014 for Ethiopia (each case's `sam/data/<case>/PROVENANCE.md` cites its source).
- The published real multipliers quoted as "as low as" are the studies' constrained-supply scenarios;
  lewie's real figure here is for the scenario's own closure (labour supply elasticity 100, land and
  capital fixed).

## Every programme variant

Income multipliers of each variant of each scenario (same runs, point estimates). No published LEWIE
figure exists for the productive programmes (SPRINGS, HGSF, CASU, Haku Wiñay, Cash+ goats, PSNP public
works), so these have nothing to compare with; their costs are assumptions (see each PROVENANCE.md).

{variants}
"""


if __name__ == "__main__":
    cases = set(sys.argv[1:])
    if cases:
        CASES[:] = [r for r in CASES if r.case in cases]
        print(table())
    else:
        print(PAGE.format(table=table(), variants=variants_table()), end="")
