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
    Row("colombia_unidos_fest", "FEST monetary incentives (cash)", "cash", "none published", "none published", None,
        "no published LEWIE for Colombia; nearly every number of this economy is an assumption"),
    Row("mexico_prospera_proinpro", "PROSPERA (cash)", "prospera", "none published", "none published", None,
        "no published LEWIE for PROSPERA with PROINPRO; the transfer size is published, the economy assumed"),
]


# The programme-pair cases and the goods their programmes act on: the closure sensitivity clears these
# in the local economy (zone market) instead of at the scenario's stated level. Why each case's stated
# closure is chosen: its PROVENANCE.md, "Closure".
PROGRAMME_GOODS = {
    "lesotho_cgp_springs": ["crops", "vegetables", "livestock"],
    "zambia_hgsf_casu": ["maize", "beans"],
    "peru_juntos_haku_winay": ["crops", "livestock"],
    "mali_cash_plus": ["crops", "livestock"],
    "ethiopia_psnp_insct": ["crops", "livestock"],
    "colombia_unidos_fest": ["crops", "livestock"],
    "mexico_prospera_proinpro": ["crops", "livestock"],
}
CONSTRAINED_ELASTICITY = 1.0  # "constrained labour": unit-elastic supply (published default 100)


def local_clearing(sc, goods: list[str]):
    """The scenario with ``goods`` clearing in the local economy (zone level) instead of its stated level."""
    data = sc.model_dump(mode="python")
    m = data["markets"]
    for level in ("village", "world"):
        m[level] = [g for g in m[level] if g not in goods]
    m["zone"] = list(dict.fromkeys(list(m["zone"]) + goods))
    return type(sc).model_validate({**data, "source": sc.source})


def sensitivity(case: str) -> dict[str, dict[str, tuple[float, float, float]]]:
    """variant -> closure -> (nominal and real multipliers, synergy per unit of cost or NaN) under the stated
    closure, local clearing of the programme goods, and constrained labour."""
    import math

    import lewie
    from lewie.model.labour import constrained_labour

    a = lewie.analysis
    sc = lewie.load_scenario(SCENARIOS / f"{case}.toml")
    sc = sc.model_copy(update={"montecarlo": sc.montecarlo.model_copy(update={"draws": 0})})
    runs = {"stated": sc, "local clearing": local_clearing(sc, PROGRAMME_GOODS[case]),
            "constrained labour": constrained_labour(sc, CONSTRAINED_ELASTICITY)}
    out: dict[str, dict] = {}
    for name, s in runs.items():
        ds = lewie.run(s).sel(draw=0)
        nominal, real = a.income_multiplier(ds), a.income_multiplier(ds, real=True)
        syn = a.synergy_multiplier(ds)
        for v in map(str, ds["variant"].values):
            sv = float(syn.sel(variant=v)) if v in syn["variant"].values else math.nan
            out.setdefault(v, {})[name] = (float(nominal.sel(variant=v)), float(real.sel(variant=v)), sv)
    return out


def sensitivity_table() -> str:
    """The programme pairs' nominal multipliers (and synergy per unit of cost) under three closures."""
    lines = ["| case | variant | stated closure | local clearing of programme goods | constrained labour (ε = 1) |",
             "|---|---|---|---|---|"]
    for case in PROGRAMME_GOODS:
        for v, by in sensitivity(case).items():
            cells = []
            for name in ("stated", "local clearing", "constrained labour"):
                m, r, s = by[name]
                cells.append(f"{m:.2f} / {r:.2f}" + ("" if s != s else f" (synergy {s:+.3f})"))
            lines.append(f"| {case} | {v} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SYNERGY_DRAWS = 50


def synergy_table() -> str:
    """Every combined variant of the scenarios: synergy (combined − Σ parts) with its Monte Carlo band
    and the three channels it runs through most (`lewie.analysis.synergy_by_channel`)."""
    import lewie

    a = lewie.analysis
    lines = ["| case | combined variant | synergy (point) | 5–95% band | per unit of cost | largest channels (point) |",
             "|---|---|---|---|---|---|"]
    cases = ["example_liquidity"] + list(PROGRAMME_GOODS)
    for case in cases:
        ds = lewie.run(SCENARIOS / f"{case}.toml", draws=SYNERGY_DRAWS)
        syn = a.synergy(ds, by="total")
        if not syn.sizes.get("variant"):
            continue
        band = a.bands(syn)
        ch = a.synergy_by_channel(ds).sel(draw=0)
        for v in map(str, syn["variant"].values):
            b = band.sel(variant=v)
            c = ch.sel(variant=v).to_series()
            top = c.reindex(c.abs().sort_values(ascending=False).index)[:3]
            chans = "; ".join(f"{k} {x:+,.0f}" for k, x in top.items() if x != 0)
            per = float(b.sel(statistic="point")) / float(a.cost(ds).sel(variant=v))
            lines.append(f"| {case} | {v} | {float(b.sel(statistic='point')):+,.0f} | "
                         f"{float(b.sel(statistic='p05')):+,.0f} to {float(b.sel(statistic='p95')):+,.0f} | "
                         f"{per:+.3f} | {chans} |")
    return "\n".join(lines)


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
figure exists for the productive programmes (SPRINGS, HGSF, CASU, Haku Wiñay, Cash+ goats, PSNP public works, FEST, PROINPRO
projects), so these have nothing to compare with; their costs are assumptions (see each PROVENANCE.md).

{variants}

## Closure and labour sensitivity of the programme pairs

Nominal / real income multipliers of every variant of the programme-pair cases under the scenario's
stated closure, with the goods the programmes act on cleared in the local economy (zone market:
{goods}), and with constrained labour (supply elasticity {elasticity:g} for every factor and group instead of the
published 100; `lewie.model.labour.constrained_labour`). For combined variants the synergy per unit of
cost follows in brackets (nominal; combined minus the sum of the parts; `lewie.analysis.synergy_multiplier`).
With constrained labour the nominal multiplier can rise (wages and local prices rise) while the real
one falls: read the two together.
A negative multiplier or synergy is a LEWIE result, shown, not avoided: a productivity package
lowers the local price of what it makes more of when that good clears locally. Why each stated
closure is chosen: each case's PROVENANCE.md, section "Closure".

{sensitivity}

## Synergy of the combined programmes

For every combined variant: synergy in nominal income (combined minus the sum of its parts, SAM
currency) at the point estimates, its band over {draws} Monte Carlo draws (5th–95th percentile, draw
by draw), per unit of the combined cost, and the channels it runs through most
(`lewie.analysis.synergy_by_channel`; docs/economics.md). `example_liquidity` is the worked example
of a binding liquidity constraint. Read each sign with its band: a band that includes zero means the
programmes' effects add up within the uncertainty; a negative synergy (e.g. a package lowering a
local price that the transfer's demand would have raised, or a transfer's input share relaxing a
constraint that a package made less valuable) is a LEWIE result, shown as it is.

{synergy}
"""


if __name__ == "__main__":
    cases = set(sys.argv[1:])
    if cases:
        CASES[:] = [r for r in CASES if r.case in cases]
        print(table())
    else:
        goods = "; ".join(f"{c}: {', '.join(g)}" for c, g in PROGRAMME_GOODS.items())
        print(PAGE.format(table=table(), variants=variants_table(), sensitivity=sensitivity_table(), goods=goods,
                          elasticity=CONSTRAINED_ELASTICITY, synergy=synergy_table(), draws=SYNERGY_DRAWS), end="")
