"""Calibrate a GAMS LEWIE input workbook to a lewie SAM and a Monte Carlo parameter table.

`calibrate_workbook` does the GAMS calibration of one draw from the point estimates of a workbook read
by `lewie.sam.workbook.read_workbook` (``4b_Calibration.gms`` of the published code; GAMS names in
brackets); the flows come from `lewie.sam.shares` (`sam_from_shares`), the one shares → SAM module:

* ``Y = HHexp·HHNum`` [``y_dr``]; ``TROUT = transfout·Y``, ``SAV = savsh·Y``, ``EXPROC = EXPROLES·Y``;
* ``QC(g,h) = (Y − TROUT − SAV − EXPROC)·eshare(g,h)`` (``emin`` = 0), with the budget shares rescaled
  to sum to 1 over g, as GAMS does in every draw including draw 0
  (``eshare_dr = eshare_t / sum(gg, eshare_t)``);
* ``QP(g,h) = QP_workbook(g,h)·HHNum(h)``; ``ID(g,gg,h) = QP(g,h)·idsh(g,gg,h)`` (activity g buys good gg);
* ``FD(g,f,h) = (QP − Σ_gg ID)·fshare(g,f,h)`` with the factor shares rescaled to sum to 1 over f,
  as GAMS does in every draw including draw 0 (``fshare_dr$fshare_t = fshare_t / sum(fa, fshare_t)``),
  so value added equals the sum of factor payments;
* fixed factors pay their rent to the household running the activity; the endowment of each labour
  factor is the labour used in a village split across its groups in proportion to
  ``wrkagepop·HHNum`` (``gams_compat``: the labour used in the whole zone, as the GAMS code does);
  purchased inputs come from outside;
* exogenous income ``exinc = Y − factor income`` closes each household account (it can be negative).

The result is a lewie SAM (see `lewie.sam.accounts`) with net trade of every commodity and tradable
factor in the ``out:world`` row or column, plus the Monte Carlo parameter table (point estimates and
standard errors, in lewie's parameter names) and a log of every normalisation and of every place
where the published GAMS code would behave differently.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lewie.errors import did_you_mean
from lewie.model.registry import workbook_names

from lewie.sam.shares import EconomyShares, factor_payments, labour_used, sam_from_shares, value_added
from lewie.sam.workbook import GAMS_PARAMETER, PARAMETER_COLUMNS, Workbook, WorkbookError, _key

__all__ = ["WorkbookEconomy", "calibrate_workbook"]

_WB = workbook_names()
# which labels each workbook variable the calibration reads carries (g: good, G: second good, f: factor)
_SIGNATURE = {
    "hhnum": "", "hhexp": "", "wrkagepop": "", "savsh": "", "savsh_se": "", "transfout": "",
    "transfout_se": "", "exproles": "", "exproles_se": "", "eshare": "g", "eshare_se": "g",
    _WB["min_consumption"].lower(): "g", "qp": "g", "idsh": "gG", "idsh_se": "gG", "fshare": "gf", "fshare_se": "gf",
}
_LABEL_NAMES = {"g": "good", "G": "second good", "f": "factor"}
_SHARES = tuple(v.lower() for v in GAMS_PARAMETER.values())  # fshare, eshare, savsh, transfout, exproles, idsh
# have a Monte Carlo distribution in GAMS
_DRAWN = tuple(_WB[p].lower() for p in ("factor_share", "budget_share", "savings_rate", "transfer_rate"))
_TOL = 1e-9


@dataclass
class WorkbookEconomy:
    """The calibrated base of one draw: a lewie SAM, the Monte Carlo parameter table, group sizes, a log."""

    sam: pd.DataFrame
    parameters: pd.DataFrame
    household_count: pd.Series
    log: list[str]
    redraws: dict[str, float] = field(default_factory=dict)  # gams_compat: draw-0 redraws, 'var|g|gg|f|h' -> value


def _resolve(labels: Iterable[str], choices: tuple[str, ...], kind: str, field_name: str, path) -> list[str]:
    out = []
    low = {c.lower(): c for c in choices}
    for i, lab in enumerate(labels):
        if str(lab).lower() not in low:
            raise WorkbookError(f"unknown {kind} '{lab}'{did_you_mean(lab, choices)}; the workbook declares: "
                                f"{', '.join(choices)}", file=path, field=f"{field_name}[{i}]", label=str(lab))
        out.append(low[str(lab).lower()])
    return out


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def calibrate_workbook(wb: Workbook, *, villages: Mapping[str, Iterable[str]], fixed_factors: Iterable[str],
                       labour_factors: Iterable[str], input_factors: Iterable[str],
                       gams_compat: bool = False, seed: int = 0) -> WorkbookEconomy:
    """Calibrate one draw (the point estimates) exactly as the GAMS code does, as a lewie SAM.

    ``villages`` maps each village to its household groups (every group in exactly one village);
    ``fixed_factors`` are activity-specific (rent to the group running the activity),
    ``labour_factors`` are supplied by the households, ``input_factors`` are bought from outside.
    Labels match the workbook case-insensitively.

    Shares (fshare, eshare, savsh, transfout, EXPROLES, idsh) must lie in [0, 1]: lewie never repairs a
    share silently, so an estimate outside is an error naming the cell. The GAMS code instead replaces a
    draw-0 share of fshare/eshare that is ≤ 0 or ≥ 1 by a random draw; with ``gams_compat=True`` lewie
    does the same (`lewie.runs.sampling.redraw_inside` from N(estimate, se), random stream
    ``default_rng([seed, 0])``, the stream of draw 0), builds draw 0 (the SAM) from the redrawn value
    and records each redraw in ``WorkbookEconomy.redraws`` and the log; the parameter table keeps the
    workbook's estimate, around which the other draws are drawn. Factor shares are rescaled to sum to 1 over factors and budget shares
    over goods, as the GAMS code does in every draw; each rescaling is logged.
    """
    path = wb.path
    log: list[str] = list(wb.log)
    H_all, G, F = wb.households, wb.goods, wb.factors

    def val(var, g="", gg="", f="", *, h):
        return wb.value(var, g, gg, f, household=h)

    # ---- entries whose labels do not fit what GAMS reads are ignored by GAMS: lewie says so
    misfits = []
    for row in wb.data.itertuples(index=False):
        sig = _SIGNATURE.get(row.var.lower())
        if sig is None:
            continue
        have = {"g": bool(row.good), "G": bool(row.good2), "f": bool(row.factor)}
        want = {k: (k in sig) for k in have}
        if have != want:
            need = ", ".join(_LABEL_NAMES[k] for k in sig) or "no good or factor label"
            labs = ", ".join(x for x in (row.good, row.good2, row.factor) if x) or "none"
            misfits.append((row, f"{row.var} takes {need}, but this entry has labels: {labs}"))
    for row, msg in misfits:
        ref = wb.cell(row.var, row.good, row.good2, row.factor, household=row.household)
        if not gams_compat:
            raise WorkbookError(msg + "; GAMS would silently ignore it", file=path, cell=ref, label=row.var)
        log.append(f"{ref}: {msg}; ignored, as GAMS does")
    bad_keys = {(r.var.lower(), r.good.lower(), r.good2.lower(), r.factor.lower(), r.household.lower())
                for r, _ in misfits}

    # ---- villages and household groups
    village_of: dict[str, str] = {}
    for v, members in villages.items():
        for h in _resolve(members, H_all, "household group", f"villages.{v}", path):
            if h in village_of:
                raise WorkbookError(f"household group '{h}' is in villages '{village_of[h]}' and '{v}'",
                                    file=path, field=f"villages.{v}", label=h)
            village_of[h] = v
    has_data = {h: bool(((wb.data["household"] == h) & (wb.data["value"] != 0)
                         & (wb.data["var"].str.lower() != "hhnum")).any()) for h in H_all}
    H = []
    for h in H_all:
        n = val("HHNum", h=h)
        if not has_data[h]:
            log.append(f"household group '{h}' has no data: left out of the SAM")
            continue
        if n <= 0:
            ref = wb.cell("HHNum", household=h) or f"{wb.table}(HHNum, {h})"
            raise WorkbookError(f"household group '{h}' has data but no count: HHNum is "
                                f"{'blank' if n == 0 else _fmt(n)} (it must be the number of households the "
                                "group represents)", file=path, cell=ref, label=h)
        if h not in village_of:
            raise WorkbookError(f"household group '{h}' is in no village; list it under villages "
                                f"(villages given: {', '.join(villages) or 'none'})", file=path,
                                field="villages", label=h)
        H.append(h)
    count = pd.Series({h: val("HHNum", h=h) for h in H}, name="household_count", dtype=float)

    # ---- factor classes
    classes: dict[str, str] = {}
    for kind, labels in (("fixed", fixed_factors), ("labour", labour_factors), ("input", input_factors)):
        for f in _resolve(list(labels), F, "factor", f"{kind}_factors", path):
            if f in classes:
                raise WorkbookError(f"factor '{f}' is listed as both {classes[f]} and {kind}", file=path,
                                    field=f"{kind}_factors", label=f)
            classes[f] = kind

    # ---- range of shares and standard errors
    problems = []
    redraw0: dict[tuple, tuple] = {}  # gams_compat: draw-0 estimates outside (0, 1) that GAMS redraws
    for row in wb.data.itertuples(index=False):
        var = row.var.lower()
        key = (var, row.good.lower(), row.good2.lower(), row.factor.lower(), row.household.lower())
        if key in bad_keys or row.household not in H:
            continue
        ref = wb.cells[key]
        desc = f"{row.var}({', '.join(x for x in (row.good, row.good2, row.factor, row.household) if x)})"
        if var.endswith("_se") and var[:-3] in _SHARES and row.value < 0:
            problems.append((ref, f"{desc} = {_fmt(row.value)} is a negative standard error"))
            continue
        if var not in _SHARES:
            continue
        x = row.value
        se = wb.value(row.var + "_se", row.good, row.good2, row.factor, household=row.household)
        se_ref = wb.cell(row.var + "_se", row.good, row.good2, row.factor, household=row.household)
        if 0 <= x <= 1 and not (x == 1 and var in ("fshare", "eshare") and gams_compat):
            continue
        if gams_compat and var in ("fshare", "eshare") and se > 0:
            redraw0[key] = (x, se, ref, desc)
            continue
        if var in _DRAWN and se > 0:
            around = (f"its standard error {_fmt(se)} ({se_ref}) means a redraw can land inside, so it can "
                      "be drawn around")
        elif var in _DRAWN:
            around = "it has no standard error, so it cannot be drawn around"
        else:
            around = "GAMS never redraws it, so it cannot be drawn around"
        if not gams_compat:
            problems.append((ref, f"{desc} = {_fmt(x)} is a share outside [0, 1]; {around}"))
            continue
        if var in ("fshare", "eshare"):
            what = (f"replaces it in draw 0 by draws from N({_fmt(x)}, {_fmt(se)}) until one lands inside "
                    "(0, 1), then rescales the shares" if se > 0 else
                    f"would redraw it forever in draw 0 (N({_fmt(x)}, 0) never lands inside (0, 1))")
        elif var in ("savsh", "transfout"):
            what = ("would loop forever in draw 0: its draw-0 redraw loop for savsh/transfout never redraws")
        else:
            what = "uses it as given (no redraw)"
        log.append(f"{ref}: {desc} = {_fmt(x)} is outside [0, 1]; accepted (gams_compat): GAMS {what}; "
                   "the SAM uses the point estimate, the Monte Carlo module does the redraw")
    if problems:
        first, _ = problems[0]
        more = "; ".join(f"{ref}: {msg}" for ref, msg in problems[1:10])
        raise WorkbookError(problems[0][1] + ("" if len(problems) == 1 else f"; also {more}")
                            + ("" if len(problems) <= 10 else f"; and {len(problems) - 10} more")
                            + ". lewie does not repair shares; fix the workbook (or pass gams_compat=True to "
                            "accept it and leave the GAMS redraw to the Monte Carlo module)",
                            file=path, cell=first)

    redrawn: dict[tuple, float] = {}
    if redraw0:
        from lewie.runs.sampling import redraw_inside
        rng = np.random.default_rng([int(seed), 0])
        keys = list(redraw0)
        new = redraw_inside(rng, np.array([redraw0[k][0] for k in keys]), np.array([redraw0[k][1] for k in keys]))
        for k, v in zip(keys, new):
            x, se, ref, desc = redraw0[k]
            redrawn[k] = float(v)
            log.append(f"{ref}: {desc} = {_fmt(x)} is outside (0, 1): redrawn in draw 0 from N({_fmt(x)}, {_fmt(se)}) "
                       f"until inside, as the GAMS code does (gams_compat): {v:.6g}; draw 0 and the SAM use it, "
                       "the other draws are drawn around the estimate")

    def get(var, g="", gg="", f="", *, h):
        k = _key(var, g, gg, f, h)
        if k in redrawn:
            return redrawn[k]
        return 0.0 if k in bad_keys else val(var, g, gg, f, h=h)

    # ---- households: income, leakage rates and budget shares
    Y, rates, budget = {}, {}, {}
    for h in H:
        n = count[h]
        Y[h] = get("HHexp", h=h) * n
        if Y[h] <= 0:
            raise WorkbookError(f"household group '{h}' has no expenditure: HHexp is {_fmt(get('HHexp', h=h))} "
                                "(income Y = HHexp·HHNum)", file=path,
                                cell=wb.cell("HHexp", household=h), label=h)
        rates[h] = {"savings": get("savsh", h=h), "transfers": get("transfout", h=h),
                    "spending": get("EXPROLES", h=h)}
        local_share = 1 - sum(rates[h].values())
        if local_share < 0:
            raise WorkbookError(f"household group '{h}': savsh + transfout + EXPROLES = {_fmt(1 - local_share)} "
                                "exceeds 1, leaving a negative amount to spend locally (GAMS loops forever here)",
                                file=path, cell=wb.cell("savsh", household=h), label=h)
        if rates[h]["transfers"] > 0.1:
            log.append(f"{wb.cell('transfout', household=h)}: transfout({h}) = {_fmt(rates[h]['transfers'])} > 0.1: "
                       "the GAMS code aborts here ('household spends over 10% of income on transfers')")
        if local_share < 0.5:
            log.append(f"household group '{h}': share of income spent locally {_fmt(local_share)} < 0.5: "
                       "the GAMS code aborts here (its 'smallzoi' check)")
        es = {g: get("eshare", g, h=h) for g in G}
        total = sum(es.values())
        if total <= 0:
            raise WorkbookError(f"household group '{h}' has no budget shares (eshare) summing above 0",
                                file=path, cell=wb.cell("eshare", household=h), label=h)
        if abs(total - 1) > _TOL:
            log.append(f"eshare(·, {h}) sums to {_fmt(total)}: rescaled to 1, as GAMS does "
                       "(eshare_dr = eshare / sum(g, eshare))")
        for g in G:
            emin = get("emin", g, h=h)
            if emin:
                log.append(f"{wb.cell('emin', g, household=h)}: emin({g}, {h}) = {_fmt(emin)} ignored: the GAMS "
                           "calibration sets emin = 0")
        budget[h] = es

    # ---- production: output, input shares, factor shares
    qp, idsh, fsh = {}, {}, {}
    for h in H:
        for g in G:
            q = get("QP", g, h=h) * count[h]
            if q == 0:
                continue
            if q < 0:
                raise WorkbookError(f"QP({g}, {h}) = {_fmt(q / count[h])} is negative", file=path,
                                    cell=wb.cell("QP", g, household=h), label=g)
            qp[g, h] = q
            idsh[g, h] = {gg: get("idsh", g, gg, h=h) for gg in G}
            bought = sum(q * s for s in idsh[g, h].values() if s)
            va = q - bought
            if va <= 0:
                raise WorkbookError(f"activity {g} of '{h}': intermediate input shares idsh({g}, ·, {h}) sum to "
                                    f"{_fmt(1 - va / q)} >= 1, leaving no value added", file=path,
                                    cell=wb.cell("idsh", g, household=h) or wb.cell("QP", g, household=h), label=g)
            fs = {f: get("fshare", g, "", f, h=h) for f in F}
            total = sum(fs.values())
            if total <= 0:
                raise WorkbookError(f"activity {g} of '{h}' has output (QP) but no factor shares (fshare)",
                                    file=path, cell=wb.cell("QP", g, household=h), label=g)
            if abs(total - 1) > _TOL:
                log.append(f"fshare({g}, ·, {h}) sums to {_fmt(total)}: rescaled to 1, as GAMS does "
                           "(fshare_dr = fshare / sum(f, fshare)), so value added = sum of factor payments")
            fsh[g, h] = fs
    # factor shares of households or goods with no output are kept in the parameter table only
    paid = [(g, f, h) for (g, h), fs in fsh.items() for f, s in fs.items() if s]
    used_factors = [f for f in F if any(ff == f for _, ff, _ in paid)]
    for f in used_factors:
        if f not in classes:
            where_used = next(f"{g}/{h}" for g, ff, h in paid if ff == f)
            raise WorkbookError(f"factor '{f}' is used (e.g. by {where_used}) but is not classified: list it in "
                                "fixed_factors, labour_factors or input_factors", file=path,
                                field="factors", label=f)

    # ---- factor endowments: every village that uses labour has working-age members to supply it
    economy = EconomyShares(output=qp, input_shares=idsh, factor_shares=fsh, income=Y, budget_shares=budget,
                            leakage_rates=rates, factor_kinds={f: classes[f] for f in used_factors},
                            village_of=village_of,
                            labour_weights={h: get("wrkagepop", h=h) * count[h] for h in H},
                            labour_total="zone" if gams_compat else "used")
    labour = [f for f in used_factors if classes[f] == "labour"]
    if labour:
        fds = factor_payments(value_added(qp, idsh, gams_order=True), fsh, gams_order=True)
        used = labour_used({k: v for k, v in fds.items() if k[1] in labour}, labour, village_of)
        for f in labour:
            zone_total = sum(u for (ff, _), u in used.items() if ff == f)
            for v in villages:
                members = [h for h in H if village_of[h] == v]
                total = zone_total if gams_compat else used.get((f, v), 0.0)
                if total and sum(economy.labour_weights[h] for h in members) <= 0:
                    raise WorkbookError(f"village '{v}' uses {f} but none of its groups has working-age members "
                                        "(wrkagepop), so its labour endowment cannot be split", file=path,
                                        cell=wb.cell("wrkagepop", household=members[0]) if members else None,
                                        label=v)
            if len(villages) > 1:
                log.append(f"labour endowment of {f}: " + (
                    "gams_compat: each village's share (wrkagepop·HHNum) is applied to the labour used in the "
                    "whole zone, as the GAMS code does (endow = shfl·sum((hh,g), FD)), so the zone supplies "
                    f"{len(villages)}× the labour it uses" if gams_compat else
                    "the labour used in each village is split across its groups (the reference rule); the GAMS "
                    "code applies the village shares to the zone-wide total instead (gams_compat=True)"))

    # ---- the SAM (lewie.sam.shares), goods and factors that carry a flow, activities good by good
    goods_used = [g for g in G if any(k[0] == g for k in qp) or (any(budget[h][g] for h in H))
                  or any(s and gg == g for shares in idsh.values() for gg, s in shares.items())]
    for g in G:
        if g not in goods_used:
            log.append(f"good '{g}' is declared but has no output, consumption or input use: left out of the SAM")
    sam = sam_from_shares(economy, activities=[(g, h) for g in G for h in H if (g, h) in qp], goods=goods_used,
                          factors=used_factors, households=H, gams_order=True)
    world = "out:world"
    for h in H:
        exinc = sam.at[f"hh:{h}", world]
        if exinc < 0:
            log.append(f"exogenous income of '{h}' is negative ({_fmt(exinc)}): factor income exceeds "
                       "income Y = HHexp·HHNum (GAMS keeps it)")
    rows = sam.sum(axis=1)
    cols = sam.sum(axis=0)
    scale = max(1.0, float(np.abs(sam.to_numpy()).max()))
    off = (rows - cols).abs()
    if (off > 1e-9 * scale).any():  # cannot happen: every account is closed
        raise AssertionError(f"workbook SAM does not balance: {off[off > 1e-9 * scale].to_dict()}")

    params = _parameter_table(wb, H, bad_keys, log)
    counts = pd.DataFrame([("household_count", "", "", "", h, float(count[h]), 0.0) for h in H],
                          columns=PARAMETER_COLUMNS)
    params = pd.concat([params, counts], ignore_index=True)
    return WorkbookEconomy(sam=sam, parameters=params, household_count=count, log=log,
                           redraws={"|".join(k): v for k, v in redrawn.items()})


def _parameter_table(wb: Workbook, H: list[str], bad_keys: set, log: list[str]) -> pd.DataFrame:
    """Point estimates and standard errors of the shares GAMS draws or uses, in lewie's names.

    Values are the workbook's point estimates as given (not rescaled): the Monte Carlo module draws
    around them and rescales each draw, as the GAMS code does.
    """
    out = []
    rows_of: dict[str, list] = {}  # the data's rows by variable (lower case), in order: wb.entries(var) of each
    for r in wb.data.itertuples(index=False):
        rows_of.setdefault(r.var.lower(), []).append(r)
    for name, var in GAMS_PARAMETER.items():
        keys: dict[tuple, list[float]] = {}
        for k, v in ((0, var), (1, var + "_se")):
            for r in rows_of.get(v.lower(), []):
                if r.household not in H:
                    continue
                if (r.var.lower(), r.good.lower(), r.good2.lower(), r.factor.lower(), r.household.lower()) in bad_keys:
                    continue
                keys.setdefault((r.good, r.good2, r.factor, r.household), [0.0, 0.0])[k] = r.value
        for (g, gg, f, h), (v, se) in keys.items():
            if v == 0 and se == 0:
                continue
            if v == 0:
                log.append(f"{var}({', '.join(x for x in (g, gg, f, h) if x)}) has a standard error "
                           f"({_fmt(se)}) but no estimate: GAMS draws around 0 for it without correcting "
                           "a negative draw")
            out.append((name, g, gg, f, h, v, se))
    return pd.DataFrame(out, columns=PARAMETER_COLUMNS)


