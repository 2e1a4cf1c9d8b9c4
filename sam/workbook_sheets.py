"""An .xlsx file read once, in openpyxl's read-only mode: each sheet a grid of its stored values, built
when the sheet is first used; its formulas read (one more pass over that sheet) only when asked for.

openpyxl's full mode builds a cell object with its style for every cell of every sheet (and the LEWIE
readers needed the file twice: cached values, and formulas to tell an empty cell from a formula that
was never calculated); a read-only pass over the sheets used is several times cheaper. The file's bytes
are read into memory, so no file stays open however long the object lives.

A grid's ``max_row`` / ``max_column`` are those of the cells the file holds (a cell written with only
a style counts, as in openpyxl's full mode), not the dimension stored in the sheet, which files written
by other tools may leave stale or out. Non-anchor cells of a merged range read as empty, as openpyxl's
full mode reads them (a spreadsheet may keep hidden contents there).

Errors are openpyxl's own; the readers (`lewie.sam.workbook`, `lewie.sam.dashboard`) report them
with the file's name.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

__all__ = ["Grid", "SheetsFile"]


class Grid:
    """One sheet's cells, by 1-based (row, column); a cell the file does not hold is None."""

    __slots__ = ("title", "rows", "max_row", "max_column")

    def __init__(self, title: str, rows: list[tuple]):
        self.title = title
        self.rows = rows
        # as openpyxl's full mode: the extent of the cells present (1 for an empty sheet)
        self.max_row = max((i for i, r in enumerate(rows, start=1) if r), default=1)
        self.max_column = max(max((len(r) for r in rows), default=1), 1)

    def value(self, row: int, column: int):
        if 0 < row <= len(self.rows):
            r = self.rows[row - 1]
            if 0 < column <= len(r):
                return r[column - 1]
        return None

    def row(self, row: int) -> tuple:
        """The values of one row, from column 1 to the row's last cell (shorter rows: fewer values)."""
        return self.rows[row - 1] if 0 < row <= len(self.rows) else ()


# a formula element <f> (any namespace prefix), and a merged range <mergeCell ref="A1:B2"/>
_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_MERGE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref=([\"'])([^\"']+)\1")


class SheetsFile:
    """An .xlsx workbook read once: ``sheetnames``, ``values(name)`` and ``formulas(name)`` grids.

    Nothing is read until `open` (or the first use); `close` releases the parsed workbook. Pass one
    object to every reader of the same file within a load (e.g. the input workbook and its dashboard
    sheet) to read it once.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._book = None
        self._archive: zipfile.ZipFile | None = None
        self._values: dict[str, Grid] = {}
        self._formulas: dict[str, Grid] = {}
        self.sheetnames: list[str] = []

    def open(self) -> "SheetsFile":
        if self._book is None:
            import openpyxl
            data = self.path.read_bytes()
            self._book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            self._archive = zipfile.ZipFile(io.BytesIO(data))
            self.sheetnames = list(self._book.sheetnames)
        return self

    def close(self) -> None:
        """Release the parsed workbook (the grids read stay; a sheet not read yet opens the file again)."""
        if self._book is not None:
            self._book.close()
            self._archive.close()
            self._book = self._archive = None

    def __enter__(self) -> "SheetsFile":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def values(self, name: str) -> Grid:
        """The stored (cached) values of sheet ``name`` (its exact name)."""
        if name not in self._values:
            self._values[name] = self._read(name, data_only=True)
        return self._values[name]

    def formulas(self, name: str) -> Grid:
        """Sheet ``name`` with each formula cell's formula (``'=A1*2'``) in place of its stored value."""
        if name not in self._formulas:
            self._formulas[name] = self._read(name, data_only=False)
        return self._formulas[name]

    def _read(self, name: str, *, data_only: bool) -> Grid:
        book = self.open()._book
        ws = book[name]
        xml = self._archive.read(ws._worksheet_path.lstrip("/"))
        if not data_only and not _FORMULA.search(xml):
            return Grid(ws.title, [])  # no formula in the sheet: nothing to parse
        ws.reset_dimensions()  # every row the file holds, whatever dimension it states
        # a read-only sheet parses its XML when iterated, with the workbook's data_only: switch it for
        # this one pass rather than parse the whole workbook (styles included) a second time
        saved = book._data_only
        book._data_only = data_only
        try:
            rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
        finally:
            book._data_only = saved
        merged = _merged(xml)
        if merged:
            rows = _blank_merged(rows, merged)
        return Grid(ws.title, rows)



def _merged(xml: bytes) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a sheet's XML as (min_col, min_row, max_col, max_row) (read-only mode skips them)."""
    if b"mergeCell" not in xml:
        return []
    from openpyxl.utils.cell import range_boundaries
    return [range_boundaries(ref.decode()) for _, ref in _MERGE.findall(xml)]


def _blank_merged(rows: list[tuple], merged: list[tuple[int, int, int, int]]) -> list[tuple]:
    """The grid with every cell of a merged range but its top-left one empty (as openpyxl's full mode
    reads them); the range's cells count as present (they extend ``max_row``/``max_column``)."""
    rows = [list(r) for r in rows]
    for c0, r0, c1, r1 in merged:
        while len(rows) < r1:
            rows.append([])
        for r in range(r0, r1 + 1):
            row = rows[r - 1]
            if len(row) < c1:
                row.extend([None] * (c1 - len(row)))
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    row[c - 1] = None
    return [tuple(r) for r in rows]
