"""Calibration of the LEWIE model from a household-group SAM, one set of rules for any number of draws.

The SAM gives the data: output, intermediate and factor payments, incomes and what households spend
(base prices and wages 1, so values are quantities). The *rules* turn data and shares (factor shares of
value added, budget shares, savings / transfer / outside-spending rates) into the parameters and base
levels the model needs; `CalibrationRules` states them once, vectorised over D draws of the shares.
The point calibration (`calibrate`) is draw 0 of those rules, evaluated exactly as the Monte Carlo
engine evaluates draw 0 (row 0 of a block of `RECAL_BLOCK` draws), so the point estimates and draw 0
are the same numbers to the bit; `lewie.model.recalibration` places each draw's values in the compiled
system's vectors. For draw d

* ``FD = VA·factor_share``  (VA = QP·va_share, kept: input shares are not drawn), budget-constrained
  uses with a base shadow price > 1 moving their rent out of the fixed factors' returns
  (`lewie.model.liquidity.recalibrated_budget_uses`);
* ``tfp = VA / Π_f FD^factor_share``;  ``fixed_factor = FD`` of fixed factors, ``input_budget = FD``
  of budget-constrained uses;
* ``TROUT, SAV, EXPROC = rate·Y``;  ``QC = min_consumption + budget_share·(Y − TROUT − SAV − EXPROC
  − Σ min_consumption)``;  ``cpi_weight = QC / Y`` (so CPI = 1 and real income = Y at the base);
* labour endowments: kept, or each draw's from its labour use (`labour_endowments`);
* ``exogenous_income = Y − rents − labour income`` (it closes the household account);
* marketed surpluses of households, villages and the zone, and the fixed net trades that pin local
  prices set to them (``village_net_trade = VMS`` ...).

Pure functions and arrays: nothing here touches Pyomo. GAMS names of the published code are in the
registry (`GAMS_NAMES`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from lewie.sam.accounts import LEAKAGES, account

from lewie.model import registry
from lewie.errors import CalibrationError
from lewie.model.labour import elasticity_of
from lewie.model.liquidity import check_base_rent, recalibrated_budget_uses
from lewie.model.sets import Structure

# model parameter -> GAMS name (for documentation and workbook users), from the registry
GAMS_NAMES = {name: e.gams for name, e in registry.PARAMETERS.items()}
RATE_OF = {"savings": "savings_rate", "transfers": "transfer_rate", "spending": "outside_rate"}
RATES = ("savings_rate", "transfer_rate", "outside_rate")
# draws are evaluated in blocks of this many rows, draw d at row d mod RECAL_BLOCK: matrix products go
# through BLAS, whose rounding can depend on a product's shape, so a fixed block makes every draw's
# numbers independent of the chunk it is solved in, and the point calibration (row 0) equal to draw 0
RECAL_BLOCK = 32


@dataclass
class Calibration:
    """Parameters and base levels of one economy, keyed by labels (tuples for multi-index)."""

    structure: Structure
    params: dict[str, dict] = field(default_factory=dict)
    levels: dict[str, dict] = field(default_factory=dict)
    # sparse index sets (which entries exist)
    factor_uses: tuple[tuple[str, str, str], ...] = ()  # (good, factor, household), FD > 0
    input_uses: tuple[tuple[str, str, str], ...] = ()  # (good, input good, household), ID > 0
    consumption: tuple[tuple[str, str], ...] = ()  # (good, household), QC > 0
    labour_supply: tuple[tuple[str, str], ...] = ()  # (factor, household), endowment > 0
    shadow_price: dict = field(default_factory=dict)  # (good, factor, household) budget use -> base λ0
    # the SAM's factor payments / value added per use: what parameter tables estimate and Monte Carlo
    # draws; equal to params["factor_share"] except where a shadow price > 1 moves the liquidity rent
    payment_share: dict = field(default_factory=dict)
    shadow_price_se: dict = field(default_factory=dict)  # budget use -> standard error of λ0 (drawn)

    def drawn(self, name: str) -> dict:
        """The values Monte Carlo draws of parameter ``name`` vary around (`lewie.model.recalibration`, `lewie.runs.sampling`)."""
        return self.payment_share if name == "factor_share" and self.payment_share else self.params[name]

    @property
    def budget_uses(self) -> list[tuple[str, str, str]]:
        """Factor uses whose spending is a budget (`lewie.model.liquidity`), in factor-use order."""
        return [k for k in self.factor_uses if (k[1], k[2]) in self.structure.budget_constrained]


# the parameters a Monte Carlo draw may change (the fields of `ShareDraws` besides shadow prices); input shares
# are never drawn
VARIED_SHARES = ("factor_share", "budget_share", "savings_rate", "transfer_rate", "outside_rate")


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
    # base shadow price of each budget-constrained use (cal.budget_uses order), when drawn
    shadow_price: np.ndarray | None = None  # (D, len(cal.budget_uses))

    @property
    def n_draws(self) -> int:
        sizes = {np.atleast_2d(getattr(self, f.name)).shape[0] for f in fields(self)
                 if getattr(self, f.name) is not None}
        if len(sizes) > 1:
            raise ValueError(f"share draws disagree on the number of draws: {sorted(sizes)}")
        return sizes.pop() if sizes else 1


def share_keys(cal: Calibration) -> dict[str, list]:
    """The labels of the columns of each field of `ShareDraws` (but the shadow prices)."""
    H = list(cal.structure.households)
    return {"factor_share": list(cal.factor_uses), "budget_share": list(cal.consumption),
            "savings_rate": H, "transfer_rate": H, "outside_rate": H}


def base_shares(cal: Calibration) -> ShareDraws:
    """The calibrated shares as one draw (draw 0)."""
    return ShareDraws(**{name: np.array([[cal.drawn(name)[k] for k in ks]]) for name, ks in share_keys(cal).items()})


def indicator(items, groups) -> np.ndarray:
    """(len(items), len(groups)) 0/1 matrix: item i belongs to group g."""
    pos = {g: j for j, g in enumerate(groups)}
    out = np.zeros((len(items), len(groups)))
    for i, it in enumerate(items):
        out[i, pos[it]] = 1.0
    return out


LABOUR_RULES = ("kept", "village", "zone")


class _LabourRule:
    """`labour_endowments` of one rule, its sums over labour uses built once."""

    def __init__(self, cal: Calibration, rule: str):
        if rule not in LABOUR_RULES:
            raise ValueError(f"unknown labour endowment rule '{rule}'; valid: {', '.join(LABOUR_RULES)}")
        self.rule = rule
        pairs = list(cal.labour_supply)
        self.base = np.array([cal.levels["labour_supply"][k] for k in pairs], dtype=float)
        if rule == "kept" or not pairs:
            self.M = None
            return
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
        self.M, self.use0 = M, fd0 @ M
        self.idx = np.array([kpos[(f, scope(h))] for f, h in pairs], dtype=np.int64)

    def endowments(self, fd: np.ndarray) -> np.ndarray:
        fd = np.atleast_2d(fd)
        if self.M is None:
            return np.tile(self.base, (fd.shape[0], 1))
        use0 = self.use0[self.idx]
        used = fd @ self.M  # (D, K)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(use0 > 0, used[:, self.idx] / np.where(use0 > 0, use0, 1.0), 1.0)
        return self.base * ratio


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
    return _LabourRule(cal, rule).endowments(fd)


class CalibrationRules:
    """The calibration rules of one economy for D draws of its shares at once (module docstring).

    Built from a calibration's data (index sets, value added, output, intermediate demand, income,
    labour endowments, minimum consumption, exogenous demand, base shadow prices) as index arrays and
    0/1 indicator matrices of the sums; `evaluate` is array code only. `calibrate` evaluates draw 0;
    `lewie.model.recalibration` evaluates every draw and places the values in the compiled system.
    """

    def __init__(self, cal: Calibration):
        s = cal.structure
        H, G, V = list(s.households), list(s.goods), list(s.villages)
        TF = list(s.tradable_factors)
        hpos = {h: i for i, h in enumerate(H)}
        gpos = {g: i for i, g in enumerate(G)}
        fpos = {f: i for i, f in enumerate(TF)}
        uses, acts, pairs, lpairs = list(cal.factor_uses), list(s.activities), list(cal.consumption), list(cal.labour_supply)
        apos = {a: i for i, a in enumerate(acts)}
        budget = cal.budget_uses
        # the labels of every array `evaluate` returns, by dims
        vg, zg, vf, zf = s.goods_at("village"), s.goods_at("zone"), s.factors_at("village"), s.factors_at("zone")
        self.keys = {"use": uses, "activity": acts, "fixed_use": [k for k in uses if k[1] in s.fixed_factors],
                     "budget_use": budget, "pair": pairs, "household": H, "labour": lpairs,
                     "goods_h": [(g, h) for g in G for h in H], "goods_v": [(g, v) for g in G for v in V],
                     "goods": G, "tradable_h": [(f, h) for f in TF for h in H],
                     "tradable_v": [(f, v) for f in TF for v in V], "tradable": TF,
                     "village_goods_v": [(g, v) for g in vg for v in V], "zone_goods": list(zg),
                     "village_factors_v": [(f, v) for f in vf for v in V], "zone_factors": list(zf)}
        # production side
        self.va = np.array([cal.levels["value_added"][a] for a in acts])
        self.act_of_use = np.array([apos[g, h] for g, _, h in uses], dtype=np.int64)
        self.M_use = indicator([(g, h) for g, _, h in uses], acts)
        self.fixed_use = np.array([f in s.fixed_factors for _, f, _ in uses], dtype=bool)
        bpos = {k: j for j, k in enumerate(uses)}
        self.budget_use = np.array([bpos[k] for k in budget], dtype=np.int64)
        self.shadow_price0 = np.array([cal.shadow_price.get(k, 1.0) for k in budget])  # λ at the base
        # household side
        self.y = np.array([cal.levels["income"][h] for h in H])
        self.hh_of_pair = np.array([hpos[h] for _, h in pairs], dtype=np.int64)
        self.good_of_pair = np.array([gpos[g] for g, _ in pairs], dtype=np.int64)
        self.emin = np.array([cal.params["min_consumption"][k] for k in pairs])
        self.M_pair = indicator([h for _, h in pairs], H)
        self.M_hh_use = indicator([h for _, _, h in uses], H)
        self.M_hh_budget = indicator([k[2] for k in budget], H)
        self.gams_compat = bool(s.gams_compat)
        self.endow0 = np.array([cal.levels["labour_supply"][k] for k in lpairs], dtype=float)
        self.M_lab_hh = indicator([h for _, h in lpairs], H)
        self.labour_rules = {"kept": None}
        if "factor_demand" in cal.levels:  # the rules that follow labour use start from the base's
            self.labour_rules.update({r: _LabourRule(cal, r) for r in LABOUR_RULES if r != "kept"})
        # surpluses: production net of intermediate demand, accumulated in the calibration's order
        hms0 = np.zeros((len(G), len(H)))
        for (g, h), v in cal.levels["production"].items():
            hms0[gpos[g], hpos[h]] += v
        for (a, g, h), v in cal.levels["intermediate_demand"].items():
            hms0[gpos[g], hpos[h]] -= v
        self.hms0 = hms0
        self.member = np.array([[s.village_of[h] == v for v in V] for h in H], dtype=float)  # (H, V)
        self.exo = np.array([[cal.params["exogenous_demand"][g, v] for v in V] for g in G])
        self.n_tradable = len(TF)
        self.lab_at = (np.array([fpos[f] for f, _ in lpairs], dtype=np.int64),
                       np.array([hpos[h] for _, h in lpairs], dtype=np.int64))
        tradable = [j for j, (_, f, _) in enumerate(uses) if f in fpos]
        self.tradable_use = np.array(tradable, dtype=np.int64)
        self.tradable_at = (np.array([fpos[uses[j][1]] for j in tradable], dtype=np.int64),
                            np.array([hpos[uses[j][2]] for j in tradable], dtype=np.int64))
        self.village_goods = np.array([gpos[g] for g in vg], dtype=np.int64)
        self.zone_goods = np.array([gpos[g] for g in zg], dtype=np.int64)
        self.village_factors = np.array([fpos[f] for f in vf], dtype=np.int64)
        self.zone_factors = np.array([fpos[f] for f in zf], dtype=np.int64)

    # what `evaluate` returns: name -> the keys (`self.keys`) of its columns
    PARAMETERS = {"factor_share": "use", "tfp": "activity", "fixed_factor": "fixed_use", "input_budget": "budget_use",
                  "budget_share": "pair", "cpi_weight": "pair", "savings_rate": "household",
                  "transfer_rate": "household", "outside_rate": "household", "exogenous_income": "household",
                  "labour_endowment": "labour", "village_net_trade": "village_goods_v", "zone_net_trade": "zone_goods",
                  "village_factor_trade": "village_factors_v", "zone_factor_trade": "zone_factors"}
    LEVELS = {"factor_demand": "use", "labour_supply": "labour", "liquidity_rent": "budget_use", "consumption": "pair",
              "transfers_out": "household", "savings": "household", "outside_spending": "household",
              "household_surplus": "goods_h", "village_surplus": "goods_v", "zone_surplus": "goods",
              "household_factor_surplus": "tradable_h", "village_factor_surplus": "tradable_v",
              "zone_factor_surplus": "tradable"}

    def evaluate(self, shares: dict[str, np.ndarray], shadow_price: np.ndarray | None = None,
                 labour: str = "kept") -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(parameters, levels) of D draws, each a (D, ·) array over its keys (`PARAMETERS`, `LEVELS`).

        ``shares``: every field of `ShareDraws` but the shadow prices, as (D, ·) arrays; ``shadow_price``
        (D, budget uses): each draw's base shadow prices (default: the calibrated ones); ``labour``: how
        labour endowments follow labour use (`labour_endowments`).
        """
        D = shares["factor_share"].shape[0]
        # --- production side: output and value added keep their SAM levels
        va = self.va
        pay = va[self.act_of_use] * shares["factor_share"]  # (D, U): the drawn shares are the SAM's payment shares
        # budget-constrained inputs (lewie.model.liquidity): the payment is the budget B, the base rent (λ0 − 1)·B
        # comes out of the activity's fixed-factor returns; model shares are (quantity + rent) / VA
        bcols = self.budget_use
        lam0 = self.shadow_price0 if shadow_price is None else shadow_price
        fixed_use = self.fixed_use
        fd, liquidity_rent = recalibrated_budget_uses(pay, bcols, lam0, fixed_use, self.M_use)
        rent_of_use = np.zeros_like(fd)
        rent_of_use[:, bcols] = liquidity_rent
        fs = (fd + rent_of_use) / va[self.act_of_use] if (np.asarray(lam0) != 1.0).any() else shares["factor_share"]
        with np.errstate(divide="ignore"):
            log_fd = np.where(fd > 0, np.log(np.where(fd > 0, fd, 1.0)), -np.inf)
        tfp = va * np.exp(-((fs * np.where(fs > 0, log_fd, 0.0)) @ self.M_use))
        # --- household side: income kept
        y = self.y
        rates = {k: shares[k] for k in RATES}
        hh_of_pair = self.hh_of_pair
        emin = self.emin
        local = y * (1.0 - rates["savings_rate"] - rates["transfer_rate"] - rates["outside_rate"]) - emin @ self.M_pair
        qc = emin + shares["budget_share"] * local[:, hh_of_pair]
        cpi_weight = qc / y[hh_of_pair]
        rents = (fd * fixed_use) @ self.M_hh_use
        if not self.gams_compat:  # the liquidity rent is income of the household holding the constraint
            rents = rents + liquidity_rent @ self.M_hh_budget
        if labour not in LABOUR_RULES:
            raise ValueError(f"unknown labour endowment rule '{labour}'; valid: {', '.join(LABOUR_RULES)}")
        rule = self.labour_rules.get(labour)
        endow = rule.endowments(fd) if rule is not None else np.tile(self.endow0, (D, 1))  # (D, L)
        wages = endow @ self.M_lab_hh if self.endow0.size else np.zeros((D, len(y)))  # wages are 1 at the base
        exinc = y - rents - wages
        # --- surpluses and the net trades that pin local prices
        hms = np.repeat(self.hms0[None], D, axis=0)
        np.subtract.at(hms, (slice(None), self.good_of_pair, hh_of_pair), qc)
        vms = hms @ self.member - self.exo  # (D, G, V)
        zms = vms.sum(axis=2)
        hfms = np.zeros((D, self.n_tradable, len(y)))
        np.add.at(hfms, (slice(None),) + self.lab_at, endow)
        np.subtract.at(hfms, (slice(None),) + self.tradable_at, fd[:, self.tradable_use])
        vfms = hfms @ self.member
        zfms = vfms.sum(axis=2)
        params = {"factor_share": fs, "tfp": tfp, "fixed_factor": fd[:, fixed_use], "input_budget": fd[:, bcols],
                  "budget_share": shares["budget_share"], "cpi_weight": cpi_weight, **rates,
                  "exogenous_income": exinc, "labour_endowment": endow,
                  "village_net_trade": vms[:, self.village_goods, :].reshape(D, -1),
                  "zone_net_trade": zms[:, self.zone_goods],
                  "village_factor_trade": vfms[:, self.village_factors, :].reshape(D, -1),
                  "zone_factor_trade": zfms[:, self.zone_factors]}
        levels = {"factor_demand": fd, "labour_supply": endow, "liquidity_rent": liquidity_rent, "consumption": qc,
                  "transfers_out": rates["transfer_rate"] * y, "savings": rates["savings_rate"] * y,
                  "outside_spending": rates["outside_rate"] * y, "household_surplus": hms.reshape(D, -1),
                  "village_surplus": vms.reshape(D, -1), "zone_surplus": zms,
                  "household_factor_surplus": hfms.reshape(D, -1), "village_factor_surplus": vfms.reshape(D, -1),
                  "zone_factor_surplus": zfms}
        return params, levels

    def labelled(self, values: dict[str, np.ndarray], of: dict[str, str], row: int = 0) -> dict[str, dict]:
        """One draw's arrays (`evaluate`) as dicts keyed by labels."""
        return {name: dict(zip(self.keys[of[name]], values[name][row].tolist())) for name in of}


def calibrate(sam: pd.DataFrame, s: Structure, *, tol: float = 1e-9) -> Calibration:
    """Calibrate every parameter and base level: the SAM's data (base prices and wages are 1), then
    the calibration rules at the SAM's shares, evaluated as draw 0 of a Monte Carlo run."""
    S = sam
    H, G, F = s.households, s.goods, s.factors
    at = _cells(S)
    _check_supported_flows(S, s, tol, at)
    cal = Calibration(structure=s)
    p, lv = cal.params, cal.levels

    # --- the data: output, intermediate and factor payments, incomes, spending
    qp = {(g, h): at(account("act", g, h), account("com", g)) for g, h in s.activities}
    bad = [f"act:{g}:{h}" for (g, h), v in qp.items() if v <= 0]
    if bad:
        raise CalibrationError(f"activities with no output (row act:g:h, column com:g): {bad}")
    ids = {(g, gg, h): at(account("com", gg), account("act", g, h))
           for g, h in s.activities for gg in G}
    cal.input_uses = tuple(k for k, v in ids.items() if v != 0)
    payments = {(g, f, h): at(account("fac", f), account("act", g, h))
                for g, h in s.activities for f in F}
    cal.factor_uses = tuple(k for k, v in payments.items() if v != 0)
    for (g, f, h) in cal.factor_uses:
        if payments[g, f, h] < 0:
            raise CalibrationError(f"negative payment to factor '{f}' by activity 'act:{g}:{h}'")
    va = {(g, h): sum(payments[g, f, h] for f in F) for g, h in s.activities}
    no_va = [f"act:{g}:{h}" for (g, h), v in va.items() if v <= 0]
    if no_va:
        raise CalibrationError(f"activities with no factor payments (value added): {no_va}")
    p["input_share"] = {k: ids[k] / qp[k[0], k[2]] for k in cal.input_uses}
    p["va_share"] = {k: va[k] / qp[k] for k in s.activities}
    cal.payment_share = {k: payments[k] / va[k[0], k[2]] for k in cal.factor_uses}

    # budget-constrained inputs (lewie.model.liquidity): the SAM pays them their budget; their shadow price λ0
    # gives them a base rent taken out of the fixed factors' returns, and a share λ0·B/VA of value added
    budget_uses = cal.budget_uses
    cal.shadow_price = {k: s.budget_shadow_price.get((k[0], k[2]), 1.0) for k in budget_uses}
    cal.shadow_price_se = {k: s.budget_shadow_price_se.get((k[0], k[2]), 0.0) for k in budget_uses}
    check_base_rent(payments, budget_uses, s.fixed_factors, s.budget_shadow_price)
    p["input_finance"] = {k: 0.0 for k in budget_uses}  # outside money paying for inputs (a transfer's share)

    income = {h: S.loc[account("hh", h)].sum() for h in H}
    for h, y in income.items():
        if y <= 0:
            raise CalibrationError(f"household 'hh:{h}' has no income (row total {y:g})")
    for leak in LEAKAGES:
        p[RATE_OF[leak]] = {h: at(account("out", leak), account("hh", h)) / income[h] for h in H}
    local = {h: income[h] * (1 - sum(p[RATE_OF[k]][h] for k in LEAKAGES)) for h in H}
    qc = {(g, h): at(account("com", g), account("hh", h)) for g in G for h in H}
    cal.consumption = tuple(k for k, v in qc.items() if v != 0)
    p["budget_share"] = {k: qc[k] / local[k[1]] for k in cal.consumption}
    p["min_consumption"] = {k: 0.0 for k in cal.consumption}

    endow = {(f, h): at(account("hh", h), account("fac", f)) for f in s.tradable_factors for h in H}
    cal.labour_supply = tuple(k for k, v in endow.items() if v != 0)
    p["labour_elasticity"] = {(f, h): elasticity_of(s, f, h) for f, h in cal.labour_supply}
    p["world_price"] = {g: 1.0 for g in s.goods_at("world")}
    p["world_wage"] = {f: 1.0 for f in s.factors_at("world")}
    p["exogenous_demand"] = {(g, v): 0.0 for g in G for v in s.villages}
    p["in_kind"] = {(g, h): 0.0 for g in G for h in H}  # goods received in kind (in-kind transfers)
    p["outside_price"] = 1.0
    _check_priced_markets(cal, s)

    # base levels the data give (prices and wages 1: quantities are values at base prices)
    lv["price_household"] = {(g, h): 1.0 for g in G for h in H}
    lv["price_village"] = {(g, v): 1.0 for g in s.goods_at("village") for v in s.villages}
    lv["price_zone"] = {g: 1.0 for g in s.goods_at("zone")}
    lv["wage_village"] = {(f, v): 1.0 for f in s.factors_at("village") for v in s.villages}
    lv["wage_zone"] = {f: 1.0 for f in s.factors_at("zone")}
    lv["price_value_added"] = dict(p["va_share"])
    lv["value_added"] = dict(va)
    lv["production"] = dict(qp)
    lv["rent"] = {k: 1.0 for k in cal.factor_uses if k[1] in s.fixed_factors}
    lv["intermediate_demand"] = {k: ids[k] for k in cal.input_uses}
    lv["income"] = dict(income)
    lv["cpi"] = {h: 1.0 for h in H}
    lv["real_income"] = dict(income)
    lv["labour_supply"] = {k: endow[k] for k in cal.labour_supply}

    # --- the rules: everything else, as draw 0 of a Monte Carlo run
    params, levels = point_values(CalibrationRules(cal), cal)
    p.update(params)
    lv.update(levels)
    return cal


def point_values(rules: CalibrationRules, cal: Calibration) -> tuple[dict[str, dict], dict[str, dict]]:
    """The rules at the calibration's shares, labelled: draw 0 exactly as the Monte Carlo engine
    evaluates it (row 0 of a block of `RECAL_BLOCK` draws; see `RECAL_BLOCK`)."""
    shares = {name: np.repeat(a, RECAL_BLOCK, axis=0) for name, a in vars(base_shares(cal)).items() if a is not None}
    params, levels = rules.evaluate(shares)
    return rules.labelled(params, rules.PARAMETERS), rules.labelled(levels, rules.LEVELS)


def _cells(S: pd.DataFrame):
    """``at(row, column)``: ``S.at[row, column]``, read from one numpy array when the SAM is all float64
    with unique labels (as `lewie.sam.read_sam` gives it): per-element pandas access is slow."""
    if not (S.index.is_unique and S.columns.is_unique and all(t == np.float64 for t in S.dtypes)):
        return lambda r, c: S.at[r, c]
    x = S.to_numpy()
    rows = {r: i for i, r in enumerate(S.index)}
    cols = {c: j for j, c in enumerate(S.columns)}
    return lambda r, c: x[rows[r], cols[c]]


def _check_supported_flows(S: pd.DataFrame, s: Structure, tol: float, at) -> None:
    """Fail on SAM flows the model has no place for, and on fixed-factor rents paid to others
    (``at``: the SAM's cells, `_cells`)."""
    scale = max(1.0, float(np.abs(S.to_numpy()).max()))
    from lewie.sam.check import unsupported_flows  # the one rule `lewie sam check` uses too
    acts = {account("act", g, h): (g, h) for g, h in s.activities}
    problems = [f"({r}, {c}) = {v:g}" for r, c, v in unsupported_flows(S)]
    if problems:
        raise CalibrationError("SAM flows the LEWIE model has no place for: " + "; ".join(problems[:10])
                               + (f"; and {len(problems) - 10} more" if len(problems) > 10 else ""))
    for f in s.fixed_factors:
        col = account("fac", f)
        for h in s.households:
            owned = sum(at(col, a) for a, (g, hh) in acts.items() if hh == h)
            paid = at(account("hh", h), col)
            if abs(owned - paid) > tol * scale:
                raise CalibrationError(
                    f"fixed factor '{f}' is activity-specific, so its rent goes to the household group "
                    f"that uses it: 'hh:{h}' should receive {owned:g} from 'fac:{f}' but receives {paid:g}. "
                    f"If '{f}' is traded, list it under [markets]")
        for cell in ((account("out", "world"), col), (col, account("out", "world"))):
            if at(*cell) != 0:
                raise CalibrationError(f"fixed factor '{f}' is traded with the outside ({cell[0]}, {cell[1]}) "
                                       f"= {at(*cell):g}; if it is tradable, list it under [markets]")


def _local_markets(s: Structure, labels):
    """Each local market of goods or factors ``labels``: (label, level, where, its households)."""
    for x in labels:
        level = s.market_level[x]
        if level == "world":
            continue
        for v in (s.villages if level == "village" else (None,)):
            yield x, level, (f"village '{v}'" if v else "the local economy"), (s.members(v) if v else s.households)


def _check_priced_markets(cal: Calibration, s: Structure) -> None:
    """A market cleared locally needs someone there whose demand or supply responds to its price."""
    for g, level, where, hh in _local_markets(s, s.goods):
        active = any((g, h) in s.activities for h in hh) or any((g, h) in cal.consumption for h in hh) \
            or any(gg == g and h in hh for _, gg, h in cal.input_uses)
        if not active:
            raise CalibrationError(f"good '{g}' clears at {level} level but nobody in {where} produces, "
                                   "consumes or uses it, so its price is not determined; "
                                   "set it to another market level")
    for f, level, where, hh in _local_markets(s, s.tradable_factors):
        active = any(ff == f and h in hh for _, ff, h in cal.factor_uses) \
            or any(ff == f and h in hh for ff, h in cal.labour_supply)
        if not active:
            raise CalibrationError(f"factor '{f}' clears at {level} level but nobody in {where} supplies or "
                                   "uses it, so its wage is not determined; set it to another market level")
