"""Reading a GAMS LEWIE workbook as gdxxrw + $load do: one test per rule, on small synthetic workbooks.

Each workbook is built here with openpyxl: a two-group, two-good village (crop and OUT; Labor and Land),
with an Index sheet, an all-accounts list and the alldata table.
"""
from __future__ import annotations

import openpyxl
import pytest

from lewie.sam.workbook import WorkbookError, read_workbook
from lewie.sam.workbook_calibration import calibrate_workbook
from lewie.sam.workbook_names import resolve_names

SETUP = dict(villages={"v": ["A", "B"]}, fixed_factors=["Land"], labour_factors=["Labor"], input_factors=[])

ROWS = [  # var, g, gg, f, A, B
    ("HHNum", None, None, None, 10, 20),
    ("HHexp", None, None, None, 5, 3),
    ("wrkagepop", None, None, None, 2, 2),
    ("eshare", "crop", None, None, 0.4, 0.5),
    ("eshare", "OUT", None, None, 0.6, 0.5),
    ("QP", "crop", None, None, 2, 1),
    ("fshare", "crop", None, "Labor", 0.6, 0.6),
    ("fshare", "crop", None, "Land", 0.4, 0.4),
]


def build(tmp_path, rows=ROWS, *, accounts=("crop", "OUT", "Labor", "Land", "A", "B"), index="Index",
          households=("A", "B"), extra=None, name="wb.xlsx"):
    book = openpyxl.Workbook()
    ix = book.active
    ix.title = index
    ix.append(["Type", "Name", "Range", "rdim", "cdim"])
    for r in (("dset", "ac", "AllAccounts!A1", 1, None), ("dset", "h", "Input!E1", None, 1),
              ("dset", "g", "Input!B2:B100", 1, None), ("dset", "f", "Input!D2:D100", 1, None),
              ("par", "alldata", "Input!A1", 4, 1)):
        ix.append(list(r))
    ac = book.create_sheet("AllAccounts")
    for a in accounts:
        ac.append([a])
    ws = book.create_sheet("Input")
    ws.append(["var", "g", "gg", "f", *households])
    for r in rows:
        ws.append(list(r))
    if extra:
        extra(book)
    path = tmp_path / name
    book.save(path)
    return path


def test_the_synthetic_workbook_calibrates(tmp_path):
    wb = read_workbook(build(tmp_path))
    assert wb.goods == ("crop", "OUT") and wb.households == ("A", "B") and wb.skipped == []
    eco = calibrate_workbook(wb, **SETUP)
    assert eco.sam.at["com:crop", "act:crop:A"] == 0 and eco.sam.at["act:crop:A", "com:crop"] == 20


def test_rule_set_element_outside_the_all_accounts_set_is_dropped(tmp_path):
    rows = ROWS + [("revsh", "other", None, None, None, None)]  # 'other' is listed in column B (set g)
    wb = read_workbook(build(tmp_path, rows))
    assert "other" not in wb.goods
    assert any(s.startswith("Input!B10: 'other' of set g is not in the all-accounts set ac") and "$load" in s
               for s in wb.skipped)


def test_rule_row_without_values_produces_no_record_whatever_its_labels(tmp_path):
    rows = ROWS + [("endow", None, "L", None, None, None), ("emin", "crop", None, None, None, None)]
    wb = read_workbook(build(tmp_path, rows))
    assert "endow" not in set(wb.data["var"]) and "emin" not in set(wb.data["var"])
    line = next(s for s in wb.skipped if "without values" in s)
    assert line.startswith("2 row(s) without values produce no record") and "Input!A10 (endow||L)" in line


def test_rule_row_with_values_and_a_good_outside_set_g_is_dropped_with_a_warning(tmp_path):
    # column C (gg) is not a set list: 'crops' is in no set; GAMS reads alldata only through set g
    rows = ROWS + [("idsh", "crop", "crops", None, 0.1, 0.1)]
    wb = read_workbook(build(tmp_path, rows))
    assert wb.value("idsh", "crop", "crops", household="A") == 0
    warn = [s for s in wb.skipped if s.startswith("Input!C10: row 'idsh|crop|crops' dropped")]
    assert warn and "(did you mean 'crop'?)" in warn[0]
    assert any(line.startswith("warning: Input!C10") for line in wb.log)


def test_rule_value_in_an_unlabelled_row_is_a_warning_naming_the_cell(tmp_path):
    rows = ROWS + [(None, None, None, None, None, 7.5)]
    wb = read_workbook(build(tmp_path, rows))
    assert any(s.startswith("Input!F10: value(s) in a row with no labels") for s in wb.skipped)
    assert any(line.startswith("warning: Input!F10") for line in wb.log)
    calibrate_workbook(wb, **SETUP)  # and it is not used


def test_rule_household_column_outside_set_h_is_dropped(tmp_path):
    def extra(book):  # declare h as only A and B, but give the table a third column C
        ws = book["Input"]
        ws["G1"] = "C"
        ws["G2"] = 5
        book["Index"]["C3"] = "Input!E1:F1"
    wb = read_workbook(build(tmp_path, extra=extra))
    assert wb.households == ("A", "B")
    assert any(s.startswith("Input!G1: column of household 'C' dropped") for s in wb.skipped)


def test_rule_the_index_sheet_is_selectable(tmp_path):
    path = build(tmp_path, index="Index_divided")
    with pytest.raises(WorkbookError, match=r"no 'Index' sheet \(did you mean 'Index_divided'\?\)"):
        read_workbook(path)
    assert read_workbook(path, index="Index_divided").goods == ("crop", "OUT")
    assert read_workbook(path, index="Index_divided!A1").goods == ("crop", "OUT")  # as GAMS names it


def test_rule_index_sheet_from_the_scenario(tmp_path):
    import lewie
    from lewie.config.scenario import scenario_from_dict
    path = build(tmp_path, index="Index_div")
    sc = scenario_from_dict({"name": "t", "workbook": str(path), "workbook_index": "Index_div",
                             "villages": {"v": ["A", "B"]}, "markets": {"village": ["Labor"], "world": ["crop", "OUT"]},
                             "interventions": [{"kind": "cash_transfer", "households": ["A"], "amount": 1}]})
    ds = lewie.run(sc)
    assert ds.attrs["workbook_variables"].startswith("workbook variables read: household_count <- HHNum")


def test_variable_names_known_spellings_and_override(tmp_path):
    rows = ROWS + [("transfoutsh", None, None, None, 0.05, 0.02)]
    wb, report = resolve_names(read_workbook(build(tmp_path, rows)))
    assert report.used["transfer_rate"] == "transfoutsh" and wb.value("transfout", household="A") == 0.05
    rows = ROWS + [("troutrate", None, None, None, 0.05, 0.02)]
    raw = read_workbook(build(tmp_path, rows, name="b.xlsx"))
    wb, report = resolve_names(raw)
    assert "transfer_rate" in report.missing and "troutrate" in report.unused  # not silently zero: reported
    wb, report = resolve_names(raw, {"transfer_rate": "troutrate"})
    assert report.used["transfer_rate"] == "troutrate" and not report.unused
    eco = calibrate_workbook(wb, **SETUP)
    assert eco.sam.at["out:transfers", "hh:A"] == pytest.approx(0.05 * 50)
    with pytest.raises(WorkbookError, match=r"workbook_names.transfer_rate = 'trout': the workbook has no variable "
                                            r"'trout' \(did you mean 'troutrate'\?\)"):
        resolve_names(raw, {"transfer_rate": "trout"})
    with pytest.raises(WorkbookError, match=r"unknown lewie parameter 'transfer' in workbook_names"):
        resolve_names(raw, {"transfer": "troutrate"})


def test_unused_workbook_variable_is_reported(tmp_path):
    rows = ROWS + [("HHobs", None, None, None, 64, 95), ("transfin", None, None, None, 0.01, 0.02)]
    _, report = resolve_names(read_workbook(build(tmp_path, rows)))
    assert report.unused == {"HHobs": "Input!E10", "transfin": "Input!E11"}
    lines = report.lines()
    assert any(line.startswith("workbook variables with values that lewie does not use: HHobs (Input!E10), "
                               "transfin (Input!E11)") for line in lines)
    assert any(line.startswith("warning: Input!E11: workbook variable 'transfin' holds values but is not used")
               for line in lines)


def test_missing_required_variable_is_an_error_naming_the_spellings(tmp_path):
    rows = [r for r in ROWS if r[0] != "HHexp"] + [("HHexpend", None, None, None, 5, 3)]
    with pytest.raises(WorkbookError, match=r"the workbook has no values for expenditure .* tried the variables "
                                            r"HHexp, hhexp"):
        resolve_names(read_workbook(build(tmp_path, rows)))


def test_workbook_keys_without_a_workbook_are_an_error():
    from lewie.errors import InputError
    from lewie.config.scenario import scenario_from_dict
    with pytest.raises(InputError, match=r"'workbook_names' says how to read a GAMS workbook, but the scenario has "
                                         r"no 'workbook'"):
        scenario_from_dict({"name": "t", "sam": "x.csv", "workbook_names": {"transfer_rate": "troutsh"},
                            "villages": {"v": ["a"]}, "markets": {}})
