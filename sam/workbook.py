"""Read a GAMS LEWIE input workbook (``gdxxrw`` layout with an ``Index`` sheet), its dashboard, parameter tables.

The published LEWIE models read their data with ``gdxxrw``: an ``Index`` sheet lists where each
symbol lives (``Type | Name | Range | rdim | cdim``), ``dset`` rows locate set element lists and a
``par`` row locates the parameter table ``alldata(var, g, gg, f, h)``: one row per entry, four
row-label columns and one column per household group. `read_workbook` parses it with the GAMS
conventions (labels are case-insensitive, the first spelling met in the declared set lists is kept
for display; an empty cell or an unlisted entry is zero; free-text columns after the household
columns are ignored).

The calibration of a workbook to a lewie SAM and the Monte Carlo parameter table is
`lewie.sam.workbook_calibration`. The parameter table's file I/O (`write_parameters`,
`read_parameters`) is here; its parameters and their workbook names come from the registry
(`GAMS_PARAMETER`, derived from `lewie.model.registry.workbook_names`).
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from lewie.errors import InputError, did_you_mean
from lewie.model.registry import workbook_names
from lewie.sam.workbook_sheets import Grid, SheetsFile

__all__ = [
    "WorkbookError", "Workbook", "read_workbook", "read_dashboard", "write_parameters", "read_parameters",
    "PARAMETER_COLUMNS", "GAMS_PARAMETER", "TABLE_PARAMETERS",
]

DATA_COLUMNS = ["var", "good", "good2", "factor", "household", "value"]
PARAMETER_COLUMNS = ["parameter", "good", "good2", "factor", "household", "value", "se"]
DASHBOARD_COLUMNS = ["sim", "good", "factor", "household", "value"]

TABLE_PARAMETERS = ("factor_share", "budget_share", "savings_rate", "transfer_rate", "outside_rate", "input_share")
"""The shares a workbook's parameter table carries (point estimate and standard error)."""
# lewie parameter name -> workbook variable (GAMS row label of alldata), from the registry
GAMS_PARAMETER = {p: workbook_names()[p] for p in TABLE_PARAMETERS}


class WorkbookError(InputError):
    """A LEWIE input workbook (or dashboard, or parameter table) that cannot be used as it is.

    The message starts with the file and the cell (``Input!G12``) when one is known.
    """

    def __init__(self, message: str, *, file: object | None = None, cell: str | None = None,
                 field: str | None = None, label: str | None = None):
        super().__init__(f"{cell}: {message}" if cell else message, file=file, field=field, label=label)
        self.cell = cell


# ------------------------------------------------------------------------------------------------
# cells and ranges
# ------------------------------------------------------------------------------------------------
def _col_letter(col: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(col)


def _ref(sheet: str, row: int, col: int) -> str:
    name = f"'{sheet}'" if any(c in sheet for c in " -!'") else sheet
    return f"{name}!{_col_letter(col)}{row}"


def _label(value) -> str:
    """A cell as a set label: text stripped, whole numbers without '.0', empty cell ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class _Sheets:
    """A workbook's sheets read once (`lewie.sam.workbook_sheets`): stored values, and the formulas of a
    sheet only when an empty cell has to be told from an uncalculated formula."""

    path: Path
    file: SheetsFile
    log: list[str]

    @property
    def sheetnames(self) -> list[str]:
        return self.file.sheetnames

    def sheet(self, name: str, *, cell: str | None = None, what: str = "") -> Grid:
        names = self.file.sheetnames
        for n in names:
            if n.lower() == name.lower():
                return self._grid(self.file.values, n)
        raise WorkbookError(f"{what}sheet '{name}' does not exist{did_you_mean(name, names)}; "
                            f"sheets: {', '.join(names)}", file=self.path, cell=cell, label=name)

    def _grid(self, read, name: str) -> Grid:
        try:
            return read(name)
        except Exception as exc:  # openpyxl parses a read-only sheet when it is first used
            raise WorkbookError(f"cannot read workbook: {exc}", file=self.path) from exc

    def number(self, ws: Grid, row: int, col: int, *, what: str = "") -> float | None:
        """A numeric cell: None when empty (GAMS zero), float otherwise; text is an error."""
        v = ws.value(row, col)
        if v is None:
            f = self._grid(self.file.formulas, ws.title).value(row, col)
            if isinstance(f, str) and f.startswith("="):
                raise WorkbookError(f"formula {f} has no stored value{what} (the file was written "
                                    "without calculating it); open and save it in Excel or LibreOffice",
                                    file=self.path, cell=_ref(ws.title, row, col))
            return None
        ref = _ref(ws.title, row, col)
        if isinstance(v, bool) or isinstance(v, (_dt.datetime, _dt.date, _dt.time, _dt.timedelta)):
            raise WorkbookError(f"expected a number{what}, found {v!r}", file=self.path, cell=ref)
        if isinstance(v, (int, float)):
            x = float(v)
            if not math.isfinite(x):
                raise WorkbookError(f"number is not finite{what}: {v!r}", file=self.path, cell=ref)
            return x
        s = str(v).strip()
        if s == "":
            return None
        try:
            x = float(s)
        except ValueError:
            kind = "an Excel error value" if s.startswith("#") else "text"
            raise WorkbookError(f"expected a number{what}, found {kind} {s!r}", file=self.path,
                                cell=ref) from None
        if not math.isfinite(x):
            raise WorkbookError(f"number is not finite{what}: {s!r}", file=self.path, cell=ref)
        self.log.append(f"{ref}: number stored as text {s!r} read as {x:g}")
        return x


def _open_sheets(path: Path, book: SheetsFile | None, log: list[str]) -> _Sheets:
    """The workbook at ``path`` read through ``book`` (one `SheetsFile` shared by the readers of one
    file), or through a new one."""
    if book is None:
        book = SheetsFile(path)
    elif Path(book.path) != path:
        raise ValueError(f"the SheetsFile passed reads {book.path}, not {path}")
    try:
        book.open()
    except Exception as exc:  # openpyxl raises many types for unreadable files
        raise WorkbookError(f"cannot read workbook: {exc}", file=path) from exc
    return _Sheets(path, book, log)


def _parse_range(text: str, *, file, cell: str):
    """'Input!B4' or 'Input!C3:C300' -> (sheet, min_col, min_row, max_col, max_row, single_cell)."""
    from openpyxl.utils.cell import range_boundaries
    text = str(text or "").strip()
    if "!" not in text:
        raise WorkbookError(f"range '{text}' should be written Sheet!B4 or Sheet!C3:C300", file=file,
                            cell=cell)
    sheet, rng = text.rsplit("!", 1)
    sheet = sheet.strip().strip("'")
    try:
        min_col, min_row, max_col, max_row = range_boundaries(rng.replace("$", "").upper())
    except (ValueError, TypeError):
        raise WorkbookError(f"cannot read range '{text}' (write it as Sheet!B4 or Sheet!C3:C300)",
                            file=file, cell=cell) from None
    if None in (min_col, min_row, max_col, max_row):
        raise WorkbookError(f"range '{text}' must name cells (e.g. Sheet!C3:C300), not whole rows or columns",
                            file=file, cell=cell)
    single = (min_col, min_row) == (max_col, max_row)
    return sheet, min_col, min_row, max_col, max_row, single


def _used(ws) -> str:
    return f"A1:{_col_letter(max(ws.max_column, 1))}{max(ws.max_row, 1)}"


# ------------------------------------------------------------------------------------------------
# the workbook
# ------------------------------------------------------------------------------------------------
@dataclass
class Workbook:
    """A parsed LEWIE input workbook.

    ``households``, ``goods``, ``factors`` keep the order of the declared set lists and the display
    spelling (the first spelling met in the set lists, in Index order). ``data`` is the parameter table
    in tidy form (columns var, good, good2, factor, household, value; absent labels are ''), one row per
    non-empty cell. ``cells`` maps each entry (lower-case labels) to its cell, e.g. ``'Input!F8'``.
    """

    path: Path
    households: tuple[str, ...]
    goods: tuple[str, ...]
    factors: tuple[str, ...]
    variables: tuple[str, ...]
    accounts: tuple[str, ...]
    data: pd.DataFrame
    table: str = "alldata"
    cells: dict[tuple[str, str, str, str, str], str] = field(default_factory=dict, repr=False)
    row_at: dict[tuple[str, str, str, str], tuple[str, int, int]] = field(default_factory=dict, repr=False)
    column_at: dict[str, int] = field(default_factory=dict, repr=False)
    set_ranges: dict[str, str] = field(default_factory=dict, repr=False)
    log: list[str] = field(default_factory=list, repr=False)
    skipped: list[str] = field(default_factory=list, repr=False)
    index: str = "Index"
    _values: dict[tuple[str, str, str, str, str], float] = field(default_factory=dict, repr=False)

    def value(self, var: str, good: str = "", good2: str = "", factor: str = "", *,
              household: str) -> float:
        """``alldata(var, good, good2, factor, household)``; an unlisted entry is 0 (GAMS convention)."""
        return self._values.get(_key(var, good, good2, factor, household), 0.0)

    def cell(self, var: str, good: str = "", good2: str = "", factor: str = "", *,
             household: str) -> str | None:
        """The cell of an entry (``'Input!F8'``), also when its row is listed but the cell is empty."""
        key = _key(var, good, good2, factor, household)
        if key in self.cells:
            return self.cells[key]
        at = self.row_at.get(key[:4])
        if at is None:
            return None
        sheet, row, label_col = at
        col = self.column_at.get(key[4])
        return _ref(sheet, row, col if col is not None else label_col)

    def canonical(self, kind: str, label: str, *, cell: str | None = None, file=None) -> str:
        """Display spelling of a household / good / factor (case-insensitive), else a WorkbookError."""
        choices = {"household": self.households, "good": self.goods, "factor": self.factors}[kind]
        for c in choices:
            if c.lower() == str(label).strip().lower():
                return c
        raise WorkbookError(f"{kind} '{label}' is not declared in the workbook's set lists"
                            f"{did_you_mean(label, choices)}; declared: {', '.join(choices)}",
                            file=file if file is not None else self.path, cell=cell, label=str(label))

    def renamed(self, rename: Mapping[str, str]) -> "Workbook":
        """The workbook with variables renamed (``rename``: lower-case workbook name -> new name)."""
        if not rename:
            return self
        low = {k.lower(): v for k, v in rename.items()}

        def new(var: str) -> str:
            return low.get(var.lower(), var)

        def key(k):
            return (new(k[0]).lower(), *k[1:])
        data = self.data.assign(var=self.data["var"].map(new))
        return replace(self, data=data, variables=tuple(dict.fromkeys(new(v) for v in self.variables)),
                       cells={key(k): v for k, v in self.cells.items()},
                       row_at={key(k): v for k, v in self.row_at.items()},
                       _values={key(k): v for k, v in self._values.items()})

    def entries(self, var: str) -> pd.DataFrame:
        """Rows of ``data`` for one variable (case-insensitive)."""
        return self.data[self.data["var"].str.lower() == var.lower()]


def _key(var, good, good2, factor, household) -> tuple[str, str, str, str, str]:
    return tuple(str(x).strip().lower() for x in (var, good, good2, factor, household))  # type: ignore[return-value]


@dataclass
class _IndexEntry:
    type: str
    name: str
    range: str
    rdim: int
    cdim: int
    cell: str  # where the range is written in the Index sheet


def _read_index(book: _Sheets, index: str = "Index") -> list[_IndexEntry]:
    """The entries of the index sheet. ``index`` is the sheet's name, or ``Sheet!A2`` as the GAMS main
    file writes it (``$setglobal input_sheet_index "Index_divided!A2"``): the table is read from that
    row down."""
    names = book.sheetnames
    sheet_name, _, start = str(index).partition("!")
    sheet_name = sheet_name.strip().strip("'")
    index_name = next((n for n in names if n.lower() == sheet_name.lower()), None)
    if index_name is None:
        alike = [n for n in names if n.lower().startswith(sheet_name.lower()[:5])]
        hint = did_you_mean(sheet_name, names) or (f" (did you mean '{alike[0]}'?)" if alike else "")
        raise WorkbookError(f"no '{sheet_name}' sheet{hint}: a LEWIE workbook lists "
                            f"where each set and parameter lives in an index sheet (here '{sheet_name}'; rows "
                            "Type | Name | Range | rdim | cdim, as gdxxrw reads it; choose another with the "
                            f"scenario's workbook_index); sheets: {', '.join(names)}", file=book.path,
                            label=sheet_name)
    ws = book.sheet(index_name)
    first_row = 1
    if start.strip():
        from openpyxl.utils.cell import coordinate_from_string
        try:
            first_row = coordinate_from_string(start.strip().replace("$", "").upper())[1]
        except ValueError:
            raise WorkbookError(f"cannot read the index location '{index}' (write it as Index or Index!A2)",
                                file=book.path, field="workbook_index") from None
    type_col = 1
    for r in range(first_row, ws.max_row + 1):
        hit = [c for c, v in enumerate(ws.row(r), start=1) if isinstance(v, str) and v.strip().lower() == "type"]
        if hit:
            type_col = hit[0]
            break
    entries = []
    for r in range(first_row, ws.max_row + 1):
        kind = _label(ws.value(r, type_col)).lower()
        if kind not in ("dset", "set", "par"):
            continue
        name = _label(ws.value(r, type_col + 1))
        rng = _label(ws.value(r, type_col + 2))
        dims = []
        for k in (3, 4):
            v = book.number(ws, r, type_col + k, what=" (rdim/cdim)")
            if v is not None and (v < 0 or not float(v).is_integer()):
                raise WorkbookError(f"rdim/cdim must be a whole number, found {v:g}", file=book.path,
                                    cell=_ref(ws.title, r, type_col + k))
            dims.append(int(v or 0))
        where = _ref(ws.title, r, type_col + 2)
        if not name:
            raise WorkbookError(f"{kind} entry without a name", file=book.path,
                                cell=_ref(ws.title, r, type_col + 1))
        entries.append(_IndexEntry(kind, name, rng, dims[0], dims[1], where))
    if not entries:
        raise WorkbookError("the Index sheet lists no dset or par entries", file=book.path,
                            cell=f"{ws.title}!A1")
    return entries


def _read_set(book: _Sheets, e: _IndexEntry) -> list[tuple[str, str]]:
    """Elements (label, cell) of a one-dimensional set list, duplicates (any case) dropped."""
    sheet, c0, r0, c1, r1, single = _parse_range(e.range, file=book.path, cell=e.cell)
    ws = book.sheet(sheet, cell=e.cell, what=f"range '{e.range}' of {e.type} '{e.name}': ")
    across = e.cdim >= 1 and e.rdim == 0
    if e.rdim > 1 or e.cdim > 1 or (e.rdim and e.cdim):
        raise WorkbookError(f"{e.type} '{e.name}': only one-dimensional set lists are supported "
                            f"(rdim {e.rdim}, cdim {e.cdim})", file=book.path, cell=e.cell)
    if single:  # gdxxrw extends a single cell down (rdim) or right (cdim) to the first empty cell
        cells = []
        r, c = r0, c0
        while r <= ws.max_row and c <= ws.max_column:
            lab = _label(ws.value(r, c))
            if not lab:
                break
            cells.append((lab, _ref(ws.title, r, c)))
            if across:
                c += 1
            else:
                r += 1
    else:
        coords = ([(r0, c) for c in range(c0, c1 + 1)] if across else [(r, c0) for r in range(r0, r1 + 1)])
        cells = [(_label(ws.value(r, c)), _ref(ws.title, r, c)) for r, c in coords]
        cells = [(lab, ref) for lab, ref in cells if lab]
    if not cells:
        raise WorkbookError(f"range '{e.range}' of {e.type} '{e.name}' holds no labels: it points outside "
                            f"the data (sheet '{ws.title}' has data in {_used(ws)})", file=book.path,
                            cell=e.cell)
    seen: dict[str, tuple[str, str]] = {}
    for lab, ref in cells:
        seen.setdefault(lab.lower(), (lab, ref))
    return list(seen.values())


def read_workbook(path: str | Path, *, index: str = "Index", book: SheetsFile | None = None) -> Workbook:
    """Parse a LEWIE input workbook, driven by its index sheet (``index``: ``Index`` by default, or
    e.g. ``Index_divided`` / ``Index_divided!A2``), the way gdxxrw and GAMS's ``$load`` read it:

    * an element of set g, f or h that is not in the all-accounts set ``ac`` (when there is one) is
      dropped, as ``$load`` drops a label outside its set's declared domain (``g(ac)``);
    * a household column whose header is not in set h is dropped (``alldata(*,*,*,*,h)``);
    * a row with no value in any household column produces no record (GAMS never sees it), whatever
      its labels;
    * a row with values whose good, second good or factor is not in set g / f is dropped: the GAMS
      code reads ``alldata`` only through those sets, so it never uses it;
    * a value in a row with no labels at all is dropped (gdxxrw has no key for it).

    Nothing is dropped silently: every drop is listed in ``Workbook.skipped`` (a warning for a row that
    holds values: it names the cell and the closest declared label) and, through the scenario, in the
    results' attributes. Still errors, naming the file and the cell: no index sheet, a range pointing
    to a missing sheet or outside the data, text in a numeric cell, duplicate rows (same var/g/gg/f).

    ``book``: the file already opened (`lewie.sam.workbook_sheets.SheetsFile` of ``path``), shared with
    `read_dashboard` so that a load reads the file once; the caller closes it.
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError("file not found", file=path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise WorkbookError(f"unsupported workbook type '{path.suffix}' (use .xlsx)", file=path)
    sheets = _open_sheets(path, book, [])
    try:
        return _read_workbook(sheets, index)
    finally:
        if book is None:
            sheets.file.close()


def _read_workbook(book: _Sheets, index: str) -> Workbook:
    path, log = book.path, book.log
    entries = _read_index(book, index)
    skipped: list[str] = []

    display: dict[str, str] = {}  # lower -> first spelling met in the declared set lists (Index order)
    sets: dict[str, list[tuple[str, str]]] = {}
    set_ranges: dict[str, str] = {}
    for e in entries:
        if e.type in ("dset", "set"):
            elements = _read_set(book, e)
            sets[e.name.lower()] = elements
            set_ranges[e.name.lower()] = e.range
            for lab, _ in elements:
                display.setdefault(lab.lower(), lab)

    pars = [e for e in entries if e.type == "par"]
    par = next((e for e in pars if e.name.lower() == "alldata"), None)
    if par is None:
        fitting = [e for e in pars if (e.rdim, e.cdim) == (4, 1)]
        if len(fitting) != 1:
            raise WorkbookError("the Index sheet has no 'par alldata' entry (a table with rdim 4: var, g, gg, f "
                                f"and cdim 1: household){did_you_mean('alldata', [e.name for e in pars])}",
                                file=path)
        par = fitting[0]
    if (par.rdim, par.cdim) != (4, 1):
        raise WorkbookError(f"par '{par.name}' must have rdim 4 (var, g, gg, f) and cdim 1 (household); "
                            f"the Index says rdim {par.rdim}, cdim {par.cdim}", file=path, cell=par.cell)

    for name, kind in (("g", "good"), ("f", "factor")):
        if name not in sets:
            raise WorkbookError(f"the Index sheet declares no set '{name}' ({kind}s): add a dset row giving "
                                f"the range that lists them", file=path)
    if "ac" in sets:  # GAMS declares g(ac), f(ac), h(ac): $load drops an element outside ac
        ac = {lab.lower() for lab, _ in sets["ac"]}
        choices = [x for x, _ in sets["ac"]]
        for name in ("h", "g", "f"):
            if name not in sets:
                continue
            kept = []
            for lab, ref in sets[name]:
                if lab.lower() in ac:
                    kept.append((lab, ref))
                else:
                    skipped.append(f"{ref}: '{lab}' of set {name} is not in the all-accounts set ac "
                                   f"({set_ranges['ac']}){did_you_mean(lab, choices)}: dropped, as GAMS's $load "
                                   f"drops a label outside its set's domain ({name}(ac))")
            sets[name] = kept
    for name, kind in (("g", "good"), ("f", "factor")):
        if not sets.get(name):
            raise WorkbookError(f"set '{name}' ({kind}s) has no element in the all-accounts set ac",
                                file=path, label=name)

    for lab, _ in sets.get("h", []):
        display.setdefault(lab.lower(), lab)

    # ---- the parameter table
    sheet, c0, r0, c1, r1, single = _parse_range(par.range, file=path, cell=par.cell)
    ws = book.sheet(sheet, cell=par.cell, what=f"range '{par.range}' of par '{par.name}': ")
    last_row = ws.max_row if single else r1
    hh_cols: list[tuple[int, str]] = []
    c = c0 + par.rdim
    while c <= (ws.max_column if single else c1):
        lab = _label(ws.value(r0, c))
        if not lab:
            break  # household columns end at the first empty header: later columns are free text
        hh_cols.append((c, lab))
        c += 1
    if not hh_cols:
        raise WorkbookError(f"range '{par.range}' of par '{par.name}' points outside the data: no household "
                            f"labels in its header row from {_ref(ws.title, r0, c0 + par.rdim)} rightwards "
                            f"(sheet '{ws.title}' has data in {_used(ws)})", file=path, cell=par.cell)
    households_declared = sets.get("h")
    hh_display: list[tuple[int, str]] = []
    seen_hh: dict[str, str] = {}
    for col, lab in hh_cols:
        ref = _ref(ws.title, r0, col)
        if households_declared is not None and lab.lower() not in {x.lower() for x, _ in households_declared}:
            choices = [x for x, _ in households_declared]
            skipped.append(f"{ref}: column of household '{lab}' dropped: '{lab}' is not in set h "
                           f"({set_ranges['h']}){did_you_mean(lab, choices)}, the domain of alldata's household "
                           "index, so $load drops its values")
            continue
        if lab.lower() in seen_hh:
            raise WorkbookError(f"household '{lab}' has two columns ({seen_hh[lab.lower()]} and {ref})",
                                file=path, cell=ref, label=lab)
        seen_hh[lab.lower()] = ref
        hh_display.append((col, display.setdefault(lab.lower(), lab)))

    goods = [display[lab.lower()] for lab, _ in sets["g"]]
    factors = [display[lab.lower()] for lab, _ in sets["f"]]
    households = ([display[lab.lower()] for lab, _ in households_declared] if households_declared is not None
                  else [lab for _, lab in hh_display])
    goods_l = {g.lower(): g for g in goods}
    factors_l = {f.lower(): f for f in factors}
    for name in ("h", "g", "f"):
        for lab, ref in sets.get(name, []):
            if ":" in lab:
                raise WorkbookError(f"label '{lab}' of set {name} contains ':', which lewie account labels "
                                    "reserve", file=path, cell=ref, label=lab)

    var_display: dict[str, str] = {}
    for lab, _ in sets.get("var", []):
        var_display.setdefault(lab.lower(), lab)
    rows: list[tuple] = []
    cells: dict[tuple, str] = {}
    row_at: dict[tuple, tuple[str, int, int]] = {}
    column_at = {hh.lower(): col for col, hh in hh_display}
    empty_rows: list[str] = []
    for r in range(r0 + 1, last_row + 1):
        raw = [_label(ws.value(r, c0 + k)) for k in range(4)]
        if not any(raw) and all(ws.value(r, col) is None for col, _ in hh_display):
            continue  # a blank line
        var, g, gg, f = raw
        vals = [(col, hh, book.number(ws, r, col, what=f" for {var}" if var else "")) for col, hh in hh_display]
        vals = [(col, hh, v) for col, hh, v in vals if v is not None]
        here = _ref(ws.title, r, c0)
        desc_raw = "|".join(raw).rstrip("|")
        if not vals:  # gdxxrw writes no record for a row without values, whatever its labels
            empty_rows.append(f"{here} ({desc_raw})")
            continue
        if not var:
            where = ", ".join(_ref(ws.title, r, col) for col, _, _ in vals[:3]) + (" ..." if len(vals) > 3 else "")
            what = f"labels {raw[1:]} but no variable name" if any(raw) else "no labels (var, g, gg, f are all empty)"
            skipped.append(f"{where}: value(s) in a row with {what}: dropped (gdxxrw has no key for them)")
            log.append(f"warning: {where}: value(s) in a row with {what}: dropped")
            continue
        var = var_display.setdefault(var.lower(), var)
        labels = []
        outside = None
        for k, (lab, lookup, kind, setname) in enumerate(((g, goods_l, "good", "g"), (gg, goods_l, "good", "g"),
                                                          (f, factors_l, "factor", "f")), start=1):
            if lab and lab.lower() not in lookup:
                choices = list(lookup.values())
                outside = (f"{_ref(ws.title, r, c0 + k)}: row '{desc_raw}' dropped: {kind} '{lab}' is not in set "
                           f"{setname} ({set_ranges[setname]}){did_you_mean(lab, choices)}, so the GAMS code, which "
                           f"reads alldata through set {setname}, never uses it")
                break
            labels.append(lookup[lab.lower()] if lab else "")
        if outside is not None:
            skipped.append(outside)
            log.append("warning: " + outside)
            continue
        rk = (var.lower(), *(x.lower() for x in labels))
        if rk in row_at:
            desc = ", ".join(x or "''" for x in (var, *labels))
            first = _ref(*row_at[rk])
            raise WorkbookError(f"duplicate row ({desc}): also at {first}; GAMS allows one entry per "
                                "var/g/gg/f", file=path, cell=here, label=var)
        row_at[rk] = (ws.title, r, c0)
        for col, hh, v in vals:
            rows.append((var, *labels, hh, v))
            cells[(*rk, hh.lower())] = _ref(ws.title, r, col)
    if empty_rows:
        skipped.append(f"{len(empty_rows)} row(s) without values produce no record (as in gdxxrw): "
                       + ", ".join(empty_rows))
    data = pd.DataFrame(rows, columns=DATA_COLUMNS)
    values_map = {(var.lower(), g.lower(), gg.lower(), f.lower(), h.lower()): v
                  for var, g, gg, f, h, v in rows}
    return Workbook(path=path, households=tuple(households), goods=tuple(goods), factors=tuple(factors),
                    variables=tuple(var_display.values()),
                    accounts=tuple(display[lab.lower()] for lab, _ in sets.get("ac", [])), data=data,
                    table=par.name, cells=cells, row_at=row_at, column_at=column_at,
                    set_ranges=set_ranges, log=log, skipped=skipped, index=str(index), _values=values_map)


# ------------------------------------------------------------------------------------------------
# the simulation dashboard
# ------------------------------------------------------------------------------------------------
_HEADER_NAMES = {"sim": "sim", "simulation": "sim", "scenario": "sim", "g": "good", "good": "good",
                 "commodity": "good", "activity": "good", "f": "factor", "factor": "factor", "h": "household",
                 "household": "household", "value": "value", "shock": "value", "amount": "value"}


def read_dashboard(path: str | Path, sheet: str = "Sims", *, workbook: Workbook | None = None,
                   book: SheetsFile | None = None) -> pd.DataFrame:
    """Read the shocks of a simulation dashboard: a DataFrame with columns sim, good, factor, household, value.

    Shock rows are ``sim | g | f | h | value`` (the example repeats the sim name after h, in the order of
    the GAMS parameter ``fsim(g,f,h,sim)``: ``sim | g | f | h | sim | value``). Title lines (a row with
    no number) are skipped; a header line naming the columns (sim, g, f, h, value) is used when present.
    With ``workbook`` the labels are checked against its sets and given their display spelling.
    ``book``: the file already opened (as for `read_workbook`; the caller closes it).
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError("file not found", file=path)
    sheets = _open_sheets(path, book, [])
    try:
        return _read_dashboard(sheets, sheet, workbook)
    finally:
        if book is None:
            sheets.file.close()


def _read_dashboard(book: _Sheets, sheet: str, workbook: Workbook | None) -> pd.DataFrame:
    path = book.path
    ws = book.sheet(sheet)
    header: dict[str, int] | None = None
    out: list[tuple] = []
    where: dict[tuple, str] = {}
    for r in range(1, ws.max_row + 1):
        cells = [(c, ws.value(r, c)) for c in range(1, ws.max_column + 1)]
        cells = [(c, v) for c, v in cells if v is not None and not (isinstance(v, str) and not v.strip())]
        if not cells:
            continue
        numeric = [c for c, v in cells if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if not numeric:
            names = {c: _HEADER_NAMES.get(_label(v).lower()) for c, v in cells}
            found = {n: c for c, n in names.items() if n}
            if {"good", "factor", "household", "value"} <= set(found):
                header = found
            continue  # a title or header line
        if header is not None:
            labels = {k: _label(ws.value(r, c)) for k, c in header.items() if k != "value"}
            value = book.number(ws, r, header["value"], what=" (shock value)")
            if value is None:
                continue
            sim = labels.get("sim", "")
            good, factor, hh = labels["good"], labels["factor"], labels["household"]
            if not sim:
                raise WorkbookError("shock row without a simulation name", file=path,
                                    cell=_ref(ws.title, r, header.get("sim", 1)))
        else:
            vcol = cells[-1][0]
            if vcol not in numeric:
                raise WorkbookError("a shock row must end with its value", file=path,
                                    cell=_ref(ws.title, r, vcol))
            value = float(cells[-1][1])
            labels_l = [_label(v) for c, v in cells[:-1]]
            if len(labels_l) == 4:
                sim, good, factor, hh = labels_l
            elif len(labels_l) == 5 and labels_l[0].lower() == labels_l[4].lower():
                sim, good, factor, hh = labels_l[:4]
            else:
                raise WorkbookError(f"cannot tell which cells are sim, g, f, h in {labels_l}: a shock row is "
                                    "sim | g | f | h | value (or sim | g | f | h | sim | value); add a header "
                                    "line naming the columns", file=path, cell=_ref(ws.title, r, cells[0][0]))
        if workbook is not None:
            ref = _ref(ws.title, r, 1)
            good = workbook.canonical("good", good, cell=ref, file=path)
            factor = workbook.canonical("factor", factor, cell=ref, file=path)
            hh = workbook.canonical("household", hh, cell=ref, file=path)
        key = (sim.lower(), good.lower(), factor.lower(), hh.lower())
        if key in where:
            raise WorkbookError(f"duplicate shock ({sim}, {good}, {factor}, {hh}): also in row {where[key]}",
                                file=path, cell=_ref(ws.title, r, 1))
        where[key] = str(r)
        out.append((sim, good, factor, hh, value))
    if not out:
        raise WorkbookError(f"sheet '{ws.title}' lists no shocks (rows sim | g | f | h | value)", file=path,
                            cell=f"{ws.title}!A1")
    return pd.DataFrame(out, columns=DASHBOARD_COLUMNS)


# ------------------------------------------------------------------------------------------------
# parameter table I/O
# ------------------------------------------------------------------------------------------------
PARAMETER_SHEET = "parameters"


def write_parameters(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a parameter-distribution table to CSV or XLSX (sheet ``parameters``)."""
    path = Path(path)
    missing = [c for c in PARAMETER_COLUMNS if c not in df.columns]
    if missing:
        raise WorkbookError(f"parameter table lacks columns {missing}", file=path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df[PARAMETER_COLUMNS]
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        out.to_excel(path, sheet_name=PARAMETER_SHEET, index=False)
    elif path.suffix.lower() == ".csv":
        out.to_csv(path, index=False)
    else:
        raise WorkbookError(f"unsupported parameter table type '{path.suffix}' (use .csv or .xlsx)", file=path)
    return path


def read_parameters(path: str | Path) -> pd.DataFrame:
    """Read a parameter-distribution table written by `write_parameters` (or by hand).

    Columns parameter, good, good2, factor, household, value, se; empty labels are '', an empty se is 0,
    an empty value NaN (take the SAM's; not for ``household_count``).
    """
    path = Path(path)
    if not path.exists():
        raise WorkbookError("file not found", file=path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, sheet_name=PARAMETER_SHEET, dtype=object)
        elif path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raise WorkbookError(f"unsupported parameter table type '{path.suffix}' (use .csv or .xlsx)",
                                file=path)
    except WorkbookError:
        raise
    except Exception as exc:
        raise WorkbookError(f"cannot read parameter table: {exc}", file=path) from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    for c in PARAMETER_COLUMNS:
        if c not in raw.columns:
            raise WorkbookError(f"parameter table has no column '{c}'{did_you_mean(c, raw.columns)}; "
                                f"expected {', '.join(PARAMETER_COLUMNS)}", file=path, field=c)
    known = tuple(GAMS_PARAMETER) + ("household_count",)
    rows = []
    for i, r in enumerate(raw[PARAMETER_COLUMNS].itertuples(index=False), start=2):
        labs = ["" if (x is None or (isinstance(x, float) and math.isnan(x))) else _label(x) for x in r[:5]]
        if labs[0] not in known:
            raise WorkbookError(f"unknown parameter '{labs[0]}'{did_you_mean(labs[0], known)}; valid: "
                                f"{', '.join(known)}", file=path, field=f"row {i}.parameter", label=labs[0])
        nums = []
        for name, x in zip(("value", "se"), r[5:]):
            if x is None or (isinstance(x, float) and math.isnan(x)) or (isinstance(x, str) and not x.strip()):
                if name == "value" and labs[0] == "household_count":
                    raise WorkbookError("empty value", file=path, field=f"row {i}.value")
                nums.append(math.nan if name == "value" else 0.0)  # an empty value: the SAM's (docs/parameters.md)
                continue
            try:
                nums.append(float(x))
            except (TypeError, ValueError):
                raise WorkbookError(f"{name} is not a number: {x!r}", file=path, field=f"row {i}.{name}") from None
        if nums[1] < 0:
            raise WorkbookError(f"negative standard error {nums[1]:g}", file=path, field=f"row {i}.se")
        rows.append((*labs, *nums))
    return pd.DataFrame(rows, columns=PARAMETER_COLUMNS)
