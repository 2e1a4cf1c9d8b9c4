"""Comparing programmes across studies: multipliers of many results files side by side.

``compare(paths)`` reads results files (one per study, from `lewie run` or `lewie batch`) and returns

* a **table**, one row per study × programme variant: nominal and real income multipliers (point
  estimate, mean and 5–95% band over the converged draws), the share of the income gain that goes
  to non-beneficiaries, the production multiplier (total, and of the study's three main
  activities), the synergy of a combined variant (its income multiplier minus the cost-weighted sum
  of its parts'), the cost and number of draws;
* a **long** table, pyam-style: one row per number, keyed by study / variant / region / variable /
  unit / statistic, for further analysis (`differences` returns only the rows where two long
  tables disagree).

Studies use different currencies, so comparisons rest on the dimensionless multipliers (unit
``1``: currency units of income per currency unit of cost); levels (costs, income changes) carry
their study's currency: the results' ``currency`` attribute, else "SAM currency". Every number
comes from `lewie.analysis` and its band statistics from `lewie.analysis.bands`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lewie.results import analysis as A
from lewie.model import registry
from lewie.errors import InputError

LONG_COLUMNS = ["study", "variant", "region", "variable", "unit", "statistic", "value"]
TOTAL_REGION = "local economy"
DIMENSIONLESS = "1"
N_MAIN_ACTIVITIES = 3
BAND = ("p05", "p95")
_KNOWN_DIMS = set(registry.RESULT_DIMS) | {"statistic", "group"}


# ------------------------------------------------------------------------------------------------
# reading
# ------------------------------------------------------------------------------------------------
def study_name(ds: xr.Dataset, path: str | Path | None = None) -> str:
    """A study's name: the scenario's ``name`` (``Zambia: Child Grant Programme``), else its results
    file's stem."""
    name = str(ds.attrs.get("scenario") or ds.attrs.get("title") or "")
    if name:
        return name
    return Path(path).stem if path is not None else "study"


def currency(ds: xr.Dataset) -> str:
    """The currency of a study's levels: the scenario's ``currency`` (with its ``year``), else "SAM currency"."""
    from lewie.results.provenance import currency_of
    return currency_of(ds)


def load_studies(paths: Iterable[str | Path]) -> dict[str, xr.Dataset]:
    """Results files by study (`study_name`); a file that is not lewie results is an error naming it."""
    from lewie.files import load_lewie_results
    out: dict[str, xr.Dataset] = {}
    for p in paths:
        p = Path(p)
        ds = load_lewie_results(p, dims=("variant",))
        name = study_name(ds, p)
        if name in out:  # two results of one scenario: tell them apart by file
            name = f"{name} ({p.stem})"
        if name in out:
            raise InputError(f"two results files are both called '{name}'; rename one", file=p)
        out[name] = ds
    if not out:
        raise InputError("no results files given")
    return out


# ------------------------------------------------------------------------------------------------
# numbers of one study
# ------------------------------------------------------------------------------------------------
def _flatten_extra(da: xr.DataArray) -> xr.DataArray:
    """Fold sweep dims (e.g. ``labour_supply_elasticity``) into the variant label: 'cgp (dim=v)'."""
    extra = [d for d in da.dims if d not in _KNOWN_DIMS]
    if not extra:
        return da
    stacked = da.stack(_point=extra)
    labels = [", ".join(f"{d}={v}" for d, v in zip(extra, idx if isinstance(idx, tuple) else (idx,)))
              for idx in stacked["_point"].values]
    parts = []
    for i, lab in enumerate(labels):
        x = stacked.isel(_point=i, drop=True)
        x = x.assign_coords(variant=[f"{v} ({lab})" for v in x["variant"].values])
        parts.append(x)
    return xr.concat(parts, dim="variant")


def _bands(da: xr.DataArray) -> xr.DataArray:
    """Point estimate and band statistics (a ``statistic`` dim), sweep dims folded into ``variant``."""
    return _flatten_extra(A.bands(da))


def main_activities(ds: xr.Dataset, n: int = N_MAIN_ACTIVITIES) -> list[str]:
    """The study's ``n`` largest activities by base output value (point estimates)."""
    pv = A.production_value(ds).sel(state="base", drop=True)
    for d in [d for d in pv.dims if d != "good"]:
        if d == "household":
            pv = pv.sum(d)
        elif d == "draw" and bool((pv["draw"] == 0).any()):
            pv = pv.sel(draw=0, drop=True)
        else:
            pv = pv.isel({d: 0}, drop=True)
    order = pv.to_series().sort_values(ascending=False)
    return [str(g) for g in order.index[:n]]


def study_measures(ds: xr.Dataset) -> dict[tuple[str, str, str], xr.DataArray]:
    """Every compared number of one study: (variable, region, unit) -> band statistics by variant."""
    from lewie.results.uncertainty import has_bands, random_draws
    cur = currency(ds)
    if random_draws(ds) and not has_bands(ds):  # no parameter uncertainty: bands are not computed
        ds = ds.sel(draw=[0])
    out: dict[tuple[str, str, str], xr.DataArray] = {}
    for real, kind in ((False, "Nominal"), (True, "Real")):
        out[f"Income multiplier|{kind}", TOTAL_REGION, DIMENSIONLESS] = _bands(A.income_multiplier(ds, real=real))
        by_village = A.income_multiplier(ds, real=real, by="village")
        for v in by_village["village"].values:
            out[f"Income multiplier|{kind}", str(v), DIMENSIONLESS] = _bands(by_village.sel(village=v, drop=True))
        groups = A.income_multiplier(ds, real=real, by="group")
        for g, label in (("beneficiaries", "Beneficiaries"), ("non_beneficiaries", "Non-beneficiaries")):
            out[f"Income multiplier|{kind}|{label}", TOTAL_REGION, DIMENSIONLESS] = _bands(
                groups.sel(group=g, drop=True).drop_vars("effect", errors="ignore"))
        gain = A.income_change(ds, real=real, by="group")
        total = A.income_change(ds, real=real)
        spill = gain.sel(group="non_beneficiaries", drop=True).drop_vars("effect", errors="ignore")
        share = spill / total.where(total != 0)
        out[f"Income gain share|{kind}|Non-beneficiaries", TOTAL_REGION, DIMENSIONLESS] = _bands(share)
        unit = cur if not real else f"{cur} at base prices"
        out[f"Income change|{kind}", TOTAL_REGION, unit] = _bands(total)
        syn = A.synergy_multiplier(ds, real=real)
        if syn.sizes.get("variant", 0):
            out[f"Synergy|Income multiplier|{kind}", TOTAL_REGION, DIMENSIONLESS] = _bands(
                syn.drop_vars("parts", errors="ignore"))
    pm = A.production_multiplier(ds)
    out["Production multiplier", TOTAL_REGION, DIMENSIONLESS] = _bands(pm.sum("good", min_count=1))
    for g in pm["good"].values:
        out[f"Production multiplier|{g}", TOTAL_REGION, DIMENSIONLESS] = _bands(pm.sel(good=g, drop=True))
    out["Cost", TOTAL_REGION, cur] = _bands(A.cost(ds))
    return out


def long_table(studies: dict[str, xr.Dataset]) -> pd.DataFrame:
    """The tidy long table of every study: `LONG_COLUMNS`, one row per number."""
    rows = []
    for study, ds in studies.items():
        for (variable, region, unit), da in study_measures(ds).items():
            df = da.to_dataframe(name="value").reset_index()
            df = df[["variant", "statistic", "value"]]
            df.insert(0, "study", study)
            df["region"], df["variable"], df["unit"] = region, variable, unit
            rows.append(df)
    long = pd.concat(rows, ignore_index=True)[LONG_COLUMNS]
    long["variant"] = long["variant"].astype(str)
    return long.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# the wide table
# ------------------------------------------------------------------------------------------------
def comparison_table(studies: dict[str, xr.Dataset], long: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per study × variant (see the module docstring); multiplier columns are dimensionless,
    ``cost`` is in the study's ``currency``."""
    long = long_table(studies) if long is None else long
    idx = long.set_index(["study", "variant", "region", "variable", "statistic"])["value"]

    def get(study, variant, variable, statistic, region=TOTAL_REGION):
        return float(idx.get((study, variant, region, variable, statistic), math.nan))

    rows = []
    for study, ds in studies.items():
        variants = list(dict.fromkeys(long.loc[long["study"] == study, "variant"]))
        combos = A.combinations_of(ds)
        mains = main_activities(ds)
        for v in variants:
            base_v = v.split(" (")[0]
            row = {"study": study, "title": str(ds.attrs.get("scenario", "")), "variant": v,
                   "currency": currency(ds)}
            for kind in ("Nominal", "Real"):
                k = kind.lower()
                for stat in ("point", "mean") + BAND:
                    row[f"income_multiplier_{k}_{stat}"] = get(study, v, f"Income multiplier|{kind}", stat)
            for stat in ("point", "mean") + BAND:
                row[f"non_beneficiary_share_{stat}"] = get(study, v, "Income gain share|Nominal|Non-beneficiaries",
                                                           stat)
            for stat in ("point", "mean") + BAND:
                row[f"production_multiplier_{stat}"] = get(study, v, "Production multiplier", stat)
            for i, g in enumerate(mains, 1):
                row[f"main_activity_{i}"] = g
                row[f"production_multiplier_{i}_mean"] = get(study, v, f"Production multiplier|{g}", "mean")
                row[f"production_multiplier_{i}_point"] = get(study, v, f"Production multiplier|{g}", "point")
            row["synergy_parts"] = " + ".join(combos[base_v]) if base_v in combos else ""
            for stat in ("point", "mean") + BAND:
                row[f"synergy_nominal_{stat}"] = get(study, v, "Synergy|Income multiplier|Nominal", stat)
            row["cost"] = get(study, v, "Cost", "point")
            row["n_draws"] = get(study, v, "Income multiplier|Nominal", "n_draws")
            ok = A.converged(ds)
            row["n_failed"] = int((~ok.sel(variant=base_v)).sum()) if ok is not None and base_v in ok["variant"] else 0
            rows.append(row)
    return pd.DataFrame(rows)


def compare(paths: Iterable[str | Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparison table and the long table of the results files ``paths``."""
    studies = load_studies(paths)
    long = long_table(studies)
    return comparison_table(studies, long), long


def differences(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 1e-9, atol: float = 0.0
                ) -> pd.DataFrame:
    """Rows of two long tables whose values differ (or that only one has), pyam-style: keys, then
    ``left`` and ``right`` values."""
    keys = LONG_COLUMNS[:-1]
    m = left.merge(right, on=keys, how="outer", suffixes=("_left", "_right"), indicator=True)
    a, b = m["value_left"].to_numpy(float), m["value_right"].to_numpy(float)
    same = (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=rtol, atol=atol)
    out = m[(m["_merge"] != "both") | ~same]
    out = out.drop(columns="_merge").rename(columns={"value_left": "left", "value_right": "right"})
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------------
def write_tables(table: pd.DataFrame, long: pd.DataFrame, *, csv: str | Path, long_csv: str | Path | None = None,
                 xlsx: str | Path | None = None) -> list[Path]:
    """Write the comparison table (and the long table) to CSV, and both to an xlsx workbook."""
    from lewie.files import atomic_write
    written = []
    csv = Path(csv)
    with atomic_write(csv, what="comparison table") as tmp:
        table.to_csv(tmp, index=False)
    written.append(csv)
    if long_csv is not None:
        with atomic_write(long_csv, what="long table") as tmp:
            long.to_csv(tmp, index=False)
        written.append(Path(long_csv))
    if xlsx is not None:
        xlsx = Path(xlsx)
        xlsx.parent.mkdir(parents=True, exist_ok=True)
        units = pd.DataFrame({"column": ["income_multiplier_*", "non_beneficiary_share_*", "production_multiplier_*",
                                         "synergy_nominal_*", "cost"],
                              "unit": ["1 (income per unit of cost)", "1 (share of the nominal income gain)",
                                       "1 (output value per unit of cost)", "1 (per unit of the combined cost)",
                                       "the row's currency"]})
        with atomic_write(xlsx, what="workbook") as tmp:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                table.to_excel(xw, sheet_name="comparison", index=False)
                long.to_excel(xw, sheet_name="long", index=False)
                units.to_excel(xw, sheet_name="units", index=False)
        written.append(xlsx)
    return written


def forest_plot(table: pd.DataFrame, path: str | Path, *, title: str | None = None) -> Path:
    """Forest plot of the nominal and real income multipliers: one line per study × variant, a marker
    at the mean over the draws (the point estimate when there are none) and a bar over the 5–95% band."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    path = Path(path)
    n = len(table)
    fig, ax = plt.subplots(figsize=(8.0, 1.2 + 0.36 * max(n, 1)))
    y = np.arange(n)[::-1]
    for kind, off, color, marker in (("nominal", 0.12, "#1f5fa8", "o"), ("real", -0.12, "#c0392b", "s")):
        mean = table[f"income_multiplier_{kind}_mean"].to_numpy(float)
        point = table[f"income_multiplier_{kind}_point"].to_numpy(float)
        centre = np.where(np.isfinite(mean), mean, point)
        lo = table[f"income_multiplier_{kind}_{BAND[0]}"].to_numpy(float)
        hi = table[f"income_multiplier_{kind}_{BAND[1]}"].to_numpy(float)
        has = np.isfinite(lo) & np.isfinite(hi)
        ax.hlines(y[has] + off, lo[has], hi[has], color=color, linewidth=2, alpha=0.8)
        ax.plot(centre, y + off, marker, color=color, markersize=5, linestyle="none",
                label=f"{kind} (mean, 5–95% band)")
    ax.axvline(1.0, color="0.5", linewidth=0.8, linestyle="--")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{s}: {v}" for s, v in zip(table["study"], table["variant"])], fontsize=8)
    ax.set_xlabel("income multiplier (income gain per unit of programme cost)")
    ax.set_title(title or "Income multipliers by study and programme variant", fontsize=10, pad=22)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.set_ylim(-0.7, n - 0.3)
    studies = table["study"].to_list()
    for i in range(1, n):  # a rule between studies
        if studies[i] != studies[i - 1]:
            ax.axhline(y[i] + 0.5, color="0.8", linewidth=0.6)
    ax.grid(axis="x", alpha=0.3)
    from lewie.files import atomic_write
    try:
        with atomic_write(path, what="plot") as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight", format=path.suffix.lstrip(".").lower() or "png")
    finally:
        plt.close(fig)
    return path


__all__ = ["compare", "comparison_table", "long_table", "study_measures", "differences", "write_tables",
           "forest_plot", "load_studies", "main_activities", "currency", "LONG_COLUMNS"]
