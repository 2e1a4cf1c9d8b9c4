"""Reading and writing lewie SAMs (CSV and XLSX): a square pandas DataFrame labelled by account."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lewie.errors import SAMError

from .accounts import parse_account

SAM_SHEET = "SAM"


def read_sam(path: str | Path) -> pd.DataFrame:
    """Read a SAM from CSV or XLSX: first column and first row hold the account labels.

    Checks only what reading needs (file exists, numbers are numbers, labels are valid and
    unique, rows and columns name the same accounts); `lewie.sam.check_sam` checks the rest.
    """
    path = Path(path)
    if not path.exists():
        raise SAMError("file not found", file=path)
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            raw = pd.read_excel(path, sheet_name=SAM_SHEET, index_col=0, dtype=object)
        elif path.suffix.lower() == ".csv":
            raw = pd.read_csv(path, index_col=0, dtype=str, keep_default_na=False)
        else:
            raise SAMError(f"unsupported SAM file type '{path.suffix}' (use .csv or .xlsx)", file=path)
    except SAMError:
        raise
    except Exception as exc:  # pandas raises many types for unreadable files
        raise SAMError(f"cannot read SAM: {exc}", file=path) from exc
    return sam_from_frame(raw, file=path)


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
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            v = raw.iat[i, j]
            if v is None or (isinstance(v, str) and v.strip() == "") or (isinstance(v, float) and np.isnan(v)):
                values[i, j] = 0.0  # an empty cell is zero
                continue
            try:
                values[i, j] = float(v)
            except (TypeError, ValueError):
                raise SAMError(f"cell (row '{r}', column '{c}') is not a number: {v!r}",
                               file=file, label=f"{r}/{c}") from None
            if not np.isfinite(values[i, j]):
                raise SAMError(f"cell (row '{r}', column '{c}') is not finite: {v!r}",
                               file=file, label=f"{r}/{c}")
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
