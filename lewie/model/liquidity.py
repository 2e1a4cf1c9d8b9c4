"""A liquidity constraint on purchased inputs that keeps the books.

A household group h that buys input f for activity g with the cash it has at planting time spends a
fixed budget instead of what the first-order condition asks for::

    w_f·FD(g,f,h) = B(g,f,h) + F(g,f,h)          (B: own cash [pibudget]; F: outside finance)

The constraint's shadow price λ is the marginal value product of a unit of money spent on the input:
``λ·w_f·FD = PVA·QP·fshare``. λ > 1 means the constraint binds (a unit more of inputs would earn λ).
Its rent ``RL = PVA·QP·fshare − w_f·FD = (λ − 1)·w_f·FD`` is what the activity earns above its
factor payments because inputs are scarce: it is income of the household that holds the constraint
(`lewie.model.declaration`, ``eq_liquidity_rent`` and ``eq_income``), so that every activity account closes::

    PH·QP = Σ_gg PH_gg·ID + Σ_f price_f·FD + RL

Calibration from a SAM with a given base shadow price λ0 (``[input_budget] shadow_price``): the SAM's
payment to the input is the budget B; the input's share of value added is ``λ0·B / VA``; the base
rent (λ0 − 1)·B is part of what the SAM records as returns to the activity's fixed factors (residual
profit), so it is taken out of them in proportion (`recalibrated_budget_uses`). Household incomes and the SAM
are unchanged; the activity needs fixed factors that earn more than the rent.

Who pays for the purchases: they are costs of the activity, so out of the household's own money;
savings-group credit (``kind = "input_budget"``) relaxes B without new money (the loan is repaid from
the harvest within the year); a cash transfer with ``input_budget_share`` σ pays σ of itself for
inputs (F, taken out of the transfer: the rest is exogenous income) — the transfer's total is
unchanged, σ of it is spent on inputs first.

Under ``gams_compat`` the published GAMS form is kept: the rent is income of nobody (the activity
account does not close) and λ0 must be 1.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from lewie.errors import CalibrationError, InputError


def resolve_shadow_prices(value, activities, constrained, *, file=None, default: float = 1.0
                          ) -> dict[tuple[str, str], float]:
    """Base shadow price λ0 of each constrained activity (g, h) (``constrained``: (factor, household)
    pairs; the activities that use them are found later, so every (g, h) with a constrained h is given)."""
    field = "input_budget.shadow_price"
    hh = {h for _, h in constrained}
    acts = [(g, h) for g, h in activities if h in hh]
    if not isinstance(value, Mapping):
        return {a: float(value) for a in acts}
    goods = tuple(dict.fromkeys(g for g, _ in acts))
    out = {a: default for a in acts}
    for g, v in value.items():
        if g not in goods:
            from lewie.errors import unknown_label
            raise InputError(unknown_label("activity of a constrained household", g, goods), file=file,
                             field=f"{field}.{g}", label=g)
        if isinstance(v, Mapping):
            for h, x in v.items():
                if (g, h) not in out:
                    runs = [hh_ for gg, hh_ in acts if gg == g]
                    raise InputError(f"household '{h}' runs no budget-constrained activity '{g}' (run by {runs})",
                                     file=file, field=f"{field}.{g}", label=h)
                out[g, h] = float(x)
        else:
            for a in acts:
                if a[0] == g:
                    out[a] = float(v)
    return out


def check_base_rent(payments: Mapping[tuple[str, str, str], float], budget_uses, fixed_factors,
                    shadow: Mapping[tuple[str, str], float]) -> None:
    """Whether each activity's fixed factors can pay the base rent of its budget uses.

    ``payments``: the SAM's factor payments per use (g, f, h); a budget use pays B and has base rent
    (λ0 − 1)·B, which `recalibrated_budget_uses` takes out of the fixed-factor payments of the same
    activity in proportion: the activity needs fixed factors, earning more than that rent.
    """
    by_act: dict[tuple[str, str], float] = {}
    for k in budget_uses:
        g, _, h = k
        by_act[g, h] = by_act.get((g, h), 0.0) + (shadow.get((g, h), 1.0) - 1.0) * payments[k]
    for (g, h), r in by_act.items():
        if r == 0.0:
            continue
        fixed = [v for k, v in payments.items() if k[0] == g and k[2] == h and k[1] in fixed_factors]
        total = sum(fixed)
        if not fixed:
            raise CalibrationError(f"activity 'act:{g}:{h}': a shadow price above 1 gives its purchased inputs a "
                                   f"base rent of {r:g}, which the SAM records as returns to the activity's fixed "
                                   "factors, but it has none; give shadow_price = 1 for it")
        if not r < total:
            raise CalibrationError(f"activity 'act:{g}:{h}': the base rent of its budget-constrained inputs "
                                   f"({r:g}, from the shadow price) is not below the returns to its fixed factors "
                                   f"({total:g}); a lower shadow price is needed")


def recalibrated_budget_uses(pay: np.ndarray, budget_cols: np.ndarray, shadow: np.ndarray, fixed_use: np.ndarray,
                             activity_of_use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quantities and base rents of D draws at once: ``pay`` (D, U) the SAM-view payments of every factor use,
    ``budget_cols`` the budget uses' columns with base shadow prices ``shadow``, ``fixed_use`` (U,)
    which uses are fixed factors, ``activity_of_use`` (U, A) the 0/1 map of uses to activities.
    Returns (quantities (D, U), base rents of the budget uses (D, len(budget_cols))). A draw whose
    rent is not below its fixed factors' returns gets non-positive quantities (its base check fails)."""
    qty = pay.copy()
    rent = (shadow - 1.0) * pay[:, budget_cols]
    if not budget_cols.size or not (np.asarray(shadow) != 1.0).any():
        return qty, rent
    rent_of_act = rent @ activity_of_use[budget_cols]  # (D, A)
    fixed_of_act = (pay * fixed_use) @ activity_of_use
    theta = np.divide(rent_of_act, fixed_of_act, out=np.zeros_like(rent_of_act), where=rent_of_act != 0)
    theta = np.where((rent_of_act != 0) & ~(fixed_of_act > 0), np.inf, theta)
    cols = np.flatnonzero(fixed_use)
    act = activity_of_use[cols].argmax(axis=1)
    qty[:, cols] = pay[:, cols] * (1.0 - theta[:, act])
    return qty, rent


def draw_shadow_prices(point: np.ndarray, se: np.ndarray, draws, seed: int) -> np.ndarray:
    """Base shadow prices of the budget uses for each draw number in ``draws``: draw 0 the point
    estimates, draw d a normal draw with the given standard errors, redrawn until >= 1 (a binding
    constraint), from a generator seeded by (seed, d) so a draw does not depend on its chunk."""
    out = np.empty((len(draws), len(point)))
    for i, d in enumerate(draws):
        if d == 0 or not (se > 0).any():
            out[i] = point
            continue
        rng = np.random.default_rng([int(seed), int(d), 15])
        v = point + se * rng.standard_normal(len(point))
        for _ in range(10_000):
            bad = v < 1.0
            if not bad.any():
                break
            v[bad] = point[bad] + se[bad] * rng.standard_normal(int(bad.sum()))
        else:  # pragma: no cover - needs an absurd standard error
            raise CalibrationError("could not draw shadow prices >= 1: the standard errors are too large")
        out[i] = v
    return out
