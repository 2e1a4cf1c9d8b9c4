"""GAMS LEWIE compatibility: lewie's results as the items a GAMS LEWIE reports, and GAMS draw dumps.

The published GAMS code (``6_Output_Parameters.gms``) reports, for every draw and simulation, the
changes from the calibrated base ("1") to the simulation ("2"); `gams_items` computes the same items
from a lewie results Dataset, by the same formulas:

| item | GAMS | lewie |
|---|---|---|
| ``tyD`` | ``ty2 − ty1``, ``ty = Σ_h Y`` | Σ_household Δ income |
| ``tryD`` | ``try2 − try1``, ``try = Σ_h RY`` | Σ_household Δ real_income |
| ``ryD.<h>`` | ``ry2 − ry1`` | Δ real_income(h) |
| ``yD.<h>`` | ``y2 − y1`` | Δ income(h) |
| ``tqpD.<g>`` | ``Σ_h qp2 − Σ_h qp1`` | Σ_household Δ production(g, h) |
| ``qpD.<g>.<h>`` | ``qp2 − qp1`` | Δ production(g, h), activities with output |
| ``pvPC.<g>`` | ``100·(pv2 − pv1)/pv1`` | 100 · Δ price / price of village-traded goods |
| ``lsupD`` | ``Σ_h hfsup2 − hfsup1`` (labour) | Σ Δ factor_supply |
| ``hlsupD.<h>`` | ``hfsup2 − hfsup1`` | Δ factor_supply(·, h) |
| ``benef`` / ``nonbenef`` | Σ ``ryD`` over the shocked / other groups | over ``beneficiary(variant, h)`` |
| ``mryPC`` | ``(mry2 − mry1)/mry1``, ``mry = Σ_h RY / Σ_h nhh`` (a fraction: GAMS has no 100 here) | group_size |
| ``rytheilPC`` | ``(T2 − T1)/T1``, Theil index of ``RY/nhh`` weighted by ``nhh`` (a fraction, as in GAMS) | group_size |

`read_gams_draws` turns CSV dumps of GAMS's drawn parameters (``fshare_dr(g,f,h,draw)``,
``eshare_dr(g,h,draw)`` …; draws labelled ``dr0``, ``dr1``, …) into a draws table that lewie uses as
supplied draws (`lewie.runs.sampling.read_draws`), so a GAMS run can be replayed draw by draw.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lewie.errors import InputError
from lewie.model import registry
from lewie.model.calibration import VARIED_SHARES

__all__ = ["gams_items", "items_table", "read_gams_draws", "draw_number", "GAMS_PARAMETERS"]

# the parameters a GAMS LEWIE draws (its Monte Carlo dumps), by their GAMS name (from the registry) ->
# (lewie parameter, the GAMS set of each of lewie's label columns)
GAMS_PARAMETERS = {registry.BY_NAME[p].gams.lower(): (p, registry.gams_label_sets(p)) for p in VARIED_SHARES}

_DRAW = re.compile(r"^\s*([A-Za-z_]*)(\d+)\s*$")


def draw_number(label) -> int:
    """A draw label as a number: ``12``, ``'12'`` or a GAMS label ``'dr12'`` -> 12."""
    if isinstance(label, (int, np.integer)):
        return int(label)
    if isinstance(label, float) and label.is_integer():
        return int(label)
    m = _DRAW.match(str(label))
    if not m:
        raise ValueError(f"draw label {label!r} is neither a number nor a GAMS label like 'dr12'")
    return int(m.group(2))


def read_gams_draws(files: Mapping[str, str | Path | pd.DataFrame]) -> pd.DataFrame:
    """GAMS draw dumps as a long draws table (columns draw, parameter, good, good2, factor, household,
    value), for `lewie.runs.sampling.read_draws` / ``MonteCarlo(draws_file=...)``.

    ``files`` maps a GAMS parameter (``fshare``, ``eshare``, ``savsh``, ``troutsh``, ``exprocsh``) to a
    CSV (or a DataFrame) with its GAMS index columns (``g``, ``f``, ``h``), ``draw`` (``dr0`` … or
    numbers) and ``value``, as GAMS writes ``fshare_dr(g,f,h,draw)`` with ``gdxdump`` / ``csv``.
    """
    out = []
    for name, src in files.items():
        if name.lower() not in GAMS_PARAMETERS:
            raise InputError(f"unknown GAMS drawn parameter '{name}'; known: {', '.join(GAMS_PARAMETERS)}",
                             field=name, label=name)
        param, index = GAMS_PARAMETERS[name.lower()]
        frame = src.copy() if isinstance(src, pd.DataFrame) else pd.read_csv(src, dtype=str, keep_default_na=False)
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        need = [c for c in index if c] + ["draw", "value"]
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise InputError(f"GAMS dump of {name} lacks column(s) {missing}; expected {', '.join(need)}",
                             file=None if isinstance(src, pd.DataFrame) else src, field=missing[0])
        try:
            draws = frame["draw"].map(draw_number)
        except ValueError as exc:
            raise InputError(str(exc), file=None if isinstance(src, pd.DataFrame) else src, field="draw") from None
        labels = {lab: (frame[c].astype(str) if c else "") for lab, c in zip(("good", "good2", "factor", "household"),
                                                                           index)}
        out.append(pd.DataFrame({"draw": draws, "parameter": param, **labels,
                                 "value": pd.to_numeric(frame["value"])}))
    return pd.concat(out, ignore_index=True)


# ------------------------------------------------------------------------------------------------
# reported items
# ------------------------------------------------------------------------------------------------
def _delta(ds: xr.Dataset, name: str) -> xr.DataArray:
    da = ds[name]
    return da.sel(state="simulated", drop=True) - da.sel(state="base", drop=True)


def _theil(ry: xr.DataArray, n: xr.DataArray) -> xr.DataArray:
    """Theil index of income per household RY/n across groups weighted by n (the GAMS ``rytheil``)."""
    mean = ry.sum("household") / n.sum()
    rel = (ry / n) / mean
    return (rel * np.log(rel) * n).sum("household") / n.sum()


def gams_items(ds: xr.Dataset, household_count: Mapping[str, float] | xr.DataArray | None = None) -> xr.DataArray:
    """The GAMS reported items (module docstring) of every variant and draw: a DataArray with dims
    ``item`` plus the results' dims other than the model's sets (``variant``, sweeps, ``draw``).

    ``household_count`` (group sizes, for ``mryPC`` and ``rytheilPC``) defaults to the results'
    ``group_size(household)`` coordinate (the workbook's HHNum); without either, those two items are left out.
    """
    H = [str(h) for h in ds["household"].values]
    pieces: dict[str, xr.DataArray] = {}
    dy, dry = _delta(ds, "income"), _delta(ds, "real_income")
    pieces["tyD"] = dy.sum("household")
    pieces["tryD"] = dry.sum("household")
    for h in H:
        pieces[f"ryD.{h}"] = dry.sel(household=h, drop=True)
    for h in H:
        pieces[f"yD.{h}"] = dy.sel(household=h, drop=True)
    dqp = _delta(ds, "production")
    base_qp = ds["production"].sel(state="base", drop=True)
    for g in ds["good"].values:
        pieces[f"tqpD.{g}"] = dqp.sel(good=g, drop=True).sum("household")
    for g in ds["good"].values:
        for h in H:
            if bool((base_qp.sel(good=g, household=h) != 0).any()):
                pieces[f"qpD.{g}.{h}"] = dqp.sel(good=g, household=h, drop=True)
    if "market_level" in ds:
        village_goods = [g for g in ds["good"].values if str(ds["market_level"].sel(good=g).values) == "village"]
    else:
        village_goods = []
    price = ds["price"]
    for g in village_goods:
        for v in ds["village"].values:
            p1 = price.sel(good=g, village=v, state="base", drop=True)
            p2 = price.sel(good=g, village=v, state="simulated", drop=True)
            key = f"pvPC.{g}" if ds.sizes["village"] == 1 else f"pvPC.{g}.{v}"
            pieces[key] = 100 * (p2 - p1) / p1
    dl = _delta(ds, "factor_supply")
    pieces["lsupD"] = dl.sum(("factor", "household"))
    for h in H:
        pieces[f"hlsupD.{h}"] = dl.sel(household=h, drop=True).sum("factor")
    if "beneficiary" in ds:
        b = ds["beneficiary"].astype(bool)
        pieces["benef"] = dry.where(b, 0.0).sum("household")
        pieces["nonbenef"] = dry.where(~b, 0.0).sum("household")
    n = household_count
    if n is None and "group_size" in ds.coords:
        n = xr.DataArray(ds["group_size"].values.astype(float), coords={"household": ds["household"].values},
                         dims="household")
    if n is not None:
        if not isinstance(n, xr.DataArray):
            n = xr.DataArray([float(n[h]) for h in H], coords={"household": H}, dims="household")
        if bool(np.isfinite(n).all()) and bool((n > 0).all()):
            ry1 = ds["real_income"].sel(state="base", drop=True)
            ry2 = ds["real_income"].sel(state="simulated", drop=True)
            m1, m2 = ry1.sum("household") / n.sum(), ry2.sum("household") / n.sum()
            pieces["mryPC"] = (m2 - m1) / m1  # GAMS: mryPC = mryD/mry1 (no 100, unlike the other PC items)
            t1, t2 = _theil(ry1, n), _theil(ry2, n)
            pieces["rytheilPC"] = (t2 - t1) / t1
    keep = [d for d in pieces["tyD"].dims]
    arrays = [pieces[k].transpose(*keep) if set(pieces[k].dims) == set(keep) else
              pieces[k].broadcast_like(pieces["tyD"]).transpose(*keep) for k in pieces]
    out = xr.concat(arrays, dim=pd.Index(list(pieces), name="item"), coords="minimal", compat="override")
    out.name = "gams_item"
    out.attrs = {"long_name": "GAMS LEWIE reported item (change from the base; PC items in %)"}
    return out


def items_table(ds: xr.Dataset, **kw) -> pd.DataFrame:
    """`gams_items` as a long table: one row per item, variant (and sweep point) and draw."""
    da = gams_items(ds, **kw)
    return da.to_dataframe().reset_index()


# ------------------------------------------------------------------------------------------------
# dashboards
# ------------------------------------------------------------------------------------------------
def with_gams_dashboard(sc, shocks: pd.DataFrame, sims: list[str], *, file=None):
    """The scenario with a GAMS dashboard's shocks (`lewie.sam.dashboard.read_gams_dashboard`) as
    variants named after the GAMS sims: fixed-factor shocks become ``factor_endowment`` (labour:
    ``labour_supply``), world-price shocks ``price``, TFP shocks ``productivity`` (cost 0: nothing
    is transferred)."""
    from lewie.config.scenario import DEFAULT_VARIANT, revalidated
    tradable = {x for level in ("village", "zone", "world") for x in getattr(sc.markets, level)}
    data = sc.model_dump(mode="python")
    names = sc.intervention_names()
    for itv, n in zip(data["interventions"], names):
        itv["name"] = n
    variants = dict(sc.variants) if sc.variants is not None else ({DEFAULT_VARIANT: names} if names else {})
    for s in sims:
        if s in variants:
            raise InputError(f"dashboard sim '{s}' has the name of a variant of the scenario", file=file,
                             field="dashboard", label=s)
        variants[s] = []
    for r in shocks.itertuples(index=False):
        name = "_".join(x for x in (r.sim, r.family, r.good, r.factor, r.household) if x)
        if r.family == "factor":
            if r.factor in sc.purchased_inputs:
                raise InputError(f"{r.cell}: '{r.factor}' is a purchased input; a fixed-factor shock adds units of a "
                                 "fixed factor or of labour", file=file, field="dashboard", label=r.factor)
            if r.factor in tradable:
                itv = {"kind": "labour_supply", "factor": r.factor, "households": [r.household],
                       "amount": float(r.value), "cost": abs(float(r.value))}
            else:
                itv = {"kind": "factor_endowment", "activity": r.good, "factor": r.factor,
                       "households": [r.household], "amount": float(r.value)}
        elif r.family == "price":
            itv = {"kind": "price", "good": r.good, "change": float(r.value), "cost": 0.0}
        else:
            itv = {"kind": "productivity", "activity": r.good, "households": [r.household],
                   "change": float(r.value), "cost": 0.0}
        if name in names:
            raise InputError(f"{r.cell}: intervention name '{name}' is already used", file=file, field="dashboard",
                             label=name)
        data["interventions"].append({"name": name, **itv})
        names.append(name)
        variants[r.sim].append(name)
    data["variants"] = variants
    return revalidated(data, sc.source, file)
