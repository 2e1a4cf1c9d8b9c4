"""Tidy exports: every table, its columns, values equal to the analysis functions, xlsx sheets and
csv files that read back the same, and `lewie export`."""
import numpy as np
import openpyxl
import pandas as pd
import pytest

import lewie
from lewie.results import analysis as A
from lewie.cli.report_commands import export_cmd
from lewie.errors import InputError
from lewie.results.export import TABLES, export_csv, tidy_tables
from lewie.results.paper_tables import export_xlsx
from lewie.results.dataset import save_results

from .conftest import EXAMPLE_SCENARIO
from .draws_fixture import lesotho, lesotho_draws, lesotho_sweep

COLUMNS = {
    "multipliers": ["variant", "measure", "by", "group", "unit", "statistic", "value"],
    "income_change": ["variant", "household", "village", "effect", "measure", "unit", "statistic", "value"],
    "production_change": ["variant", "activity", "measure", "unit", "statistic", "value"],
    "prices_wages": ["variant", "kind", "item", "village", "unit", "statistic", "value"],
    "inequality": ["variant", "income", "measure", "unit", "statistic", "value"],
    "synergy": ["variant", "parts", "household", "measure", "unit", "statistic", "value"],
    "variance_decomposition": ["variant", "target", "entry", "parameter", "good", "good2", "factor", "household",
                               "src", "share", "first_order", "r_squared", "n_draws"],
    "provenance": ["key", "value"],
}


@pytest.fixture(scope="module")
def point():
    return tidy_tables(lesotho())


@pytest.fixture(scope="module")
def draws():
    return tidy_tables(lesotho_draws())


def _one(df, **where):
    sel = df
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (where, len(sel))
    return float(sel["value"].iloc[0])


def test_every_table_with_tidy_columns(point, draws):
    for tables in (point, draws):
        assert list(tables) == list(TABLES)
        for name, cols in COLUMNS.items():
            assert list(tables[name].columns) == cols, name
    assert set(point["multipliers"]["statistic"]) == {"point"}
    assert set(draws["multipliers"]["statistic"]) == set(A.STATISTICS)
    assert point["variance_decomposition"].empty and not draws["variance_decomposition"].empty
    assert list(draws["variants"]["variant"]) == ["cgp", "springs", "cgp+springs"]
    assert draws["variants"].set_index("variant").loc["springs", "failed_draws"] == 1
    # one row per number: no duplicated keys
    for name, cols in COLUMNS.items():
        if "statistic" in cols:
            keys = [c for c in cols if c != "value"]
            assert not draws[name].duplicated(keys).any(), name


def test_multipliers_equal_the_analysis_functions(draws):
    ds = lesotho_draws()
    df = draws["multipliers"]
    for real in (False, True):
        measure = f"{'real' if real else 'nominal'} income multiplier"
        b = A.bands(A.income_multiplier(ds, real=real))
        bg = A.bands(A.income_multiplier(ds, real=real, by="group"))
        bh = A.bands(A.income_multiplier(ds, real=real, by="household"))
        for v in ds["variant"].values:
            for s in A.STATISTICS:
                assert _one(df, variant=v, measure=measure, by="total", statistic=s) == pytest.approx(
                    float(b.sel(variant=v, statistic=s)), rel=1e-12)
            assert _one(df, variant=v, measure=measure, by="beneficiary status", group="non_beneficiaries",
                        statistic="p95") == pytest.approx(float(bg.sel(variant=v, group="non_beneficiaries",
                                                                        statistic="p95")), rel=1e-12)
            assert _one(df, variant=v, measure=measure, by="household", group="traders", statistic="mean") == \
                pytest.approx(float(bh.sel(variant=v, household="traders", statistic="mean")), rel=1e-12)
    pm = A.bands(A.production_multiplier(ds))
    assert _one(df, variant="springs", measure="production multiplier", group="crops", statistic="p05") == \
        pytest.approx(float(pm.sel(variant="springs", good="crops", statistic="p05")), rel=1e-12)
    va = A.bands(A.value_added_multiplier(ds))
    assert _one(df, variant="cgp", measure="value-added multiplier", statistic="point") == \
        pytest.approx(float(va.sel(variant="cgp", statistic="point")), rel=1e-12)


def test_other_tables_equal_the_analysis_functions(draws):
    ds = lesotho_draws()
    inc = draws["income_change"]
    ch = A.bands(A.change(ds, "real_income"))
    assert _one(inc, variant="springs", household="ineligible", measure="real change", statistic="p50") == \
        pytest.approx(float(ch.sel(variant="springs", household="ineligible", statistic="p50")), rel=1e-12)
    eff = inc.drop_duplicates(["variant", "household"]).set_index(["variant", "household"])["effect"]
    for v in ds["variant"].values:
        for h in ds["household"].values:
            on = bool(ds["beneficiary"].sel(variant=v, household=h))
            assert eff[v, h] == ("direct + indirect" if on else "spillover")
    assert set(inc["village"]) == {"treated", "town"}
    pw = draws["prices_wages"]
    pc = A.bands(A.price_change(ds))
    assert _one(pw, variant="cgp", kind="price", item="vegetables", village="town", statistic="mean") == \
        pytest.approx(float(pc.sel(variant="cgp", good="vegetables", village="town", statistic="mean")), rel=1e-12)
    assert set(pw[pw["kind"] == "price"]["item"]) == {"vegetables", "retail", "services"}
    assert set(pw[pw["kind"] == "wage"]["item"]) == {"labor"}
    cpi = A.bands(A.cpi_change(ds))
    assert _one(pw, variant="springs", kind="cpi", item="traders", statistic="p95") == \
        pytest.approx(float(cpi.sel(variant="springs", household="traders", statistic="p95")), rel=1e-12)
    ineq = A.bands(A.inequality_change(ds))
    assert _one(draws["inequality"], variant="cgp", income="real", measure="change", statistic="point") == \
        pytest.approx(float(ineq.sel(variant="cgp", statistic="point")), rel=1e-12)
    syn = A.bands(A.synergy(ds, by="total"))
    assert _one(draws["synergy"], variant="cgp+springs", household="total", measure="nominal income change",
                statistic="p05") == pytest.approx(float(syn.sel(variant="cgp+springs", statistic="p05")), rel=1e-12)
    assert _one(draws["synergy"], variant="cgp+springs", household="total", measure="nominal income change",
                statistic="n_draws") == 79
    prod = A.bands(A.production_change(ds))
    assert _one(draws["production_change"], variant="cgp", activity="retail", measure="change (base-price value)",
                statistic="mean") == pytest.approx(float(prod.sel(variant="cgp", good="retail", statistic="mean")),
                                                   rel=1e-12)


def test_variance_decomposition_table(draws):
    ds = lesotho_draws()
    vt = draws["variance_decomposition"]
    rd = ds.sel(draw=ds["draw"] != 0)  # the random draws, as the bands
    vd = A.variance_decomposition(rd, A.income_multiplier(rd))
    n = A.bands(A.income_multiplier(ds)).sel(statistic="n_draws")
    for v, g in vt.groupby("variant"):  # the same draws as the bands: the converged random draws
        assert set(g["n_draws"]) == {float(n.sel(variant=v))}
    nominal = vt[vt["target"] == "nominal income multiplier"]
    for v, g in nominal.groupby("variant"):
        assert g["share"].sum() == pytest.approx(1.0)
        assert g["share"].is_monotonic_decreasing  # most important first
        assert g["entry"].iloc[0] == str(vd["share"].sel(variant=v).idxmax("entry").item())
        assert g["r_squared"].nunique() == 1
    row = nominal[nominal["variant"] == "cgp"].iloc[0]
    assert row["entry"] == "|".join([row["parameter"], row["good"], row["good2"], row["factor"], row["household"]])
    assert list(pd.unique(vt["variant"])) == ["cgp", "springs", "cgp+springs"]


def test_sweep_dims_become_columns():
    tables = tidy_tables(lesotho_sweep())
    for name in ("multipliers", "income_change", "synergy", "variance_decomposition"):
        cols = list(tables[name].columns)
        assert cols[:2] == ["variant", "labour_supply_elasticity"], name
    m = tables["multipliers"]
    assert set(m["labour_supply_elasticity"]) == {1.0, 100.0}
    b = A.bands(A.income_multiplier(lesotho_sweep()))
    assert _one(m, variant="cgp", labour_supply_elasticity=100.0, measure="nominal income multiplier", by="total",
                statistic="p95") == pytest.approx(float(b.sel(variant="cgp", labour_supply_elasticity=100.0,
                                                              statistic="p95")), rel=1e-12)


def test_xlsx_and_csv_read_back(draws, tmp_path):
    ds = lesotho_draws()
    xlsx = export_xlsx(ds, tmp_path / "out" / "tables.xlsx")
    from lewie.results.paper_tables import wide_tables
    paper = [t.sheet for t in wide_tables(ds)]  # the paper tables come first
    assert openpyxl.load_workbook(xlsx, read_only=True).sheetnames == paper + list(TABLES)
    files = export_csv(ds, tmp_path / "csv")
    assert [f.name for f in files] == [f"{t}.csv" for t in TABLES]
    for name in ("multipliers", "synergy", "variance_decomposition"):
        want = draws[name]
        for got in (pd.read_excel(xlsx, sheet_name=name, keep_default_na=False, na_values=[""]),
                    pd.read_csv(tmp_path / "csv" / f"{name}.csv", keep_default_na=False, na_values=[""])):
            assert list(got.columns) == list(want.columns)
            assert len(got) == len(want)
            for c in want.columns:
                if pd.api.types.is_numeric_dtype(want[c]):
                    np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-12,
                                               equal_nan=True, err_msg=f"{name}.{c}")
                else:
                    as_text = [[("" if pd.isna(x) else str(x)) for x in col] for col in (got[c], want[c])]
                    assert as_text[0] == as_text[1], f"{name}.{c}"


# ------------------------------------------------------------------------------------------------
# lewie export
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def results_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "example.nc"
    save_results(lewie.run(EXAMPLE_SCENARIO, draws=0), path)
    return path


def test_cli_export(results_file, tmp_path, capsys):
    export_cmd.main([str(results_file), "--xlsx", str(tmp_path / "t.xlsx"), "--csv", str(tmp_path / "csv")],
                    standalone_mode=False)
    out = capsys.readouterr().out
    assert "t.xlsx" in out and f"{len(TABLES)} tables written" in out
    assert (tmp_path / "t.xlsx").exists() and len(list((tmp_path / "csv").glob("*.csv"))) == len(TABLES)
    m = pd.read_csv(tmp_path / "csv" / "multipliers.csv")
    total = m[(m["measure"] == "nominal income multiplier") & (m["by"] == "total")]
    assert float(total["value"].iloc[0]) > 1.0  # the example's cash transfer multiplies


def test_cli_export_errors(results_file, tmp_path):
    import click
    with pytest.raises(click.UsageError, match="--xlsx"):
        export_cmd.main([str(results_file)], standalone_mode=False)
    with pytest.raises(InputError, match=r"nope\.nc: results file not found"):
        export_cmd.main([str(tmp_path / "nope.nc"), "--csv", str(tmp_path)], standalone_mode=False)


def test_report_and_export_are_registered_on_the_main_cli(results_file, tmp_path, capsys):
    """Needs the two registration lines in lewie/cli/main.py (see lewie/cli/report_commands.py)."""
    from lewie.cli.main import cli, main
    assert {"report", "export"} <= set(cli.commands)
    with pytest.raises(SystemExit) as ex:
        main(["export", str(tmp_path / "nope.nc"), "--csv", str(tmp_path)])
    assert ex.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "nope.nc" in err and "Traceback" not in err
