"""Reading and writing lewie SAMs (CSV and XLSX): a square pandas DataFrame labelled by account."""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lewie.errors import SAMError

from lewie.sam.accounts import parse_account

SAM_SHEET = "SAM"


def read_sam(path: str | Path) -> pd.DataFrame:
    """Read a SAM from CSV or XLSX: first column and first row hold the account labels.

    Checks only what reading needs (file exists, numbers are numbers, labels are valid and
    unique, rows and columns name the same accounts); `lewie.sam.check_sam` checks the rest.
    """
    from lewie.files import FileError, read_text
    path = Path(path)
    if not path.exists():
        raise SAMError("file not found", file=path)
    if path.is_dir():
        raise SAMError("is a folder, not a SAM file", file=path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            from lewie.files import sniff_format
            kind = sniff_format(path)
            if kind != "xlsx":
                what = {"text": "a text file (CSV?)", "empty": "empty", "xls": "an old .xls workbook"}.get(kind, kind)
                raise SAMError(f"is not an .xlsx workbook (the file is {what}); save the SAM as .xlsx or .csv",
                               file=path)
            raw = pd.read_excel(path, sheet_name=SAM_SHEET, index_col=0, dtype=object)
        elif path.suffix.lower() == ".csv":
            try:
                text = read_text(path, what="SAM file")
            except FileError as exc:
                raise SAMError(str(exc).removeprefix(f"{path}: "), file=path) from None
            check_csv_dialect(text, file=path)
            raw = pd.read_csv(io.StringIO(text), index_col=0, dtype=str, keep_default_na=False)
        else:
            raise SAMError(f"unsupported SAM file type '{path.suffix}' (use .csv or .xlsx)", file=path)
    except SAMError:
        raise
    except Exception as exc:  # pandas raises many types for unreadable files
        raise SAMError(f"cannot read SAM: {exc}", file=path) from exc
    return sam_from_frame(raw, file=path)


_DECIMAL_COMMA = re.compile(r"^\s*-?\d{1,3}(\.\d{3})*,\d+\s*$|^\s*-?\d+,\d+\s*$")


def check_csv_dialect(text: str, *, file: object | None = None) -> None:
    """Refuse a CSV SAM written in another dialect, naming it: a separator other than the comma
    (';' or a tab: a spreadsheet saved with a European locale) or decimal commas (``1,5``).

    lewie reads comma-separated values with a decimal point; guessing another dialect could turn
    ``1,5`` into 15 or into two cells, so it is refused with the fix instead."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise SAMError("the SAM file is empty", file=file)
    head = lines[0]
    n_comma = len(next(csv.reader([head])))
    for sep, name in ((";", "semicolons (';')"), ("\t", "tabs")):
        if head.count(sep) >= 1 and head.count(sep) + 1 > n_comma:
            decimal = ""
            cells = [c for ln in lines[1:] for c in ln.split(sep)[1:]]
            if any(_DECIMAL_COMMA.match(c.strip().strip('"')) for c in cells):
                decimal = " and decimal commas (e.g. '1,5')"
            raise SAMError(f"the CSV file separates its cells with {name}{decimal}; lewie reads comma-separated "
                           "values with a decimal point (e.g. 1.5): save the SAM as 'CSV (comma delimited)' "
                           "with '.' as the decimal mark, or as .xlsx", file=file)
    for n, ln in enumerate(lines[1:], start=2):
        row = next(csv.reader([ln]))
        if any(_DECIMAL_COMMA.match(c) for c in row[1:]):
            bad = next(c for c in row[1:] if _DECIMAL_COMMA.match(c))
            raise SAMError(f"line {n} (account '{row[0]}') has a number with a comma ({bad!r}: a decimal comma or "
                           "a thousands separator); lewie reads plain numbers with a decimal point (e.g. 1500.5): "
                           "save the SAM with '.' as the decimal mark and no thousands separators", file=file,
                           label=row[0])
        if len(row) != n_comma:
            hint = (" (a number with a decimal comma, e.g. 1,5, splits into two cells: use a decimal point)"
                    if len(row) > n_comma else "")
            raise SAMError(f"line {n} (account '{row[0]}') has {len(row)} cells but the header has {n_comma}"
                           f"{hint}", file=file, label=row[0])


def sam_from_frame(raw: pd.DataFrame, *, file: object | None = None) -> pd.DataFrame:
    """Validate labels and numbers of a raw labelled table and return a float SAM."""
    rows = [str(r).strip() for r in raw.index]
    cols = [str(c).strip() for c in raw.columns]
    for where, labels in (("row", rows), ("column", cols)):
        seen = set()
        for lab in labels:
            parse_account(lab, file=file)
            if lab in seen:
                raise SAMError(f"account '{lab}' appears twice as a {where}", file=file, label=lab)
            seen.add(lab)
    if len(rows) != len(cols):
        raise SAMError(f"SAM is not square: {len(rows)} rows and {len(cols)} columns", file=file)
    if set(rows) != set(cols):
        only_r = sorted(set(rows) - set(cols))
        only_c = sorted(set(cols) - set(rows))
        raise SAMError("SAM is not square: rows and columns name different accounts "
                       f"(only in rows: {only_r or '-'}; only in columns: {only_c or '-'})", file=file)
    values = np.empty((len(rows), len(cols)))
    # cells as read (read_sam: text or objects) from one array: per-element pandas access is slow;
    # another frame's cells keep the scalar types raw.iat gives
    as_read = all((isinstance(t, np.dtype) and t.kind == "O") or isinstance(t, pd.StringDtype) for t in raw.dtypes)
    cells = raw.to_numpy(dtype=object) if as_read else None
    for i, r in enumerate(rows):
        numbers = []  # the row's cells as floats, set in one assignment (per-element numpy writes are slow)
        for j, c in enumerate(cols):
            v = cells[i, j] if cells is not None else raw.iat[i, j]
            if v is None or (isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and math.isnan(v)):
                numbers.append(0.0)  # an empty cell is zero
                continue
            try:
                x = float(v)
            except (TypeError, ValueError):
                hint = (" (a decimal comma or a thousands separator? write plain numbers with a decimal point, "
                        "e.g. 1500.5)" if isinstance(v, str) and _DECIMAL_COMMA.match(v) else "")
                raise SAMError(f"cell (row '{r}', column '{c}') is not a number: {v!r}{hint}",
                               file=file, label=f"{r}/{c}") from None
            if not math.isfinite(x):
                raise SAMError(f"cell (row '{r}', column '{c}') is not finite: {v!r}",
                               file=file, label=f"{r}/{c}")
            numbers.append(x)
        values[i] = numbers
    sam = pd.DataFrame(values, index=pd.Index(rows, name="row"), columns=pd.Index(cols, name="column"))
    return sam.loc[rows, rows]


def write_sam(sam: pd.DataFrame, path: str | Path) -> Path:
    """Write a SAM to CSV or XLSX (sheet ``SAM``), in the layout `read_sam` reads."""
    from lewie.files import atomic_write
    path = Path(path)
    out = sam.copy()
    out.index.name = "account"
    out.columns.name = None
    with atomic_write(path, what="SAM") as tmp:  # never a half-written SAM
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            out.to_excel(tmp, sheet_name=SAM_SHEET)
        else:
            out.to_csv(tmp)
    return path
