"""GAMS LEWIE simulation dashboards read through their own index sheet.

Some studies keep their shocks in a dashboard workbook with an ``Index`` sheet of its own, read by gdxxrw
like the input workbook: rows ``par | name | Sheet!B3 | rdim | cdim`` locate each shock parameter.
`read_gams_dashboard` reads the parameters lewie knows (GAMS names, case-insensitive; the simulation
is always the last index, as in ``fsim(g,f,h,sim)``):

| parameter | indices | meaning | lewie intervention |
|---|---|---|---|
| ``simActive`` | sim | 1: the sim is run, 0 (or empty): it is not | (which variants exist) |
| ``facSim`` (``fsim``) | g, f, h, sim | units of a fixed factor added to activity g of h | ``factor_endowment`` (labour: ``labour_supply``) |
| ``pzSim`` | g, sim | proportional change of the world price of g (0.1: +10%) | ``price`` |
| ``pshiftSim`` | g, h, sim | proportional change of the productivity (TFP) of activity g of h | ``productivity`` |

Each table may be laid out with any rdim/cdim split (e.g. sims across the columns); gdxxrw's rules
apply: an empty cell is no record, a row or column without a label is skipped. Without ``simActive``
every sim that has a shock is run. Price and productivity shocks transfer nothing: their cost (the
multipliers' denominator) is 0 unless the scenario gives the dashboard's ``cost``.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from lewie.errors import did_you_mean

from lewie.sam.workbook import (Workbook, WorkbookError, _IndexEntry, _label, _open_sheets, _parse_range, _read_index,
                                _ref, _Sheets)

__all__ = ["FAMILIES", "read_gams_dashboard", "has_index"]

# GAMS name (lower) -> (family, index names before sim)
FAMILIES = {"simactive": ("active", ()), "facsim": ("factor", ("g", "f", "h")), "fsim": ("factor", ("g", "f", "h")),
            "pzsim": ("price", ("g",)), "pshiftsim": ("productivity", ("g", "h"))}
COLUMNS = ["sim", "family", "good", "factor", "household", "value", "cell"]


def _open(path: Path) -> _Sheets:
    if not path.exists():
        raise WorkbookError("file not found", file=path)
    return _open_sheets(path, None, [])


def has_index(path: str | Path, index: str = "Index") -> bool:
    """Whether the workbook has an index sheet listing a dashboard parameter."""
    path = Path(path)
    book = _open(path)
    try:
        name = index.partition("!")[0].lower()
        if not any(n.lower() == name for n in book.sheetnames):
            return False
        return any(e.name.lower() in FAMILIES for e in _read_index(book, index) if e.type == "par")
    finally:
        book.file.close()


def _read_table(book: _Sheets, e: _IndexEntry) -> list[tuple[tuple[str, ...], float, str]]:
    """A gdxxrw parameter table: (labels (row labels then column labels), value, cell) per value."""
    sheet, c0, r0, c1, r1, single = _parse_range(e.range, file=book.path, cell=e.cell)
    ws = book.sheet(sheet, cell=e.cell, what=f"range '{e.range}' of par '{e.name}': ")
    last_row = ws.max_row if single else r1
    last_col = ws.max_column if single else c1
    out = []
    if e.cdim == 0:
        for r in range(r0, last_row + 1):
            labels = tuple(_label(ws.value(r, c0 + k)) for k in range(e.rdim))
            if single and not any(labels):
                break
            v = book.number(ws, r, c0 + e.rdim, what=f" ({e.name})")
            if v is None or not all(labels):
                continue
            out.append((labels, v, _ref(ws.title, r, c0 + e.rdim)))
        return out
    # cdim header rows above the data, to the right of the rdim label columns
    cols = []
    for c in range(c0 + e.rdim, last_col + 1):
        head = tuple(_label(ws.value(r0 + k, c)) for k in range(e.cdim))
        if single and not any(head):
            break  # ... and right to the first column without labels
        if all(head):
            cols.append((c, head))
    for r in range(r0 + e.cdim, last_row + 1):
        labels = tuple(_label(ws.value(r, c0 + k)) for k in range(e.rdim))
        if e.rdim and not any(labels) and single:
            break  # gdxxrw extends a single-cell range down to the first row without labels
        if e.rdim and not all(labels):
            continue
        for c, head in cols:
            v = book.number(ws, r, c, what=f" ({e.name})")
            if v is not None:
                out.append((labels + head, v, _ref(ws.title, r, c)))
        if e.rdim == 0:
            break
    return out


def read_gams_dashboard(path: str | Path, *, index: str = "Index", workbook: Workbook | None = None
                        ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The shocks of a dashboard with its own index sheet (module docstring).

    Returns (shocks, sims, notes): a DataFrame with columns sim, family (factor | price |
    productivity), good, factor, household, value, cell; the sims to run, in the order met (active
    ones only when ``simActive`` is given); notes of what was left out (inactive sims, zero shocks).
    With ``workbook`` the labels are checked and given the workbook's spelling.
    """
    path = Path(path)
    book = _open(path)
    try:
        return _read_gams_dashboard(book, index, workbook)
    finally:
        book.file.close()


def _read_gams_dashboard(book: _Sheets, index: str, workbook: Workbook | None
                         ) -> tuple[pd.DataFrame, list[str], list[str]]:
    path = book.path
    entries = [e for e in _read_index(book, index) if e.type == "par"]
    known = [e for e in entries if e.name.lower() in FAMILIES]
    if not known:
        raise WorkbookError(f"the index sheet '{index}' lists none of the dashboard parameters "
                            f"{', '.join(['simActive', 'facSim', 'pzSim', 'pshiftSim'])}"
                            f"{did_you_mean(entries[0].name, ['simActive', 'facSim', 'pzSim', 'pshiftSim']) if entries else ''}",
                            file=path)
    rows, active, notes, order = [], None, [], []
    for e in known:
        family, idx = FAMILIES[e.name.lower()]
        want = len(idx) + 1
        if e.rdim + e.cdim != want:
            raise WorkbookError(f"par '{e.name}' has {want} indices ({', '.join(idx + ('sim',))}); the index says "
                                f"rdim {e.rdim} + cdim {e.cdim}", file=path, cell=e.cell, label=e.name)
        for labels, v, cell in _read_table(book, e):
            sim = labels[-1]
            lab = dict(zip(idx, labels[:-1]))
            if family == "active":
                active = active or {}
                active[sim.lower()] = v != 0
                continue
            good, factor, hh = lab.get("g", ""), lab.get("f", ""), lab.get("h", "")
            if workbook is not None:
                good = workbook.canonical("good", good, cell=cell, file=path) if good else ""
                factor = workbook.canonical("factor", factor, cell=cell, file=path) if factor else ""
                hh = workbook.canonical("household", hh, cell=cell, file=path) if hh else ""
            if v == 0:
                notes.append(f"{cell}: {e.name} is 0: no shock")
                continue
            if sim.lower() not in [s.lower() for s in order]:
                order.append(sim)
            rows.append((sim, family, good, factor, hh, v, cell))
    shocks = pd.DataFrame(rows, columns=COLUMNS)
    sims = order
    if active is not None:
        sims = [s for s in order if active.get(s.lower(), False)]
        for s in order:
            if not active.get(s.lower(), False):
                notes.append(f"sim '{s}' is not active (simActive): not run")
        shocks = shocks[[s in sims for s in shocks["sim"]]]
    if not sims:
        raise WorkbookError("the dashboard has no active sim with a shock", file=path)
    return shocks.reset_index(drop=True), sims, notes
