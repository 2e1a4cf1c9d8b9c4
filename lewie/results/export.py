"""Tidy tables of a results Dataset, for papers: one row per number, keyed by variant, measure,
group, unit (the scenario's currency, % or 1) and statistic (pyam-style long format), written to one
xlsx sheet per table (`lewie.results.paper_tables.export_xlsx`, after the formatted paper tables), one csv or one Stata
file each.

Every number comes from a `lewie.analysis` function and is summarised by `lewie.analysis.bands`:
``statistic`` is ``point`` (draw 0, the point estimates) and, with Monte Carlo draws, mean, std,
p05, p50, p95, mcse and n_draws over the converged draws. Sweep dims (e.g.
``labour_supply_elasticity``) become columns after ``variant``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lewie.results import analysis as A
from lewie.model import registry

MODEL_DIMS = registry.RESULT_DIMS
_NO_VARIANT = ("market_level", "factor_market_level", "intervention_kind", "intervention_cost",
               "parameter_value", "household_count")
TABLES = ("variants", "multipliers", "income_change", "production_change", "prices_wages", "inequality",
          "synergy", "variance_decomposition", "provenance")
"""The tables `tidy_tables` returns, in order (every one present; empty ones keep their columns)."""


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------
def prepare(ds: xr.Dataset) -> xr.Dataset:
    """The Dataset with a ``variant`` dim even when one variant was selected with ``.sel(variant=v)``."""
    if "variant" in ds.dims:
        return ds
    if "variant" in ds.coords:
        out = ds.expand_dims("variant")
    else:
        out = ds.expand_dims(variant=["all"])
    for name in _NO_VARIANT:
        if name in out and "variant" in out[name].dims:
            out[name] = out[name].isel(variant=0, drop=True)
    return out


def extra_dims(obj: xr.Dataset | xr.DataArray) -> list[str]:
    """Dims beyond the model's sets: sweep dims such as ``labour_supply_elasticity``."""
    return [d for d in obj.dims if d not in MODEL_DIMS and d not in ("statistic", "group", "measure")]


def statistics(ds: xr.Dataset) -> list[str]:
    """The statistics the tables carry: only ``point`` without random draws, or when the draws carry no
    parameter uncertainty (no zero-width bands: `lewie.results.uncertainty`)."""
    from lewie.results.uncertainty import has_bands
    return list(A.STATISTICS) if has_bands(ds) else ["point"]


def _with_unit(df: pd.DataFrame, ds: xr.Dataset, unit) -> pd.DataFrame:
    """``df`` with a ``unit`` column before ``statistic``: ``unit`` is a fixed unit or a function of
    the row's ``measure`` that returns one of "money", "real money", "%", "1"; money is in the
    scenario's currency (`lewie.results.provenance.currency_of`)."""
    from lewie.results.provenance import currency_of
    cur = currency_of(ds)
    names = {"money": cur, "real money": f"{cur} at base prices"}
    if callable(unit):
        col = [names.get(u, u) for u in map(unit, df["measure"])] if len(df) else []
    else:
        col = [names.get(unit, unit)] * len(df)
    out = df.copy()
    out.insert(out.columns.get_loc("statistic"), "unit", col)
    return out


def _unit_of(measure: str) -> str:
    m = str(measure)
    if "%" in m:
        return "%"
    if "multiplier" in m or "per unit of cost" in m:
        return "1"
    return "real money" if m.startswith("real") else "money"


def _long(da: xr.DataArray, stats: list[str], columns: list[str]) -> pd.DataFrame:
    """bands(da) as a long frame with columns ``columns`` (its dims, in that order), sweep dims,
    statistic and value."""
    extra = [d for d in extra_dims(da) if d not in columns]
    b = A.bands(da).sel(statistic=stats).reset_coords(drop=True)
    if b.size == 0:
        return pd.DataFrame(columns=_order(columns, extra))
    df = b.to_dataframe(name="value").reset_index()
    return df[_order(columns, extra)]


def _order(columns: list[str], extra: list[str]) -> list[str]:
    head = [c for c in columns if c == "variant"]
    rest = [c for c in columns if c != "variant"]
    return head + extra + rest + ["statistic", "value"]


def _stack(pieces: dict[str, xr.DataArray], dim: str = "measure") -> xr.DataArray:
    """DataArrays of the same dims stacked along a new labelled dim."""
    names = list(pieces)
    arrs = [pieces[n].reset_coords(drop=True) for n in names]
    return xr.concat(arrs, dim=xr.DataArray(names, dims=dim, name=dim), coords="minimal", compat="override",
                     join="outer")


def _household_village(ds: xr.Dataset) -> dict[str, str]:
    return {str(h): str(v) for h, v in zip(ds["household"].values, ds["household_village"].values)}


def _effect_lookup(ds: xr.Dataset) -> dict[tuple[str, str], str]:
    b = ds["beneficiary"]
    out = {}
    for v in ds["variant"].values:
        for h in ds["household"].values:
            on = bool(b.sel(variant=v, household=h))
            out[str(v), str(h)] = A.EFFECTS[0] if on else A.EFFECTS[1]
    return out


# ------------------------------------------------------------------------------------------------
# the tables
# ------------------------------------------------------------------------------------------------
def variants_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per variant: its interventions, cost, direct beneficiaries and failed draws."""
    ds = prepare(ds)
    inter = A.variant_interventions(ds)
    order = [str(i) for i in ds["intervention"].values] if "intervention" in ds.dims else []
    fails = A.n_failed(ds)
    rows = []
    for v in ds["variant"].values:
        v = str(v)
        benef = [str(h) for h, on in zip(ds["household"].values, ds["beneficiary"].sel(variant=v).values) if on]
        c = ds["cost"].sel(variant=v)
        row = {"variant": v, "interventions": ", ".join(i for i in order if i in inter[v]),
               "cost": float(c.mean()) if c.size else np.nan, "beneficiaries": ", ".join(benef)}
        if "draw" in ds.dims:
            row["draws"] = int((ds["draw"] != 0).sum())
            row["failed_draws"] = int(fails.sel(variant=v).sum()) if fails is not None and "variant" in fails.dims else 0
        rows.append(row)
    return pd.DataFrame(rows)


def multiplier_table(ds: xr.Dataset) -> pd.DataFrame:
    """Income multipliers (nominal and real: total, by beneficiary status, village and household
    group), the value-added multiplier and production multipliers by activity.

    Columns: variant, [sweep dims], measure, by, group, statistic, value."""
    ds = prepare(ds)
    stats = statistics(ds)
    cols = ["variant", "measure", "by", "group"]
    frames = []

    def add(da, measure, by, groupdim=None):
        da = da.reset_coords(drop=True)
        da = da.rename({groupdim: "group"}) if groupdim else da.expand_dims(group=["total"])
        df = _long(da, stats, ["variant", "group"])
        df.insert(1, "measure", measure)
        df.insert(2, "by", by)
        frames.append(df)

    for real in (False, True):
        m = f"{'real' if real else 'nominal'} income multiplier"
        add(A.income_multiplier(ds, real=real), m, "total")
        add(A.income_multiplier(ds, real=real, by="group"), m, "beneficiary status", "group")
        add(A.income_multiplier(ds, real=real, by="village"), m, "village", "village")
        add(A.income_multiplier(ds, real=real, by="household"), m, "household", "household")
    add(A.value_added_multiplier(ds), "value-added multiplier", "total")
    add(A.production_multiplier(ds), "production multiplier", "activity", "good")
    out = pd.concat(frames, ignore_index=True)
    return _with_unit(out[_order(cols, extra_dims(ds))], ds, "1")


def income_change_table(ds: xr.Dataset) -> pd.DataFrame:
    """Income change by household group, nominal and real, absolute and in percent; ``effect`` says
    whether the group is a direct beneficiary of the variant ("direct + indirect") or not ("spillover").

    Columns: variant, [sweep dims], household, village, effect, measure, statistic, value."""
    ds = prepare(ds)
    da = _stack({"nominal change": A.change(ds, "income"), "real change": A.change(ds, "real_income"),
                 "nominal % change": A.pct_change(ds, "income"), "real % change": A.pct_change(ds, "real_income")})
    df = _long(da, statistics(ds), ["variant", "household", "measure"])
    hv, eff = _household_village(ds), _effect_lookup(ds)
    df.insert(df.columns.get_loc("household") + 1, "village", df["household"].map(hv))
    df.insert(df.columns.get_loc("village") + 1, "effect",
              [eff[v, h] for v, h in zip(df["variant"], df["household"])])
    return _with_unit(df, ds, _unit_of)


def production_change_table(ds: xr.Dataset) -> pd.DataFrame:
    """Production by activity: change in output (base-price value), percent change, and the change
    in the value of output per unit of cost (production multiplier).

    Columns: variant, [sweep dims], activity, measure, statistic, value."""
    ds = prepare(ds)
    d = A.production_change(ds)
    base = A._valid(ds, "production").sel(state="base", drop=True).sum("household")
    da = _stack({"change (base-price value)": d, "% change": 100.0 * d / base.where(base != 0),
                 "production multiplier": A.production_multiplier(ds)})
    df = _long(da.rename(good="activity"), statistics(ds), ["variant", "activity", "measure"])
    return _with_unit(df, ds, lambda m: "real money" if m.startswith("change") else _unit_of(m))


def prices_wages_table(ds: xr.Dataset) -> pd.DataFrame:
    """Percent changes of local prices and wages by village, and of each household group's CPI.

    Columns: variant, [sweep dims], kind (price, wage, cpi), item (good, factor or household),
    village, statistic, value (%)."""
    ds = prepare(ds)
    stats = statistics(ds)
    cols = ["variant", "kind", "item", "village"]
    frames = []
    for kind, da, dim in (("price", A.price_change(ds), "good"), ("wage", A.wage_change(ds), "factor")):
        if da.sizes[dim] == 0:
            continue
        df = _long(da.rename({dim: "item"}), stats, ["variant", "item", "village"])
        df.insert(df.columns.get_loc("item"), "kind", kind)
        frames.append(df)
    cpi = A.cpi_change(ds).reset_coords(drop=True).rename(household="item")
    df = _long(cpi, stats, ["variant", "item"])
    df.insert(df.columns.get_loc("item"), "kind", "cpi")
    df.insert(df.columns.get_loc("item") + 1, "village", df["item"].map(_household_village(ds)))
    frames.append(df)
    return _with_unit(pd.concat(frames, ignore_index=True)[_order(cols, extra_dims(ds))], ds, "%")


def inequality_table(ds: xr.Dataset) -> pd.DataFrame:
    """Theil T index of per-household income across household groups (`lewie.analysis.theil`):
    base, simulated and change, for real and nominal income.

    Columns: variant, [sweep dims], income, measure, statistic, value."""
    ds = prepare(ds)
    frames = []
    for real in (True, False):
        t = A.theil(ds, real=real)
        da = _stack({"base": t.sel(state="base", drop=True), "simulated": t.sel(state="simulated", drop=True),
                     "change": A.inequality_change(ds, real=real)})
        df = _long(da, statistics(ds), ["variant", "measure"])
        df.insert(df.columns.get_loc("measure"), "income", "real" if real else "nominal")
        frames.append(df)
    return _with_unit(pd.concat(frames, ignore_index=True), ds, "1")


def synergy_table(ds: xr.Dataset) -> pd.DataFrame:
    """Synergy of each combined variant (combined minus the sum of its parts), draw by draw: income
    change by household group and in total, nominal and real, and in total per unit of the
    combined cost.

    Columns: variant, [sweep dims], parts, household ("total" for the sum), measure, statistic, value."""
    ds = prepare(ds)
    cols = ["variant", "parts", "household", "measure"]
    syn = A.synergy(ds)
    if syn.sizes["variant"] == 0:
        empty = _order(cols, extra_dims(ds))
        return pd.DataFrame(columns=empty[:-2] + ["unit"] + empty[-2:])
    parts = {str(v): str(p) for v, p in zip(syn["variant"].values, syn["parts"].values)}
    stats = statistics(ds)
    frames = []
    for real in (False, True):
        s = A.synergy(ds, real=real).reset_coords(drop=True)
        tot = s.sum("household", min_count=1).expand_dims(household=["total"])
        frames.append((f"{'real' if real else 'nominal'} income change", xr.concat([s, tot], dim="household")))
    for real in (False, True):
        m = A.synergy_multiplier(ds, real=real).reset_coords(drop=True).expand_dims(household=["total"])
        frames.append((f"{'real' if real else 'nominal'} income per unit of cost", m))
    dfs = []
    for measure, da in frames:
        df = _long(da, stats, ["variant", "household"])
        df.insert(df.columns.get_loc("household") + 1, "measure", measure)
        dfs.append(df)
    df = pd.concat(dfs, ignore_index=True)
    df.insert(1, "parts", df["variant"].map(parts))
    return _with_unit(df.reset_index(drop=True)[_order(cols, extra_dims(ds))], ds, _unit_of)


DECOMPOSED = {"nominal income multiplier": lambda ds: A.income_multiplier(ds),
              "real income multiplier": lambda ds: A.income_multiplier(ds, real=True)}


def variance_table(ds: xr.Dataset) -> pd.DataFrame:
    """Which drawn parameters drive the band of the total income multipliers
    (`lewie.analysis.variance_decomposition`), most important first within each variant and target.

    Columns: variant, [sweep dims], target, entry, parameter, good, good2, factor, household, src,
    share, first_order, r_squared, n_draws (empty without draws or drawn parameters)."""
    ds = prepare(ds)
    labels = ["parameter", "good", "good2", "factor", "household"]
    cols = (["variant"] + extra_dims(ds) + ["target", "entry"] + labels
            + ["src", "share", "first_order", "r_squared", "n_draws"])
    from lewie.results.uncertainty import has_bands
    if "parameter_value" not in ds or not has_bands(ds):
        return pd.DataFrame(columns=cols)
    frames = []
    rd = ds.sel(draw=ds["draw"] != 0)  # the random draws, as the bands (n_draws agrees with theirs)
    for target, fn in DECOMPOSED.items():
        vd = A.variance_decomposition(rd, fn(rd))
        per_entry = vd[["src", "share", "first_order"]].reset_coords(drop=True).to_dataframe().reset_index()
        per_cell = vd[["r_squared", "n_draws"]].reset_coords(drop=True).to_dataframe().reset_index()
        df = per_entry.merge(per_cell, on=[d for d in vd["r_squared"].dims] or None, how="left") \
            if vd["r_squared"].dims else per_entry.assign(r_squared=float(vd["r_squared"]), n_draws=float(vd["n_draws"]))
        for lab in labels:
            coord = f"entry_{lab}"
            mapping = ({str(e): str(x) for e, x in zip(vd["entry"].values, vd[coord].values)} if coord in vd.coords
                       else {str(e): (str(e).split("|") + [""] * 5)[labels.index(lab)] for e in vd["entry"].values})
            df[lab] = df["entry"].astype(str).map(mapping)
        df["target"] = target
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    rank = {str(v): i for i, v in enumerate(ds["variant"].values)}
    out["_variant"] = out["variant"].astype(str).map(rank)
    out["_target"] = out["target"].map({t: i for i, t in enumerate(DECOMPOSED)})
    keys = ["_variant"] + extra_dims(ds) + ["_target"]
    out = out.sort_values(keys + ["share", "first_order"], ascending=[True] * len(keys) + [False, False],
                          kind="stable", na_position="last")
    return out.reset_index(drop=True)[cols]


def provenance_table(ds: xr.Dataset) -> pd.DataFrame:
    """The results' metadata (lewie version, input files and their SHA-256, seed, solver ...) and
    the number of draws: columns key, value."""
    ds = prepare(ds)
    rows = [(k, v) for k, v in ds.attrs.items() if k != "scenario_json"]
    if "draw" in ds.dims:
        rows.append(("random draws", int((ds["draw"] != 0).sum())))
        fails = A.n_failed(ds)
        if fails is not None:
            rows.append(("failed solves (excluded)", int(fails.sum())))
    else:
        rows.append(("random draws", 0))
    return pd.DataFrame(rows, columns=["key", "value"]).astype({"value": str})


def tidy_tables(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Every table (see `TABLES`) as a long pandas DataFrame."""
    ds = prepare(ds)
    return {"variants": variants_table(ds), "multipliers": multiplier_table(ds),
            "income_change": income_change_table(ds), "production_change": production_change_table(ds),
            "prices_wages": prices_wages_table(ds), "inequality": inequality_table(ds),
            "synergy": synergy_table(ds), "variance_decomposition": variance_table(ds),
            "provenance": provenance_table(ds)}


def export_dta(ds: xr.Dataset, folder) -> list[Path]:
    """Write the tidy tables to ``folder/<table>.dta`` (Stata 118, UTF-8; long strings as strL);
    returns the files."""
    from lewie.files import atomic_write, check_writable_folder
    folder = check_writable_folder(folder, what="Stata folder")
    out = []
    for name, df in tidy_tables(ds).items():
        df = df.copy()
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = df[c].map(lambda x: "" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x))
        strl = [c for c in df.columns if df[c].dtype == object and df[c].str.len().max(skipna=True) > 2000]
        p = folder / f"{name}.dta"
        with atomic_write(p, what="Stata table") as tmp:
            df.to_stata(tmp, write_index=False, version=118, convert_strl=strl,
                        data_label=str(ds.attrs.get("scenario", ""))[:80])
        out.append(p)
    return out


def export_csv(ds: xr.Dataset, folder) -> list[Path]:
    """Write the tidy tables to ``folder/<table>.csv`` (UTF-8, no index); returns the files."""
    from lewie.files import atomic_write, check_writable_folder
    folder = check_writable_folder(folder, what="CSV folder")
    out = []
    for name, df in tidy_tables(ds).items():
        p = folder / f"{name}.csv"
        with atomic_write(p, what="CSV table") as tmp:
            df.to_csv(tmp, index=False)
        out.append(p)
    return out
