"""`lewie compare`: multipliers of several studies side by side, a tidy long table, a forest plot."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import lewie
from lewie.results import analysis as A
from lewie.cli.batch_commands import compare_cmd
from lewie.results.compare import LONG_COLUMNS, compare, differences, forest_plot, main_activities
from lewie.errors import InputError
from lewie.runs.montecarlo import run_draws
from lewie.results.dataset import load_results, save_results

REPO = Path(__file__).resolve().parents[1]
NAME = {"lesotho_cgp_springs": "Lesotho: Child Grants Programme and SPRINGS",  # studies go by scenario name
        "zambia_cgp": "Zambia: Child Grant Programme",
        "example_village": "Example village: cash transfer to eligible households"}
pytestmark = pytest.mark.slow  # runs country scenarios (Lesotho, Zambia) end to end


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, Path]:
    """Lesotho (3 variants, one combined; 12 draws, in LSL), Zambia (12 draws) and the example
    (point estimates only)."""
    folder = tmp_path_factory.mktemp("studies")
    lesotho = run_draws(REPO / "scenarios" / "lesotho_cgp_springs.toml", draws=12)
    lesotho.attrs["currency"] = "LSL"
    return {"lesotho_cgp_springs": save_results(lesotho, folder / "lesotho_cgp_springs.nc"),
            "zambia_cgp": save_results(run_draws(REPO / "scenarios" / "zambia_cgp.toml", draws=12),
                                       folder / "zambia_cgp.nc"),
            "example_village": save_results(lewie.run(REPO / "scenarios" / "example_village.toml"),
                                            folder / "example_village.nc")}


@pytest.fixture(scope="module")
def compared(studies):
    return compare(studies.values())


def _stat(da, statistic):
    return float(A.bands(da).sel(statistic=statistic))


def test_one_row_per_study_and_variant(compared, studies):
    table, _ = compared
    assert list(zip(table["study"], table["variant"])) == [
        (NAME["lesotho_cgp_springs"], "cgp"), (NAME["lesotho_cgp_springs"], "springs"), (NAME["lesotho_cgp_springs"], "cgp+springs"),
        (NAME["zambia_cgp"], "cgp"), (NAME["example_village"], "all")]
    assert table.loc[table["study"] == NAME["zambia_cgp"], "n_draws"].item() == 12
    assert table.loc[table["study"] == NAME["example_village"], "n_draws"].item() == 0


def test_multipliers_and_shares_are_the_analysis_functions(compared, studies):
    table, _ = compared
    ds = load_results(studies["lesotho_cgp_springs"]).sel(variant="springs")
    row = table[(table["study"] == NAME["lesotho_cgp_springs"]) & (table["variant"] == "springs")].iloc[0]
    for real, kind in ((False, "nominal"), (True, "real")):
        m = A.income_multiplier(ds, real=real)
        for stat in ("point", "mean", "p05", "p95"):
            assert row[f"income_multiplier_{kind}_{stat}"] == pytest.approx(_stat(m, stat), rel=1e-12)
    point = ds.sel(draw=0)
    share = float(A.income_change(point, by="group").sel(group="non_beneficiaries") / A.income_change(point))
    assert row["non_beneficiary_share_point"] == pytest.approx(share, rel=1e-12)
    assert 0 < row["non_beneficiary_share_mean"] < 1
    assert row["production_multiplier_mean"] == pytest.approx(
        _stat(A.production_multiplier(ds).sum("good"), "mean"), rel=1e-12)
    mains = main_activities(load_results(studies["lesotho_cgp_springs"]))
    assert [row[f"main_activity_{i}"] for i in (1, 2, 3)] == mains
    assert row["production_multiplier_1_mean"] == pytest.approx(
        _stat(A.production_multiplier(ds).sel(good=mains[0]), "mean"), rel=1e-12)


def test_synergy_only_for_combined_variants(compared, studies):
    table, _ = compared
    ds = load_results(studies["lesotho_cgp_springs"])
    combined = table[table["synergy_parts"] != ""]
    assert list(combined["variant"]) == ["cgp+springs"] and combined["synergy_parts"].item() == "cgp + springs"
    expected = _stat(A.synergy_multiplier(ds).sel(variant="cgp+springs"), "mean")
    assert combined["synergy_nominal_mean"].item() == pytest.approx(expected, rel=1e-12)
    assert table.loc[table["synergy_parts"] == "", "synergy_nominal_mean"].isna().all()


def test_levels_carry_their_currency_and_multipliers_are_dimensionless(compared):
    table, long = compared
    assert list(long.columns) == LONG_COLUMNS
    assert not long.duplicated(LONG_COLUMNS[:-1]).any()
    units = long.groupby(["study", "variable"])["unit"].first()
    assert units[NAME["lesotho_cgp_springs"], "Cost"] == "LSL"
    assert units[NAME["lesotho_cgp_springs"], "Income change|Real"] == "LSL at base prices"
    assert units[NAME["zambia_cgp"], "Cost"] == "SAM currency"  # no currency attribute
    assert (long.loc[long["variable"].str.contains("multiplier|share", case=False), "unit"] == "1").all()
    assert dict(zip(table["study"], table["currency"]))[NAME["lesotho_cgp_springs"]] == "LSL"
    regions = set(long.loc[long["study"] == NAME["zambia_cgp"], "region"])
    assert regions == {"local economy", "treated", "town"}
    # villages add up: the local economy's income change is the sum over villages
    nominal = long[(long["study"] == NAME["zambia_cgp"]) & (long["variable"] == "Income multiplier|Nominal")
                   & (long["statistic"] == "point")].set_index("region")["value"]
    assert nominal["local economy"] == pytest.approx(nominal["treated"] + nominal["town"], rel=1e-12)


def test_differences_returns_only_rows_that_differ(compared):
    _, long = compared
    assert differences(long, long.copy()).empty
    changed = long.copy()
    i = changed.index[(changed["variable"] == "Income multiplier|Real") & (changed["statistic"] == "mean")][0]
    changed.loc[i, "value"] *= 1.01
    diff = differences(long, changed.drop(index=changed.index[-1]))
    assert len(diff) == 2 and set(diff.columns) == set(LONG_COLUMNS[:-1]) | {"left", "right"}
    assert diff["right"].isna().sum() == 1


def test_not_results_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "other.nc"
    import xarray as xr
    xr.Dataset({"x": ("a", np.arange(3.0))}).to_netcdf(path, engine="h5netcdf")
    with pytest.raises(InputError, match="other.nc.*not lewie results"):
        compare([path])


def test_cli_writes_table_long_table_workbook_and_plot(studies, tmp_path):
    out = tmp_path / "cmp" / "comparison.csv"
    result = CliRunner().invoke(compare_cmd, [*map(str, studies.values()), "--out", str(out), "--xlsx",
                                              str(tmp_path / "comparison.xlsx"), "--plot", str(tmp_path / "m.png")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 5 and "income_multiplier_real_mean" in table
    long = pd.read_csv(tmp_path / "cmp" / "comparison_long.csv")
    assert list(long.columns) == LONG_COLUMNS
    sheets = pd.read_excel(tmp_path / "comparison.xlsx", sheet_name=None)
    assert list(sheets) == ["comparison", "long", "units"] and len(sheets["comparison"]) == 5
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "5 rows (3 studies)" in result.output


def test_forest_plot_without_draws_uses_the_point_estimate(compared, tmp_path):
    table, _ = compared
    path = forest_plot(table[table["study"] == NAME["example_village"]], tmp_path / "one.svg")
    assert path.read_text().lstrip().startswith("<?xml")
