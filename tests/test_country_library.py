"""The country dataset library: every case's data rebuilds from its spec, and every country scenario
validates, calibrates, reproduces its base and solves every variant.

Cases: sam/data/<case>/ (spec.toml -> sam.csv, parameters.csv by tools/build_case.py; PROVENANCE.md)
and scenarios/<case>.toml.
"""
from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lewie
from lewie.sam import check_sam
from lewie.sam.io import read_sam
from lewie.sam.workbook import read_parameters

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = sorted(p for p in (REPO / "scenarios").glob("*.toml") if not p.stem.startswith("example_")
                   and "workbook" not in tomllib.loads(p.read_text(encoding="utf-8")))  # GAMS workbook studies: test_gams_aqua


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"lewie_tools_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


build_case = _tool("build_case")
multiplier_table = _tool("multiplier_table")
CASES = build_case.cases()


def _ids(paths):
    return [p.stem for p in paths]


def test_every_case_has_a_scenario_and_provenance():
    assert len(CASES) == 12
    assert sorted(p.stem for p in SCENARIOS) == CASES
    for case in CASES:
        text = (REPO / "sam" / "data" / case / "PROVENANCE.md").read_text(encoding="utf-8")
        assert "source" in text.lower() and "assumption" in text.lower(), case


# ---------------------------------------------------------------- data: rebuilt from the spec

@pytest.mark.parametrize("case", CASES)
def test_committed_data_equals_the_spec_build(case):
    built = build_case.build_case(case)
    committed = read_sam(REPO / "sam" / "data" / case / "sam.csv")
    assert list(committed.index) == list(built.sam.index)
    np.testing.assert_allclose(committed.to_numpy(), built.sam.to_numpy(), rtol=1e-12, atol=1e-9)
    assert build_case.check_case(case) == []


@pytest.mark.parametrize("case", CASES)
def test_sam_balances_and_passes_the_checks(case):
    sam = read_sam(REPO / "sam" / "data" / case / "sam.csv")
    rows, cols = sam.sum(axis=1), sam.sum(axis=0)
    gross = np.maximum(sam.abs().sum(axis=1), sam.abs().sum(axis=0)).clip(lower=1.0)
    assert float(((rows - cols).abs() / gross).max()) <= 1e-9
    assert check_sam(sam).ok


@pytest.mark.parametrize("case", CASES)
def test_parameter_table_matches_the_sam(case):
    """Shares in parameters.csv are the SAM's own (calibration reproduces them), with positive ses."""
    folder = REPO / "sam" / "data" / case
    par = pd.read_csv(folder / "parameters.csv", dtype=str, keep_default_na=False)
    assert list(par.columns) == ["parameter", "good", "good2", "factor", "household", "value", "se"]
    par[["value", "se"]] = par[["value", "se"]].astype(float)
    sam = read_sam(folder / "sam.csv")
    for r in par[par["parameter"] == "factor_share"].itertuples():
        act = f"act:{r.good}:{r.household}"
        va = sam.loc[[i for i in sam.index if i.startswith("fac:")], act].sum()
        assert sam.at[f"fac:{r.factor}", act] / va == pytest.approx(r.value, rel=1e-9)
        assert r.se > 0
    for r in par[par["parameter"] == "budget_share"].itertuples():
        hh = f"hh:{r.household}"
        local = sam[hh].sum() - sam.loc[["out:savings", "out:transfers", "out:spending"], hh].sum()
        assert sam.at[f"com:{r.good}", hh] / local == pytest.approx(r.value, rel=1e-9)
    assert len(read_parameters(folder / "parameters.csv")) == len(par)  # lewie's reader accepts it
    counts = par[par["parameter"] == "household_count"]
    assert sorted(counts["household"]) == sorted(i[3:] for i in sam.index if i.startswith("hh:"))
    assert (counts["value"] > 0).all() and (counts["se"] == 0).all()


def test_spec_numbers_need_a_provenance_comment(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text("[case]\nname = \"x\"\n[households.a]\ncount = 10\n", encoding="utf-8")
    with pytest.raises(build_case.SpecError, match=r"lines \[4\]"):
        build_case.load_spec(spec)


# ---------------------------------------------------------------- model

CASH = [r for r in multiplier_table.CASES if r.variant is not None]


@pytest.mark.slow
@pytest.mark.parametrize("row", CASH, ids=[r.case for r in CASH])
def test_cash_variant_multiplier_is_plausible(row):
    """Cash spent in a local economy with locally supplied goods: 1 < real <= nominal < 3."""
    m = multiplier_table.cash_multipliers(row.case, row.variant)
    assert 1.0 < m["real"] <= m["nominal"] < 3.0


# ---------------------------------------------------------------- the full scenarios (extended schema)

def _variants(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["variants"]


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_scenario_validates(path):
    sc = lewie.load_scenario(path)
    assert sc.name


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_scenario_reproduces_its_base_and_solves_every_variant(path):
    sc = lewie.load_scenario(path)
    if getattr(sc.montecarlo, "draws", 0):  # point estimates only: Monte Carlo is tested elsewhere
        sc = sc.model_copy(update={"montecarlo": sc.montecarlo.model_copy(update={"draws": 0})})
    lewie.Simulation(sc).load().validate().calibrate().build()  # build checks the base
    ds = lewie.run(sc)
    variants = _variants(path)
    if "variant" in ds.dims:
        assert sorted(map(str, ds["variant"].values)) == sorted(variants)
    income = lewie.analysis.income_change(ds)
    assert np.isfinite(np.asarray(income)).all()


# ---------------------------------------------------------------- published programme facts reach the model

def _point_costs(case: str) -> dict[str, float]:
    sc = lewie.load_scenario(REPO / "scenarios" / f"{case}.toml")
    sc = sc.model_copy(update={"montecarlo": sc.montecarlo.model_copy(update={"draws": 0})})
    cost = lewie.analysis.cost(lewie.run(sc))
    return {str(v): float(cost.sel(variant=v)) for v in cost["variant"].values}


def test_mexico_uses_the_published_prospera_and_proinpro_figures():
    """PROSPERA: MXN 1,800 a bimester, 19.5% of a beneficiary family's income (PROVENANCE.md sources 4-5);
    PROINPRO: US$ 19.5 million for 12,800 families at MXN 75 billion / US$ 4.53 billion, half of it
    productive investment, to 12,800 / 26 families per municipality."""
    sam = read_sam(REPO / "sam" / "data" / "mexico_prospera_proinpro" / "sam.csv")
    counts = {"proinpro": round(12_800 / 26), "prospera": 2_500}
    for h, n in counts.items():
        assert sam[f"hh:{h}"].sum() / n == pytest.approx(6 * 1_800 / 0.195, rel=1e-9)
    investment = 19.5e6 / 12_800 * 75e9 / 4.53e9 / 2
    cost = _point_costs("mexico_prospera_proinpro")
    assert cost["prospera"] == pytest.approx(6 * 1_800 * sum(counts.values()), rel=1e-12)
    assert cost["proinpro"] == pytest.approx(counts["proinpro"] * investment, abs=counts["proinpro"] * 1.0)
    assert cost["prospera+proinpro"] == pytest.approx(cost["prospera"] + cost["proinpro"], rel=1e-12)


def test_colombia_restitution_projects_cost_the_published_amount_per_family():
    """Proyectos Productivos: COP 120,500 million for 4,462 projects (PROVENANCE.md source 4), 40 families."""
    cost = _point_costs("colombia_unidos_fest")
    assert cost["restitution"] == pytest.approx(40 * 120_500e6 / 4_462, abs=2.0)
    assert cost["cash+restitution"] == pytest.approx(cost["cash"] + cost["restitution"], rel=1e-12)
