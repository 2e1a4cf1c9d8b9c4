"""Paste-ready tables, as a paper shows them: rows are the measures (or household groups, activities,
prices), columns the variants, each with the point estimate and, when the draws carry parameter
uncertainty, the Monte Carlo mean and the 5th and 95th percentiles; numbers rounded (multipliers to 3
decimals, percentages to 2, money to 2 below 1,000 and to whole units above), one sheet per table with
a title row and set column widths. Written by ``lewie export RESULTS --xlsx FILE`` before the tidy
long sheets.

Every number is the tidy tables' (`lewie.results.export.tidy_tables`), i.e. `lewie.analysis.bands` of a
`lewie.analysis` function: ``point`` is draw 0, ``mean``/``p05``/``p95`` are `lewie.summarize`'s over
the converged random draws.
"""
from __future__ import annotations

import math
from pathlib import Path
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from lewie.results import export as E

STAT_LABELS = {"point": "point", "mean": "mean", "p05": "5%", "p95": "95%"}


@dataclass
class WideTable:
    """One paper table: ``frame`` has the row-key columns ``keys`` then one column per (column
    group, statistic) in ``columns``; ``decimals`` gives each row's rounding."""

    sheet: str
    title: str
    keys: list[str]
    frame: pd.DataFrame
    columns: list[tuple[str, str]]
    decimals: list[int]
    notes: list[str] = field(default_factory=list)


def _stats(ds: xr.Dataset) -> list[str]:
    from lewie.results.uncertainty import has_bands
    return ["point", "mean", "p05", "p95"] if has_bands(ds) else ["point"]


def _money_decimals(values) -> int:
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v)]
    return 0 if v.size and v.max() >= 1000 else 2


def _pct_decimals(values) -> int:
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v) & (v > 0)]
    return 3 if v.size and v.max() < 0.1 else 2


def _pivot(df: pd.DataFrame, keys: list[str], stats: list[str], variants: list[str],
           first: list[str] | None = None) -> tuple[pd.DataFrame, list]:
    """Long (keys, variant, statistic, value) to wide: keys, then (variant, statistic) columns; rows in
    the long table's order, grouped by the ``first`` keys (the sweep dims)."""
    sub = df[df["statistic"].isin(stats)]
    order = sub[keys].drop_duplicates()
    if first:
        order = order.sort_values(first, kind="stable")
    wide = sub.set_index(keys + ["variant", "statistic"])["value"].unstack(["variant", "statistic"])
    cols = [(v, s) for v in variants for s in stats]
    wide = wide.reindex(columns=pd.MultiIndex.from_tuples(cols))
    wide = wide.reindex(pd.MultiIndex.from_frame(order) if len(keys) > 1 else pd.Index(order[keys[0]]))
    out = wide.reset_index()
    out.columns = keys + cols
    return out, cols


def _n_note(ds: xr.Dataset, stats: list[str]) -> str:
    from lewie.results.uncertainty import NO_UNCERTAINTY, random_draws
    if "mean" in stats:
        n = E.A.converged(ds)
        nd = int((ds["draw"] != 0).sum())
        note = f"point: the point estimates (draw 0); mean, 5%, 95%: over the {nd} random Monte Carlo draws"
        if n is not None and "draw" in n.dims:
            ok = n.sel(draw=ds["draw"] != 0)
            failed = int((~ok).sum())
            if failed:
                note += f" ({failed} failed solves excluded)"
        return note + "."
    if random_draws(ds):
        return f"Point estimates (draw 0); {NO_UNCERTAINTY}."
    return "Point estimates (no Monte Carlo draws)."


def wide_tables(ds: xr.Dataset) -> list[WideTable]:
    """The paper tables of a results Dataset (module docstring)."""
    from lewie.results.provenance import currency_of
    ds = E.prepare(ds)
    tidy = E.tidy_tables(ds)
    stats = _stats(ds)
    variants = [str(v) for v in ds["variant"].values]
    extra = E.extra_dims(ds)
    cur = currency_of(ds)
    scen = str(ds.attrs.get("scenario") or ds.attrs.get("title") or "")
    note = _n_note(ds, stats)
    sweep = [f"Rows by {', '.join(extra)} (sensitivity sweep)."] if extra else []
    out = []

    mt = tidy["multipliers"]
    mt = mt[mt["by"].isin(["total", "beneficiary status"])].copy()
    w, cols = _pivot(mt, extra + ["measure", "group"], stats, variants, extra)
    out.append(WideTable("Table 1 multipliers", f"Table 1. Multipliers by variant (change per unit of cost). {scen}",
                         extra + ["measure", "group"], w, cols, [3] * len(w), [note] + sweep))

    it = tidy["income_change"]
    keys = extra + ["household", "village", "effect", "measure"]
    w, cols = _pivot(it, keys, stats, variants, extra)
    vals = w[cols].to_numpy(dtype=float) if len(w) else np.empty((0, 0))
    pct = w["measure"].str.contains("%").to_numpy() if len(w) else np.zeros(0, dtype=bool)
    md = _money_decimals(vals[~pct]) if len(w) else 2
    pd_ = _pct_decimals(vals[pct]) if len(w) else 2
    out.append(WideTable("Table 2 income", f"Table 2. Income change by household group ({cur}; % change in "
                         f"percent). {scen}", keys, w, cols, [pd_ if p else md for p in pct],
                         [note, "effect: direct + indirect for the variant's beneficiaries, spillover for the others."]
                         + sweep))

    pt = tidy["production_change"]
    keys = extra + ["activity", "measure"]
    w, cols = _pivot(pt, keys, stats, variants, extra)
    vals = w[cols].to_numpy(dtype=float) if len(w) else np.empty((0, 0))
    meas = w["measure"].to_numpy() if len(w) else np.array([])
    money = np.array([m.startswith("change") for m in meas], dtype=bool)
    pctm = np.array(["%" in m for m in meas], dtype=bool)
    md = _money_decimals(vals[money]) if len(w) else 2
    pd_ = _pct_decimals(vals[pctm]) if len(w) else 2
    out.append(WideTable("Table 3 production", f"Table 3. Production by activity (change in output at base "
                         f"prices, {cur}; % change; production multiplier). {scen}", keys, w, cols,
                         [md if m else pd_ if p else 3 for m, p in zip(money, pctm)], [note] + sweep))

    pw = tidy["prices_wages"]
    keys = extra + ["kind", "item", "village"]
    w, cols = _pivot(pw, keys, stats, variants, extra)
    vals = w[cols].to_numpy(dtype=float) if len(w) else np.empty((0, 0))
    out.append(WideTable("Table 4 prices", f"Table 4. Local prices and wages (by village) and household CPIs: % change. "
                         f"{scen}", keys, w, cols, [_pct_decimals(vals)] * len(w), [note] + sweep))
    for t in out:
        t.frame = _rounded(t)
    return out


def _rounded(t: WideTable) -> pd.DataFrame:
    f = t.frame.copy()
    for i, d in enumerate(t.decimals):
        for c in t.columns:
            x = f.at[f.index[i], c]
            f.at[f.index[i], c] = round(float(x), d) if x is not None and np.isfinite(float(x)) else np.nan
    return f


def _fmt(d: int) -> str:
    return "#,##0" if d == 0 else "#,##0." + "0" * d


def write_wide(xw: pd.ExcelWriter, tables: list[WideTable]) -> None:
    """Write each table to its own sheet of an openpyxl ``ExcelWriter``: title, notes, two header rows
    (variant over statistic), the rows; column widths set, the header frozen."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    book = xw.book
    for t in tables:
        ws = book.create_sheet(t.sheet)
        ws.cell(row=1, column=1, value=t.title).font = Font(bold=True, size=12)
        r = 2
        for n in t.notes:
            ws.cell(row=r, column=1, value=n).font = Font(italic=True, size=9)
            r += 1
        h1, h2 = r + 1, r + 2
        nk = len(t.keys)
        for j, k in enumerate(t.keys, start=1):
            ws.cell(row=h2, column=j, value=k.replace("_", " ")).font = Font(bold=True)
        groups: dict[str, list[int]] = {}
        for j, (v, s) in enumerate(t.columns, start=nk + 1):
            groups.setdefault(v, []).append(j)
            c = ws.cell(row=h2, column=j, value=STAT_LABELS.get(s, s))
            c.font = Font(bold=True)
            c.alignment = Alignment(horizontal="right")
        for v, js in groups.items():
            c = ws.cell(row=h1, column=js[0], value=v)
            c.font = Font(bold=True)
            c.alignment = Alignment(horizontal="center")
            if len(js) > 1:
                ws.merge_cells(start_row=h1, start_column=js[0], end_row=h1, end_column=js[-1])
        widths = [max([len(k)] + [len(str(x)) for x in t.frame[k]]) for k in t.keys]
        for i, (_, rec) in enumerate(t.frame.iterrows()):
            row = h2 + 1 + i
            for j, k in enumerate(t.keys, start=1):
                x = rec[k]
                ws.cell(row=row, column=j, value=f"{x:g}" if isinstance(x, (float, np.floating)) else str(x))
            for j, col in enumerate(t.columns, start=nk + 1):
                x = rec[col]
                if x is None or (isinstance(x, float) and math.isnan(x)):
                    continue
                c = ws.cell(row=row, column=j, value=float(x))
                c.number_format = _fmt(t.decimals[i])
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(w + 2, 8), 48)
        for j, (v, s) in enumerate(t.columns, start=nk + 1):
            vals = [f"{float(x):,.{d}f}" for x, d in zip(t.frame[(v, s)], t.decimals) if np.isfinite(float(x))]
            ws.column_dimensions[get_column_letter(j)].width = max([10, len(v) // max(len(groups[v]), 1) + 2]
                                                                    + [len(x) + 2 for x in vals])
        ws.freeze_panes = ws.cell(row=h2 + 1, column=nk + 1)


__all__ = ["wide_tables", "write_wide", "WideTable", "STAT_LABELS"]


def export_xlsx(ds: xr.Dataset, path) -> Path:
    """Write the paper tables (`lewie.results.paper_tables`: formatted, wide, one per sheet) and then the tidy
    tables (one sheet per table) to one workbook (openpyxl), atomically."""
    from lewie.files import atomic_write
    path = Path(path)
    wide, tables = wide_tables(ds), E.tidy_tables(ds)
    with atomic_write(path, what="workbook") as tmp:  # never a half-written workbook
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            write_wide(xw, wide)
            for name, df in tables.items():
                df.to_excel(xw, sheet_name=name, index=False)
    return path
