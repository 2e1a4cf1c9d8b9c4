"""`lewie report`: one self-contained HTML file (inline CSS, figures as embedded PNG) for a results
Dataset — scenario summary, multipliers with their bands, income change by household group (direct
and spillover), production, prices and wages, inequality, synergy of combined variants, which drawn
parameters drive the bands, Monte Carlo convergence, and provenance.

Every number comes from `lewie.results.export` (the same tidy tables `lewie export` writes), every figure from
`lewie.analysis`; nothing is computed twice in two ways. Figures are drawn with matplotlib's Agg
canvas (no pyplot, no display). With sweep dims (e.g. ``labour_supply_elasticity``) the tables show
every value and the figures the first one, as their captions say.
"""
from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lewie.version import __version__
from lewie.results import analysis as A
from lewie.results import export as E

CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .88rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .6rem; }
th { background: #f3f3f3; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .88rem; color: #444; max-width: 60rem; }
.note { color: #555; font-size: .9rem; } nav ul { columns: 2; } pre { white-space: pre-wrap; font-size: .8rem; }
"""
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
          "#bcbd22", "#17becf"]
DIRECT, SPILLOVER = "#1f77b4", "#ff7f0e"
LONG = 160  # provenance values longer than this go in a collapsed block below the table


# ------------------------------------------------------------------------------------------------
# formatting
# ------------------------------------------------------------------------------------------------
def _num(x, kind: str = "mult") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    x = float(x)
    if kind == "mult":
        return f"{x:.3f}"
    if kind == "pct":
        return f"{x:.2f}%"
    if kind == "index":
        return f"{x:.4f}"
    if kind == "int":
        return f"{x:.0f}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.2f}"  # money


def _table(df: pd.DataFrame, caption: str, kinds: dict[str, str] | None = None, *, tid: str = "") -> str:
    """An HTML table with a caption; numeric columns formatted by ``kinds`` (column -> kind)."""
    kinds = kinds or {}
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, rec):
            if c in kinds:
                cells.append(f'<td class="num">{html.escape(_num(v, kinds[c]))}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    ident = f' id="{html.escape(tid)}"' if tid else ""
    return (f"<table{ident}><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _wide(df: pd.DataFrame, keys: list[str], draws: bool) -> pd.DataFrame:
    """A tidy frame's statistics side by side: point, and with draws mean, 5th, 95th percentile, n."""
    stats = ["point", "mean", "p05", "p95", "n_draws"] if draws else ["point"]
    if df.empty:
        return pd.DataFrame(columns=keys + stats)
    sub = df[df["statistic"].isin(stats)]
    order = sub[keys].drop_duplicates()
    if "variant" in keys:  # variant by variant (in file order), the rest as the table lists it
        first = {v: i for i, v in enumerate(pd.unique(order["variant"]))}
        order = order.iloc[np.argsort(order["variant"].map(first).to_numpy(), kind="stable")]
    wide = sub.set_index(keys + ["statistic"])["value"].unstack("statistic").reindex(columns=stats)
    wide = wide.reindex(pd.MultiIndex.from_frame(order)).reset_index()
    wide.columns.name = None
    return wide


def _stat_kinds(kind: str, draws: bool) -> dict[str, str]:
    k = {"point": kind}
    if draws:
        k.update({"mean": kind, "p05": kind, "p95": kind, "n_draws": "int"})
    return k


def _rename_stats(df: pd.DataFrame, draws: bool) -> tuple[pd.DataFrame, dict]:
    names = {"point": "point estimate" if draws else "value", "mean": "mean", "p05": "5th pct",
             "p95": "95th pct", "n_draws": "draws"}
    return df.rename(columns=names), names


def _stats_table(df, keys, caption, kind, draws, *, tid=""):
    w = _wide(df, keys, draws)
    w, names = _rename_stats(w, draws)
    kinds = {names[s]: k for s, k in _stat_kinds(kind, draws).items()}
    return _table(w, caption, kinds, tid=tid)


# ------------------------------------------------------------------------------------------------
# figures (matplotlib Agg, no pyplot)
# ------------------------------------------------------------------------------------------------
def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def axis_labels(fig) -> list[tuple[str, str]]:
    """(x label, y label) of every axes of a figure (legends and colour bars aside)."""
    return [(ax.get_xlabel().strip(), ax.get_ylabel().strip()) for ax in fig.get_axes() if ax.get_visible()]


def _embed(fig, alt: str, caption: str, number: int) -> str:
    labels = axis_labels(fig)
    missing = [i for i, (x, y) in enumerate(labels) if not (x and y)]
    if not labels or missing:
        raise ValueError(f"figure {number}: every axes needs an x and a y axis label (axes {missing} lack one)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    png = buf.getvalue()
    data = base64.b64encode(png).decode("ascii")
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # the IHDR chunk
    xl = html.escape(" | ".join(x for x, _ in labels))
    yl = html.escape(" | ".join(y for _, y in labels))
    return (f'<figure data-xlabel="{xl}" data-ylabel="{yl}"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(alt)}" width="{w}" '
            f'height="{h}"><figcaption>Figure {number}. {html.escape(caption)}</figcaption></figure>')


def _band_arrays(da: xr.DataArray):
    """point, p05, p95 arrays of bands(da) (p05/p95 NaN without draws)."""
    b = A.bands(da)
    return (b.sel(statistic="point").values, b.sel(statistic="p05").values, b.sel(statistic="p95").values)


def _bars(ax, labels: list[str], series: list[tuple[str, xr.DataArray, str]], *, horizontal_line=True):
    """Grouped bars (point estimates) with 5th–95th percentile whiskers; each series a 1-D DataArray
    over ``labels`` (with or without a draw dim)."""
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(labels))
    for i, (name, da, color) in enumerate(series):
        pt, lo, hi = _band_arrays(da)
        pos = x - 0.4 + width * (i + 0.5)
        ax.bar(pos, pt, width=width * 0.95, color=color, label=name)
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.vlines(pos[ok], lo[ok], hi[ok], color="black", linewidth=1.2)
            ax.hlines(np.r_[lo[ok], hi[ok]], np.r_[pos[ok], pos[ok]] - width * 0.2,
                      np.r_[pos[ok], pos[ok]] + width * 0.2, color="black", linewidth=1.2)
    ax.set_xticks(x, labels, rotation=30 if max((len(s) for s in labels), default=0) > 8 else 0,
                  ha="right" if max((len(s) for s in labels), default=0) > 8 else "center")
    if horizontal_line:
        ax.axhline(0, color="#444", linewidth=0.8)


def _fig_multipliers(ds, n):
    variants = [str(v) for v in ds["variant"].values]
    fig = _figure(max(6.0, 1.4 * len(variants) + 3), 4.0)
    ax = fig.add_subplot()
    _bars(ax, variants, [("nominal income", A.income_multiplier(ds), COLORS[0]),
                         ("real income", A.income_multiplier(ds, real=True), COLORS[1]),
                         ("value added", A.value_added_multiplier(ds), COLORS[2])])
    ax.set_xlabel("variant")
    ax.set_ylabel("change per unit of cost")
    ax.set_title("Multipliers by variant")
    ax.legend(frameon=False)
    return _embed(fig, "Bar chart of the nominal income, real income and value-added multipliers of each variant"
                  + (" with 5th–95th percentile bands" if _bands(ds) else ""),
                  "Income (nominal and real) and value-added multipliers: change per unit of intervention cost. "
                  + _band_note(ds), n)


def _bands(ds) -> bool:
    from lewie.results.uncertainty import has_bands
    return has_bands(ds)


def _band_note(ds) -> str:
    from lewie.results.uncertainty import NO_UNCERTAINTY, random_draws
    if _bands(ds):
        return ("Bars: point estimates (draw 0), not Monte Carlo means; whiskers: 5th–95th percentile over the "
                "converged Monte Carlo draws.")
    if random_draws(ds):
        return f"Bars: point estimates (draw 0); {NO_UNCERTAINTY}."
    return "Bars: point estimates (no Monte Carlo draws, so no bands)."


def _grid(k: int) -> tuple[int, int]:
    cols = min(k, 3)
    return math.ceil(k / cols), cols


def _fig_income(ds, n):
    variants = [str(v) for v in ds["variant"].values]
    households = [str(h) for h in ds["household"].values]
    rows, cols = _grid(len(variants))
    fig = _figure(max(6.0, 3.6 * cols), 3.2 * rows)
    d = A.income_change(ds, by="household")
    for i, v in enumerate(variants):
        ax = fig.add_subplot(rows, cols, i + 1)
        benef = ds["beneficiary"].sel(variant=v).values.astype(bool)
        pt, lo, hi = _band_arrays(d.sel(variant=v))
        x = np.arange(len(households))
        ax.bar(x, pt, color=[DIRECT if b else SPILLOVER for b in benef])
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.vlines(x[ok], lo[ok], hi[ok], color="black", linewidth=1.2)
        ax.axhline(0, color="#444", linewidth=0.8)
        ax.set_xticks(x, households, rotation=30, ha="right")
        ax.set_title(v)
        ax.set_xlabel("household group")
        ax.set_ylabel(f"income change ({_currency(ds)})")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    from matplotlib.patches import Patch
    fig.legend(handles=[Patch(color=DIRECT, label="beneficiaries: direct + indirect"),
                        Patch(color=SPILLOVER, label="non-beneficiaries: spillover")],
               loc="outside lower center", ncols=2, frameon=False)
    return _embed(fig, "Bar charts of the nominal income change of each household group, one panel per variant, "
                  "beneficiaries and non-beneficiaries in different colours",
                  f"Nominal income change by household group ({_currency(ds)}), one panel per variant: blue bars "
                  "are the variant's beneficiaries (their direct and indirect effects together, not split), orange "
                  "bars everyone else (the spillover). " + _band_note(ds), n)


def _fig_production(ds, n):
    goods = [str(g) for g in ds["good"].values]
    variants = [str(v) for v in ds["variant"].values]
    d = A.production_change(ds)
    fig = _figure(max(6.0, 0.9 * len(goods) * max(1, len(variants) / 2) + 2), 4.0)
    ax = fig.add_subplot()
    _bars(ax, goods, [(v, d.sel(variant=v), COLORS[i % len(COLORS)]) for i, v in enumerate(variants)])
    ax.set_xlabel("activity")
    ax.set_ylabel(f"change in output ({_currency(ds)} at base prices)")
    ax.set_title("Production change by activity")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
    ax.legend(frameon=False, title="variant")
    return _embed(fig, "Grouped bar chart of the change in output of each activity, one bar per variant",
                  f"Change in output by activity, valued at base prices ({_currency(ds)}). " + _band_note(ds), n)


def _price_items(ds) -> tuple[list[str], xr.DataArray]:
    """Local prices, wages and CPIs stacked along one ``item`` dim with readable labels."""
    pieces, labels = [], []
    for kind, da, dim in (("price", A.price_change(ds), "good"), ("wage", A.wage_change(ds), "factor")):
        for g in da[dim].values:
            for vil in da["village"].values:
                labels.append(f"{kind} {g} ({vil})")
                pieces.append(da.sel({dim: g, "village": vil}, drop=True).reset_coords(drop=True))
    cpi = A.cpi_change(ds)
    for h in cpi["household"].values:
        labels.append(f"CPI {h}")
        pieces.append(cpi.sel(household=h, drop=True).reset_coords(drop=True))
    stacked = xr.concat(pieces, dim=xr.DataArray(labels, dims="item", name="item"), coords="minimal",
                        compat="override")
    return labels, stacked


def _fig_prices(ds, n):
    labels, stacked = _price_items(ds)
    variants = [str(v) for v in ds["variant"].values]
    fig = _figure(max(6.0, 0.55 * len(labels) * max(1, len(variants) / 2) + 2), 4.4)
    ax = fig.add_subplot()
    _bars(ax, labels, [(v, stacked.sel(variant=v), COLORS[i % len(COLORS)]) for i, v in enumerate(variants)])
    ax.set_xlabel("price, wage (village) or consumer price index")
    ax.set_ylabel("% change")
    ax.set_title("Local prices, wages and consumer price indices")
    ax.legend(frameon=False, title="variant")
    return _embed(fig, "Grouped bar chart of the percentage change of local prices, wages and household CPIs, "
                  "one bar per variant",
                  "Percentage change of the prices and wages set in local markets (by village) and of each "
                  "household group's consumer price index. " + _band_note(ds), n)


def _fig_convergence(ds, n):
    m = A.income_multiplier(ds)
    rm = A.running_mean(m)
    b = A.bands(m)
    fig = _figure(7.0, 3.8)
    ax = fig.add_subplot()
    for i, v in enumerate(ds["variant"].values):
        c = COLORS[i % len(COLORS)]
        y = rm.sel(variant=v).values
        ax.plot(np.arange(1, len(y) + 1), y, color=c, label=str(v))
        for s in ("p05", "p95"):
            ax.axhline(float(b.sel(variant=v, statistic=s)), color=c, linestyle=":", linewidth=0.9)
    ax.set_xlabel("number of random draws")
    ax.set_ylabel("running mean of the multiplier")
    ax.set_title("Monte Carlo convergence: nominal income multiplier")
    ax.legend(frameon=False, title="variant", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _embed(fig, "Line chart of the running mean of the nominal income multiplier over the draws, one line "
                  "per variant, with dotted lines at the final 5th and 95th percentiles",
                  "Running mean of the total nominal income multiplier over the first k converged draws; "
                  "it should flatten well inside the band (dotted: final 5th and 95th percentiles).", n)


def _fig_variance(ds, vd: xr.Dataset, n, top: int = 8):
    variants = [str(v) for v in vd["variant"].values]
    rows, cols = _grid(len(variants))
    fig = _figure(max(6.0, 5.4 * cols), 0.35 * top * rows + 1.2 * rows)
    for i, v in enumerate(variants):
        ax = fig.add_subplot(rows, cols, i + 1)
        r2 = float(vd["r_squared"].sel(variant=v))
        what = "share" if np.isfinite(r2) else "first_order"
        share = vd[what].sel(variant=v).to_series().dropna().sort_values(ascending=False).head(top)[::-1]
        ax.barh([_entry_label(e) for e in share.index], share.values, color=COLORS[0] if what == "share" else COLORS[4])
        ax.set_title(f"{v} (R² = {r2:.2f})" if what == "share" else f"{v} (first-order indices)", fontsize=10)
        ax.set_xlabel("share of the explained variance" if what == "share" else "first-order sensitivity index")
        ax.set_ylabel("drawn parameter")
        ax.set_xlim(0, 1)
        ax.tick_params(axis="y", labelsize=8)
    return _embed(fig, "Horizontal bar charts of each drawn parameter's share of the explained variance of the "
                  "nominal income multiplier, one panel per variant",
                  f"Which drawn parameters drive the band of the nominal income multiplier: share of the "
                  f"explained variance (squared standardised regression coefficients), top {top} per variant; "
                  f"where there are too few draws for the regression (no more draws than drawn parameters), the "
                  f"binned first-order sensitivity indices instead.", n)


def _entry_label(entry: str) -> str:
    """A drawn parameter in words: ``factor_share|crop||Labor|Elig`` -> 'Labor share of crop (Elig)'."""
    parts = (str(entry).split("|") + [""] * 5)[:5]
    p, g, g2, f, h = parts
    who = f" ({h})" if h else ""
    if p == "factor_share":
        return f"{f} share of {g}{who}"
    if p == "budget_share":
        return f"budget share of {g}{who}"
    if p == "input_share":
        return f"{g2} input to {g}{who}"
    if p in ("savings_rate", "transfer_rate", "outside_rate"):
        return f"{p.replace('_', ' ')}{who}"
    rest = ", ".join(x for x in (g, g2, f, h) if x)
    return f"{p.replace('_', ' ')} ({rest})" if rest else p.replace("_", " ")


def _currency(ds) -> str:
    from lewie.results.provenance import currency_of
    return currency_of(ds)


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------
def _label(x) -> str:
    return f"{x:g}" if isinstance(x, (float, np.floating)) else str(x)


def _first_of_extra_dims(ds: xr.Dataset) -> tuple[xr.Dataset, str]:
    extra = E.extra_dims(ds)
    if not extra:
        return ds, ""
    sel = {d: ds[d].values[0] for d in extra}
    note = "Figures show " + ", ".join(f"{d} = {_label(v)}" for d, v in sel.items()) + "; the tables show every value."
    return ds.isel({d: 0 for d in extra}), note


def render_report(ds: xr.Dataset) -> str:
    """The report as one HTML string (see the module docstring)."""
    from lewie.results.uncertainty import NO_UNCERTAINTY, WHY, random_draws
    ds = E.prepare(ds)
    draws = _bands(ds)  # bands only when the draws carry parameter uncertainty
    tables = E.tidy_tables(ds)
    extra = E.extra_dims(ds)
    fds, sweep_note = _first_of_extra_dims(ds)
    title = str(ds.attrs.get("title") or ds.attrs.get("scenario") or "lewie results")
    body: list[str] = []
    fig_n = iter(range(1, 100))

    def section(anchor: str, heading: str) -> None:
        body.append(f'<h2 id="{anchor}">{html.escape(heading)}</h2>')

    # scenario summary
    section("scenario", "Scenario")
    n_h, n_g, n_v = ds.sizes["household"], ds.sizes["good"], ds.sizes["village"]
    body.append(f"<p>{n_h} household groups in {n_v} village{'s' if n_v != 1 else ''}, {n_g} activities; "
                f"{ds.sizes['variant']} variant{'s' if ds.sizes['variant'] != 1 else ''}.</p>")
    if random_draws(ds):
        nd = int((ds["draw"] != 0).sum())
        ok = A.converged(ds)
        nf = int((~ok).sel(draw=ds["draw"] != 0).sum()) if ok is not None and "draw" in ok.dims else 0
        point_failed = int((~ok).sel(draw=0).sum()) if ok is not None and "draw" in ok.dims else 0
        seed = ds.attrs.get("seed", ds.attrs.get("montecarlo_seed", "–"))
        body.append(f"<p>Monte Carlo: {nd} random draws of the estimated parameters (seed {html.escape(str(seed))}) "
                    f"besides the point estimates (draw 0). "
                    + ("Bands are the 5th–95th percentiles over the converged draws" if draws else
                       f"<strong>{html.escape(NO_UNCERTAINTY[0].upper() + NO_UNCERTAINTY[1:])}</strong> "
                       f"({html.escape(WHY)})")
                    + f"; {nf} failed solve{'s' if nf != 1 else ''} "
                    f"{'were' if nf != 1 else 'was'} excluded. Bars in the figures are the point estimates "
                    "(draw 0), not Monte Carlo means."
                    + (f" The point estimates (draw 0) failed to solve in {point_failed} case"
                       f"{'s' if point_failed != 1 else ''}." if point_failed else "") + "</p>")
    else:
        body.append('<p class="note">No Monte Carlo draws: the figures are point estimates, and there are no '
                    "bands.</p>")
    body.append(f'<p class="note">Levels (income, cost, output) are in {html.escape(_currency(ds))}.</p>')
    if extra:
        sweeps = "; ".join(f"{d} = {', '.join(_label(x) for x in ds[d].values)}" for d in extra)
        body.append(f'<p class="note">Sweep: {html.escape(sweeps)}. {html.escape(sweep_note)}</p>')
    vt = tables["variants"].copy()
    body.append(_table(vt, "Variants: interventions, cost (the multipliers' denominator) and direct beneficiaries",
                       {"cost": "money", "draws": "int", "failed_draws": "int"}, tid="table-variants"))

    # multipliers
    section("multipliers", "Multipliers")
    mt = tables["multipliers"]
    keys = ["variant"] + extra + ["measure", "group"]
    head = mt[mt["by"].isin(["total", "beneficiary status"])]
    band = " with 90% bands (5th–95th percentile over the converged draws)" if draws else " (point estimates; no draws)"
    body.append(_stats_table(head, keys, "Income and value-added multipliers: change per unit of cost, total and "
                             "for beneficiaries (direct + indirect) and non-beneficiaries (spillover)" + band,
                             "mult", draws, tid="table-multipliers"))
    body.append(_fig_multipliers(fds, next(fig_n)))
    body.append(_stats_table(mt[mt["by"].isin(["village", "household"])], ["variant"] + extra + ["measure", "by", "group"],
                             "Income multipliers by village and by household group" + band, "mult", draws,
                             tid="table-multipliers-detail"))

    # income change
    section("income", "Income change by household group")
    it = tables["income_change"]
    it = it[it["measure"].isin(["nominal change", "real change"])]
    body.append(_stats_table(it, ["variant"] + extra + ["household", "effect", "measure"],
                             f"Income change by household group ({_currency(ds)}), nominal and real; effect: direct + "
                             "indirect for the variant's beneficiaries, spillover for the others", "money", draws,
                             tid="table-income"))
    body.append(_fig_income(fds, next(fig_n)))

    # production
    section("production", "Production")
    pt = tables["production_change"]
    body.append(_stats_table(pt[pt["measure"] == "change (base-price value)"], ["variant"] + extra + ["activity"],
                             f"Change in output by activity ({_currency(ds)} at base prices)", "money", draws,
                             tid="table-production"))
    body.append(_stats_table(pt[pt["measure"] == "production multiplier"], ["variant"] + extra + ["activity"],
                             "Production multipliers by activity: change in the value of output per unit of cost",
                             "mult", draws, tid="table-production-multipliers"))
    body.append(_fig_production(fds, next(fig_n)))

    # prices
    section("prices", "Prices, wages and the cost of living")
    pw = tables["prices_wages"]
    body.append(_stats_table(pw, ["variant"] + extra + ["kind", "item", "village"],
                             "Percentage change of local prices and wages (by village) and of household CPIs",
                             "pct", draws, tid="table-prices"))
    body.append(_fig_prices(fds, next(fig_n)))
    iq = tables["inequality"]
    body.append(_stats_table(iq, ["variant"] + extra + ["income", "measure"],
                             "Inequality: Theil T index of per-household income across household groups "
                             "(base, simulated, change)", "index", draws, tid="table-inequality"))

    # synergy
    syn = tables["synergy"]
    if not syn.empty:
        section("synergy", "Synergy of combined programmes")
        body.append("<p>Each combined variant's effect minus the sum of the effects of the variants it combines, "
                    "computed draw by draw: positive means the programmes do more together than apart.</p>")
        per_cost = syn["measure"].str.endswith("per unit of cost")
        body.append(_stats_table(syn[~per_cost], ["variant"] + extra + ["parts", "household", "measure"],
                                 "Synergy: combined minus the sum of its parts, income change by household group "
                                 f"({_currency(ds)})" + band, "money", draws, tid="table-synergy"))
        body.append(_stats_table(syn[per_cost], ["variant"] + extra + ["parts", "measure"],
                                 "Synergy per unit of the combined variant's cost: how much its income multiplier "
                                 "exceeds the cost-weighted sum of its parts' multipliers" + band, "mult", draws,
                                 tid="table-synergy-multiplier"))

    # variance decomposition
    section("drivers", "What drives the band")
    vt = tables["variance_decomposition"]
    if random_draws(ds) and not draws:
        body.append(f'<p class="note">{html.escape(NO_UNCERTAINTY[0].upper() + NO_UNCERTAINTY[1:])}: no drawn '
                    "parameter varies, so there is no band to decompose.</p>")
    elif vt.empty:
        body.append('<p class="note">No drawn parameters in these results (no Monte Carlo draws), so there is no '
                    "band to decompose.</p>")
    else:
        body.append("<p>Standardised regression coefficients (SRC) of the total income multipliers on the drawn "
                    "parameters, each parameter's share of the explained variance (SRC²/ΣSRC²), the regression's "
                    "R², and binned first-order sensitivity indices. Improving the survey estimate of a parameter "
                    "with a large share narrows the band most.</p>")
        top = vt.groupby(["variant"] + extra + ["target"], sort=False, group_keys=False).head(8)
        shown = top[["variant"] + extra + ["target", "entry", "src", "share", "first_order", "r_squared"]].copy()
        shown.insert(shown.columns.get_loc("entry") + 1, "parameter", shown["entry"].map(_entry_label))
        body.append(_table(shown, "Drawn parameters ranked by their share of the explained variance of the "
                           "multiplier (top 8 per variant and multiplier)",
                           {"src": "index", "share": "index", "first_order": "index", "r_squared": "index"},
                           tid="table-drivers"))
        rd = fds.sel(draw=fds["draw"] != 0)  # the random draws, as the bands
        vd = A.variance_decomposition(rd, A.income_multiplier(rd))
        body.append(_fig_variance(fds, vd, next(fig_n)))

    # convergence
    section("convergence", "Monte Carlo convergence")
    if draws:
        body.append(_fig_convergence(fds, next(fig_n)))
    elif random_draws(ds):
        body.append(f'<p class="note">{html.escape(NO_UNCERTAINTY[0].upper() + NO_UNCERTAINTY[1:])}: every draw is '
                    "the point estimates, so there is nothing to converge.</p>")
    else:
        body.append('<p class="note">No Monte Carlo draws, so there is nothing to converge.</p>')

    # provenance
    section("provenance", "Provenance")
    prov = tables["provenance"].copy()
    prov = pd.concat([pd.DataFrame([("report written by lewie", __version__)], columns=["key", "value"]), prov],
                     ignore_index=True)
    long = (prov["value"].str.len() > LONG) | prov["value"].str.contains("\n", regex=False)
    body.append(_table(prov[~long], "Provenance: lewie version, input files and their SHA-256, seed, solver, draws",
                       tid="table-provenance"))
    for key, value in prov[long].itertuples(index=False):
        body.append(f"<details><summary>{html.escape(str(key))}</summary><pre>{html.escape(str(value))}</pre></details>")
    if ds.attrs.get("scenario_json"):
        body.append("<details><summary>Scenario as run (JSON)</summary><pre>"
                    f"{html.escape(str(ds.attrs['scenario_json']))}</pre></details>")

    nav = ("<nav><ul>" + "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for a, t in
                                 [("scenario", "Scenario"), ("multipliers", "Multipliers"),
                                  ("income", "Income change by household group"), ("production", "Production"),
                                  ("prices", "Prices, wages and the cost of living")]
                                 + ([("synergy", "Synergy")] if not syn.empty else [])
                                 + [("drivers", "What drives the band"), ("convergence", "Monte Carlo convergence"),
                                    ("provenance", "Provenance")]) + "</ul></nav>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"generator\" content=\"lewie {html.escape(__version__)}\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"note\">LEWIE simulation report, lewie {html.escape(__version__)}"
            f"</p>{nav}{''.join(body)}</body></html>\n")


def write_report(ds: xr.Dataset, path) -> Path:
    """Write `render_report` to ``path`` (UTF-8); returns the path."""
    from lewie.files import write_text_atomic
    path = Path(path)
    write_text_atomic(path, render_report(ds), what="report")  # never a half-written report
    return path
