"""Shares ↔ SAM: the one place a household-group SAM is built from shares, and shares read back from it.

Pure functions on plain mappings (keys are tuples of labels, kept in the caller's order) and pandas
SAMs, in pairs: each builder of flows has its inverse that reads the shares back from the flows, and
every docstring gives the formula in LEWIE notation (the GAMS calibration, ``4b_Calibration.gms``):

==========================  ===================================  ==========================================
flows                       ↔ shares                             formula
==========================  ===================================  ==========================================
`input_flows`               `input_shares`                       ``ID(g,gg,h) = idsh(g,gg,h)·QP(g,h)``
`value_added`               (its inverse is `input_shares`)      ``VA(g,h) = QP(g,h)·(1 − Σ_gg idsh(g,gg,h))``
`factor_payments`           `factor_shares`                      ``FD(g,f,h) = VA(g,h)·fshare(g,f,h)/Σ_f fshare``
`consumption`               `budget_shares`                      ``QC(g,h) = Y(h)·(1 − Σ_l rate(l,h))·β(g,h)/Σ_g β``
`fixed_factor_rents`        (read from the SAM's hh × fac cells) ``rent(f,h) = Σ_g FD(g,f,h)``
`labour_endowments`         `labour_weights`                     ``HFSUP(f,h) = T(f,v)·w(h)/Σ_{h'∈v} w(h')``
`exogenous_income`          (read from the SAM's hh × world)     ``exinc(h) = Y(h) − Σ_f HFSUP(f,h)``
`close_trade`               `net_trade`                          imports − exports = receipts − payments
`sam_from_shares`           `shares_from_sam`                    the whole economy
==========================  ===================================  ==========================================

The closure of the SAM (lewie account labels, `lewie.sam.accounts`): purchased inputs are bought from
the world (``out:world`` pays nothing for them: their whole payment is an import), net trade with the
world closes every commodity and every non-fixed factor account (imports in the world row, exports in
the world column), the leakages (savings, transfers out, spending outside) go to the world, and
exogenous income (transfers in, remittances; it may be negative) closes each household account.

Users: the workbook calibration (`lewie.sam.workbook_calibration`), the country builder
(``tools/build_case.py``), the example generator (``tools/make_example_sam.py``) and the benchmark
economies (``benchmarks/economies.py``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lewie.errors import SAMError

from lewie.sam.accounts import LEAKAGES, account, parse_account

__all__ = [
    "FACTOR_KINDS", "LABOUR_TOTALS", "SHARE_TOL", "EconomyShares", "input_flows", "input_shares", "value_added",
    "factor_payments", "factor_shares", "consumption", "budget_shares", "fixed_factor_rents", "labour_used",
    "labour_endowments", "labour_weights", "exogenous_income", "close_trade", "net_trade",
    "sam_from_shares", "shares_from_sam",
]

FACTOR_KINDS = ("fixed", "labour", "input")
"""fixed: activity-specific, its rent goes to the group running the activity; labour: supplied by the
households of the village; input: purchased from outside."""
SHARE_TOL = 1e-9
"""Shares summing to 1 within this are used as given (the difference is rounding); others are rescaled."""
LABOUR_TOTALS = ("used", "zone")
"""How much labour a village supplies (besides a per-village ratio): the labour used by its activities,
or (``zone``, the published GAMS code) the labour used in the whole zone."""

Activity = tuple[str, str]  # (good, household)


# ------------------------------------------------------------------------------------------------
# production
# ------------------------------------------------------------------------------------------------
def input_flows(output: Mapping[Activity, float],
                input_shares: Mapping[Activity, Mapping[str, float]]) -> dict[tuple[str, str, str], float]:
    """Intermediate inputs ``ID(g,gg,h) = idsh(g,gg,h)·QP(g,h)``: activity (g, h) buys good gg.

    ``output``: QP by activity (good, household); ``input_shares``: idsh by activity and input good
    (an activity without an entry buys no inputs; zero shares give no flow). Keys in activity order.
    """
    out: dict[tuple[str, str, str], float] = {}
    for (g, h), q in output.items():
        for gg, s in input_shares.get((g, h), {}).items():
            if s:
                out[g, gg, h] = q * s
    return out


def input_shares(output: Mapping[Activity, float],
                 flows: Mapping[tuple[str, str, str], float]) -> dict[Activity, dict[str, float]]:
    """The inverse of `input_flows`: ``idsh(g,gg,h) = ID(g,gg,h)/QP(g,h)``."""
    out: dict[Activity, dict[str, float]] = {}
    for (g, gg, h), v in flows.items():
        if v:
            out.setdefault((g, h), {})[gg] = v / output[g, h]
    return out


def value_added(output: Mapping[Activity, float], input_shares: Mapping[Activity, Mapping[str, float]], *,
                gams_order: bool = False) -> dict[Activity, float]:
    """Value added ``VA(g,h) = QP(g,h)·(1 − Σ_gg idsh(g,gg,h))``; with ``gams_order`` evaluated as the
    GAMS calibration does, ``QP − Σ_gg ID`` (the same to rounding). Its inverse is `input_shares`
    (``Σ idsh = 1 − VA/QP``)."""
    if gams_order:
        return {(g, h): q - sum(q * s for s in input_shares.get((g, h), {}).values() if s)
                for (g, h), q in output.items()}
    return {(g, h): q * (1 - sum(input_shares.get((g, h), {}).values())) for (g, h), q in output.items()}


def _rescaled(shares: Mapping[str, float], gams_order: bool) -> tuple[float, bool]:
    total = sum(shares.values())
    return total, gams_order or abs(total - 1) > SHARE_TOL


def factor_payments(value_added: Mapping[Activity, float], factor_shares: Mapping[Activity, Mapping[str, float]],
                    *, gams_order: bool = False) -> dict[tuple[str, str, str], float]:
    """Factor payments ``FD(g,f,h) = VA(g,h)·fshare(g,f,h)/Σ_f fshare(g,f,h)``.

    The shares are rescaled to sum to 1 over factors, as the GAMS code does in every draw
    (``fshare_dr = fshare / sum(fa, fshare)``), so value added is the sum of the factor payments;
    shares summing to 1 within `SHARE_TOL` (rounding) are used as given, unless ``gams_order`` (GAMS
    rescales them all). Keys ``(g, f, h)`` in activity
    order, then factor order; zero shares give no payment.
    """
    out: dict[tuple[str, str, str], float] = {}
    for (g, h), va in value_added.items():
        shares = factor_shares.get((g, h), {})
        total, rescale = _rescaled(shares, gams_order)
        for f, s in shares.items():
            if s:
                out[g, f, h] = va * s / total if rescale else va * s
    return out


def factor_shares(payments: Mapping[tuple[str, str, str], float]) -> dict[Activity, dict[str, float]]:
    """The inverse of `factor_payments`: ``fshare(g,f,h) = FD(g,f,h)/Σ_f FD(g,f,h)``."""
    by_activity: dict[Activity, dict[str, float]] = {}
    for (g, f, h), v in payments.items():
        by_activity.setdefault((g, h), {})[f] = v
    return {a: {f: v / sum(fs.values()) for f, v in fs.items()} for a, fs in by_activity.items()}


# ------------------------------------------------------------------------------------------------
# households
# ------------------------------------------------------------------------------------------------
def consumption(income: Mapping[str, float], budget_shares: Mapping[str, Mapping[str, float]],
                leakage_rates: Mapping[str, Mapping[str, float]], *, gams_order: bool = False
                ) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """Local consumption and leakages of each household group: ``(QC, leakages)``.

    ``QC(g,h) = Y(h)·(1 − Σ_l rate(l,h))·β(g,h)/Σ_g β(g,h)`` (budget shares rescaled to sum to 1, as
    GAMS does: ``eshare_dr = eshare / sum(g, eshare)``, unless they do within `SHARE_TOL` and not
    ``gams_order``; ``emin`` = 0) and ``leakage(l,h) = rate(l,h)·Y(h)``
    for l in savings (``SAV = savsh·Y``), transfers (``TROUT = transfout·Y``) and spending outside
    (``EXPROC = EXPROLES·Y``); a missing rate is 0. Keys ``(g, h)`` and ``(l, h)``.
    """
    qc: dict[tuple[str, str], float] = {}
    leak: dict[tuple[str, str], float] = {}
    for h, y in income.items():
        rates = leakage_rates.get(h, {})
        local = y * (1 - sum(rates.get(k, 0.0) for k in LEAKAGES))
        shares = budget_shares[h]
        total, rescale = _rescaled(shares, gams_order)
        for g, b in shares.items():
            if b:
                qc[g, h] = local * b / total if rescale else local * b
        for k in LEAKAGES:
            leak[k, h] = rates.get(k, 0.0) * y
    return qc, leak


def budget_shares(qc: Mapping[tuple[str, str], float], leakages: Mapping[tuple[str, str], float]
                  ) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """The inverse of `consumption`: ``(Y, β, rates)`` with ``Y(h) = Σ_g QC(g,h) + Σ_l leakage(l,h)``,
    ``β(g,h) = QC(g,h)/Σ_g QC(g,h)`` and ``rate(l,h) = leakage(l,h)/Y(h)``."""
    spent: dict[str, dict[str, float]] = {}
    for (g, h), v in qc.items():
        spent.setdefault(h, {})[g] = v
    leaked: dict[str, dict[str, float]] = {}
    for (k, h), v in leakages.items():
        leaked.setdefault(h, {})[k] = v
    households = list(dict.fromkeys([*spent, *leaked]))
    income = {h: sum(spent.get(h, {}).values()) + sum(leaked.get(h, {}).values()) for h in households}
    shares = {h: {g: v / sum(spent[h].values()) for g, v in spent[h].items()} for h in households if h in spent}
    rates = {h: {k: leaked.get(h, {}).get(k, 0.0) / income[h] for k in LEAKAGES} for h in households}
    return income, shares, rates


# ------------------------------------------------------------------------------------------------
# factor endowments
# ------------------------------------------------------------------------------------------------
def fixed_factor_rents(payments: Mapping[tuple[str, str, str], float],
                       fixed: Iterable[str]) -> dict[tuple[str, str], float]:
    """Rent of each fixed (activity-specific) factor to the group running the activity:
    ``rent(f,h) = Σ_g FD(g,f,h)``, summed in the payments' order. Keys ``(f, h)``."""
    fixed = set(fixed)
    parts: dict[tuple[str, str], list[float]] = {}
    for (g, f, h), v in payments.items():
        if f in fixed:
            parts.setdefault((f, h), []).append(v)
    return {k: sum(v) for k, v in parts.items()}


def labour_used(payments: Mapping[tuple[str, str, str], float], labour: Iterable[str],
                village_of: Mapping[str, str]) -> dict[tuple[str, str], float]:
    """Labour used by each village's activities: ``U(f,v) = Σ_{g, h∈v} FD(g,f,h)``. Keys ``(f, v)``,
    factors in ``labour`` order, villages in ``village_of`` order (0 when none is used)."""
    parts: dict[tuple[str, str], list[float]] = {}
    for (g, f, h), v in payments.items():
        parts.setdefault((f, village_of[h]), []).append(v)
    villages = list(dict.fromkeys(village_of.values()))
    return {(f, v): sum(parts.get((f, v), ())) for f in labour for v in villages}


def _weight(weights: Mapping, f: str, h: str) -> float:
    return float(weights[f, h]) if (f, h) in weights else float(weights.get(h, 0.0))


def _ratio(total: Mapping, f: str, v: str) -> float:
    return float(total[f, v]) if (f, v) in total else float(total[v])


def labour_endowments(payments: Mapping[tuple[str, str, str], float], labour: Iterable[str],
                      village_of: Mapping[str, str], weights: Mapping, total: str | Mapping = "used"
                      ) -> dict[tuple[str, str], float]:
    """Labour endowment of each household group: ``HFSUP(f,h) = T(f,v)·w(h)/Σ_{h'∈v} w(h')``.

    The labour ``T(f,v)`` a village supplies is split across its groups in proportion to their
    weights ``w`` (the GAMS ``wrkagepop·HHNum``: working-age members); ``weights`` is keyed by group
    (every labour factor alike) or by ``(f, h)``. ``total`` is the rule for ``T``:

    * ``"used"``: the labour its own activities use, ``T(f,v) = U(f,v)`` (`labour_used`; the reference rule);
    * ``"zone"``: the labour used in the whole zone, ``T(f,v) = Σ_v' U(f,v')``, as the published GAMS
      code does (``endow = shfl·sum((hh,g), FD)``: the zone supplies one total per village);
    * a mapping village (or ``(f, v)``) -> ratio: ``T(f,v) = ratio·U(f,v)`` (above 1: its people also
      work outside; below 1: it hires from outside).

    A village with labour to supply whose groups all have zero weight is a ValueError (the caller names
    the input). Keys ``(f, h)``, factors in ``labour`` order, groups in ``village_of`` order.
    """
    labour = list(labour)
    used = labour_used(payments, labour, village_of)
    if isinstance(total, str) and total not in LABOUR_TOTALS:
        raise ValueError(f"labour total rule '{total}' is not one of {LABOUR_TOTALS} or a mapping of ratios")
    out: dict[tuple[str, str], float] = {}
    for f in labour:
        zone = sum(x for (_, ff, _), x in payments.items() if ff == f)
        for v in dict.fromkeys(village_of.values()):
            members = [h for h, vv in village_of.items() if vv == v]
            supply = (used[f, v] if total == "used" else zone if total == "zone"
                      else _ratio(total, f, v) * used[f, v])  # type: ignore[arg-type]
            w = {h: _weight(weights, f, h) for h in members}
            wsum = sum(w.values())
            if supply and wsum <= 0:
                raise ValueError(f"village '{v}' supplies {f} but none of its groups has a positive weight")
            for h in members:
                if w[h] and supply:
                    out[f, h] = supply * w[h] / wsum
    return out


def labour_weights(endowments: Mapping[tuple[str, str], float], payments: Mapping[tuple[str, str, str], float],
                   village_of: Mapping[str, str]) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """The inverse of `labour_endowments` with a ratio rule: ``(w, ratio)`` with
    ``w(f,h) = HFSUP(f,h)/Σ_{h'∈v} HFSUP(f,h')`` (weights normalised within each village) and
    ``ratio(f,v) = Σ_{h∈v} HFSUP(f,h)/U(f,v)`` (1 when the village uses none of it: nothing to scale)."""
    labour = list(dict.fromkeys(f for f, _ in endowments))
    used = labour_used({k: v for k, v in payments.items() if k[1] in labour}, labour, village_of)
    supplied: dict[tuple[str, str], float] = {}
    for (f, h), x in endowments.items():
        supplied[f, village_of[h]] = supplied.get((f, village_of[h]), 0.0) + x
    w = {(f, h): x / supplied[f, village_of[h]] for (f, h), x in endowments.items() if x}
    ratio = {(f, v): (supplied.get((f, v), 0.0) / u if u else 1.0) for (f, v), u in used.items()}
    return w, ratio


# ------------------------------------------------------------------------------------------------
# closure
# ------------------------------------------------------------------------------------------------
def exogenous_income(sam: pd.DataFrame, households: Iterable[str],
                     income: Mapping[str, float] | None = None) -> dict[str, float]:
    """Exogenous income ``exinc(h) = Y(h) − Σ_f HFSUP(f,h)`` that closes each household account:
    its payments (``Y = Σ_g QC + Σ_l leakage``, the column) minus its receipts so far (factor income,
    the row before ``out:world`` is filled). With ``income`` (the GAMS order), ``Y`` is that income
    rather than the column sum (the same to rounding). It may be negative (factor income above Y).
    The inverse is the SAM's ``hh:h × out:world`` cell."""
    out = {}
    for h in households:
        hh = account("hh", h)
        out[h] = (income[h] if income is not None else sam[hh].sum()) - sam.loc[hh].sum()
    return out


def close_trade(sam: pd.DataFrame, accounts: Iterable[str]) -> pd.DataFrame:
    """Close each account by trade with the outside, in place: ``gap = receipts − payments`` (row sum
    minus column sum); a positive gap is bought from the world (imports: ``out:world`` row), a
    negative one sold to it (exports: ``out:world`` column). Returns ``sam``."""
    world = account("out", "world")
    for acc in accounts:
        gap = sam.loc[acc].sum() - sam[acc].sum()  # receipts minus payments
        if gap > 0:
            sam.at[world, acc] += gap  # imports
        else:
            sam.at[acc, world] += -gap  # exports
    return sam


def net_trade(sam: pd.DataFrame) -> dict[str, float]:
    """The inverse of `close_trade`: net imports (imports − exports) of every commodity and factor."""
    world = account("out", "world")
    return {a: float(sam.at[world, a] - sam.at[a, world]) for a in sam.index if a.split(":")[0] in ("com", "fac")}


# ------------------------------------------------------------------------------------------------
# the whole economy
# ------------------------------------------------------------------------------------------------
@dataclass
class EconomyShares:
    """An economy as shares: what `sam_from_shares` builds a SAM from and `shares_from_sam` reads back.

    ``output`` is ``QP`` by activity (good, household); ``input_shares`` and ``factor_shares`` are by
    activity; ``income`` is ``Y`` by household group, ``budget_shares`` and ``leakage_rates``
    (savings, transfers, spending) by group; ``factor_kinds`` classifies each factor (`FACTOR_KINDS`);
    ``village_of`` gives each group's village; ``labour_weights`` and ``labour_total`` are the
    endowment rule of `labour_endowments`. Mapping order is kept: it is the order of the sums.
    """

    output: dict[Activity, float]
    input_shares: dict[Activity, dict[str, float]]
    factor_shares: dict[Activity, dict[str, float]]
    income: dict[str, float]
    budget_shares: dict[str, dict[str, float]]
    leakage_rates: dict[str, dict[str, float]]
    factor_kinds: dict[str, str]
    village_of: dict[str, str]
    labour_weights: dict = field(default_factory=dict)
    labour_total: str | dict = "used"


@dataclass
class _Flows:
    ids: dict
    va: dict
    fds: dict
    qc: dict
    leak: dict
    rents: dict
    endow: dict


def _flows(e: EconomyShares, gams_order: bool) -> _Flows:
    for f, kind in e.factor_kinds.items():
        if kind not in FACTOR_KINDS:
            raise ValueError(f"factor '{f}' has kind '{kind}', not one of {FACTOR_KINDS}")
    ids = input_flows(e.output, e.input_shares)
    va = value_added(e.output, e.input_shares, gams_order=gams_order)
    fds = factor_payments(va, e.factor_shares, gams_order=gams_order)
    qc, leak = consumption(e.income, e.budget_shares, e.leakage_rates, gams_order=gams_order)
    fixed = [f for f, k in e.factor_kinds.items() if k == "fixed"]
    labour = [f for f, k in e.factor_kinds.items() if k == "labour"]
    rents = fixed_factor_rents(fds, fixed)
    endow = labour_endowments({k: v for k, v in fds.items() if k[1] in labour}, labour, e.village_of,
                              e.labour_weights, e.labour_total)
    return _Flows(ids, va, fds, qc, leak, rents, endow)


def sam_from_shares(e: EconomyShares, *, activities: Iterable[Activity] | None = None,
                    goods: Iterable[str] | None = None, factors: Iterable[str] | None = None,
                    households: Iterable[str] | None = None, gams_order: bool = False) -> pd.DataFrame:
    """The balanced SAM of an economy given as shares.

    Flows: ``QP`` (activity → commodity), ``ID = idsh·QP`` (commodity → activity), ``FD = VA·fshare``
    (factor → activity), fixed-factor rents and labour endowments (household → factor), ``QC`` and the
    leakages (commodity / outside → household), the leakages passed on to the world; then `close_trade`
    for every commodity and every labour and purchased factor (a purchased input is all imports), and
    ``exinc = Y − factor income`` (`exogenous_income`, payments minus receipts) in the household ×
    ``out:world`` cell.

    Accounts: ``act`` (``activities``: default the order of ``e.output``), ``com`` (``goods``: default the
    goods met in output, inputs and consumption, in that order), ``fac`` (``factors``: default the
    factors paid, in order of ``e.factor_kinds``), ``hh`` (``households``: default ``e.income``'s order),
    then ``out:world`` and the leakages. A flow to an account not listed is a ValueError.

    ``gams_order``: evaluate as the published GAMS calibration does (``VA = QP − Σ ID``, factor and
    budget shares rescaled even when they sum to 1 to rounding, ``exinc = Y − factor income``), so a
    GAMS workbook's SAM is the one GAMS computes to the last bit; otherwise ``VA = QP·(1 − Σ idsh)``,
    shares summing to 1 within `SHARE_TOL` are used as given and ``exinc`` closes the household account
    exactly (payments − receipts). The two differ by rounding only.
    """
    fl = _flows(e, gams_order)
    acts = list(activities) if activities is not None else list(e.output)
    if goods is None:
        goods = list(dict.fromkeys([g for g, _ in e.output] + [gg for _, gg, _ in fl.ids] + [g for g, _ in fl.qc]))
    if factors is None:
        paid = {f for _, f, _ in fl.fds}
        factors = [f for f in e.factor_kinds if f in paid]
    goods, factors = list(goods), list(factors)
    H = list(households) if households is not None else list(e.income)
    labels = ([account("act", g, h) for g, h in acts] + [account("com", g) for g in goods]
              + [account("fac", f) for f in factors] + [account("hh", h) for h in H]
              + [account("out", o) for o in ("world", *LEAKAGES)])
    at = {a: i for i, a in enumerate(labels)}
    if len(at) != len(labels):
        twice = sorted({a for a in labels if labels.count(a) > 1})
        raise ValueError(f"accounts listed twice: {', '.join(twice)}")
    x = np.zeros((len(labels), len(labels)))  # the flows, summed in a numpy array (per-cell pandas access is slow)

    def put(row: str, col: str, v: float) -> None:
        if row not in at or col not in at:
            raise ValueError(f"flow {row} ← {col} ({v:g}) has no account in the SAM's account list")
        x[at[row], at[col]] += v

    for (g, h), q in e.output.items():
        put(account("act", g, h), account("com", g), q)
    for (g, gg, h), v in fl.ids.items():
        put(account("com", gg), account("act", g, h), v)
    for (g, f, h), v in fl.fds.items():
        put(account("fac", f), account("act", g, h), v)
    for (f, h), v in {**fl.rents, **fl.endow}.items():
        put(account("hh", h), account("fac", f), v)
    for (g, h), v in fl.qc.items():
        put(account("com", g), account("hh", h), v)
    for (k, h), v in fl.leak.items():
        put(account("out", k), account("hh", h), v)
    # a view of x, laid out as pd.DataFrame(0.0, ...) lays it out (so the sums below add in the same order)
    sam = pd.DataFrame(x, index=pd.Index(labels, name="row"), columns=pd.Index(labels, name="column"), copy=False)
    world = account("out", "world")
    for k in LEAKAGES:
        sam.at[world, account("out", k)] = sam.loc[account("out", k)].sum()
    close_trade(sam, [account("com", g) for g in goods]
                + [account("fac", f) for f in factors if e.factor_kinds.get(f) != "fixed"])
    for h, x in exogenous_income(sam, H, {h: e.income[h] for h in H} if gams_order else None).items():
        sam.at[account("hh", h), world] = x
    return sam


def _kinds_from_sam(sam: pd.DataFrame, fds: dict, endow: dict) -> dict[str, str]:
    kinds = {}
    for f in dict.fromkeys([f for _, f, _ in fds] + [f for f, _ in endow]):
        received = {(ff, h): v for (ff, h), v in endow.items() if ff == f}
        if not received:
            kinds[f] = "input"
            continue
        own = fixed_factor_rents({k: v for k, v in fds.items() if k[1] == f}, [f])
        world = account("out", "world")
        traded = sam.at[world, account("fac", f)] or sam.at[account("fac", f), world]
        same = set(own) == set(received) and all(abs(own[k] - received[k]) <= 1e-5 + 1e-9 * abs(own[k])
                                                 for k in own)  # 1e-5: a SAM written to 6 decimals
        kinds[f] = "fixed" if same and not traded else "labour"
    return kinds


def shares_from_sam(sam: pd.DataFrame, *, factor_kinds: Mapping[str, str] | None = None,
                    village_of: Mapping[str, str] | None = None) -> EconomyShares:
    """The inverse of `sam_from_shares`: the shares of a lewie SAM.

    ``QP`` = act × com cells, ``idsh = ID/QP``, ``fshare = FD/VA`` (`factor_shares`), ``Y`` = the
    household's payments (consumption + leakages), ``β = QC/Σ QC`` and ``rate = leakage/Y``
    (`budget_shares`), labour weights and village ratios (`labour_weights`).

    ``factor_kinds`` defaults to what the SAM shows: a factor no household receives is a purchased
    input; one whose receipts are each group's own payments for it (to 1e-5, a SAM written to 6
    decimals), untraded, is fixed; any other is labour. ``village_of`` defaults to one village per
    household group (then a group's weight is 1 and its ratio its supply over the labour its own
    activities use).
    """
    parsed = {a: parse_account(a) for a in sam.index}
    if list(sam.index) != list(sam.columns):
        raise SAMError("the SAM's rows and columns must list the same accounts in the same order")
    acts = [(p.name, p.household) for p in parsed.values() if p.kind == "act"]
    H = [p.name for p in parsed.values() if p.kind == "hh"]
    output = {(g, h): float(sam.at[account("act", g, h), account("com", g)]) for g, h in acts}
    ids, fds, qc, leak, endow = {}, {}, {}, {}, {}
    for g, h in acts:
        col = sam[account("act", g, h)]
        for a, v in col.items():
            p = parsed[a]
            if v and p.kind == "com":
                ids[g, p.name, h] = float(v)
            elif v and p.kind == "fac":
                fds[g, p.name, h] = float(v)
    for h in H:
        col = sam[account("hh", h)]
        for a, v in col.items():
            p = parsed[a]
            if p.kind == "com" and v:
                qc[p.name, h] = float(v)
            elif p.kind == "out" and p.name in LEAKAGES:
                leak[p.name, h] = float(v)
        row = sam.loc[account("hh", h)]
        for a, v in row.items():
            if parsed[a].kind == "fac" and v:
                endow[parsed[a].name, h] = float(v)
    kinds = dict(factor_kinds) if factor_kinds is not None else _kinds_from_sam(sam, fds, endow)
    village_of = dict(village_of) if village_of is not None else {h: h for h in H}
    income, beta, rates = budget_shares(qc, leak)
    labour = [f for f, k in kinds.items() if k == "labour"]
    weights, ratio = labour_weights({k: v for k, v in endow.items() if k[0] in labour},
                                    {k: v for k, v in fds.items() if k[1] in labour}, village_of)
    return EconomyShares(output=output, input_shares=input_shares(output, ids),
                         factor_shares=factor_shares(fds), income={h: income.get(h, 0.0) for h in H},
                         budget_shares=beta, leakage_rates=rates, factor_kinds=kinds, village_of=village_of,
                         labour_weights=weights, labour_total=ratio)
