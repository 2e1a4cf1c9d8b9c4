"""The economist's first hour (issue 12): parameter-table template and rounding tolerance, honest
bands, paste-ready tables, the simulated SAM, currency and year, the xarray accessor, no machine
paths."""
from __future__ import annotations

import logging
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import lewie
from lewie.results import analysis as A
from lewie.cli.main import cli
from lewie.errors import InputError, LewieError
from lewie.results.uncertainty import NO_UNCERTAINTY

from .conftest import EXAMPLE_SAM, EXAMPLE_SCENARIO, REPO
from .draws_fixture import lesotho_draws, lesotho_sweep



def _case(tmp_path: Path, scenario: Path, data_dir: Path, **extra) -> Path:
    """A copy of a bundled case in tmp_path: its data files beside a scenario that names them."""
    for f in data_dir.iterdir():
        if f.suffix in (".csv",):
            shutil.copy(f, tmp_path / f.name)
    text = scenario.read_text()
    text = re.sub(r'^sam = ".*"$', 'sam = "sam.csv"', text, flags=re.M)
    text = re.sub(r'^parameters = ".*"$\n', "", text, flags=re.M)
    head = "".join(f"{k} = {v}\n" for k, v in extra.items())
    path = tmp_path / "case.toml"
    path.write_text(head + text if not text.startswith("name") else text.replace("\n", "\n" + head, 1))
    return path


def _with_parameters(path: Path, table: str) -> Path:
    text = re.sub(r'^parameters = ".*"$\n', "", path.read_text(), flags=re.M)
    text = text.replace('sam = "sam.csv"', f'sam = "sam.csv"\nparameters = "{table}"', 1)
    out = path.with_name(f"with_{Path(table).stem}.toml")
    out.write_text(text)
    return out


def _invoke(*args) -> str:
    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


# ------------------------------------------------------------------------------------------------
# parameter table: template, rounding tolerance, empty values
# ------------------------------------------------------------------------------------------------
def test_params_template_round_trips_through_run_with_draws(tmp_path, caplog):
    case = _case(tmp_path, EXAMPLE_SCENARIO, EXAMPLE_SAM.parent)
    out = _invoke("params", "template", tmp_path / "sam.csv", "--scenario", case, "--out", tmp_path / "parameters.csv")
    assert "parameters.csv" in out
    table = pd.read_csv(tmp_path / "parameters.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["parameter", "good", "good2", "factor", "household", "value", "se"]
    assert (table["se"] == "").all()
    from lewie.runs.stages import Simulation
    from lewie.runs.sampling import entry_keys, point_values
    sim = Simulation(case).load().validate().calibrate()
    keys = entry_keys(sim.calibration)
    assert [tuple(r) for r in table[["parameter", "good", "good2", "factor", "household"]].to_numpy()] == keys
    np.testing.assert_array_equal(table["value"].astype(float).to_numpy(), point_values(sim.calibration, keys))
    # the template, as written, is a valid parameter table: 10 draws run, all at the point estimates
    scenario = _with_parameters(case, "parameters.csv")
    with caplog.at_level(logging.WARNING, logger="lewie"):
        printed = _invoke("run", scenario, "--draws", 10, "--out", tmp_path / "r.nc")
    assert NO_UNCERTAINTY in caplog.text and NO_UNCERTAINTY in printed
    ds = lewie.results.dataset.load_results(tmp_path / "r.nc")
    plain = lewie.run(case)
    np.testing.assert_array_equal(ds["income"].sel(draw=0).values, plain["income"].sel(draw=0).values)
    assert bool((ds["income"] == ds["income"].sel(draw=0)).all())
    # filled in: standard errors on the shares give bands
    table.loc[table["parameter"].isin(["factor_share", "budget_share"]), "se"] = "0.02"
    table.to_csv(tmp_path / "filled.csv", index=False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lewie"):
        filled = lewie.run(_with_parameters(case, "filled.csv"), draws=10)
    assert NO_UNCERTAINTY not in caplog.text
    band = A.bands(A.income_multiplier(filled))
    assert float(band.sel(variant="all", statistic="p95") - band.sel(variant="all", statistic="p05")) > 1e-3
    np.testing.assert_array_equal(filled["income"].sel(draw=0).values, plain["income"].sel(draw=0).values)


def _unround_case(tmp_path: Path) -> Path:
    """The example with the eligible group's budget shares made non-round (7.77 of its retail spending
    moved to services, the exports of both adjusted so every account still balances), a parameter
    table with the SAM's exact values and standard errors (`template`), and a scenario naming it."""
    from lewie.runs.parameter_template import template
    from lewie.sam.io import read_sam, write_sam
    case = _case(tmp_path, EXAMPLE_SCENARIO, EXAMPLE_SAM.parent)
    sam = read_sam(tmp_path / "sam.csv")
    x = 7.77
    sam.loc["com:retail", "hh:eligible"] -= x
    sam.loc["com:retail", "out:world"] += x
    sam.loc["com:services", "hh:eligible"] += x
    sam.loc["com:services", "out:world"] -= x
    write_sam(sam, tmp_path / "sam.csv")
    table = template(case)
    share = table["parameter"].isin(["factor_share", "budget_share", "savings_rate"])
    table.loc[share, "se"] = "0.01"
    table.to_csv(tmp_path / "exact.csv", index=False)
    return _with_parameters(case, "exact.csv")


def test_rounded_point_estimates_are_accepted_and_the_sams_values_used(tmp_path):
    exact = _unround_case(tmp_path)
    table = pd.read_csv(tmp_path / "exact.csv", dtype=str, keep_default_na=False)
    ref = lewie.run(exact, draws=4)
    assert ref.attrs["draws_log"] == ""
    full = table["value"].astype(float)
    rounded = table.copy()
    rounded["value"] = [f"{v:.2f}" for v in full]
    off_by = (rounded["value"].astype(float) - full).abs()
    assert off_by.max() > 1e-3  # really rounded: more than the printing tolerance 1e-6
    rounded.to_csv(tmp_path / "rounded.csv", index=False)
    got = lewie.run(_with_parameters(exact, "rounded.csv"), draws=4)
    n = int((off_by > 1e-6).sum())
    assert f"{n} point estimates of the parameter table differ from the SAM's calibrated values by up to " \
           f"{off_by.max():.3g} (within the rounding tolerance 0.005" in got.attrs["draws_log"]
    # the SAM's values are used: the same draws and results as with the exact table (entries within the
    # printing tolerance 1e-6 keep the table's value, so the last bit may differ)
    np.testing.assert_allclose(got["parameter_value"].values, ref["parameter_value"].values, rtol=1e-13)
    np.testing.assert_allclose(got["income"].values, ref["income"].values, rtol=1e-12)
    np.testing.assert_array_equal(got["income"].sel(draw=0).values, ref["income"].sel(draw=0).values)
    # an empty value is the SAM's
    empty = table.copy()
    empty["value"] = ""
    empty.to_csv(tmp_path / "empty.csv", index=False)
    got = lewie.run(_with_parameters(exact, "empty.csv"), draws=4)
    np.testing.assert_allclose(got["income"].values, ref["income"].values, rtol=1e-12)
    assert f"{len(table)} entries of the parameter table have no value" in got.attrs["draws_log"]
    # further off than the tolerance: an error that states it and the way forward
    off = table.copy()
    i = int(np.flatnonzero(table["parameter"] == "budget_share")[0])
    off.loc[i, "value"] = f"{full[i] + 0.02:.6f}"
    off.to_csv(tmp_path / "off.csv", index=False)
    with pytest.raises(InputError, match=r"rounding tolerance 0\.005.*lewie params template") as err:
        lewie.run(_with_parameters(exact, "off.csv"))
    assert "off.csv" in str(err.value) and f"budget_share|{table.loc[i, 'good']}" in str(err.value)
    # household counts cannot be empty
    hc = pd.concat([table, pd.DataFrame([["household_count", "", "", "", "eligible", "", ""]],
                                        columns=table.columns)])
    hc.to_csv(tmp_path / "hc.csv", index=False)
    with pytest.raises(LewieError, match="empty value"):
        lewie.run(_with_parameters(exact, "hc.csv"))


# ------------------------------------------------------------------------------------------------
# honest bands
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def flat_draws():
    """The example (no parameter table) with 5 draws: no parameter uncertainty."""
    return lewie.run(EXAMPLE_SCENARIO, draws=5)


def test_a_monte_carlo_run_without_uncertainty_warns_and_shows_no_bands(caplog, flat_draws):
    with caplog.at_level(logging.WARNING, logger="lewie"):
        lewie.run(EXAMPLE_SCENARIO, draws=3)
    assert NO_UNCERTAINTY in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lewie"):
        lewie.run(EXAMPLE_SCENARIO)  # a point run: nothing to warn about
    assert NO_UNCERTAINTY not in caplog.text
    from lewie.report.html_report import render_report
    from lewie.report.text_summary import summary
    text = summary(flat_draws)
    assert NO_UNCERTAINTY in text and "5-95%" not in text and "[1.196, 1.196]" not in text
    page = render_report(flat_draws)
    assert "No parameter uncertainty: bands are not computed" in page and "5th pct" not in page
    from lewie.results.paper_tables import wide_tables
    t = wide_tables(flat_draws)[0]
    assert [s for _, s in t.columns] == ["point"] and NO_UNCERTAINTY in t.notes[0]
    from lewie.results.export import tidy_tables
    assert set(tidy_tables(flat_draws)["multipliers"]["statistic"]) == {"point"}
    from lewie.results.compare import comparison_table
    row = comparison_table({"flat": flat_draws}).iloc[0]
    assert np.isnan(row["income_multiplier_nominal_p05"]) and np.isnan(row["income_multiplier_nominal_mean"])
    assert row["income_multiplier_nominal_point"] == pytest.approx(float(A.income_multiplier(flat_draws).sel(draw=0).squeeze()))


def test_text_summary_has_bands_on_income_by_group_and_labels_the_sweep():
    from lewie.report.text_summary import summary
    ds = lesotho_draws()
    text = summary(ds)
    block = text.split("Income change by household group")[1].split("\n\n")[0]
    assert "nominal 5-95%" in block.splitlines()[1]
    one = ds.sel(variant=["cgp"])
    st = lewie.summarize(one, A.change(one, "income").sel(household=str(ds["household"].values[0])).rename("x"))
    lo = float(st["x"].sel(statistic="p05").squeeze())
    assert f"[{lo:,.2f}," in text.split("== variant 'cgp'")[1].split("Production change")[0]
    sw = summary(lesotho_sweep())
    assert "labour_supply_elasticity = 1 (the first value of the sweep" in sw
    assert sw.count("(figures at labour_supply_elasticity = 1") == 3  # once per variant


# ------------------------------------------------------------------------------------------------
# paste-ready tables
# ------------------------------------------------------------------------------------------------
def _sheet_rows(ws):
    rows = list(ws.iter_rows(values_only=True))
    h2 = next(i for i, r in enumerate(rows) if r[0] in ("measure", "household", "activity", "kind"))
    variants, v = [], None
    for x in rows[h2 - 1]:
        v = x if x is not None else v
        variants.append(v)
    return rows, h2, variants


def test_wide_excel_tables_equal_summarize_to_the_printed_precision(tmp_path):
    from lewie.results.paper_tables import export_xlsx
    ds = lesotho_draws()
    path = export_xlsx(ds, tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:4] == ["Table 1 multipliers", "Table 2 income", "Table 3 production", "Table 4 prices"]
    assert "multipliers" in wb.sheetnames and "provenance" in wb.sheetnames  # the tidy sheets follow
    ws = wb["Table 1 multipliers"]
    assert ws["A1"].value.startswith("Table 1.") and ws["A1"].font.bold
    assert all(ws.column_dimensions[c].width >= 8 for c in "ABCDEF")
    rows, h2, variants = _sheet_rows(ws)
    stat_of = {"point": None, "mean": "mean", "5%": "p05", "95%": "p95"}
    checked = 0
    for real in (False, True):
        m = A.income_multiplier(ds, real=real)
        st = lewie.summarize(ds, m.rename("m"))["m"]
        pt = m.sel(draw=0)
        measure = f"{'real' if real else 'nominal'} income multiplier"
        row = next(r for r in rows[h2 + 1:] if r[0] == measure and r[1] == "total")
        for j, (v, s) in enumerate(zip(variants, rows[h2])):
            if s not in stat_of:
                continue
            want = float(pt.sel(variant=v)) if stat_of[s] is None else float(st.sel(variant=v, statistic=stat_of[s]))
            assert row[j] == round(want, 3), (measure, v, s)
            checked += 1
    assert checked == 2 * 3 * 4
    ws = wb["Table 2 income"]
    rows, h2, variants = _sheet_rows(ws)
    d = A.change(ds, "income")
    st = lewie.summarize(ds, d.rename("d"))["d"]
    row = next(r for r in rows[h2 + 1:] if r[0] == "eligible" and r[3] == "nominal change") \
        if any(r[0] == "eligible" for r in rows[h2 + 1:]) else rows[h2 + 1]
    h = row[0]
    dec = 0 if float(abs(d.sel(draw=0)).max()) >= 1000 else 2
    for j, (v, s) in enumerate(zip(variants, rows[h2])):
        if s == "95%":
            assert row[j] == round(float(st.sel(variant=v, household=h, statistic="p95")), dec)
            assert ws.cell(row=h2 + 2, column=j + 1).number_format in ("#,##0", "#,##0.00")


def test_stata_export_of_the_tidy_tables(tmp_path):
    from lewie.results.export import export_dta, tidy_tables
    ds = lesotho_draws()
    files = export_dta(ds, tmp_path / "dta")
    tidy = tidy_tables(ds)
    assert sorted(p.stem for p in files) == sorted(tidy)
    back = pd.read_stata(tmp_path / "dta" / "multipliers.dta")
    want = tidy["multipliers"]
    assert list(back.columns) == list(want.columns) and len(back) == len(want)
    np.testing.assert_allclose(back["value"].to_numpy(dtype=float), want["value"].to_numpy(dtype=float), rtol=1e-15)
    out = _invoke("export", _saved(tmp_path, ds), "--dta", tmp_path / "dta2")
    assert "9 Stata tables" in out


def _saved(tmp_path, ds) -> Path:
    from lewie.results.dataset import save_results
    return save_results(ds, tmp_path / "r.nc")


# ------------------------------------------------------------------------------------------------
# the simulated SAM
# ------------------------------------------------------------------------------------------------
def test_simulated_sam_balances_and_rebuilds_the_simulated_equilibrium(tmp_path):
    from lewie.runs.stages import Simulation
    from lewie.sam.io import read_sam
    from lewie.results.sam_export import imbalance, sam_from_results
    from lewie.model.social_accounts import net_flows, sam_from_model
    ds = lewie.run(EXAMPLE_SCENARIO)
    sim = Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build().solve()
    want = net_flows(sam_from_model(sim.model, sim.structure))
    path = tmp_path / "simulated.csv"
    printed = _invoke("sam", "export", _saved(tmp_path, ds), "--variant", "all", "--state", "simulated", "--draw", 0,
                      "--out", path)
    assert "do not balance" not in printed
    got = read_sam(path)
    assert sorted(got.index) == sorted(want.index)
    scale = float(want.to_numpy().max())
    np.testing.assert_allclose(got.reindex(index=want.index, columns=want.columns).to_numpy(), want.to_numpy(),
                               rtol=0, atol=1e-12 * scale)
    assert float(imbalance(got).abs().max()) < 1e-9 * scale
    # the base is the input SAM
    base = sam_from_results(ds, state="base")
    inp = read_sam(EXAMPLE_SAM)
    np.testing.assert_allclose(base.reindex(index=inp.index, columns=inp.columns).to_numpy(), inp.to_numpy(),
                               rtol=0, atol=1e-12 * scale)
    # calibrated as an economy of its own, the simulated SAM's base is the simulated equilibrium (in value)
    data = tomllib.loads(EXAMPLE_SCENARIO.read_text())
    data.update(sam=str(path), interventions=[])
    from lewie.config.scenario import scenario_from_dict
    rebuilt = Simulation(scenario_from_dict(data, base=tmp_path)).load().validate().calibrate().build()
    sim_state = ds.sel(variant="all", draw=0, state="simulated")
    lv = rebuilt.calibration.levels
    for h in ds["household"].values:
        assert lv["income"][h] == pytest.approx(float(sim_state["income"].sel(household=h)), rel=1e-12)
    for (g, h), q in lv["production"].items():
        value = float((sim_state["production"] * sim_state["household_price"]).sel(good=g, household=h))
        assert q == pytest.approx(value, rel=1e-12)


def test_sam_export_picks_labels_and_says_what_is_wrong(tmp_path):
    ds = lesotho_draws()
    res = _saved(tmp_path, ds)
    runner = CliRunner()
    from lewie.cli.main import main
    with pytest.raises(SystemExit) as ex:
        main(["sam", "export", str(res), "--variant", "spring", "--out", str(tmp_path / "x.csv")])
    assert ex.value.code != 0
    r = runner.invoke(cli, ["sam", "export", str(res), "--out", str(tmp_path / "x.csv")])
    assert isinstance(r.exception, InputError) and "--variant" in str(r.exception)
    from lewie.results.sam_export import sam_from_results
    with pytest.raises(InputError, match="did you mean 'springs'"):
        sam_from_results(ds, variant="spring")
    with pytest.raises(InputError, match=r"draw 99 is not in the results \(draws 0\.\.80\)"):
        sam_from_results(ds, variant="cgp", draw=99)
    one = sam_from_results(ds, variant="cgp", state="simulated", draw=7)
    assert not one.equals(sam_from_results(ds, variant="cgp", state="simulated", draw=0))
    with pytest.raises(InputError, match="did not converge"):
        sam_from_results(ds, variant="springs", draw=3)  # the solve marked failed
    sw = lesotho_sweep()
    with pytest.raises(InputError, match="--at labour_supply_elasticity"):
        sam_from_results(sw, variant="cgp")
    a = sam_from_results(sw, variant="cgp", at={"labour_supply_elasticity": "100"})
    assert a.equals(sw.lewie.sam("cgp", labour_supply_elasticity=100.0))


# ------------------------------------------------------------------------------------------------
# currency and year; compare; the accessor; summarize(DataArray); no machine paths
# ------------------------------------------------------------------------------------------------
def test_currency_and_year_reach_every_table_and_figure(tmp_path):
    case = _case(tmp_path, EXAMPLE_SCENARIO, EXAMPLE_SAM.parent, currency='"KES"', year=2016)
    ds = lewie.run(case)
    assert ds.attrs["currency"] == "KES" and ds.attrs["year"] == 2016
    assert ds["income"].attrs["units"] == "2016 KES" and ds["cost"].attrs["units"] == "2016 KES"
    assert ds["production"].attrs["units"] == "2016 KES at base prices"
    from lewie.results.paper_tables import wide_tables
    from lewie.report.html_report import render_report
    from lewie.report.text_summary import summary
    assert "Income change by household group (2016 KES)" in summary(ds)
    page = render_report(ds)
    assert 'data-ylabel="income change (2016 KES)"' in page and "Income change by household group (2016 KES)" in page
    assert "(2016 KES" in wide_tables(ds)[1].title
    from lewie.results.export import tidy_tables
    tidy = tidy_tables(ds)
    units = tidy["income_change"].groupby("measure")["unit"].first()
    assert units["nominal change"] == "2016 KES" and units["real change"] == "2016 KES at base prices"
    assert units["nominal % change"] == "%" and set(tidy["multipliers"]["unit"]) == {"1"}
    prov = dict(zip(tidy["provenance"]["key"], tidy["provenance"]["value"]))
    assert prov["currency"] == "KES" and prov["year"] == "2016"
    from lewie.results.compare import compare
    from lewie.results.dataset import save_results
    p1 = save_results(ds, tmp_path / "a.nc")
    p2 = save_results(ds, tmp_path / "b.nc")
    table, long = compare([p1, p2])
    name = "Example village: cash transfer to eligible households"
    assert list(table["study"]) == [name, f"{name} (b)"] and set(table["currency"]) == {"2016 KES"}


def test_summarize_accepts_a_dataarray_and_the_accessor():
    ds = lesotho_draws()
    m = A.income_multiplier(ds)
    a = lewie.summarize(m)
    b = lewie.summarize(ds, m)
    name = list(a.data_vars)[0]
    np.testing.assert_array_equal(a[name].values, b[list(b.data_vars)[0]].values)
    np.testing.assert_array_equal(a["n_draws"].values, A.bands(m).sel(statistic="n_draws").values)
    assert ds.lewie.multipliers(real=True, by="group").equals(A.income_multiplier(ds, real=True, by="group"))
    assert ds.lewie.summary().startswith("Lesotho")
    assert ds.lewie.summarize("income")["income"].equals(lewie.summarize(ds, "income")["income"])
    assert ds.lewie.bands().equals(A.bands(m))
    with pytest.raises(TypeError):
        lewie.summarize(m, "income")


MACHINE_PATH = re.compile(r"(?<![\w.])(/work/|/home/|/tmp/|/Users/|/root/|[A-Z]:\\\\)")


def test_no_machine_paths_in_results_or_docs(tmp_path):
    case = _case(tmp_path, EXAMPLE_SCENARIO, EXAMPLE_SAM.parent)
    ds = lewie.run(case, draws=2)
    for k, v in ds.attrs.items():
        assert str(tmp_path) not in str(v) and str(REPO) not in str(v), k
    assert ds.attrs["sam_file"] == "sam.csv" and len(ds.attrs["sam_sha256"]) == 64
    bundled = lewie.run(EXAMPLE_SCENARIO)
    assert bundled.attrs["sam_file"] == "../sam/data/example_village/sam.csv"
    assert str(REPO) not in bundled.attrs["scenario_json"]
    docs = [REPO / "README.md", REPO / "sam" / "README.md"] + sorted((REPO / "docs").glob("*.md"))
    for doc in docs:
        hits = MACHINE_PATH.findall(doc.read_text(encoding="utf-8"))
        assert not hits, (doc.name, hits)
