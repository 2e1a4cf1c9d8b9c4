"""The GAMS-style LEWIE input workbook: reading, one-draw calibration to a lewie SAM, errors."""
from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import lewie.sam as lewie_sam
from lewie.errors import InputError
from lewie.sam.workbook import (PARAMETER_COLUMNS, WorkbookError, read_dashboard, read_parameters, read_workbook, write_parameters)
from lewie.sam.workbook_calibration import calibrate_workbook

REFERENCE = Path(__file__).parents[2] / "shared" / "reference" / "example-workbook.xlsx"
# shared/ sits beside the repository in CI and on developer machines; a bare clone elsewhere lacks it
needs_reference = pytest.mark.skipif(not REFERENCE.exists(), reason=f"{REFERENCE} is not beside this checkout")
PACKAGED = Path(lewie_sam.__file__).parent / "data" / "example_workbook" / "workbook.xlsx"
SETUP = dict(villages={"kalema": ["Elig", "Inel", "Trader"]}, fixed_factors=["Land", "Capital"],
             labour_factors=["Labor"], input_factors=["Input"])


def economy(path=PACKAGED, **kw):
    return calibrate_workbook(read_workbook(path), **{**SETUP, **kw})


def assert_balanced(sam: pd.DataFrame):
    rows, cols = sam.sum(axis=1), sam.sum(axis=0)
    for acc in sam.index:
        assert abs(rows[acc] - cols[acc]) <= 1e-9 * max(1.0, abs(rows[acc])), acc


def edited(tmp_path, edit, name="broken.xlsx"):
    """A copy of the example workbook changed by edit(book)."""
    book = openpyxl.load_workbook(PACKAGED)
    edit(book)
    out = tmp_path / name
    book.save(out)
    return out


def set_cell(sheet, ref, value):
    def edit(book):
        book[sheet][ref] = value
    return edit


# ---- reading -----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [pytest.param(REFERENCE, marks=needs_reference), PACKAGED],
                         ids=["shared-reference", "packaged"])
def test_example_workbook_reads(path):
    wb = read_workbook(path)
    assert wb.households == ("Elig", "Inel", "Trader")
    assert wb.goods == ("crop", "livestock", "retail", "services", "prod", "OUT")
    assert wb.factors == ("Labor", "Land", "Capital", "Input")
    assert list(wb.data.columns) == ["var", "good", "good2", "factor", "household", "value"]
    assert wb.value("HHNum", household="Trader") == 150
    assert wb.cell("HHexp", household="Inel") == "Input!G7"
    # free-text notes in column J are not data; only the three household columns are read
    assert set(wb.data["household"]) == {"Elig", "Inel", "Trader"}
    assert len(wb.data) == int(wb.data["value"].notna().sum()) == 166


@needs_reference
def test_packaged_copy_is_the_reference():
    assert PACKAGED.read_bytes() == REFERENCE.read_bytes()


def test_labels_are_case_insensitive_and_keep_first_spelling():
    wb = read_workbook(PACKAGED)
    # 'Crop' (QP, fshare rows) and 'crop' (eshare, idsh rows) are one good, displayed as first declared
    assert [g for g in wb.goods if g.lower() == "crop"] == ["crop"]
    assert set(wb.data.loc[wb.data["good"].str.lower() == "crop", "good"]) == {"crop"}
    assert wb.value("qp", "CROP", household="elig") == 6
    assert wb.value("fshare", "Crop", "", "labor", household="ELIG") == 0.45
    assert wb.value("QP", "crop", household="Trader") == 0  # empty cell
    assert wb.value("emin", "crop", household="Elig") == 0  # unlisted entry


def test_dashboard_gives_the_two_shocks():
    shocks = read_dashboard(PACKAGED)
    assert list(shocks.columns) == ["sim", "good", "factor", "household", "value"]
    assert shocks.to_dict("records") == [
        {"sim": "sim1", "good": "Crop", "factor": "Land", "household": "Elig", "value": 100.0},
        {"sim": "sim2", "good": "Livestock", "factor": "Capital", "household": "Elig", "value": 50.0}]
    canon = read_dashboard(PACKAGED, workbook=read_workbook(PACKAGED))
    assert list(canon["good"]) == ["crop", "livestock"]


def test_dashboard_with_header_line(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sims"
    ws.append(["Shocks of the study"])
    ws.append(["sim", "g", "f", "h", "value", "note"])
    ws.append(["pilot", "crop", "Land", "Elig", 2.5, "one acre"])
    ws.append(["scaleup", "crop", "Land", "Inel", 7, None])
    path = tmp_path / "dash.xlsx"
    book.save(path)
    shocks = read_dashboard(path, workbook=read_workbook(PACKAGED))
    assert shocks.values.tolist() == [["pilot", "crop", "Land", "Elig", 2.5], ["scaleup", "crop", "Land", "Inel", 7.0]]


def test_dashboard_unknown_label(tmp_path):
    path = edited(tmp_path, set_cell("Sims", "C3", "Lnad"))
    with pytest.raises(WorkbookError, match=r"Sims!A3: factor 'Lnad'.*did you mean 'Land'"):
        read_dashboard(path, workbook=read_workbook(PACKAGED))


# ---- calibration -------------------------------------------------------------------------------
def test_sam_balances():
    eco = economy()
    sam = eco.sam
    assert list(sam.index) == list(sam.columns)
    assert sam.shape == (30, 30)
    assert_balanced(sam)
    assert eco.log == []  # nothing normalised, nothing GAMS would do differently


def test_sam_passes_the_lead_checker():
    report = lewie_sam.check_sam(economy().sam)
    assert report.ok, report.format()
    assert report.errors == []
    # the checker does find problems: the same SAM with one cell changed fails it
    sam = economy().sam.copy()
    sam.iloc[0, 1] += 1.0
    bad = lewie_sam.check_sam(sam)
    assert not bad.ok and any(p.code == "unbalanced" for p in bad.errors), bad.format()


def test_hand_computed_cells():
    s = economy().sam
    # income Y = HHexp * HHNum
    assert s.loc["hh:Elig"].sum() == pytest.approx(12 * 400)
    assert s["hh:Elig"].sum() == pytest.approx(12 * 400)
    assert s.loc["hh:Trader"].sum() == pytest.approx(45 * 150)
    # leakages and consumption: QC = (Y - TROUT - SAV - EXPROC) * eshare
    assert s.at["out:savings", "hh:Elig"] == pytest.approx(0.02 * 4800)
    assert s.at["out:transfers", "hh:Inel"] == pytest.approx(0.02 * 18000)
    assert s.at["out:spending", "hh:Trader"] == pytest.approx(0.08 * 6750)
    assert s.at["com:crop", "hh:Elig"] == pytest.approx(4800 * (1 - 0.02 - 0.01 - 0.03) * 0.30)
    # production: QP = QP_workbook * HHNum, ID = QP * idsh, FD = (QP - sum ID) * fshare
    assert s.at["act:crop:Elig", "com:crop"] == pytest.approx(6 * 400)
    assert s.at["com:OUT", "act:crop:Elig"] == pytest.approx(2400 * 0.10)
    assert s.at["com:crop", "act:crop:Elig"] == pytest.approx(2400 * 0.05)
    va = 2400 * (1 - 0.15)
    assert s.at["fac:Labor", "act:crop:Elig"] == pytest.approx(va * 0.45)
    assert s.at["fac:Input", "act:crop:Elig"] == pytest.approx(va * 0.20)
    assert "act:crop:Trader" not in s.index  # no output, no activity
    # fixed factors pay the household running the activity
    assert s.at["hh:Elig", "fac:Land"] == pytest.approx(va * 0.25)
    capital_elig = sum(s.at["fac:Capital", a] for a in s.columns if a.startswith("act:") and a.endswith(":Elig"))
    assert s.at["hh:Elig", "fac:Capital"] == pytest.approx(capital_elig)
    # labour: the village's labour use split by wrkagepop * HHNum
    labour = s.loc["fac:Labor"].sum()
    weights = {"Elig": 2.1 * 400, "Inel": 2.6 * 900, "Trader": 2.4 * 150}
    for h, w in weights.items():
        assert s.at[f"hh:{h}", "fac:Labor"] == pytest.approx(labour * w / sum(weights.values()))
    assert s.at["out:world", "fac:Labor"] == 0 and s.at["fac:Labor", "out:world"] == 0
    # purchased inputs come from outside
    assert s.at["out:world", "fac:Input"] == pytest.approx(s.loc["fac:Input"].sum())
    # exogenous income is the residual Y - factor income
    for h, y in {"Elig": 4800, "Inel": 18000, "Trader": 6750}.items():
        factor_income = sum(s.at[f"hh:{h}", c] for c in s.columns if c.startswith("fac:"))
        assert s.at[f"hh:{h}", "out:world"] == pytest.approx(y - factor_income)
    assert s.at["hh:Elig", "out:world"] == pytest.approx(523.198305, abs=1e-6)
    # the outside good is imported; crops are exported
    assert s.at["out:world", "com:OUT"] > 0 and s.at["com:OUT", "out:world"] == 0
    assert s.at["com:crop", "out:world"] > 0


def test_household_count():
    eco = economy()
    assert eco.household_count.to_dict() == {"Elig": 400.0, "Inel": 900.0, "Trader": 150.0}


def test_labels_in_arguments_are_case_insensitive():
    eco = economy(villages={"kalema": ["elig", "INEL", "trader"]}, fixed_factors=["land", "CAPITAL"],
                  labour_factors=["labor"], input_factors=["input"])
    assert "hh:Elig" in eco.sam.index and "fac:Land" in eco.sam.index


def test_two_villages_labour_split():
    eco = economy(villages={"north": ["Elig", "Inel"], "south": ["Trader"]})
    s = eco.sam
    used_north = sum(s.at["fac:Labor", a] for a in s.columns if a.startswith("act:") and not a.endswith(":Trader"))
    assert s.at["hh:Elig", "fac:Labor"] == pytest.approx(used_north * 840 / (840 + 2340))
    assert_balanced(s)
    assert any("zone-wide total" in line for line in eco.log)
    # the GAMS code applies the village shares to the labour used in the whole zone
    gams = economy(villages={"north": ["Elig", "Inel"], "south": ["Trader"]}, gams_compat=True).sam
    used_zone = sum(gams.at["fac:Labor", a] for a in gams.columns if a.startswith("act:"))
    assert gams.at["hh:Elig", "fac:Labor"] == pytest.approx(used_zone * 840 / 3180)
    assert gams.at["hh:Trader", "fac:Labor"] == pytest.approx(used_zone)  # alone in its village
    assert gams.at["fac:Labor", "out:world"] == pytest.approx(used_zone)  # twice the labour used: exported
    assert_balanced(gams)


def test_parameter_table():
    p = economy().parameters
    assert list(p.columns) == PARAMETER_COLUMNS
    assert p["parameter"].value_counts().to_dict() == {
        "factor_share": 35, "budget_share": 18, "input_share": 23, "savings_rate": 3, "transfer_rate": 3,
        "outside_rate": 3, "household_count": 3}
    row = p[(p.parameter == "factor_share") & (p.good == "crop") & (p.factor == "Labor") & (p.household == "Elig")]
    assert row[["value", "se"]].values.tolist() == [[0.45, 0.06]]
    row = p[(p.parameter == "budget_share") & (p.good == "OUT") & (p.household == "Trader")]
    assert row[["value", "se"]].values.tolist() == [[0.35, 0.035]]
    row = p[(p.parameter == "savings_rate") & (p.household == "Trader")]
    assert row[["value", "se"]].values.tolist() == [[0.10, 0.02]]
    assert (p.loc[p.parameter == "outside_rate", "se"] == 0).all()  # no EXPROLES_se rows
    row = p[(p.parameter == "input_share") & (p.good == "retail") & (p.good2 == "OUT") & (p.household == "Trader")]
    assert row[["value", "se"]].values.tolist() == [[0.55, 0.0]]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_parameter_table_round_trip(tmp_path, suffix):
    p = economy().parameters
    back = read_parameters(write_parameters(p, tmp_path / f"params{suffix}"))
    pd.testing.assert_frame_equal(back, p, check_dtype=False)


def test_parameter_table_bad_name(tmp_path):
    p = economy().parameters.copy()
    p.loc[0, "parameter"] = "factor_shares"
    path = write_parameters(p, tmp_path / "p.csv")
    with pytest.raises(WorkbookError, match=r"unknown parameter 'factor_shares'.*did you mean 'factor_share'"):
        read_parameters(path)


def test_factor_shares_not_summing_to_one_are_rescaled_and_logged(tmp_path):
    path = edited(tmp_path, set_cell("Input", "F31", 0.1))  # fshare(Crop, Input, Elig): shares sum to 0.9
    eco = economy(path)
    s = eco.sam
    va = 2400 * 0.85
    fd = [s.at[f"fac:{f}", "act:crop:Elig"] for f in ("Labor", "Land", "Capital", "Input")]
    assert sum(fd) == pytest.approx(va)  # value added = sum of factor payments, as in GAMS
    assert fd[0] == pytest.approx(va * 0.45 / 0.9)
    assert_balanced(s)
    assert any("fshare(crop, ·, Elig) sums to 0.9: rescaled" in line for line in eco.log)
    # the parameter table keeps the point estimate as given (the Monte Carlo module rescales each draw)
    p = eco.parameters
    assert p[(p.parameter == "factor_share") & (p.factor == "Input") & (p.good == "crop")
             & (p.household == "Elig")]["value"].item() == 0.1


def test_budget_shares_not_summing_to_one_are_rescaled_and_logged(tmp_path):
    eco = economy(edited(tmp_path, set_cell("Input", "H13", 0.45)))  # eshare(OUT, Trader): sum 1.1
    assert any("eshare(·, Trader) sums to 1.1: rescaled" in line for line in eco.log)
    assert eco.sam.at["com:OUT", "hh:Trader"] == pytest.approx(6750 * (1 - 0.21) * 0.45 / 1.1)
    assert_balanced(eco.sam)


# ---- errors ------------------------------------------------------------------------------------
def test_error_no_index_sheet(tmp_path):
    def edit(book):
        book["Index"].title = "Indx"
    with pytest.raises(WorkbookError, match=r"broken\.xlsx: no 'Index' sheet \(did you mean 'Indx'\?\)"):
        read_workbook(edited(tmp_path, edit))


def test_error_range_names_missing_sheet(tmp_path):
    path = edited(tmp_path, set_cell("Index", "C8", "Inputs!B4"))
    with pytest.raises(WorkbookError, match=r"Index!C8: range 'Inputs!B4' of par 'alldata': sheet 'Inputs' does "
                                            r"not exist \(did you mean 'Input'\?\)"):
        read_workbook(path)


def test_error_table_range_outside_data(tmp_path):
    path = edited(tmp_path, set_cell("Index", "C8", "Input!B200"))
    with pytest.raises(WorkbookError, match=r"Index!C8: range 'Input!B200' of par 'alldata' points outside the data"):
        read_workbook(path)


def test_error_set_range_outside_data(tmp_path):
    path = edited(tmp_path, set_cell("Index", "C6", "Input!C400:C500"))
    with pytest.raises(WorkbookError, match=r"Index!C6: range 'Input!C400:C500' of dset 'g' holds no labels: it "
                                            r"points outside the data"):
        read_workbook(path)


def test_error_text_in_numeric_cell(tmp_path):
    path = edited(tmp_path, set_cell("Input", "G12", "n/a"))
    with pytest.raises(WorkbookError, match=r"Input!G12: expected a number for eshare, found text 'n/a'"):
        read_workbook(path)


def test_number_stored_as_text_is_read_and_logged(tmp_path):
    wb = read_workbook(edited(tmp_path, set_cell("Input", "G12", " 0.06 ")))
    assert wb.value("eshare", "prod", household="Inel") == 0.06
    assert any("Input!G12: number stored as text" in line for line in wb.log)


def test_error_formula_without_stored_value(tmp_path):
    path = edited(tmp_path, set_cell("Input", "F7", "=6*2"))
    with pytest.raises(WorkbookError, match=r"Input!F7: formula =6\*2 has no stored value"):
        read_workbook(path)


def test_error_share_above_one_can_be_drawn_around(tmp_path):
    path = edited(tmp_path, set_cell("Input", "F28", 1.2))
    with pytest.raises(WorkbookError, match=r"Input!F28: fshare\(crop, Labor, Elig\) = 1\.2 is a share outside "
                                            r"\[0, 1\]; its standard error 0\.06 \(Input!F32\) means a redraw can "
                                            r"land inside, so it can be drawn around"):
        economy(path)


def test_share_above_one_is_redrawn_in_draw_zero_with_gams_compat(tmp_path):
    eco = economy(edited(tmp_path, set_cell("Input", "F28", 1.2)), gams_compat=True, seed=5)
    (key, v), = eco.redraws.items()
    assert key == "fshare|crop||labor|elig" and 0 < v < 1
    assert any(line.startswith("Input!F28: fshare(crop, Labor, Elig) = 1.2 is outside (0, 1): redrawn in draw 0 "
                               "from N(1.2, 0.06)") for line in eco.log)
    assert_balanced(eco.sam)
    # the SAM is built from the redrawn share (rescaled with the others of the activity)
    again = economy(edited(tmp_path, set_cell("Input", "F28", 1.2), name="b.xlsx"), gams_compat=True, seed=5)
    assert again.redraws == eco.redraws
    other = economy(edited(tmp_path, set_cell("Input", "F28", 1.2), name="c.xlsx"), gams_compat=True, seed=6)
    assert other.redraws != eco.redraws


def test_error_share_below_zero_cannot_be_drawn_around(tmp_path):
    def edit(book):
        book["Input"]["F20"] = -0.1  # savsh(Elig)
        book["Input"]["F21"] = None  # ... without a standard error
    with pytest.raises(WorkbookError, match=r"Input!F20: savsh\(Elig\) = -0\.1 is a share outside \[0, 1\]; it "
                                            r"has no standard error, so it cannot be drawn around"):
        economy(edited(tmp_path, edit))


def test_error_outside_rate_below_zero(tmp_path):
    path = edited(tmp_path, set_cell("Input", "G24", -0.05))
    with pytest.raises(WorkbookError, match=r"Input!G24: EXPROLES\(Inel\) = -0\.05 .*GAMS never redraws it"):
        economy(path)
    eco = economy(path, gams_compat=True)
    assert any("Input!G24" in line and "uses it as given" in line for line in eco.log)


def test_zero_share_is_allowed(tmp_path):
    eco = economy(edited(tmp_path, set_cell("Input", "F20", 0)))  # savsh(Elig) = 0: no savings
    assert eco.sam.at["out:savings", "hh:Elig"] == 0
    assert_balanced(eco.sam)


def test_error_duplicate_row(tmp_path):
    def edit(book):
        ws = book["Input"]
        for col in "BCDEFGH":
            ws[f"{col}67"] = ws[f"{col}8"].value
        ws["C67"] = "CROP"  # same good, other spelling: still a duplicate
    with pytest.raises(WorkbookError, match=r"Input!B67: duplicate row \(eshare, crop, '', ''\): also at Input!B8"):
        read_workbook(edited(tmp_path, edit))


def test_row_with_a_good_outside_set_g_is_dropped_and_reported(tmp_path):
    """gdxxrw/$load: the GAMS code reads alldata through set g, so a row labelled with a good outside g
    is never used; lewie drops it too, with a warning naming the cell and the closest good."""
    path = edited(tmp_path, set_cell("Input", "D26", "crops"))  # idsh(crop, crops): not a good of set g
    wb = read_workbook(path)
    assert any(line.startswith("Input!D26: row 'idsh|crop|crops' dropped: good 'crops' is not in set g "
                               "(Input!C3:C300) (did you mean 'crop'?)") for line in wb.skipped)
    assert wb.value("idsh", "crop", "crops", household="Elig") == 0
    assert any(line.startswith("warning: Input!D26") for line in wb.log)


def test_set_element_outside_all_accounts_is_dropped_and_reported(tmp_path):
    path = edited(tmp_path, set_cell("Input", "C25", "Crops"))  # listed in set g, but not in ac
    wb = read_workbook(path)
    assert any(line.startswith("Input!C25: 'Crops' of set g is not in the all-accounts set ac (AllAccounts!B2) "
                               "(did you mean 'crop'?): dropped") for line in wb.skipped)
    assert "Crops" not in wb.goods


def test_error_household_without_count(tmp_path):
    path = edited(tmp_path, set_cell("Input", "G5", None))
    with pytest.raises(WorkbookError, match=r"Input!G5: household group 'Inel' has data but no count: HHNum is blank"):
        economy(path)
    path = edited(tmp_path, set_cell("Input", "H5", 0), name="zero.xlsx")
    with pytest.raises(WorkbookError, match=r"Input!H5: household group 'Trader' has data but no count"):
        economy(path)


def test_error_unknown_household_in_villages():
    with pytest.raises(WorkbookError, match=r"unknown household group 'Elgi' \(did you mean 'Elig'\?\)"):
        economy(villages={"kalema": ["Elgi", "Inel", "Trader"]})
    with pytest.raises(WorkbookError, match=r"household group 'Trader' is in no village"):
        economy(villages={"kalema": ["Elig", "Inel"]})


def test_error_factor_classes():
    with pytest.raises(WorkbookError, match=r"unknown factor 'Lnad' \(did you mean 'Land'\?\)"):
        economy(fixed_factors=["Lnad", "Capital"])
    with pytest.raises(WorkbookError, match=r"factor 'Labor' is used .* but is not classified"):
        economy(labour_factors=[])
    with pytest.raises(WorkbookError, match=r"factor 'Land' is listed as both fixed and labour"):
        economy(labour_factors=["Labor", "Land"])


def test_error_entry_with_labels_gams_ignores(tmp_path):
    path = edited(tmp_path, set_cell("Input", "E8", "Labor"))  # eshare(crop) given a factor label
    with pytest.raises(WorkbookError, match=r"Input!F8: eshare takes good, but this entry has labels: crop, Labor; "
                                            r"GAMS would silently ignore it"):
        economy(path)
    eco = economy(path, gams_compat=True)
    assert any("ignored, as GAMS does" in line for line in eco.log)
    assert any("eshare(·, Elig) sums to 0.7" in line for line in eco.log)


def test_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        read_workbook(tmp_path / "missing.xlsx")
