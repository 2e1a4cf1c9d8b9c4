"""Recalibration of parameter draws, vectorised: many economies from one SAM, each with its own base.

A LEWIE Monte Carlo study draws the estimated shares (factor shares of value added, budget shares,
savings / transfer / outside-spending rates) many times and recalibrates the model for each draw,
as the GAMS code does in its draw loop: the SAM's levels of output (QP) and income (Y) are kept and
base prices and wages stay 1. The rules are the calibration's own (`lewie.model.calibration.CalibrationRules`,
whose draw 0 is the point calibration); here they are evaluated for every draw and placed in the
compiled system's vectors.

`recalibrate` returns, for every draw, the parameter vector P0[d] and the point X0[d] in the compiled
system's ordering (`lewie.solvers.tape.CompiledSystem`), with X0[d] solving the model at P0[d]
exactly; that is checked for every draw by the compiled residual (relative ≤ 1e-9, each equation
relative to its magnitude: `lewie.solvers.residuals`). Shocks are then applied to P0 and solved
from X0 with `lewie.solvers.reduced_newton.solve_batch`.

Shares are never repaired silently: each draw's factor shares must sum to 1 over the factors of an
activity and its budget shares to 1 over the goods of a household group (`perturb_shares` draws
them that way; `normalise` rescales explicitly).
"""
from __future__ import annotations

import weakref
from dataclasses import fields, replace

import numpy as np
import pyomo.environ as pyo

from lewie.solvers.residuals import BASE_TOL, relative_residuals

from lewie.model.calibration import (Calibration, CalibrationRules, ShareDraws, base_shares, indicator, share_keys)
from lewie.errors import CalibrationError

SHARE_TOL = 1e-9  # shares must sum to 1 within this


def _activity_of_use(cal):
    return [(g, h) for g, _, h in cal.factor_uses], list(cal.structure.activities)


def _household_of_pair(cal):
    return [h for _, h in cal.consumption], list(cal.structure.households)


def normalise(cal: Calibration, draws: ShareDraws) -> ShareDraws:
    """Explicitly rescale factor shares to sum to 1 per activity and budget shares per household."""
    out = {}
    if draws.factor_share is not None:
        M = indicator(*_activity_of_use(cal))
        fs = np.atleast_2d(draws.factor_share)
        out["factor_share"] = fs / (fs @ M @ M.T)
    if draws.budget_share is not None:
        M = indicator(*_household_of_pair(cal))
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
        M = indicator(items, groups)
        out[name] = g / (g @ M @ M.T)
    for name in ("savings_rate", "transfer_rate", "outside_rate"):
        out[name] = getattr(base, name) * np.exp(rate_sd * rng.standard_normal((n, getattr(base, name).shape[1])))
    return ShareDraws(**out)


def _check_shares(cal: Calibration, draws: ShareDraws, checks: dict | None = None) -> None:
    checks = checks if checks is not None else {
        name: (items, groups, indicator(items, groups))
        for name, (items, groups) in (("factor_share", _activity_of_use(cal)), ("budget_share", _household_of_pair(cal)))}
    for name, (items, groups, M) in checks.items():
        a = getattr(draws, name)
        if a is None:
            continue
        a = np.atleast_2d(a)
        if a.shape[1] != len(items):
            raise ValueError(f"{name}: {a.shape[1]} columns, the calibration has {len(items)}")
        if not np.isfinite(a).all() or (a < 0).any():
            d, j = np.argwhere(~(np.isfinite(a) & (a >= 0)))[0]
            raise CalibrationError(f"draw {d}: {name}{_label(cal, name, j)} = {a[d, j]:g} is not a share")
        sums = a @ M
        bad = np.argwhere(np.abs(sums - 1.0) > SHARE_TOL)
        if bad.size:
            d, g = bad[0]
            raise CalibrationError(f"draw {d}: {name} of {groups[g]} sums to {sums[d, g]:.12g}, not 1 "
                                   "(rescale explicitly with lewie.model.recalibration.normalise)")
    for name in ("savings_rate", "transfer_rate", "outside_rate"):
        a = getattr(draws, name)
        if a is not None and (not np.isfinite(a).all() or (np.atleast_2d(a) < 0).any()):
            raise CalibrationError(f"{name}: rates must be finite and non-negative")


def _label(cal, name, j) -> str:
    return str(share_keys(cal)[name][j])


GAMS_FIXED_FACTOR_FLOOR = 0.1  # 5_Generic_Simulation.gms: fixfac(g,f,h)$(fixfac_t(g,f,h) < 0) = 0.1


def gams_fixed_factor_floor(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GAMS repair of a shocked fixed factor: a value below zero becomes 0.1 (zero stays zero).
    Returns the repaired values and the mask of those repaired (lewie applies it only with
    ``gams_compat``, recording every repair; by default such a shock fails the draw)."""
    values = np.asarray(values, dtype=float)
    neg = values < 0
    return np.where(neg, GAMS_FIXED_FACTOR_FLOOR, values), neg


def labour_rule(scenario) -> str:
    """How a scenario's draws recompute labour endowments (see `labour_endowments`): a workbook
    economy follows the GAMS calibration (each draw's endowment from that draw's labour use, per
    village; over the zone with ``gams_compat``, as ``4b_Calibration.gms`` does); a SAM economy keeps
    the SAM's endowments, which are data."""
    if getattr(scenario, "workbook", None) is None:
        return "kept"
    return "zone" if getattr(scenario, "gams_compat", False) else "village"


class RecalibrationMaps:
    """Everything `recalibrate` needs that depends only on the model and its calibration, computed once.

    The calibration's rules (`lewie.model.calibration.CalibrationRules`: index arrays and indicator
    matrices of its sums), the positions in the compiled system's vectors of everything they give
    (one integer array per component written) and the calibrated base point X and parameters P.
    With these, a call of `recalibrate` is array code only: no Pyomo object and no label dictionary
    is touched per draw.

    Get one with `recalibration_maps` (cached per (model, calibration) pair; see `RecalibrationCache`).
    Values of parameters the calibration does not hold (none for a model built from it) are those
    the model had when the maps were built.
    """

    def __init__(self, model: pyo.Block, cal: Calibration):
        from lewie.solvers.tape import compile_model
        self.system = system = compile_model(model)
        self.rules = rules = CalibrationRules(cal)
        self.n_budget = len(rules.keys["budget_use"])
        self.p_index = {n: self._positions(model, n, rules.keys[of], "p") for n, of in rules.PARAMETERS.items()}
        self.x_index = {n: self._positions(model, n, rules.keys[of], "x") for n, of in rules.LEVELS.items()}
        self.base_x = _base_x(system, model, cal)
        self.base_p = _base_p(system, model, cal)
        self.base_shares = base_shares(cal)
        self.share_checks = {name: (items, groups, indicator(items, groups))
                             for name, (items, groups) in (("factor_share", _activity_of_use(cal)),
                                                           ("budget_share", _household_of_pair(cal)))}

    def _positions(self, model, comp_name, keys, kind) -> np.ndarray:
        comp = model.find_component(comp_name)
        if comp is None:
            return np.zeros(0, dtype=np.int64)
        pos = self.system.var_positions(comp) if kind == "x" else self.system.param_positions(comp)
        return np.array([pos[k] for k in keys], dtype=np.int64)


class RecalibrationCache:
    """`RecalibrationMaps` per (model, calibration), built on first use and kept while both live.

    Keyed by the identity of the two objects (with weak references, so an entry goes when its model
    or its calibration is garbage-collected): maps are never reused for another economy, nor for a
    sweep point's calibration of the same model.
    """

    def __init__(self):
        self._entries: dict[tuple[int, int], tuple[weakref.ref, weakref.ref, RecalibrationMaps]] = {}

    def get(self, model: pyo.Block, cal: Calibration) -> RecalibrationMaps:
        key = (id(model), id(cal))
        hit = self._entries.get(key)
        if hit is not None and hit[0]() is model and hit[1]() is cal:
            return hit[2]
        maps = RecalibrationMaps(model, cal)
        self._entries[key] = (weakref.ref(model), weakref.ref(cal), maps)
        weakref.finalize(model, self._entries.pop, key, None)
        weakref.finalize(cal, self._entries.pop, key, None)
        return maps

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


_CACHE = RecalibrationCache()


def recalibration_maps(model: pyo.Block, cal: Calibration) -> RecalibrationMaps:
    """The (cached) `RecalibrationMaps` of ``model`` built from ``cal``."""
    return _CACHE.get(model, cal)


def recalibrate(model: pyo.Block, cal: Calibration, draws: ShareDraws, *, check: bool = True,
                tol: float = BASE_TOL, labour: str = "kept") -> tuple[np.ndarray, np.ndarray]:
    """Each draw's base point and parameters: (X0, P0) of shapes (D, n) and (D, k).

    ``model`` is the model built from ``cal`` (`lewie.model.declaration.build_model`); the arrays follow its
    compiled system's ordering (`lewie.solvers.tape.compile_model(model)`). Everything the draws
    do not change keeps its calibrated value (``cal.params``, ``cal.levels``). With
    ``check`` (default) every draw's base is verified by the compiled residual and a draw that does
    not solve its own model raises `CalibrationError` naming the draw and the equation. ``labour``:
    how each draw's labour endowments follow its labour use (`labour_endowments`; default: kept).
    The index maps are computed once per (model, calibration) (`recalibration_maps`); each call is
    array code.
    """
    mp = recalibration_maps(model, cal)
    system = mp.system
    _check_shares(cal, draws, mp.share_checks)
    D = draws.n_draws
    full = mp.base_shares
    sh = {f.name: np.broadcast_to(np.atleast_2d(getattr(draws, f.name) if getattr(draws, f.name) is not None
                                                 else getattr(full, f.name)), (D, getattr(full, f.name).shape[1]))
          for f in fields(ShareDraws) if f.name != "shadow_price"}
    lam0 = None
    if draws.shadow_price is not None:  # drawn around the base (lewie.model.liquidity.draw_shadow_prices)
        lam0 = np.broadcast_to(np.atleast_2d(draws.shadow_price), (D, mp.n_budget))
        if not (np.isfinite(lam0) & (lam0 >= 1.0)).all():
            raise CalibrationError("drawn shadow prices must be finite and >= 1")
    params, levels = mp.rules.evaluate(sh, lam0, labour)
    X0 = np.tile(mp.base_x, (D, 1))
    P0 = np.tile(mp.base_p, (D, 1))
    for arr, index, values in ((P0, mp.p_index, params), (X0, mp.x_index, levels)):
        for name, idx in index.items():
            if idx.size:
                arr[:, idx] = values[name]
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
    rel = relative_residuals(system, X0, P0)
    worst = np.where(np.isfinite(rel).all(axis=1), rel.max(axis=1, initial=0.0), np.inf)
    bad = np.flatnonzero(~(worst <= tol))
    if bad.size:
        d = int(bad[0])
        i = int(np.nanargmax(np.where(np.isfinite(rel[d]), rel[d], np.inf)))
        raise CalibrationError(f"{bad.size} of {len(worst)} recalibrated draws do not solve their own model; "
                               f"draw {d}: {system.constraints[i].name} has relative residual "
                               f"{rel[d, i]:.3g} > {tol:g}")
    return worst
