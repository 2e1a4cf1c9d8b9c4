"""Build a country case's SAM and parameter table from its spec: sam/data/<case>/spec.toml.

Countries are data, not code: one generic builder reads a case's spec (household groups with their
counts, villages, income, budget shares and leakage rates, output per household by activity,
intermediate-input and factor shares per activity, the labour split, standard errors) and writes

* ``sam/data/<case>/sam.csv``: a balanced lewie SAM (units: the spec's ``case.units``), and
* ``sam/data/<case>/parameters.csv``: the parameter table (``parameter, good, good2, factor,
  household, value, se``) that Monte Carlo draws from, plus ``household_count`` rows.

The construction is `lewie.sam.shares.sam_from_shares` (shared with the workbook calibration, the
example generator and the benchmark economies) and follows the GAMS calibration
(docs: /work/shared/reference/lewie-model.md, "Calibration from the input workbook"):

* income ``Y(h) = income per household · count``; a group whose income is set from a programme's
  published transfer size uses ``income = transfer_per_household / transfer_share_of_income``;
* leakages ``rate · Y``; consumption ``budget_share · Y · (1 − Σ rates)`` (budget shares rescaled to 1);
* output ``QP(g,h) = output per household · count``; intermediate inputs ``input_share · QP``;
  value added ``QP − Σ inputs`` split by factor shares (rescaled to 1);
* fixed factors: the rent goes to the group running the activity; purchased inputs are bought
  from outside; labour: each village supplies ``labour_ratio ×`` the labour its activities use
  (above 1: its people also work outside), split across its groups by ``workers · count``;
* net trade with the outside closes every commodity and the labour account; exogenous income
  (transfers in, remittances; may be negative) closes each household account.

Every number in a spec must carry a comment saying where it comes from (``# source: ...``) or that
it is invented (``# assumption: ...``); the builder refuses a spec line with a number and neither.

Run: ``python tools/build_case.py <case> [<case> ...]`` or ``python tools/build_case.py --all``;
``--check`` compares with the committed files instead of writing them. Idempotent.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lewie.sam.accounts import LEAKAGES, account
from lewie.sam.io import read_sam, write_sam
from lewie.sam.shares import EconomyShares, sam_from_shares

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "sam" / "data"
PARAMETER_COLUMNS = ["parameter", "good", "good2", "factor", "household", "value", "se"]
RATES = {"savings": "savings_rate", "transfers": "transfer_rate", "spending": "outside_rate"}
SE_KINDS = ("factor_share", "budget_share", "input_share", "savings_rate", "transfer_rate", "outside_rate")
TOL = 1e-9


class SpecError(ValueError):
    """A case spec that cannot be built; the message names the file and the field."""


@dataclass
class Case:
    """A built case: its SAM, parameter table and a few derived figures for reports."""

    name: str
    sam: pd.DataFrame
    parameters: pd.DataFrame
    income: dict[str, float]  # per household, local currency per year
    exogenous_share: dict[str, float]  # exogenous income / income, by group


# --------------------------------------------------------------------------------------------
# reading and checking a spec

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d_]*(\.\d+)?([eE][-+]?\d+)?")


def check_comments(text: str, path: Path) -> None:
    """Every spec line that states a number carries '# source: ...' or '# assumption: ...'."""
    bad = []
    for i, line in enumerate(text.splitlines(), start=1):
        code, _, comment = line.partition("#")
        if code.strip().startswith("["):  # a table header
            continue
        code = re.sub(r'"[^"]*"', '""', code)  # numbers inside strings are text
        if "=" not in code or not _NUMBER.search(code.split("=", 1)[1]):
            continue
        c = comment.strip().lower()
        if not (c.startswith("source:") or c.startswith("assumption:")):
            bad.append(i)
    if bad:
        raise SpecError(f"{path}: lines {bad} state numbers without a '# source: ...' or "
                        "'# assumption: ...' comment")


def load_spec(case: str | Path) -> dict:
    """Read and check ``sam/data/<case>/spec.toml`` (or a spec file path)."""
    path = Path(case)
    if path.suffix != ".toml":
        path = DATA / str(case) / "spec.toml"
    if not path.exists():
        raise SpecError(f"no spec file {path}")
    text = path.read_text(encoding="utf-8")
    check_comments(text, path)
    spec = tomllib.loads(text)
    spec["_path"] = path
    _validate(spec)
    return spec


def _need(d: dict, key: str, where: str, path):
    if key not in d:
        raise SpecError(f"{path}: missing '{where}.{key}'")
    return d[key]


def _validate(spec: dict) -> None:
    path = spec["_path"]
    case = _need(spec, "case", "", path)
    goods = _need(case, "goods", "case", path)
    if "outside" not in goods:
        raise SpecError(f"{path}: case.goods must include 'outside' (goods bought from outside)")
    fac = _need(spec, "factors", "", path)
    classes = {}
    for kind in ("fixed", "labour", "purchased"):
        for f in fac.get(kind, []):
            if f in classes:
                raise SpecError(f"{path}: factor '{f}' is classified twice ({classes[f]}, {kind})")
            classes[f] = kind
    villages = _need(spec, "villages", "", path)
    hh = _need(spec, "households", "", path)
    acts = _need(spec, "activities", "", path)
    for name, a in acts.items():
        g = name.split(":")[0]
        if g not in goods or g == "outside":
            raise SpecError(f"{path}: activities.{name}: '{g}' is not a produced good of case.goods")
        shares = _need(a, "factors", f"activities.{name}", path)
        for f in shares:
            if f not in classes:
                raise SpecError(f"{path}: activities.{name}.factors: factor '{f}' is not classified in [factors]")
        if abs(sum(shares.values()) - 1) > TOL:
            raise SpecError(f"{path}: activities.{name}.factors sum to {sum(shares.values()):.6g}, not 1")
        inputs = a.get("inputs", {})
        for gg in inputs:
            if gg not in goods:
                raise SpecError(f"{path}: activities.{name}.inputs: unknown good '{gg}'")
        if sum(inputs.values()) >= 1:
            raise SpecError(f"{path}: activities.{name}.inputs sum to {sum(inputs.values()):.6g} >= 1")
    for h, d in hh.items():
        where = f"households.{h}"
        v = _need(d, "village", where, path)
        if v not in villages:
            raise SpecError(f"{path}: {where}.village: unknown village '{v}' (declare it under [villages])")
        if _need(d, "count", where, path) <= 0:
            raise SpecError(f"{path}: {where}.count must be positive")
        if ("income" in d) == ("transfer_per_household" in d):
            raise SpecError(f"{path}: {where}: give either 'income' or 'transfer_per_household' with "
                            "'transfer_share_of_income'")
        budget = _need(d, "budget", where, path)
        for g in budget:
            if g not in goods:
                raise SpecError(f"{path}: {where}.budget: unknown good '{g}'")
        if abs(sum(budget.values()) - 1) > TOL:
            raise SpecError(f"{path}: {where}.budget sums to {sum(budget.values()):.6g}, not 1")
        for g in d.get("output", {}):
            if g not in goods:
                raise SpecError(f"{path}: {where}.output: unknown good '{g}'")
            if f"{g}:{h}" not in acts and g not in acts:
                raise SpecError(f"{path}: {where}.output: no [activities.{g}] shares for '{g}'")
        rates = sum(d.get(RATES[k], 0.0) for k in LEAKAGES)
        if not 0 <= rates < 1:
            raise SpecError(f"{path}: {where}: savings, transfer and outside rates sum to {rates:.6g}")
        _need(d, "workers", where, path)
    for v, d in villages.items():
        _need(d, "labour_ratio", f"villages.{v}", path)
    se = _need(spec, "standard_errors", "", path)
    for k in SE_KINDS:
        _need(se, k, "standard_errors", path)


# --------------------------------------------------------------------------------------------
# building

def household_income(d: dict) -> float:
    """Income (= expenditure, as in the GAMS calibration Y = HHexp) per household."""
    if "income" in d:
        return float(d["income"])
    return float(d["transfer_per_household"]) / float(d["transfer_share_of_income"])


def activity_spec(spec: dict, g: str, h: str) -> dict:
    acts = spec["activities"]
    return acts.get(f"{g}:{h}", acts.get(g))


def economy_shares(spec: dict) -> EconomyShares:
    """The spec as shares (`lewie.sam.shares.EconomyShares`): output ``QP = output per household · count``,
    income ``Y = income per household · count``, each village supplying ``labour_ratio ×`` the labour its
    activities use, split across its groups by ``workers · count``; purchased factors are inputs."""
    goods = spec["case"]["goods"]
    kind = {"fixed": "fixed", "labour": "labour", "purchased": "input"}
    classes = {f: k for k in ("fixed", "labour", "purchased") for f in spec["factors"].get(k, [])}
    hh = spec["households"]
    count = {h: float(hh[h]["count"]) for h in hh}
    activities = [(g, h) for h in hh for g in goods if g in hh[h].get("output", {})]
    return EconomyShares(
        output={(g, h): float(hh[h]["output"][g]) * count[h] for g, h in activities},
        input_shares={(g, h): activity_spec(spec, g, h).get("inputs", {}) for g, h in activities},
        factor_shares={(g, h): activity_spec(spec, g, h)["factors"] for g, h in activities},
        income={h: household_income(hh[h]) * count[h] for h in hh},
        budget_shares={h: hh[h]["budget"] for h in hh},
        leakage_rates={h: {k: float(hh[h].get(RATES[k], 0.0)) for k in LEAKAGES} for h in hh},
        factor_kinds={f: kind[k] for f, k in classes.items()},
        village_of={h: hh[h]["village"] for h in hh},
        labour_weights={h: float(hh[h]["workers"]) * count[h] for h in hh},
        labour_total={v: float(d["labour_ratio"]) for v, d in spec["villages"].items()})


def build(spec: dict) -> Case:
    """The balanced SAM and the parameter table of one case spec (`lewie.sam.shares.sam_from_shares`)."""
    goods = spec["case"]["goods"]
    economy = economy_shares(spec)
    H = list(economy.income)
    try:
        sam = sam_from_shares(economy, goods=goods, factors=list(economy.factor_kinds), households=H)
    except ValueError as exc:
        raise SpecError(f"{spec['_path']}: {exc}") from None
    world = account("out", "world")
    exo = {h: sam.at[account("hh", h), world] for h in H}
    sam = sam.rename_axis(index=None, columns=None).round(6)
    unused = [g for g in goods if not sam.loc[account("com", g)].any() and not sam[account("com", g)].any()]
    if unused:
        raise SpecError(f"{spec['_path']}: goods {unused} are neither produced nor consumed")
    _assert_balanced(sam, spec["_path"])
    params = parameter_table(spec, list(economy.output))
    income = {h: household_income(spec["households"][h]) for h in H}
    return Case(name=spec["case"]["name"], sam=sam, parameters=params, income=income,
                exogenous_share={h: exo[h] / economy.income[h] for h in H})


def _assert_balanced(sam: pd.DataFrame, path) -> None:
    rows, cols = sam.sum(axis=1), sam.sum(axis=0)
    gross = np.maximum(sam.abs().sum(axis=1), sam.abs().sum(axis=0)).clip(lower=1.0)
    off = (rows - cols).abs() / gross
    if (off > TOL).any():  # cannot happen: every account is closed above
        raise AssertionError(f"{path}: SAM does not balance: {off[off > TOL].to_dict()}")


def _se(spec: dict, kind: str, value: float, override: dict | None, key: str) -> float:
    if override and key in override:
        return float(override[key])
    return abs(value) * float(spec["standard_errors"][kind])


def parameter_table(spec: dict, activities: list[tuple[str, str]]) -> pd.DataFrame:
    """Point estimates (the spec's shares) and standard errors, in lewie's parameter names.

    A standard error is the spec's explicit ``*_se`` value if it gives one, else the point
    estimate times the relative standard error of ``[standard_errors]``.
    """
    rows = []
    hh = spec["households"]
    for g, h in activities:
        a = activity_spec(spec, g, h)
        for f, s in a["factors"].items():
            rows.append(("factor_share", g, "", f, h, s, _se(spec, "factor_share", s, a.get("factors_se"), f)))
    for g, h in activities:
        a = activity_spec(spec, g, h)
        for gg, s in a.get("inputs", {}).items():
            rows.append(("input_share", g, gg, "", h, s, _se(spec, "input_share", s, a.get("inputs_se"), gg)))
    for h, d in hh.items():
        for g, s in d["budget"].items():
            rows.append(("budget_share", g, "", "", h, s, _se(spec, "budget_share", s, d.get("budget_se"), g)))
    for h, d in hh.items():
        for leak in LEAKAGES:
            name = RATES[leak]
            v = float(d.get(name, 0.0))
            rows.append((name, "", "", "", h, v, _se(spec, name, v, d, name + "_se")))
    for h, d in hh.items():
        rows.append(("household_count", "", "", "", h, float(d["count"]), 0.0))
    out = pd.DataFrame(rows, columns=PARAMETER_COLUMNS)
    out["value"] = out["value"].astype(float).round(12)
    out["se"] = out["se"].astype(float).round(12)
    return out


# --------------------------------------------------------------------------------------------
# files

def cases() -> list[str]:
    """Every case with a spec under sam/data."""
    return sorted(p.parent.name for p in DATA.glob("*/spec.toml"))


def build_case(case: str) -> Case:
    """Build one case from its spec (nothing written)."""
    return build(load_spec(case))


def write_case(case: str) -> list[Path]:
    built = build_case(case)
    folder = DATA / case
    sam_path = write_sam(built.sam, folder / "sam.csv")
    par_path = folder / "parameters.csv"
    built.parameters.to_csv(par_path, index=False)
    return [sam_path, par_path]


def check_case(case: str) -> list[str]:
    """Differences between the committed files and a fresh build (empty when they agree)."""
    built = build_case(case)
    folder = DATA / case
    problems = []
    try:
        committed = read_sam(folder / "sam.csv")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return [f"{case}: cannot read sam.csv: {exc}"]
    if list(committed.index) != list(built.sam.index):
        problems.append(f"{case}: sam.csv accounts differ from the spec's")
    elif not np.allclose(committed.to_numpy(), built.sam.to_numpy(), rtol=1e-12, atol=1e-9):
        problems.append(f"{case}: sam.csv values differ from the spec's")
    params = pd.read_csv(folder / "parameters.csv", dtype={c: str for c in PARAMETER_COLUMNS[:5]},
                         keep_default_na=False)
    if not params.drop(columns=["value", "se"]).equals(built.parameters.drop(columns=["value", "se"])) or \
            not np.allclose(params[["value", "se"]].astype(float), built.parameters[["value", "se"]]):
        problems.append(f"{case}: parameters.csv differs from the spec's")
    return problems


def summary(case: str) -> str:
    """A few derived figures of a case, for its PROVENANCE.md."""
    spec = load_spec(case)
    built = build(spec)
    n_factors = sum(len(spec["factors"].get(k, [])) for k in ("fixed", "labour", "purchased"))
    lines = [f"{case}: {len(spec['households'])} household groups, {len(spec['case']['goods'])} goods, "
             f"{n_factors} factors"]
    for h, d in spec["households"].items():
        y = built.income[h]
        line = (f"  {h}: {d['count']:g} households, income {y:,.2f} per household, exogenous income "
                f"{100 * built.exogenous_share[h]:.1f}% of income")
        if "transfer_per_household" in d:
            line += f", transfer {d['transfer_per_household']:g} = {100 * d['transfer_share_of_income']:.1f}%"
        lines.append(line)
    sam = built.sam
    world = account("out", "world")
    for g in spec["case"]["goods"]:
        c = account("com", g)
        lines.append(f"  {g}: output {sam.loc[[a for a in sam.index if a.startswith(f'act:{g}:')], c].sum():,.0f}, "
                     f"net imports {sam.at[world, c] - sam.at[c, world]:,.0f}")
    for f in spec["factors"].get("labour", []):
        c = account("fac", f)
        lines.append(f"  {f}: used {sam.loc[c].sum():,.0f}, net imports {sam.at[world, c] - sam.at[c, world]:,.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="case folder names under sam/data")
    ap.add_argument("--all", action="store_true", help="every case with a spec.toml")
    ap.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    ap.add_argument("--summary", action="store_true", help="print derived figures of each case")
    args = ap.parse_args(argv)
    names = cases() if args.all else args.cases
    if not names:
        ap.error("name at least one case, or --all")
    status = 0
    for case in names:
        try:
            if args.summary:
                print(summary(case))
            elif args.check:
                problems = check_case(case)
                for p in problems:
                    print(p)
                status |= bool(problems)
            else:
                for p in write_case(case):
                    print(f"wrote {p.relative_to(REPO)}")
        except SpecError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
