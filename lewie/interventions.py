"""Interventions as changes to the model's parameters (pure: base parameters in, new values out)."""
from __future__ import annotations

from collections import defaultdict

from .calibrate import Calibration
from .errors import InputError


def shocked_parameters(interventions, cal: Calibration, *, file=None) -> dict[str, dict]:
    """New values of every parameter the interventions change, keyed by parameter and index.

    Interventions add up: two transfers to one group raise its exogenous income by both amounts.
    """
    delta: dict[str, dict] = defaultdict(lambda: defaultdict(float))
    for i, itv in enumerate(interventions):
        field = f"interventions[{i}]"
        if itv.kind == "cash_transfer":
            _cash_transfer(itv, cal, delta, file=file, field=field)
        else:  # pragma: no cover - the schema admits only known kinds
            raise InputError(f"unknown intervention kind '{itv.kind}'", file=file, field=field)
    return {name: {k: cal.params[name][k] + d for k, d in changes.items()} for name, changes in delta.items()}


def transfer_split(itv, file=None, field=None) -> dict[str, float]:
    """How a transfer's amount is shared among its household groups."""
    if itv.shares is not None:
        total = sum(itv.shares.values())
        if total <= 0:
            raise InputError("shares must not all be zero", file=file, field=f"{field}.shares")
        return {h: itv.shares[h] / total for h in itv.households}
    if len(itv.households) > 1:
        raise InputError("a transfer to several household groups needs 'shares' saying how the amount "
                         "is split among them", file=file, field=f"{field}.shares")
    return {itv.households[0]: 1.0}


def _cash_transfer(itv, cal, delta, *, file, field) -> None:
    for h, share in transfer_split(itv, file, field).items():
        amount = itv.amount * share
        delta["exogenous_income"][h] += amount
        if itv.input_budget_share:
            budgets = {k: v for k, v in cal.params["input_budget"].items() if k[2] == h}
            if not budgets:
                raise InputError(f"input_budget_share is set but household '{h}' has no budget-constrained "
                                 "inputs (see [input_budget])", file=file, field=f"{field}.input_budget_share")
            base = sum(budgets.values())
            for k, b in budgets.items():
                delta["input_budget"][k] += itv.input_budget_share * amount * b / base


def beneficiaries(interventions) -> list[str]:
    """Household groups that receive something directly."""
    out: list[str] = []
    for itv in interventions:
        for h in getattr(itv, "households", []) or []:
            if h not in out:
                out.append(h)
    return out


def intervention_cost(interventions) -> float:
    """The multipliers' denominator: each intervention's cost, defaulting to the value transferred."""
    return float(sum(i.cost if i.cost is not None else i.amount for i in interventions))
