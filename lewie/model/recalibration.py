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
* labour endowments: kept, or recomputed from the draw's labour use as the GAMS calibration does
  (`labour_endowments`; workbook economies, `labour_rule`);
* ``exogenous_income = Y − rents − labour income`` (it closes the household account);
* marketed surpluses of households, villages and the zone are recomputed, and the fixed net trades
  that pin local prices are set to them (``village_net_trade = VMS`` ...).

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
from dataclasses import dataclass, fields, replace

import numpy as np
import pyomo.environ as pyo

from lewie.solvers.residuals import BASE_TOL, relative_residuals

from lewie.model.calibration import Calibration
from lewie.errors import CalibrationError
from lewie.model.liquidity import recalibrated_budget_uses

SHARE_TOL = 1e-9  # shares must sum to 1 within this


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


def _check_shares(cal: Calibration, draws: ShareDraws, checks: dict | None = None) -> None:
    checks = checks if checks is not None else {
        name: (items, groups, _indicator(items, groups))
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
    return str(_keys(cal)[name][j])


LABOUR_RULES = ("kept", "village", "zone")
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


def labour_endowments(cal: Calibration, fd: np.ndarray, rule: str = "kept") -> np.ndarray:
    """Each draw's labour endowment of every (factor, household) of ``cal.labour_supply``: (D, L).

    ``fd`` is each draw's factor demand over ``cal.factor_uses`` (D, U). ``rule``:

    * ``"kept"``: the calibrated endowments in every draw;
    * ``"village"``: ``endow_d(f, h) = endow_0(f, h) · use_d(f, v(h)) / use_0(f, v(h))``, where
      ``use(f, v)`` is the labour of factor f used by the activities of village v: the GAMS rule
      ``endow_dr("Labor",h,draw) = shfl(h)·Σ_(hh,g) fd_dr(g,"Labor",hh,draw)`` with the village's
      split ``shfl`` of the base (the workbook's ``wrkagepop·HHNum`` shares);
    * ``"zone"``: the same with the labour used in the whole zone (the GAMS code sums over every
      household, ``gams_compat``).

    An endowment whose scope uses none of the factor at the base is kept.
    """
    if rule not in LABOUR_RULES:
        raise ValueError(f"unknown labour endowment rule '{rule}'; valid: {', '.join(LABOUR_RULES)}")
    pairs = list(cal.labour_supply)
    fd = np.atleast_2d(fd)
    D = fd.shape[0]
    base = np.array([cal.levels["labour_supply"][k] for k in pairs], dtype=float)
    if rule == "kept" or not pairs:
        return np.tile(base, (D, 1))
    s = cal.structure
    uses = list(cal.factor_uses)

    def scope(h):
        return "" if rule == "zone" else s.village_of[h]
    keys = list(dict.fromkeys((f, scope(h)) for f, h in pairs))
    kpos = {k: i for i, k in enumerate(keys)}
    M = np.zeros((len(uses), len(keys)))
    for j, (g, f, h) in enumerate(uses):
        k = kpos.get((f, scope(h)))
        if k is not None:
            M[j, k] = 1.0
    fd0 = np.array([cal.levels["factor_demand"][k] for k in uses], dtype=float)
    use0 = fd0 @ M
    used = fd @ M  # (D, K)
    idx = np.array([kpos[(f, scope(h))] for f, h in pairs], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(use0[idx] > 0, used[:, idx] / np.where(use0[idx] > 0, use0[idx], 1.0), 1.0)
    return base * ratio


class RecalibrationMaps:
    """Everything `recalibrate` needs that depends only on the model and its calibration, computed once.

    Index maps from the calibration's labels to positions in the compiled system's vectors (one
    integer array per component written), the 0/1 indicator matrices of the sums, the calibrated
    levels the rules keep (value added, income, minimum consumption, labour supply, production net
    of intermediate demand) and the calibrated base point X and parameters P. With these, a call of
    `recalibrate` is array code only: no Pyomo object and no label dictionary is touched per draw.

    Get one with `recalibration_maps` (cached per (model, calibration) pair; see `RecalibrationCache`).
    Values of parameters the calibration does not hold (none for a model built from it) are those
    the model had when the maps were built.
    """

    def __init__(self, model: pyo.Block, cal: Calibration):
        from lewie.solvers.tape import compile_model
        self.system = system = compile_model(model)
        s = cal.structure
        H, G, V = list(s.households), list(s.goods), list(s.villages)
        hpos = {h: i for i, h in enumerate(H)}
        gpos = {g: i for i, g in enumerate(G)}
        uses, acts = list(cal.factor_uses), list(s.activities)
        apos = {a: i for i, a in enumerate(acts)}
        self.uses, self.pairs = uses, list(cal.consumption)
        pairs = self.pairs
        self.D_shape = (len(G), len(H))
        # production side
        self.va = np.array([cal.levels["value_added"][a] for a in acts])
        self.act_of_use = np.array([apos[g, h] for g, _, h in uses], dtype=np.int64)
        self.M_use = _indicator([(g, h) for g, _, h in uses], acts)
        # household side
        self.y = np.array([cal.levels["income"][h] for h in H])
        self.hh_of_pair = np.array([hpos[h] for _, h in pairs], dtype=np.int64)
        self.good_of_pair = np.array([gpos[g] for g, _ in pairs], dtype=np.int64)
        self.emin = np.array([cal.params["min_consumption"][k] for k in pairs])
        self.M_pair = _indicator([h for _, h in pairs], H)
        self.fixed_use = np.array([f in s.fixed_factors for _, f, _ in uses], dtype=bool)
        self.M_hh_use = _indicator([h for _, _, h in uses], H)
        wages = np.zeros(len(H))
        for (f, h), v in cal.levels["labour_supply"].items():
            wages[hpos[h]] += v  # wages are 1 at the base
        self.wages = wages
        # surpluses: production net of intermediate demand, accumulated in the calibration's order
        hms0 = np.zeros((len(G), len(H)))
        for (g, h), v in cal.levels["production"].items():
            hms0[gpos[g], hpos[h]] += v
        for (a, g, h), v in cal.levels["intermediate_demand"].items():
            hms0[gpos[g], hpos[h]] -= v
        self.hms0 = hms0
        self.member = np.array([[s.village_of[h] == v for v in V] for h in H], dtype=float)  # (H, V)
        self.exo = np.array([[cal.params["exogenous_demand"][g, v] for v in V] for g in G])
        TF = list(s.tradable_factors)
        fpos = {f: i for i, f in enumerate(TF)}
        hfms0 = np.zeros((len(TF), len(H)))
        for (f, h), v in cal.levels["labour_supply"].items():
            hfms0[fpos[f], hpos[h]] += v
        self.hfms0 = hfms0
        lpairs = list(cal.labour_supply)
        self.endow0 = np.array([cal.levels["labour_supply"][k] for k in lpairs], dtype=float)
        self.M_lab_hh = _indicator([h for _, h in lpairs], H)
        self.lab_at = (np.array([fpos[f] for f, _ in lpairs], dtype=np.int64),
                       np.array([hpos[h] for _, h in lpairs], dtype=np.int64))
        tradable = [j for j, (_, f, _) in enumerate(uses) if f in fpos]
        self.tradable_use = np.array(tradable, dtype=np.int64)
        self.tradable_at = (np.array([fpos[uses[j][1]] for j in tradable], dtype=np.int64),
                            np.array([hpos[uses[j][2]] for j in tradable], dtype=np.int64))
        bpos = {k: j for j, k in enumerate(uses)}
        budget_keys = list(cal.params["input_budget"])
        self.budget_use = np.array([bpos[k] for k in budget_keys], dtype=np.int64)
        self.shadow_price0 = np.array([cal.shadow_price.get(k, 1.0) for k in budget_keys])  # λ at the base
        self.M_hh_budget = _indicator([k[2] for k in budget_keys], H)
        self.gams_compat = bool(s.gams_compat)
        vg, zg = s.goods_at("village"), s.goods_at("zone")
        vf, zf = s.factors_at("village"), s.factors_at("zone")
        self.village_goods = np.array([gpos[g] for g in vg], dtype=np.int64)
        self.zone_goods = np.array([gpos[g] for g in zg], dtype=np.int64)
        self.village_factors = np.array([fpos[f] for f in vf], dtype=np.int64)
        self.zone_factors = np.array([fpos[f] for f in zf], dtype=np.int64)
        # positions in the compiled system of everything written, in the order the rules give it
        fixed_keys = [k for k in uses if k[1] in s.fixed_factors]
        p_keys = {"factor_share": uses, "tfp": acts, "fixed_factor": fixed_keys, "input_budget": budget_keys,
                  "budget_share": pairs, "cpi_weight": pairs, "savings_rate": H, "transfer_rate": H,
                  "outside_rate": H, "exogenous_income": H, "labour_endowment": lpairs,
                  "village_net_trade": [(g, v) for g in vg for v in V], "zone_net_trade": list(zg),
                  "village_factor_trade": [(f, v) for f in vf for v in V], "zone_factor_trade": list(zf)}
        x_keys = {"factor_demand": uses, "labour_supply": lpairs, "liquidity_rent": budget_keys, "consumption": pairs, "transfers_out": H, "savings": H,
                  "outside_spending": H, "household_surplus": [(g, h) for g in G for h in H],
                  "village_surplus": [(g, v) for g in G for v in V], "zone_surplus": G,
                  "household_factor_surplus": [(f, h) for f in TF for h in H],
                  "village_factor_surplus": [(f, v) for f in TF for v in V], "zone_factor_surplus": TF}
        self.p_index = {n: self._positions(model, n, keys, "p") for n, keys in p_keys.items()}
        self.x_index = {n: self._positions(model, n, keys, "x") for n, keys in x_keys.items()}
        self.base_x = _base_x(system, model, cal)
        self.base_p = _base_p(system, model, cal)
        self.base_shares = base_shares(cal)
        self.share_checks = {name: (items, groups, _indicator(items, groups))
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
    # --- production side: output and value added keep their SAM levels
    va = mp.va
    pay = va[mp.act_of_use] * sh["factor_share"]  # (D, U): the drawn shares are the SAM's payment shares
    # budget-constrained inputs (lewie.model.liquidity): the payment is the budget B, the base rent (λ0 − 1)·B
    # comes out of the activity's fixed-factor returns; model shares are (quantity + rent) / VA
    bcols = mp.budget_use
    lam0 = mp.shadow_price0
    if draws.shadow_price is not None:  # drawn around the base (lewie.model.liquidity.draw_shadow_prices)
        lam0 = np.broadcast_to(np.atleast_2d(draws.shadow_price), (D, bcols.size))
        if not (np.isfinite(lam0) & (lam0 >= 1.0)).all():
            raise CalibrationError("drawn shadow prices must be finite and >= 1")
    fixed_use = mp.fixed_use
    fd, liquidity_rent = recalibrated_budget_uses(pay, bcols, lam0, fixed_use, mp.M_use)
    rent_of_use = np.zeros_like(fd)
    rent_of_use[:, bcols] = liquidity_rent
    fs = (fd + rent_of_use) / va[mp.act_of_use] if (np.asarray(lam0) != 1.0).any() else sh["factor_share"]
    with np.errstate(divide="ignore"):
        log_fd = np.where(fd > 0, np.log(np.where(fd > 0, fd, 1.0)), -np.inf)
    tfp = va * np.exp(-((fs * np.where(fs > 0, log_fd, 0.0)) @ mp.M_use))
    # --- household side: income kept
    y = mp.y
    rates = {k: sh[k] for k in ("savings_rate", "transfer_rate", "outside_rate")}
    hh_of_pair = mp.hh_of_pair
    emin = mp.emin
    local = y * (1.0 - rates["savings_rate"] - rates["transfer_rate"] - rates["outside_rate"]) - emin @ mp.M_pair
    qc = emin + sh["budget_share"] * local[:, hh_of_pair]
    cpi_weight = qc / y[hh_of_pair]
    rents = (fd * fixed_use) @ mp.M_hh_use
    if not mp.gams_compat:  # the liquidity rent is income of the household holding the constraint
        rents = rents + liquidity_rent @ mp.M_hh_budget
    endow = labour_endowments(cal, fd, labour) if labour != "kept" else np.tile(mp.endow0, (D, 1))  # (D, L)
    wages = endow @ mp.M_lab_hh if mp.endow0.size else np.zeros((D, len(y)))  # wages are 1 at the base
    exinc = y - rents - wages
    # --- surpluses and the net trades that pin local prices
    hms = np.repeat(mp.hms0[None], D, axis=0)
    np.subtract.at(hms, (slice(None), mp.good_of_pair, hh_of_pair), qc)
    vms = hms @ mp.member - mp.exo  # (D, G, V)
    zms = vms.sum(axis=2)
    hfms = np.zeros((D,) + mp.hfms0.shape)
    np.add.at(hfms, (slice(None),) + mp.lab_at, endow)
    np.subtract.at(hfms, (slice(None),) + mp.tradable_at, fd[:, mp.tradable_use])
    vfms = hfms @ mp.member
    zfms = vfms.sum(axis=2)

    # --- into the compiled system's vectors
    X0 = np.tile(mp.base_x, (D, 1))
    P0 = np.tile(mp.base_p, (D, 1))

    def put(arr, comp_name, values, kind):
        idx = (mp.x_index if kind == "x" else mp.p_index)[comp_name]
        if idx.size:
            arr[:, idx] = values

    put(P0, "factor_share", fs, "p")
    put(P0, "tfp", tfp, "p")
    put(P0, "fixed_factor", fd[:, fixed_use], "p")
    put(P0, "input_budget", fd[:, mp.budget_use], "p")
    put(X0, "liquidity_rent", liquidity_rent, "x")
    put(P0, "budget_share", sh["budget_share"], "p")
    put(P0, "cpi_weight", cpi_weight, "p")
    for k in ("savings_rate", "transfer_rate", "outside_rate"):
        put(P0, k, rates[k], "p")
    put(P0, "exogenous_income", exinc, "p")
    put(P0, "labour_endowment", endow, "p")
    put(P0, "village_net_trade", vms[:, mp.village_goods, :].reshape(D, -1), "p")
    put(P0, "zone_net_trade", zms[:, mp.zone_goods], "p")
    put(P0, "village_factor_trade", vfms[:, mp.village_factors, :].reshape(D, -1), "p")
    put(P0, "zone_factor_trade", zfms[:, mp.zone_factors], "p")

    put(X0, "factor_demand", fd, "x")
    put(X0, "labour_supply", endow, "x")
    put(X0, "consumption", qc, "x")
    put(X0, "transfers_out", rates["transfer_rate"] * y, "x")
    put(X0, "savings", rates["savings_rate"] * y, "x")
    put(X0, "outside_spending", rates["outside_rate"] * y, "x")
    put(X0, "household_surplus", hms.reshape(D, -1), "x")
    put(X0, "village_surplus", vms.reshape(D, -1), "x")
    put(X0, "zone_surplus", zms, "x")
    put(X0, "household_factor_surplus", hfms.reshape(D, -1), "x")
    put(X0, "village_factor_surplus", vfms.reshape(D, -1), "x")
    put(X0, "zone_factor_surplus", zfms, "x")
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
