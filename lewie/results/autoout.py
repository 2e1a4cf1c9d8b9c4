"""The tables a GAMS LEWIE writes to its AutoOut workbook, from lewie results (``lewie export --autoout``).

The GAMS code (``7a_Output_to_excel.gms``) writes, per sim, the mean (and for some items the standard
deviation) over the kept draws of its standard items into a sheet ``table`` laid out block by block:
nominal and real income, real income by household group, beneficiaries and the others, production by
good, village prices, labour supply. `autoout_tables` computes those statistics from lewie's results
(through `lewie.results.gams.gams_items`, so the items are the GAMS ones) and `write_autoout` lays them out the
same way, block under block, so that a study's GAMS AutoOut and lewie's can be set side by side and
compared cell by cell (with the study's household groups and goods in the same order, the blocks fall
on the same rows). Sheets:

* ``table``: the GAMS layout: means, with the standard deviations GAMS shows (real income, Theil index);
* ``mean``, ``sd``, ``p5``, ``p95``: the same layout, one statistic each (5th/95th percentiles by linear
  interpolation between order statistics, numpy's default);
* ``items``: every item, sim and statistic in long form.

Kept draws: those whose every variant converged, less any the user excludes (the Aqua study's authors
drop dr101 as a "freak" draw: ``--exclude-draws 101``). Statistics are over kept draws (sd with n − 1).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lewie.errors import InputError
from lewie.results.gams import gams_items

__all__ = ["autoout_tables", "write_autoout", "kept_draws"]

STATS = ("mean", "sd", "p5", "p95")


def kept_draws(ds: xr.Dataset, exclude=()) -> list[int]:
    """Draws whose every solve converged, less ``exclude``."""
    status = ds["status"]
    other = [d for d in status.dims if d != "draw"]
    ok = (status == "converged").all(other) if other else status == "converged"
    exclude = {int(d) for d in exclude}
    missing = exclude - {int(d) for d in ds["draw"].values}
    if missing:
        raise InputError(f"--exclude-draws: the results have no draw {sorted(missing)[0]}", field="exclude_draws")
    return [int(d) for d, k in zip(ds["draw"].values, ok.values) if k and int(d) not in exclude]


def _stat(x: np.ndarray, what: str) -> float:
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan")
    if what == "mean":
        return float(x.mean())
    if what == "sd":
        return float(x.std(ddof=1)) if x.size > 1 else float("nan")
    return float(np.percentile(x, 5 if what == "p5" else 95))


def _order(labels, ds: xr.Dataset) -> list[str]:
    """Labels in the GAMS order (the workbook's all-accounts list, when the results record it)."""
    acc = [a.lower() for a in str(ds.attrs.get("workbook_accounts", "")).split(",") if a]
    labels = list(labels)
    if not acc:
        return labels
    pos = {a: i for i, a in enumerate(acc)}
    return sorted(labels, key=lambda x: (pos.get(str(x).lower(), len(pos)), labels.index(x)))


def autoout_tables(ds: xr.Dataset, *, exclude_draws=()) -> tuple[pd.DataFrame, dict]:
    """Long table (item, variant, mean, sd, p5, p95) over the kept draws, and the layout facts
    (households, produced goods, goods, kept draws, value shocked per variant)."""
    if "variant" not in ds.dims or "draw" not in ds.dims:
        raise InputError("AutoOut tables need results with variant and draw dims (lewie run)")
    extra = [d for d in ds["status"].dims if d not in ("variant", "draw")]
    if extra:
        raise InputError(f"AutoOut tables are for results without sweeps; select a point first (dims {extra})")
    keep = kept_draws(ds, exclude_draws)
    if not keep:
        raise InputError("no draw is kept (every draw has a failed solve or is excluded)")
    sub = ds.sel(draw=keep)
    items = gams_items(sub)
    rows = []
    for item in items["item"].values:
        for v in items["variant"].values:
            x = items.sel(item=item, variant=v).values.astype(float)
            rows.append((str(item), str(v), *(_stat(x, s) for s in STATS)))
    table = pd.DataFrame(rows, columns=["item", "variant", *STATS])
    base_qp = ds["production"].sel(state="base").isel(draw=0, variant=0)
    produced = [str(g) for g in ds["good"].values if float(abs(base_qp.sel(good=g)).sum()) > 0]
    facts = {
        "households": _order([str(h) for h in ds["household"].values], ds),
        "produced": _order(produced, ds),
        "goods": _order([str(g) for g in ds["good"].values], ds),
        "kept": keep,
        "variants": [str(v) for v in ds["variant"].values],
        "converged": {str(v): bool((ds["status"].sel(variant=v, draw=keep) == "converged").all())
                      for v in ds["variant"].values},
        "simval": _shocked_value(ds),
    }
    return table, facts


def _shocked_value(ds: xr.Dataset) -> dict[str, float]:
    """GAMS's 'value transferred' (simval) of each variant: the net amount of its interventions, units
    of a fixed factor or of labour counted with their sign at base price 1 (lewie's ``cost`` counts a
    removal as 0), the cost of any other intervention."""
    from lewie.config.scenario import Scenario
    costs = dict(zip([str(i) for i in ds["intervention"].values], ds["intervention_cost"].values.astype(float))) \
        if "intervention_cost" in ds else {}
    try:
        sc = Scenario.model_validate_json(ds.attrs["scenario_json"])
    except Exception:  # results without a readable scenario: the variants' cost
        return {str(v): float(ds["cost"].sel(variant=v)) for v in ds["variant"].values}
    names = sc.intervention_names()
    value = {}
    for n, itv in zip(names, sc.interventions):
        amount = getattr(itv, "amount", None)
        value[n] = float(amount) if itv.kind in ("factor_endowment", "labour_supply") and amount is not None \
            else costs.get(n, float("nan"))
    vmap = sc.variant_map()
    return {str(v): float(sum(value[names[i]] for i in vmap.get(str(v), []))) for v in ds["variant"].values}


# ------------------------------------------------------------------------------------------------
# the workbook
# ------------------------------------------------------------------------------------------------
_NAMES = {"tyD": "Nominal income", "tryD": "Real income ", "benef": "beneficiary returns",
          "nonbenef": "non-beneficiary returns", "mryPC": "percent increase in mean income",
          "rytheilPC": "% increase in income inequality (theil index)", "lsupD": "All households"}


def _layout(table: pd.DataFrame, facts: dict, stat: str, gams_mix: bool) -> list[list]:
    """The rows of one sheet (GAMS 'table' layout; ``gams_mix``: GAMS's own mix of means and sds)."""
    V = facts["variants"]
    t = table.set_index(["item", "variant"])
    names = {i.lower(): i for i in t.index.get_level_values(0)}

    def val(item, v, s=stat):
        key = names.get(item.lower())
        return None if key is None else float(t.loc[(key, v), s])

    def header(title):
        return [None, title, None, *V]

    def line(label, code, item, s=stat):
        return [None, label, code, *[val(item, v, s) for v in V]]
    rows: list[list] = []
    rows.append(["# reps", len(facts["kept"]), None, *V])
    rows.append([None, "check: did the model solve ok? ", None, *[int(facts["converged"][v]) for v in V]])
    rows.append([None, f"lewie: statistic '{stat if not gams_mix else 'mean (sd where marked)'}' over the kept draws",
                 None, *[None] * len(V)])
    rows.append([None, "kept draws: " + _ranges(facts["kept"]), None, *[None] * len(V)])
    rows.append([None, "RESULTS (changes from the base, in the workbook's units)", None, *[None] * len(V)])
    rows.append(header("Change in Village-level income"))
    rows.append(line(_NAMES["tyD"], None, "tyD"))
    rows.append([None, None, None, *V])
    rows.append(line(_NAMES["tryD"], stat if not gams_mix else "mean", "tryD"))
    rows.append(line("stdev", "stdev", "tryD", "sd") if gams_mix else [None] * (3 + len(V)))
    rows.append([None] * (3 + len(V)))
    rows.append([None, "(real income accounts for local inflation)", None, *[None] * len(V)])
    rows.append([None] * (3 + len(V)))
    rows.append(header("Change in Household incomes (all real terms) "))
    for h in facts["households"]:
        rows.append(line(h, h, f"ryD.{h}"))
    rows.append([None] * (3 + len(V)))
    rows.append([None, None, None, *V])
    rows.append(line(_NAMES["benef"], "benef", "benef"))
    rows.append(line(_NAMES["nonbenef"], "non-benef", "nonbenef"))
    rows.append([None, 'value "transferred"', "simval", *[facts["simval"][v] for v in V]])
    rows.append([None, "pseudo-multiplier (benefits / value transferred) ", "mult",
                 *[(val("tryD", v) / facts["simval"][v]) if facts["simval"][v] else None for v in V]])
    rows.append(line(_NAMES["mryPC"], "mincPC", "mryPC"))
    rows.append(line(_NAMES["rytheilPC"], "rytheilPC", "rytheilPC"))
    rows.append(line(None, "rytheilPCsd", "rytheilPC", "sd") if gams_mix else [None, None, "rytheilPC", *[val("rytheilPC", v) for v in V]])
    rows.append([None] * (3 + len(V)))
    rows.append(header("Production Effects (in monetary value)"))
    for g in facts["produced"]:
        rows.append(line(g, g, f"tqpD.{g}"))
    rows.append([None] * (3 + len(V)))
    rows.append(header("Production Effects (sd)"))
    for g in facts["produced"]:
        rows.append(line(g, g, f"tqpD.{g}", "sd"))
    rows.append([None] * (3 + len(V)))
    rows.append(header("Price effects (in %) "))
    for g in facts["goods"]:
        has = names.get(f"pvpc.{g}".lower())
        rows.append([None, g, g, *[val(f"pvPC.{g}", v) if has else 0.0 for v in V]])
    rows.append([None] * (3 + len(V)))
    rows.append(header("Labor supply (in monetary value)"))
    rows.append(line(_NAMES["lsupD"], None, "lsupD"))
    rows.append([None, "by household: ", None, *V])
    for h in facts["households"]:
        rows.append(line(h, h, f"hlsupD.{h}"))
    return rows


def _ranges(draws: list[int]) -> str:
    out, start = [], None
    for i, d in enumerate(draws):
        if start is None:
            start = d
        if i + 1 == len(draws) or draws[i + 1] != d + 1:
            out.append(str(start) if start == d else f"{start}-{d}")
            start = None
    return ", ".join(out)


def write_autoout(ds: xr.Dataset, path, *, exclude_draws=()) -> Path:
    """Write the AutoOut workbook (module docstring); returns the path."""
    import openpyxl
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"the AutoOut workbook must be .xlsx, not '{path.suffix}'", file=path)
    table, facts = autoout_tables(ds, exclude_draws=exclude_draws)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, stat, mix in (("table", "mean", True), *((s, s, False) for s in STATS)):
        ws = book.create_sheet(name)
        for row in _layout(table, facts, stat, mix):
            ws.append([None if (isinstance(x, float) and not np.isfinite(x)) else x for x in row])
    ws = book.create_sheet("items")
    ws.append(list(table.columns))
    for row in table.itertuples(index=False):
        ws.append([None if (isinstance(x, float) and not np.isfinite(x)) else x for x in row])
    from lewie.files import atomic_write
    with atomic_write(path, what="AutoOut workbook") as tmp:  # never a half-written workbook
        book.save(tmp)
    return path
