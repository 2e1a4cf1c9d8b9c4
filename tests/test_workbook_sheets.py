"""Workbooks read once in openpyxl's read-only mode (lewie.sam.workbook_sheets): the grids hold what openpyxl's
full mode reads (values, formulas, merged cells, extents), whatever dimension a sheet states; one load reads
the file once; and the numpy paths of the SAM readers and the calibration give what the pandas ones gave."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import lewie
from lewie.errors import SAMError
from lewie.model.calibration import _cells
from lewie.sam import check_sam
from lewie.sam.io import read_sam, sam_from_frame
from lewie.sam.shares import shares_from_sam, sam_from_shares
from lewie.sam.workbook import WorkbookError, read_dashboard, read_workbook
from lewie.sam.workbook_sheets import Grid, SheetsFile

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "sam" / "data" / "example_workbook" / "workbook.xlsx"
MYANMAR = REPO / "sam" / "data" / "myanmar_aqua" / "AQ_LEWIE_InputSheet.xlsx"
INPUT_XML = "xl/worksheets/sheet3.xml"  # the example's Input sheet


def rewritten(src: Path, dst: Path, member: str, edit) -> Path:
    """A copy of the .xlsx ``src`` whose ``member`` (a sheet's XML) is ``edit(text)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == member:
                new = edit(data.decode("utf-8"))
                assert new != data.decode("utf-8"), "the edit changed nothing"
                data = new.encode("utf-8")
            zout.writestr(item, data)
    return dst


def replace_cell(ref: str, xml: str):
    """An edit replacing the <c r="ref">…</c> element of a sheet by ``xml``."""
    def edit(text):
        return re.sub(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', xml, text, count=1)
    return edit


def full_mode(path: Path, data_only: bool):
    return openpyxl.load_workbook(path, data_only=data_only)


def assert_grids_as_full_mode(path: Path):
    """Every sheet's values grid holds what openpyxl's full mode reads (values, extents), and the formulas
    grid every formula full mode reads."""
    values, formulas = full_mode(path, True), full_mode(path, False)
    book = SheetsFile(path).open()
    try:
        assert book.sheetnames == values.sheetnames
        for name in values.sheetnames:
            ws, wf = values[name], formulas[name]
            extent = (ws.max_row, ws.max_column)  # before any ws.cell() call creates cells
            grid, fgrid = book.values(name), book.formulas(name)
            assert (grid.max_row, grid.max_column) == extent, name
            for r in range(1, extent[0] + 3):
                for c in range(1, extent[1] + 3):
                    assert grid.value(r, c) == ws.cell(row=r, column=c).value, (name, r, c)
                    f = wf.cell(row=r, column=c).value
                    if isinstance(f, str) and f.startswith("="):
                        assert fgrid.value(r, c) == f, (name, r, c)
    finally:
        book.close()


# ---- the grids ---------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [EXAMPLE, MYANMAR], ids=["example", "myanmar"])
def test_grids_hold_what_full_mode_reads(path):
    assert_grids_as_full_mode(path)


def test_myanmar_has_formulas_and_merged_cells_the_grids_read():
    """The bundled GAMS workbook exercises both: formula cells (with stored values) and merged ranges."""
    book = SheetsFile(MYANMAR).open()
    f = book.formulas("Input")
    assert any(isinstance(v, str) and v.startswith("=") for row in f.rows for v in row)
    assert book.values("Input").value(8, 1) is not None and book.values("Input").value(9, 1) is None  # A8:A36
    book.close()


@pytest.mark.parametrize("dimension", ['<dimension ref="A1:C3" />', ""], ids=["stale", "absent"])
def test_stated_dimension_is_not_trusted(tmp_path, dimension):
    path = rewritten(EXAMPLE, tmp_path / "dim.xlsx", INPUT_XML,
                     lambda t: t.replace('<dimension ref="A1:J66" />', dimension))
    assert_grids_as_full_mode(path)
    wb, ref = read_workbook(path), read_workbook(EXAMPLE)
    pd.testing.assert_frame_equal(wb.data, ref.data)
    assert (wb.households, wb.goods, wb.factors, wb.cells) == (ref.households, ref.goods, ref.factors, ref.cells)


def test_uncalculated_formula_beyond_a_stale_dimension_is_found(tmp_path):
    def edit(text):
        text = text.replace('<dimension ref="A1:J66" />', '<dimension ref="A1:C3" />')
        return replace_cell("H66", '<c r="H66"><f>F66+G66</f></c>')(text)
    path = rewritten(EXAMPLE, tmp_path / "f.xlsx", INPUT_XML, edit)
    with pytest.raises(WorkbookError, match=r"f\.xlsx: Input!H66: formula =F66\+G66 has no stored value"):
        read_workbook(path)


def test_formula_with_a_stored_value_is_read_as_its_value(tmp_path):
    path = rewritten(EXAMPLE, tmp_path / "f.xlsx", INPUT_XML, replace_cell("F6", '<c r="F6"><f>21/10</f><v>2.1</v></c>'))
    assert SheetsFile(path).formulas("Input").value(6, 6) == "=21/10"
    assert read_workbook(path).value("wrkagepop", household="Elig") == 2.1


def test_uncalculated_formula_in_the_index_and_the_dashboard(tmp_path):
    index = rewritten(EXAMPLE, tmp_path / "i.xlsx", "xl/worksheets/sheet1.xml",
                      lambda t: re.sub(r'<c r="D8"[^>]*?(/>|>.*?</c>)', '<c r="D8"><f>2+2</f></c>', t, count=1))
    with pytest.raises(WorkbookError, match=r"Index!D8: formula =2\+2 has no stored value \(rdim/cdim\)"):
        read_workbook(index)
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sims"
    ws.append(["sim", "g", "f", "h", "value", "acres"])
    ws.append(["pilot", "crop", "Land", "Elig", "=1+1", 2])
    book.save(tmp_path / "dash.xlsx")
    with pytest.raises(WorkbookError, match=r"Sims!E2: formula =1\+1 has no stored value \(shock value\)"):
        read_dashboard(tmp_path / "dash.xlsx")


def test_merged_cells_hide_what_their_hidden_cells_hold(tmp_path):
    """A spreadsheet may keep the contents of the hidden cells of a merged range; openpyxl's full mode,
    and so lewie, reads them as empty: here Inel's household count (G5, under the merged F5:G5)."""
    path = rewritten(EXAMPLE, tmp_path / "merged.xlsx", INPUT_XML, lambda t: t.replace(
        "</sheetData>", '</sheetData><mergeCells count="1"><mergeCell ref="F5:G5"/></mergeCells>'))
    assert_grids_as_full_mode(path)
    assert SheetsFile(path).values("Input").value(5, 7) is None
    wb = read_workbook(path)
    assert wb.value("HHNum", household="Inel") == 0 and wb.value("HHNum", household="Elig") == 400


def test_blank_merged_extends_the_extent_like_full_mode():
    from lewie.sam.workbook_sheets import _blank_merged
    rows = _blank_merged([(1, 2), (3,)], [(1, 2, 3, 4)])  # A2:C4
    g = Grid("s", rows)
    assert (g.max_row, g.max_column) == (4, 3)
    assert [g.value(2, c) for c in (1, 2, 3)] == [3, None, None] and g.value(1, 2) == 2


def test_grid_extent_counts_cells_written_without_a_value():
    g = Grid("s", [(), (None, 5), (), (None, None, None), ()])
    assert (g.max_row, g.max_column) == (4, 3)
    assert Grid("empty", []).max_row == Grid("empty", []).max_column == 1
    assert g.value(2, 2) == 5 and g.value(9, 9) is None and g.row(9) == ()


def test_used_range_in_messages_is_the_data_read(tmp_path):
    path = rewritten(EXAMPLE, tmp_path / "r.xlsx", "xl/worksheets/sheet1.xml",
                     lambda t: re.sub(r'(<c r="C6"[^>]*><is><t>)[^<]*', r"\1Input!C400:C500", t, count=1))
    with pytest.raises(WorkbookError, match=r"Index!C6: range 'Input!C400:C500' of dset 'g' holds no labels: it "
                                            r"points outside the data \(sheet 'Input' has data in A1:J66\)"):
        read_workbook(path)


def test_unreadable_sheet_is_a_workbook_error(tmp_path):
    path = rewritten(EXAMPLE, tmp_path / "bad.xlsx", INPUT_XML, lambda t: t.replace("</sheetData>", "<sheetData>"))
    with pytest.raises(WorkbookError, match=r"bad\.xlsx: cannot read workbook"):
        read_workbook(path)


def test_sheets_file_reopens_after_close_and_keeps_what_it_read():
    book = SheetsFile(EXAMPLE).open()
    index = book.values("Index")
    book.close()
    assert book.values("Index") is index
    assert book.values("Sims").value(3, 1) == "sim1"
    book.close()
    book.close()


def test_sheets_file_of_another_path_is_refused(tmp_path):
    with pytest.raises(ValueError, match="reads"):
        read_workbook(EXAMPLE, book=SheetsFile(MYANMAR))


# ---- one read per load -------------------------------------------------------------------------
def test_workbook_and_its_dashboard_sheet_share_one_read(monkeypatch):
    book = SheetsFile(EXAMPLE)
    wb = read_workbook(EXAMPLE, book=book)
    shared = read_dashboard(EXAMPLE, "Sims", workbook=wb, book=book)
    book.close()
    pd.testing.assert_frame_equal(shared, read_dashboard(EXAMPLE, "Sims", workbook=read_workbook(EXAMPLE)))
    assert shared.to_dict("records") == [
        {"sim": "sim1", "good": "crop", "factor": "Land", "household": "Elig", "value": 100.0},
        {"sim": "sim2", "good": "livestock", "factor": "Capital", "household": "Elig", "value": 50.0}]

    calls = []
    real = openpyxl.load_workbook
    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: calls.append(k) or real(*a, **k))
    sim = lewie.Simulation(lewie.load_scenario(REPO / "scenarios" / "example_workbook.toml")).load()
    assert calls == [{"read_only": True, "data_only": True}]
    assert set(sim.scenario.variants) >= {"sim1", "sim2"}


# ---- numpy instead of per-element pandas access ---------------------------------------------------
def bad_sam() -> pd.DataFrame:
    labels = ["act:a:h", "com:a", "fac:l", "hh:h"]
    x = np.arange(16, dtype=float).reshape(4, 4)
    x[1, 2], x[3, 0] = np.nan, np.inf
    return pd.DataFrame(x, index=labels, columns=labels)


def test_check_sam_numeric_and_text_frames_report_alike():
    sam = bad_sam()
    as_text = sam.astype(object)
    as_text.iloc[1, 2] = ""
    reports = [check_sam(f).problems for f in (sam, as_text, sam.fillna(0).replace(np.inf, 5).astype(int))]
    assert [(p.code, p.message) for p in reports[0]] == [(p.code, p.message) for p in reports[1]]
    assert {p.code for p in reports[0]} >= {"missing", "not-finite"}
    assert "not-finite" not in {p.code for p in reports[2]} and "missing" not in {p.code for p in reports[2]}
    assert any("column 'act:a:h') is not finite: inf" in p.message for p in reports[0])


def test_sam_from_frame_errors_name_the_first_bad_cell():
    labels = ["act:a:h", "com:a"]
    frame = pd.DataFrame([["1", " "], ["x", "1e999"]], index=labels, columns=labels, dtype=str)
    with pytest.raises(SAMError, match=r"cell \(row 'com:a', column 'act:a:h'\) is not a number: 'x'"):
        sam_from_frame(frame)
    frame.iloc[1, 0] = "2"
    with pytest.raises(SAMError, match=r"cell \(row 'com:a', column 'com:a'\) is not finite: '1e999'"):
        sam_from_frame(frame)
    frame.iloc[1, 1] = "3"
    sam = sam_from_frame(frame)
    assert sam.to_numpy().tolist() == [[1.0, 0.0], [2.0, 3.0]]
    with pytest.raises(SAMError, match=r"is not finite: np\.float64\(inf\)"):  # a float frame: iat's scalars
        sam_from_frame(pd.DataFrame([[1.0, np.inf], [2.0, 3.0]], index=labels, columns=labels))


def test_calibration_cells_are_the_frames_cells():
    sam = read_sam(REPO / "sam" / "data" / "example_village" / "sam.csv")
    at = _cells(sam)
    for r in sam.index:
        for c in sam.columns:
            v = at(r, c)
            assert type(v) is type(sam.at[r, c]) and v == sam.at[r, c]
    ints = sam.round().astype(int)
    assert all(type(_cells(ints)(r, c)) is type(ints.at[r, c]) for r in ints.index for c in ints.columns)


def test_sam_from_shares_rebuilds_the_sam_laid_out_as_before_and_refuses_an_account_twice():
    sam = read_sam(REPO / "sam" / "data" / "example_village" / "sam.csv")
    e = shares_from_sam(sam)
    rebuilt = sam_from_shares(e)
    np.testing.assert_allclose(rebuilt.reindex(index=sam.index, columns=sam.columns).to_numpy(), sam.to_numpy(),
                               rtol=1e-12, atol=1e-9)
    # the flows are summed in numpy; the frame keeps the memory layout of pd.DataFrame(0.0, ...), on which
    # the order of its row and column sums (the closing of trade, exogenous income) depends
    zeros = pd.DataFrame(0.0, index=rebuilt.index, columns=rebuilt.columns).to_numpy()
    assert rebuilt.to_numpy().flags["C_CONTIGUOUS"] == zeros.flags["C_CONTIGUOUS"]
    assert rebuilt.to_numpy().strides == zeros.strides
    goods = list(dict.fromkeys(g for g, _ in e.output))
    with pytest.raises(ValueError, match="accounts listed twice: com:" + goods[0]):
        sam_from_shares(e, goods=goods + goods[:1])
