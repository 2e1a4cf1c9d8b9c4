"""Recalibration of parameter draws, vectorised: many economies from one SAM, each with its own base.

A LEWIE Monte Carlo study draws the estimated shares (factor shares of value added, budget shares,
savings / transfer / outside-spending rates) many times and recalibrates the model for each draw,
as the GAMS code does in its draw loop: the SAM's levels of output (QP) and income (Y) are kept and
base prices and wages stay 1, so for draw d

* ``FD = VA·factor_share``  (VA = QP·va_share, unchanged: input shares are not drawn);
* ``tfp = VA / Π_f FD^factor_share``;  ``fixed_factor = FD`` of fixed factors,
  ``input_budget = FD`` of budget-constrained uses;
* ``TROUT, SAV, EXPROC = rate·Y``;  ``QC = min_consumption + budget_share·(Y − TROUT − SAV − EXPROC
  − Σ min_consumption)``;  ``cpi_weight = QC / Y`` (so CPI = 1 and real income = Y at the base);
* ``exogenous_income = Y − rents − labour income`` (it closes the household account);
* marketed surpluses of households, villages and the zone are recomputed, and the fixed net trades
  that pin local prices are set to them (``village_net_trade = VMS`` ...).

`recalibrate` returns, for every draw, the parameter vector P0[d] and the point X0[d] in the compiled
system's ordering (`lewie.solvers.compile.CompiledSystem`), with X0[d] solving the model at P0[d]
exactly; that is checked for every draw by the compiled residual (relative ≤ 1e-9, scaled equation
by equation as `lewie.solvers.newton.residual_scale` does). Shocks are then applied to P0 and solved
from X0 with `lewie.solvers.batch.solve_batch`.

Shares are never repaired silently: each draw's factor shares must sum to 1 over the factors of an
activity and its budget shares to 1 over the goods of a household group (`perturb_shares` draws
them that way; `normalise` rescales explicitly).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pyomo.environ as pyo

from .calibrate import Calibration
from .errors import CalibrationError
from .liquidity import recalibrated_budget_uses

SHARE_TOL = 1e-9  # shares must sum to 1 within this
BASE_TOL = 1e-9  # relative residual of every equation at every draw's base


@dataclass(frozen=True)
class ShareDraws:
    """Drawn shares for D draws; a field left None keeps the calibrated values.

    Columns follow the calibration's index order: ``factor_share`` over ``cal.factor_uses``,
    ``budget_share`` over ``cal.consumption``, the rates over ``cal.structure.households``.
    """

    factor_share: np.ndarray | None = None  # (D, len(cal.factor_uses))
    budget_share: np.ndarray | None = None  # (D, len(cal.consumption))
    savings_rate: np.ndarray | None = None  # (D, H)
    transfer_rate: np.ndarray | None = None  # (D, H)
    outside_rate: np.ndarray | None = None  # (D, H)
    # base shadow price of each budget-constrained use (cal.params["input_budget"] order), when drawn
    shadow_price: np.ndarray | None = None  # (D, len(cal.params["input_budget"]))

    @property
    def n_draws(self) -> int:
        sizes = {np.atleast_2d(getattr(self, f.name)).shape[0] for f in fields(self)
                 if getattr(self, f.name) is not None}
        if len(sizes) > 1:
            raise ValueError(f"share draws disagree on the number of draws: {sorted(sizes)}")
        return sizes.pop() if sizes else 1


def _keys(cal: Calibration) -> dict[str, list]:
    H = list(cal.structure.households)
    return {"factor_share": list(cal.factor_uses), "budget_share": list(cal.consumption),
            "savings_rate": H, "transfer_rate": H, "outside_rate": H}


def base_shares(cal: Calibration) -> ShareDraws:
    """The calibrated shares as one draw."""
    keys = _keys(cal)
    return ShareDraws(**{name: np.array([[cal.drawn(name)[k] for k in ks]]) for name, ks in keys.items()})


def _indicator(items, groups) -> np.ndarray:
    """(len(items), len(groups)) 0/1 matrix: item i belongs to group g."""
    pos = {g: j for j, g in enumerate(groups)}
    out = np.zeros((len(items), len(groups)))
    for i, it in enumerate(items):
        out[i, pos[it]] = 1.0
    return out


def _activity_of_use(cal):
    return [(g, h) for g, _, h in cal.factor_uses], list(cal.structure.activities)


def _household_of_pair(cal):
    return [h for _, h in cal.consumption], list(cal.structure.households)


def normalise(cal: Calibration, draws: ShareDraws) -> ShareDraws:
    """Explicitly rescale factor shares to sum to 1 per activity and budget shares per household."""
    out = {}
    if draws.factor_share is not None:
        M = _indicator(*_activity_of_use(cal))
        fs = np.atleast_2d(draws.factor_share)
        out["factor_share"] = fs / (fs @ M @ M.T)
    if draws.budget_share is not None:
        M = _indicator(*_household_of_pair(cal))
        bs = np.atleast_2d(draws.budget_share)
        out["budget_share"] = bs / (bs @ M @ M.T)
    return replace(draws, **out)


def perturb_shares(cal: Calibration, n: int, *, rng: np.random.Generator, concentration: float = 400.0,
                   rate_sd: float = 0.1) -> ShareDraws:
    """``n`` random draws around the calibrated shares (for tests and benchmarks).

    Factor and budget shares: Dirichlet with mean the calibrated shares and concentration
    ``concentration`` (coefficient of variation ≈ sqrt((1−s)/(s·concentration))); rates: the
    calibrated rate times a log-normal factor with standard deviation ``rate_sd``.
    """
    base = base_shares(cal)
    out = {}
    for name, (items, groups) in (("factor_share", _activity_of_use(cal)), ("budget_share", _household_of_pair(cal))):
        g = rng.gamma(concentration * getattr(base, name)[0], size=(n, getattr(base, name).shape[1]))
        M = _indicator(items, groups)
        out[name] = g / (g @ M @ M.T)
    for name in ("savings_rate", "transfer_rate", "outside_rate"):
        out[name] = getattr(base, name) * np.exp(rate_sd * rng.standard_normal((n, getattr(base, name).shape[1])))
    return ShareDraws(**out)


def _check_shares(cal: Calibration, draws: ShareDraws) -> None:
    for name, (items, groups) in (("factor_share", _activity_of_use(cal)), ("budget_share", _household_of_pair(cal))):
        a = getattr(draws, name)
        if a is None:
            continue
        a = np.atleast_2d(a)
        if a.shape[1] != len(items):
            raise ValueError(f"{name}: {a.shape[1]} columns, the calibration has {len(items)}")
        if not np.isfinite(a).all() or (a < 0).any():
            d, j = np.argwhere(~(np.isfinite(a) & (a >= 0)))[0]
            raise CalibrationError(f"draw {d}: {name}{_label(cal, name, j)} = {a[d, j]:g} is not a share")
        sums = a @ _indicator(items, groups)
        bad = np.argwhere(np.abs(sums - 1.0) > SHARE_TOL)
        if bad.size:
            d, g = bad[0]
            raise CalibrationError(f"draw {d}: {name} of {groups[g]} sums to {sums[d, g]:.12g}, not 1 "
                                   "(rescale explicitly with lewie.draws.normalise)")
    for name in ("savings_rate", "transfer_rate", "outside_rate"):
        a = getattr(draws, name)
        if a is not None and (not np.isfinite(a).all() or (np.atleast_2d(a) < 0).any()):
            raise CalibrationError(f"{name}: rates must be finite and non-negative")


def _label(cal, name, j) -> str:
    return str(_keys(cal)[name][j])


def recalibrate(model: pyo.Block, cal: Calibration, draws: ShareDraws, *, check: bool = True,
                tol: float = BASE_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Each draw's base point and parameters: (X0, P0) of shapes (D, n) and (D, k).

    ``model`` is the model built from ``cal`` (`lewie.model.build_model`); the arrays follow its
    compiled system's ordering (`lewie.solvers.compile.compile_model(model)`). Everything the draws
    do not change keeps its calibrated value (``cal.params``, ``cal.levels``). With
    ``check`` (default) every draw's base is verified by the compiled residual and a draw that does
    not solve its own model raises `CalibrationError` naming the draw and the equation.
    """
    from lewie.solvers.compile import compile_model
    system = compile_model(model)
    s = cal.structure
    _check_shares(cal, draws)
    D = draws.n_draws
    full = base_shares(cal)
    sh = {f.name: np.broadcast_to(np.atleast_2d(getattr(draws, f.name) if getattr(draws, f.name) is not None
                                                 else getattr(full, f.name)), (D, getattr(full, f.name).shape[1]))
          for f in fields(ShareDraws) if f.name != "shadow_price"}
    H, G = list(s.households), list(s.goods)
    hpos = {h: i for i, h in enumerate(H)}
    uses, acts = list(cal.factor_uses), list(s.activities)
    apos = {a: i for i, a in enumerate(acts)}
    # --- production side: output and value added keep their SAM levels
    va = np.array([cal.levels["value_added"][a] for a in acts])
    act_of_use = np.array([apos[g, h] for g, _, h in uses])
    pay = va[act_of_use] * sh["factor_share"]  # (D, U): the drawn shares are the SAM's payment shares
    # budget-constrained inputs (lewie.liquidity): the payment is the budget B, the base rent (λ0 − 1)·B
    # comes out of the activity's fixed-factor returns; model shares are (quantity + rent) / VA
    budget_keys = list(cal.params["input_budget"])
    bpos = {k: j for j, k in enumerate(uses)}
    bcols = np.array([bpos[k] for k in budget_keys], dtype=np.int64)
    lam0 = np.array([cal.shadow_price.get(k, 1.0) for k in budget_keys])
    if draws.shadow_price is not None:  # drawn around the base (lewie.liquidity.draw_shadow_prices)
        lam0 = np.broadcast_to(np.atleast_2d(draws.shadow_price), (D, len(budget_keys)))
        if not (np.isfinite(lam0) & (lam0 >= 1.0)).all():
            raise CalibrationError("drawn shadow prices must be finite and >= 1")
    fixed_use = np.array([f in s.fixed_factors for _, f, _ in uses])
    M_use = _indicator([(g, h) for g, _, h in uses], acts)
    fd, liquidity_rent = recalibrated_budget_uses(pay, bcols, lam0, fixed_use, M_use)
    rent_of_use = np.zeros_like(fd)
    rent_of_use[:, bcols] = liquidity_rent
    fs = (fd + rent_of_use) / va[act_of_use] if (np.asarray(lam0) != 1.0).any() else sh["factor_share"]
    with np.errstate(divide="ignore"):
        log_fd = np.where(fd > 0, np.log(np.where(fd > 0, fd, 1.0)), -np.inf)
    tfp = va * np.exp(-((fs * np.where(fs > 0, log_fd, 0.0)) @ M_use))
    # --- household side: income kept
    y = np.array([cal.levels["income"][h] for h in H])
    rates = {k: sh[k] for k in ("savings_rate", "transfer_rate", "outside_rate")}
    pairs = list(cal.consumption)
    hh_of_pair = np.array([hpos[h] for _, h in pairs])
    emin = np.array([cal.params["min_consumption"][k] for k in pairs])
    M_pair = _indicator([h for _, h in pairs], H)
    local = y * (1.0 - rates["savings_rate"] - rates["transfer_rate"] - rates["outside_rate"]) - emin @ M_pair
    qc = emin + sh["budget_share"] * local[:, hh_of_pair]
    cpi_weight = qc / y[hh_of_pair]
    rents = (fd * fixed_use) @ _indicator([h for _, _, h in uses], H)
    wages = np.zeros(len(H))
    for (f, h), v in cal.levels["labour_supply"].items():
        wages[hpos[h]] += v  # wages are 1 at the base
    if not s.gams_compat:
        rents = rents + liquidity_rent @ _indicator([k[2] for k in budget_keys], H)
    exinc = y - rents - wages
    # --- surpluses and the net trades that pin local prices
    ids = cal.levels["intermediate_demand"]
    gpos = {g: i for i, g in enumerate(G)}
    hms = np.zeros((D, len(G), len(H)))
    for (g, h), v in cal.levels["production"].items():
        hms[:, gpos[g], hpos[h]] += v
    for (a, g, h), v in ids.items():
        hms[:, gpos[g], hpos[h]] -= v
    np.subtract.at(hms, (slice(None), np.array([gpos[g] for g, _ in pairs]), hh_of_pair), qc)
    V = list(s.villages)
    member = np.array([[s.village_of[h] == v for v in V] for h in H], dtype=float)  # (H, V)
    exo = np.array([[cal.params["exogenous_demand"][g, v] for v in V] for g in G])
    vms = hms @ member - exo  # (D, G, V)
    zms = vms.sum(axis=2)
    TF = list(s.tradable_factors)
    fpos = {f: i for i, f in enumerate(TF)}
    hfms = np.zeros((D, len(TF), len(H)))
    for (f, h), v in cal.levels["labour_supply"].items():
        hfms[:, fpos[f], hpos[h]] += v
    tradable_use = np.array([f in fpos for _, f, _ in uses])
    for j in np.flatnonzero(tradable_use):
        g, f, h = uses[j]
        hfms[:, fpos[f], hpos[h]] -= fd[:, j]
    vfms = hfms @ member
    zfms = vfms.sum(axis=2)

    # --- into the compiled system's vectors
    X0 = np.tile(_base_x(system, model, cal), (D, 1))
    P0 = np.tile(_base_p(system, model, cal), (D, 1))

    def put(arr, comp_name, keys, values, kind):
        comp = model.find_component(comp_name)
        pos = system.var_positions(comp) if kind == "x" else system.param_positions(comp)
        idx = np.array([pos[k] for k in keys], dtype=np.int64)
        if idx.size:
            arr[:, idx] = values

    put(P0, "factor_share", uses, fs, "p")
    put(P0, "tfp", acts, tfp, "p")
    fixed_keys = [k for k in uses if k[1] in s.fixed_factors]
    put(P0, "fixed_factor", fixed_keys, fd[:, fixed_use], "p")
    put(P0, "input_budget", budget_keys, fd[:, bcols], "p")
    put(X0, "liquidity_rent", budget_keys, liquidity_rent, "x")
    put(P0, "budget_share", pairs, sh["budget_share"], "p")
    put(P0, "cpi_weight", pairs, cpi_weight, "p")
    for k in ("savings_rate", "transfer_rate", "outside_rate"):
        put(P0, k, H, rates[k], "p")
    put(P0, "exogenous_income", H, exinc, "p")
    vg = s.goods_at("village")
    put(P0, "village_net_trade", [(g, v) for g in vg for v in V],
        np.stack([vms[:, gpos[g], j] for g in vg for j in range(len(V))], axis=1) if vg else np.zeros((D, 0)), "p")
    zg = s.goods_at("zone")
    put(P0, "zone_net_trade", zg, np.stack([zms[:, gpos[g]] for g in zg], axis=1) if zg else np.zeros((D, 0)), "p")
    vf = s.factors_at("village")
    put(P0, "village_factor_trade", [(f, v) for f in vf for v in V],
        np.stack([vfms[:, fpos[f], j] for f in vf for j in range(len(V))], axis=1) if vf else np.zeros((D, 0)), "p")
    zf = s.factors_at("zone")
    put(P0, "zone_factor_trade", zf, np.stack([zfms[:, fpos[f]] for f in zf], axis=1) if zf else np.zeros((D, 0)), "p")

    put(X0, "factor_demand", uses, fd, "x")
    put(X0, "consumption", pairs, qc, "x")
    put(X0, "transfers_out", H, rates["transfer_rate"] * y, "x")
    put(X0, "savings", H, rates["savings_rate"] * y, "x")
    put(X0, "outside_spending", H, rates["outside_rate"] * y, "x")
    put(X0, "household_surplus", [(g, h) for g in G for h in H], hms.reshape(D, -1), "x")
    put(X0, "village_surplus", [(g, v) for g in G for v in V], vms.reshape(D, -1), "x")
    put(X0, "zone_surplus", G, zms, "x")
    put(X0, "household_factor_surplus", [(f, h) for f in TF for h in H], hfms.reshape(D, -1), "x")
    put(X0, "village_factor_surplus", [(f, v) for f in TF for v in V], vfms.reshape(D, -1), "x")
    put(X0, "zone_factor_surplus", TF, zfms, "x")
    if check:
        check_bases(system, X0, P0, tol=tol)
    return X0, P0


def _base_x(system, model, cal: Calibration) -> np.ndarray:
    """The calibrated base levels in the system's variable order."""
    x = np.empty(system.n)
    for name, values in cal.levels.items():
        comp = model.find_component(name)
        for k, j in system.var_positions(comp).items():
            x[j] = values[k]
    return x


def _base_p(system, model, cal: Calibration) -> np.ndarray:
    """The calibrated parameters in the system's parameter order."""
    p = system.get_p()
    for name, values in cal.params.items():
        comp = model.find_component(name)
        if comp is None or not comp.is_indexed():
            if comp is not None:
                p[system.param_positions(comp)[None]] = float(values)
            continue
        for k, j in system.param_positions(comp).items():
            p[j] = values[k]
    return p


def check_bases(system, X0: np.ndarray, P0: np.ndarray, *, tol: float = BASE_TOL) -> np.ndarray:
    """Worst relative residual of each draw's base; raise `CalibrationError` if any exceeds ``tol``."""
    from lewie.solvers.batch import scale_from_jacobian
    F, J = system.residual_and_jacobian(X0, P0)
    scale = scale_from_jacobian(system, X0.T, J.T).T
    rel = np.abs(F) / scale
    worst = np.where(np.isfinite(rel).all(axis=1), rel.max(axis=1, initial=0.0), np.inf)
    bad = np.flatnonzero(~(worst <= tol))
    if bad.size:
        d = int(bad[0])
        i = int(np.nanargmax(np.where(np.isfinite(rel[d]), rel[d], np.inf)))
        raise CalibrationError(f"{bad.size} of {len(worst)} recalibrated draws do not solve their own model; "
                               f"draw {d}: {system.constraints[i].name} has relative residual "
                               f"{rel[d, i]:.3g} > {tol:g}")
    return worst
