"""The engine of every run: draws of the estimated shares × sweep points × variants, solved at once
(a point run is draw 0; `lewie.runs.engine.run` and `lewie batch` both come here).

For draws ``first``..``last`` of a scenario (`MonteCarlo.solve`, `solve_draws`):

1. **Draw** the shares (`lewie.runs.sampling`: the GAMS procedure by default, Dirichlet on request, or
   draws supplied in a file). Draw d uses its own random stream, so it does not depend on which
   other draws are solved with it.
2. **Recalibrate** every draw (`lewie.model.recalibration.recalibrate`: levels kept, shares redrawn, exogenous
   income and the fixed net trades recomputed), at every sweep point (a setting given as a list,
   e.g. ``labour_supply.elasticity = [0, 1, 100]``; each point has its own parameters).
3. **Check each draw's base**: the compiled residual of every equation at the draw's recalibrated
   base, relative to its magnitude (`lewie.solvers.residuals`), must be ≤ 1e-9
   (`lewie.model.recalibration.check_bases`); a draw that fails is kept, with status ``failed: base check`` and
   the worst equation as its reason.
4. **Shock and solve**: each variant's interventions are resolved once, at the point estimates, into
   additive changes and factors (`lewie.model.interventions.Effect`), combined once
   (`lewie.model.interventions.combine`) and applied to each draw's own base parameters (``new = base ×
   factors + changes``: a transfer adds the same amount in every draw, a productivity gain scales
   each draw's own productivity). Every (sweep point, draw, variant) is one member of one batch
   solved by the backend's `solve_batch` (`lewie.solvers`: batched reduced-space Newton, or IPOPT
   member by member), which checks every member's full residual (all equations, ≤ 1e-8 relative).
5. **Verify with Pyomo**: for draw 0 and a seeded sample of the others (`in_pyomo_sample`), the base
   and every solution are loaded into the Pyomo model and every constraint is evaluated by Pyomo
   itself (`lewie.runs.verify`): an independent check that the compiled system and the declared model
   agree (``pyomo_verified(draw)`` says which draws were). A base or solution it rejects is kept as
   ``failed: verification`` with the worst equations as its reason; the run goes on.

A member that fails keeps its place: ``status_code`` / ``status`` say what failed (`lewie.results.status`),
``reason`` why, its values are NaN. Nothing depends on how the draws are split into chunks: the
results of draws 0..N are the same, to the last bit, solved in one call or in chunks of any size
(`run_draws` merges chunks with `lewie.runs.chunks.merge_draws`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from lewie.solvers import get_backend
from lewie.solvers.reduced_newton import residual_table as compiled_residual_table
from lewie.solvers.residuals import measure_for, relative
from lewie.solvers.tape import compile_model
from lewie.solvers.tearing import explicit_for

from lewie.model import registry
from lewie.model.calibration import Calibration
from lewie.runs.chunks import merge_draws
from lewie.model.recalibration import GAMS_FIXED_FACTOR_FLOOR, SHARE_TOL, gams_fixed_factor_floor, labour_rule, recalibrate
from lewie.model.calibration import RECAL_BLOCK
from lewie.errors import CalibrationError, InputError, SolveError, StageError, unknown_label
from lewie.model.interventions import Effect, combine
from lewie.runs.stages import Simulation, base_attrs
from lewie.results.dataset import OutputMap, add_parameter_values, add_solver_info, add_variant_info, draws_dataset
from lewie.runs.sampling import Draws, Sampler, read_draws
from lewie.config.scenario import Scenario, load_scenario
from lewie.results.status import RunStatus, flag_attrs
from lewie.runs.verify import BASE_TOL, SOLUTION_TOL, format_residuals, verify_points

log = logging.getLogger("lewie")

DEFAULT_CHUNK = 1000  # at most this many draws solved per batch by `run` (see `default_chunk`)
CHUNK_BYTES = 256 * 2 ** 20  # the arrays of one chunk of draws stay below this (see `default_chunk`)
VERIFICATION = ("every draw's base: compiled residual of every equation <= 1e-9 relative; every solution: "
                "compiled residual of every equation <= 1e-8 relative (relative: to the magnitude of the "
                "quantities the equation is built from); draw 0 and one random draw in each range [2^j, 2^(j+1)) "
                "(fixed by the seed): base and "
                "solutions re-checked by Pyomo's own evaluation of every constraint")


@dataclass
class _Point:
    """One sweep point: its coordinates, scenario, calibration, resolved interventions and shocks."""

    coords: dict
    scenario: Scenario
    calibration: Calibration
    effects: list[Effect]
    shocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per variant: positions, factors, changes
    fixed: np.ndarray  # positions of fixed factors (must stay positive)


def in_pyomo_sample(seed: int, d: int) -> bool:
    """Whether Pyomo re-checks draw d's base and solutions: draw 0, and one random draw in each range
    [2ʲ, 2ʲ⁺¹) (1; 2 or 3; one of 4..7; ...), chosen by the seed. A small sample (11 of 1,000 draws)
    fixed by the seed and d alone, so a draw's results never depend on the chunk or the N it is
    solved with."""
    if d <= 0:
        return d == 0
    j = int(d).bit_length() - 1
    return d == _pyomo_pick(abs(int(seed)), j)


@lru_cache(maxsize=4096)
def _pyomo_pick(seed: int, j: int) -> int:
    """The draw of [2ʲ, 2ʲ⁺¹) Pyomo re-checks for ``seed`` (`in_pyomo_sample`)."""
    return (1 << j) + int(np.random.default_rng([seed, j, 0x5A3D]).integers(1 << j))


def pyomo_sample(seed: int, n_draws: int) -> list[int]:
    """The draws of 0..N that Pyomo re-checks (`in_pyomo_sample`)."""
    return [d for d in range(n_draws + 1) if in_pyomo_sample(seed, d)]


class MonteCarlo:
    """A scenario made ready for solving draws: its economy loaded, calibrated and checked, the model
    built and compiled once, the interventions resolved at every sweep point, the draws' source set.

    ``draws_file`` (default: the scenario's ``montecarlo.draws_file``; a file or a table as
    `lewie.runs.sampling.read_draws` reads) supplies the draws instead of lewie's sampler. ``solver``: the
    backend (`lewie.solvers.get_backend`) whose `solve_batch` solves every member; the native
    batched Newton by default, IPOPT member by member.
    """

    def __init__(self, scenario: Scenario | str | Path | Simulation, *, variants: list[str] | None = None,
                 draws_file: str | Path | pd.DataFrame | None = None, solver: str = "newton"):
        self.backend = get_backend(solver)
        if isinstance(scenario, Simulation):  # calibrated already (a batch's validation): built from a copy
            if scenario.stage != "calibrated":
                raise StageError(f"a MonteCarlo is made from a calibrated simulation, not one at stage "
                                 f"'{scenario.stage}'")
            sim = scenario.copy().build()
        else:
            sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
            sim = Simulation(sc).load().validate().calibrate().build()
        self.sim = sim
        self.scenario = sc = sim.scenario  # labels respelled, dashboard shocks added
        names = list(sim.shocks)
        for v in variants or []:
            if v not in names:
                raise InputError(unknown_label("variant", v, names))
        self.variants = list(variants) if variants is not None else names
        self.system = compile_model(sim.model)
        self.explicit = explicit_for(self.system)
        self.outputs = OutputMap(sim.structure, sim.model, self.system)
        self.points = self._points()
        mc = sc.montecarlo
        self.sampler = Sampler(sim.parameters, sim.calibration, seed=mc.seed, distribution=mc.distribution,
                               gams_compat=sc.gams_compat, file=sc.parameters or sc.workbook)
        if isinstance(draws_file, pd.DataFrame):  # a table of draws in memory (see `read_draws`)
            self.draws_file, self.supplied = "(table)", read_draws(draws_file)
        else:
            self.draws_file = Path(draws_file) if draws_file is not None else mc.draws_file
            self.supplied = read_draws(self.draws_file) if self.draws_file is not None else None

    # ---- setup ----------------------------------------------------------------------------------
    def _points(self) -> list[_Point]:
        ref = self.sim
        out = []
        for coords, sc_p in self.scenario.sweep_points():
            if not out:
                sim = ref
            else:
                sim = Simulation(sc_p)
                sim.sam, sim.parameters, sim.economy_log, sim.stage = ref.sam, ref.parameters, ref.economy_log, "loaded"
                sim.validate().calibrate()
                c, r = sim.calibration, ref.calibration
                if (c.factor_uses, c.input_uses, c.consumption, c.labour_supply) != \
                        (r.factor_uses, r.input_uses, r.consumption, r.labour_supply):  # pragma: no cover
                    raise InputError(f"sweep point {coords} changes the economy's structure", file=self.scenario.source)
            vmap = sim.scenario.variant_map()
            shocks = [self._shock(sim.effects, vmap[v]) for v in self.variants]
            out.append(_Point(coords, sim.scenario, sim.calibration, sim.effects, shocks,
                              np.array(list(self.system.param_positions(ref.model.fixed_factor).values()),
                                       dtype=np.int64)))
        return out

    def _shock(self, effects: list[Effect], idx: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The variant's effects combined (`lewie.model.interventions.combine`), as parameter positions,
        factors and changes: ``new = base × factor + change`` on each draw's own base."""
        model = self.sim.model
        factor: dict[int, float] = {}
        change: dict[int, float] = {}
        for name, entries in combine([effects[i] for i in idx]).items():
            pos = self.system.param_positions(model.find_component(name))
            for k, (f, a) in entries.items():
                factor[pos[k]], change[pos[k]] = f, a
        keys = sorted(factor)
        return (np.array(keys, dtype=np.int64), np.array([factor[j] for j in keys]),
                np.array([change[j] for j in keys]))

    @property
    def sweeps(self) -> dict[str, list[float]]:
        return {sw.dim: list(sw.values) for sw in self.scenario.sweeps}

    def draws(self, first: int, last: int) -> Draws:
        """The shares of draws ``first``..``last`` (drawn, or supplied)."""
        if self.supplied is not None:
            return self.sampler.supplied(self.supplied, first, last, file=self.draws_file)
        return self.sampler.draw(first, last)

    @property
    def method(self) -> str:
        return "supplied" if self.supplied is not None else self.sampler.method

    # ---- solving --------------------------------------------------------------------------------
    def solve(self, first: int, last: int) -> xr.Dataset:
        """Draws ``first``..``last`` (inclusive) of every variant at every sweep point (module docstring)."""
        if first < 0 or last < first:
            raise InputError(f"draws {first}..{last} is not a range of draws (first ≥ 0, last ≥ first)")
        system, model = self.system, self.sim.model
        n, k = system.n, system.k
        draws = list(range(first, last + 1))
        D, Pn, V = len(draws), len(self.points), len(self.variants)
        dr = self.draws(first, last)
        values = dr.values.to_numpy(dtype=float)
        status = np.empty((V, Pn, D), dtype=object)
        status.fill(RunStatus.CONVERGED)  # (np.full would store the int)
        reason = np.full((V, Pn, D), "", dtype=object)
        iters = np.zeros((V, Pn, D), dtype=np.int64)
        resid = np.full((V, Pn, D), np.nan)

        def fail(v, p, d, what: RunStatus, why):
            sl = tuple(slice(None) if x is None else x for x in (v, p, d))
            status[sl], reason[sl] = what, why

        ok_draw = np.ones(D, dtype=bool)
        suspect = self._share_suspects(values)
        for i, d in enumerate(draws):
            why = dr.failed.get(d) or (self._share_problem(values[i]) if suspect[i] else "")
            if why:
                ok_draw[i] = False
                fail(None, None, i, RunStatus.RECALIBRATION, why)
        X0 = np.full((Pn, D, n), np.nan)
        P0 = np.full((Pn, D, k), np.nan)
        idx_ok = np.flatnonzero(ok_draw)
        base_ok = np.zeros((Pn, D), dtype=bool)
        Mbase = np.full((Pn, D, system.m), np.nan)  # each base's magnitudes: its check, the solver's scale
        for p, pt in enumerate(self.points):
            if idx_ok.size == 0:
                break
            x0, p0 = self._recalibrate(pt.calibration, draws, values, ok_draw)
            # `lewie.model.recalibration.check_bases` (tol=inf), keeping the magnitudes it evaluates
            F, Mbase[p, idx_ok] = measure_for(system).evaluate(x0[idx_ok], p0[idx_ok])
            rel = relative(F, Mbase[p, idx_ok])
            worst = np.where(np.isfinite(rel).all(axis=1), rel.max(axis=1, initial=0.0), np.inf)
            X0[p, idx_ok], P0[p, idx_ok] = x0[idx_ok], p0[idx_ok]
            for j, i in enumerate(idx_ok):
                if worst[j] <= BASE_TOL:
                    base_ok[p, i] = True
                else:
                    fail(None, p, i, RunStatus.BASE_CHECK, self._base_reason(x0[i], p0[i], worst[j]))
        # every (sweep point, draw) with a good base, with each variant's shock on its own base
        rows = np.argwhere(base_ok)  # (R, 2): point, draw
        R = len(rows)
        Xb = X0[rows[:, 0], rows[:, 1]] if R else np.empty((0, n))
        Pb = P0[rows[:, 0], rows[:, 1]] if R else np.empty((0, k))
        P = np.repeat(Pb[:, None, :], V, axis=1)
        for r, (p, i) in enumerate(rows):
            pt = self.points[p]
            for v, (pos, fac, add) in enumerate(pt.shocks):
                P[r, v, pos] = Pb[r, pos] * fac + add
                if self.scenario.gams_compat:  # the GAMS repair, recorded in reason
                    P[r, v, pt.fixed], neg = gams_fixed_factor_floor(P[r, v, pt.fixed])
                    if neg.any():
                        reason[v, p, i] = "repaired (gams_compat): " + "; ".join(
                            f"the shock left {system.parameters[j].name} at {Pb[r, j] * fac[pos == j][0] + add[pos == j][0]:.6g}"
                            f", set to {GAMS_FIXED_FACTOR_FLOOR:g} as the GAMS code does" for j in pt.fixed[neg])
                bad = pt.fixed[~(P[r, v, pt.fixed] > 0)]
                if bad.size:
                    fail(v, p, i, RunStatus.SHOCK, f"the shock leaves {system.parameters[bad[0]].name} at "
                                           f"{P[r, v, bad[0]]:g}: an activity cannot lose all of a fixed factor")
                    P[r, v] = Pb[r]  # solved trivially; the member stays failed
        Xs = np.full((V, Pn, D, n), np.nan)
        Ps = np.full((V, Pn, D, k), np.nan)
        if R:
            res = self.backend.solve_batch(system, Xb, Pb, P, model=model,
                                           base_magnitudes=Mbase[rows[:, 0], rows[:, 1]])
            x = res.x.reshape(R, V, n)
            for r, (p, i) in enumerate(rows):
                for v in range(V):
                    b = r * V + v
                    iters[v, p, i] = res.iterations[b]
                    if status[v, p, i] is not RunStatus.CONVERGED:
                        continue
                    if res.status[b].ok:
                        Xs[v, p, i], Ps[v, p, i] = x[r, v], P[r, v]
                        resid[v, p, i] = res.max_residual[b]
                    elif res.max_residual[b] <= SOLUTION_TOL and np.isfinite(x[r, v]).all():
                        # Newton stalled at the rounding floor short of its own (core) tolerance, but
                        # every equation holds to the verification tolerance every solution must meet
                        Xs[v, p, i], Ps[v, p, i] = x[r, v], P[r, v]
                        resid[v, p, i] = res.max_residual[b]
                        reason[v, p, i] = ((reason[v, p, i] + "; ") if reason[v, p, i] else "") + (
                            f"accepted: every equation holds within {res.max_residual[b]:.2g} "
                            f"(<= {SOLUTION_TOL:g}) although Newton stopped short of its own "
                            f"tolerance ({res.status[b].value}: {res.message[b]})")
                    else:
                        fail(v, p, i, RunStatus.from_solver(res.status[b]), str(res.message[b]))
        verified = self._verify(draws, X0, P0, Xs, Ps, base_ok, status, reason)
        # outputs: NaN where the base check failed or the member failed
        Xbase = np.where(base_ok[..., None], X0, np.nan)
        Pbase = np.where(base_ok[..., None], P0, np.nan)
        return self._dataset(draws, Xbase, Pbase, Xs, Ps, status, reason, iters, resid, values, dr, verified)

    def _recalibrate(self, cal: Calibration, draws: list[int], values: np.ndarray, ok: np.ndarray):
        """`lewie.model.recalibration.recalibrate` of the draws, in blocks aligned on the draw number.

        Its matrix products go through BLAS, whose rounding can depend on how many rows a product
        has and where a row sits among them; so draw d is always recalibrated in a block of
        `RECAL_BLOCK` rows at row d mod `RECAL_BLOCK` (the other rows: its block's neighbours, or
        the point estimates), whatever chunk it is solved in. Rows of draws that are not ``ok`` are
        the point estimates (their results are discarded).
        """
        s = self.sampler
        out_x = np.full((len(draws), self.system.n), np.nan)
        out_p = np.full((len(draws), self.system.k), np.nan)
        pos = {d: i for i, d in enumerate(draws)}
        for start in range(draws[0] - draws[0] % RECAL_BLOCK, draws[-1] + 1, RECAL_BLOCK):
            block = np.tile(s.point, (RECAL_BLOCK, 1))
            rows = []
            for j in range(RECAL_BLOCK):
                i = pos.get(start + j)
                if i is not None and ok[i]:
                    block[j] = values[i]
                    rows.append((j, i))
            if not rows:
                continue
            sd = Draws(pd.DataFrame(block, columns=s.columns), -1, "block").share_draws()
            if any(v > 0 for v in cal.shadow_price_se.values()):  # estimated returns (lewie.model.liquidity)
                from dataclasses import replace

                from lewie.model.liquidity import draw_shadow_prices
                keys = list(cal.params["input_budget"])
                numbers = [start + j if (start + j) in pos and ok[pos[start + j]] else 0 for j in range(RECAL_BLOCK)]
                sd = replace(sd, shadow_price=draw_shadow_prices(
                    np.array([cal.shadow_price[k] for k in keys]), np.array([cal.shadow_price_se[k] for k in keys]),
                    numbers, self.scenario.montecarlo.seed))
            x0, p0 = recalibrate(self.sim.model, cal, sd, check=False, labour=labour_rule(self.scenario))
            for j, i in rows:
                out_x[i], out_p[i] = x0[j], p0[j]
        return out_x, out_p

    def _shadow_price_entries(self, draws) -> tuple[list[tuple], np.ndarray]:
        """The base shadow prices each draw was recalibrated with, where they are drawn (a standard
        error > 0): entries ``shadow_price|good||factor|household`` of ``parameter_value``, drawn
        exactly as `_recalibrate` draws them (`lewie.model.liquidity.draw_shadow_prices`, seeded by draw)."""
        cal = self.points[0].calibration
        if not any(v > 0 for v in cal.shadow_price_se.values()):
            return [], np.empty((len(draws), 0))
        from lewie.model.liquidity import draw_shadow_prices
        keys = list(cal.params["input_budget"])
        se = np.array([cal.shadow_price_se[k] for k in keys])
        lam = draw_shadow_prices(np.array([cal.shadow_price[k] for k in keys]), se, list(draws),
                                 self.scenario.montecarlo.seed)
        cols = np.flatnonzero(se > 0)
        return [("shadow_price", keys[j][0], "", keys[j][1], keys[j][2]) for j in cols], lam[:, cols]

    def _share_suspects(self, values: np.ndarray) -> np.ndarray:
        """Which rows of ``values`` (draws × entries) `_share_problem` may object to: its three checks,
        made for all draws at once with the same arithmetic (sums in entry order); only these rows
        are checked one by one (for the message)."""
        s = self.sampler
        values = np.asarray(values, dtype=float).reshape(len(values), -1)
        out = ~(np.isfinite(values) & (values >= 0)).all(axis=1)
        if not len(values):
            return out
        share = np.flatnonzero(np.isin(s.param, ("factor_share", "budget_share")))
        if share.size:
            sums = np.zeros((len(values), s.group.max() + 1))
            for j in share:
                sums[:, s.group[j]] += values[:, j]
            used = np.unique(s.group[share])
            out |= (np.abs(sums[:, used] - 1) > SHARE_TOL).any(axis=1)
        leak: dict = {}
        for j in np.flatnonzero(np.isin(s.param, ("savings_rate", "transfer_rate", "outside_rate"))):
            leak[s.household[j]] = leak.get(s.household[j], 0.0) + values[:, j]
        for total in leak.values():
            out |= total > 1
        return out

    def _share_problem(self, v: np.ndarray) -> str:
        """Why a draw's shares cannot be calibrated ('' when they can): the checks of
        `lewie.model.recalibration.recalibrate`, made per draw so one bad draw does not stop the others."""
        s = self.sampler
        if not np.isfinite(v).all() or (v < 0).any():
            j = int(np.flatnonzero(~(np.isfinite(v) & (v >= 0)))[0])
            return f"{'|'.join(s.keys[j])} = {v[j]:g} is not a share"
        share = np.isin(s.param, ("factor_share", "budget_share"))
        sums = np.bincount(s.group[share], weights=v[share], minlength=s.group.max() + 1)
        off = np.zeros(sums.size, dtype=bool)
        off[s.group[share]] = np.abs(sums[s.group[share]] - 1) > SHARE_TOL
        if off.any():
            j = int(np.flatnonzero(share & off[s.group])[0])
            return f"the share vector of {'|'.join(s.keys[j])} sums to {sums[s.group[j]]:.12g}, not 1"
        leak = {}
        for j in np.flatnonzero(np.isin(s.param, ("savings_rate", "transfer_rate", "outside_rate"))):
            leak[s.household[j]] = leak.get(s.household[j], 0.0) + v[j]
        over = [h for h, t in leak.items() if t > 1]
        if over:
            return f"savings, transfer and outside rates of '{over[0]}' sum to {leak[over[0]]:g} > 1"
        return ""

    def _base_reason(self, x, p, worst) -> str:
        table = compiled_residual_table(self.system, x, p)
        r = table.iloc[0]
        return (f"the recalibrated base does not solve the model: {r.equation}[{r.labels}] has relative residual "
                f"{r.relative:.3g} > {BASE_TOL:g}")

    def _verify(self, draws, X0, P0, Xs, Ps, base_ok, status, reason) -> np.ndarray:
        """Pyomo's own evaluation of every constraint at the base and the solutions of the draws of the
        Pyomo sample (`pyomo_sample`). A base or solution Pyomo rejects is recorded as failed (status
        ``failed: verification``, the worst equations as its reason, its values NaN); the run goes on."""
        system = self.system
        out = np.zeros(len(draws), dtype=bool)
        seed = self.scenario.montecarlo.seed if self.supplied is None else 0
        chosen = [i for i, d in enumerate(draws) if in_pyomo_sample(seed, d)]
        if not chosen:
            return out
        # every base and converged solution of the sample, checked by Pyomo in one call (`verify_points`);
        # a solution counts only if its base passed
        pts, X, P, tols, whats = [], [], [], [], []
        for i in chosen:
            for p in range(len(self.points)):
                if not base_ok[p, i]:
                    continue
                pts.append((None, p, i))
                X.append(X0[p, i]), P.append(P0[p, i]), tols.append(BASE_TOL)
                whats.append(f"draw {draws[i]}: the recalibrated base")
                for v, name in enumerate(self.variants):
                    if status[v, p, i] is RunStatus.CONVERGED:
                        pts.append((v, p, i))
                        X.append(Xs[v, p, i]), P.append(Ps[v, p, i]), tols.append(SOLUTION_TOL)
                        whats.append(f"draw {draws[i]}, variant '{name}': the solution")
        problems = verify_points(self.sim.model, system, np.array(X).reshape(-1, system.n),
                                 np.array(P).reshape(-1, system.k), tols, whats)
        for (v, p, i), why in zip(pts, problems):
            if v is None:  # a base
                if why:
                    base_ok[p, i] = False
                    status[:, p, i], reason[:, p, i] = RunStatus.VERIFICATION, why
                    Xs[:, p, i] = np.nan
            elif why and base_ok[p, i]:
                status[v, p, i], reason[v, p, i] = RunStatus.VERIFICATION, why
                Xs[v, p, i] = np.nan
        out[chosen] = True
        return out

    # ---- results --------------------------------------------------------------------------------
    def _dataset(self, draws, Xbase, Pbase, Xs, Ps, status, reason, iters, resid, values, dr, verified) -> xr.Dataset:
        sweeps = self.sweeps
        shape = tuple(len(v) for v in sweeps.values())

        def lay(a, lead):  # (…, Pn, D, ·) -> (…, *sweeps, D, ·)
            return a.reshape(a.shape[:lead] + shape + a.shape[lead + 1:])

        base = {k: (dims, lay(arr, 0), a) for k, (dims, arr, a) in self.outputs.arrays(Xbase, Pbase).items()}
        sim = {k: (dims, lay(arr, 1), a) for k, (dims, arr, a) in self.outputs.arrays(Xs, Ps).items()}
        ds = draws_dataset(self.sim.structure, base, sim, variants=self.variants, sweeps=sweeps, draws=draws,
                           attrs=self.attrs())
        sc = self.scenario
        vmap = {v: sc.variant_map()[v] for v in self.variants}
        ds = add_variant_info(ds, self.points[0].effects, vmap, sweeps=sweeps,
                              effects_by_point=[pt.effects for pt in self.points])
        dims = ("variant",) + tuple(sweeps) + ("draw",)
        status = np.vectorize(RunStatus, otypes=[object])(status) if status.size else status
        labels = np.vectorize(lambda s: s.label, otypes=[object])(status) if status.size else status
        ds = add_solver_info(ds, lay(labels, 1), lay(reason, 1), lay(iters, 1), lay(resid, 1), dims=dims)
        ds["status_code"] = (dims, lay(np.vectorize(int, otypes=[np.int64])(status) if status.size
                                       else np.zeros(status.shape, dtype=np.int64), 1))
        ds["status_code"].attrs = flag_attrs()
        keys, drawn = self._shadow_price_entries(draws)
        ds = add_parameter_values(ds, list(self.sampler.keys) + keys,
                                  np.hstack([np.asarray(values, dtype=float).reshape(len(draws), -1), drawn]))
        ds["draw_note"] = ("draw", [dr.notes.get(d, "") for d in draws])
        ds["draw_note"].attrs = registry.attrs("draw_note")
        hc = self.sim.household_count
        ds = ds.assign_coords(group_size=("household", [float(hc.get(h, np.nan)) for h in ds["household"].values]))
        ds["group_size"].attrs = {"long_name": "number of households the group represents (NaN: not given)"}
        ds["pyomo_verified"] = ("draw", verified)
        ds["pyomo_verified"].attrs = registry.attrs("pyomo_verified")
        converged = np.vectorize(lambda s: s.ok, otypes=[bool])(status) if status.size else np.zeros(status.shape, bool)
        ds.attrs["solver_iterations"] = int(iters.sum())
        ds.attrs["max_relative_residual"] = float(resid[converged].max()) if converged.any() else float("nan")
        return ds

    def attrs(self) -> dict:
        """Attributes of the results (plain strings and numbers; the same for every chunk of draws)."""
        supplied = self.supplied is not None
        out = base_attrs(self.sim)
        from lewie.results.provenance import portable_path, scenario_base, scenario_json, sha256
        out["scenario_json"] = scenario_json(self.scenario)
        out["draws"] = int(self.scenario.montecarlo.draws)
        out["solver"] = self.backend.name
        out["draw_method"] = self.method
        out["verification"] = VERIFICATION
        if supplied:
            out.update(seed=-1, distribution="supplied",
                       draws_file=portable_path(self.draws_file, scenario_base(self.scenario))
                       if isinstance(self.draws_file, Path) else str(self.draws_file),
                       draws_file_sha256=sha256(self.draws_file) if isinstance(self.draws_file, Path) else "",
                       draws_log="\n".join(self.sampler.supplied(self.supplied, 0, 0, file=self.draws_file).log))
        else:
            out["draws_log"] = "\n".join(self.sampler.log)
        return out


def solve_draws(scenario: Scenario | str | Path, first: int, last: int, *, variants: list[str] | None = None,
                draws: str | Path | pd.DataFrame | None = None) -> xr.Dataset:
    """Draws ``first``..``last`` of every variant (or ``variants``) of a scenario, at every sweep
    point; ``draws``: supplied draws, a file or a table (default: the scenario's ``draws_file``, else
    lewie's own). The result does not depend on which other draws are solved in the same call. See
    `MonteCarlo`."""
    return MonteCarlo(scenario, variants=variants, draws_file=draws).solve(first, last)


def concat_draws(parts: list[xr.Dataset]) -> xr.Dataset:
    """Chunks of draws into one Dataset (sorted by draw): `lewie.runs.chunks.merge_draws`, the one merge."""
    return merge_draws(parts)


def prepare(scenario: Scenario | str | Path, *, draws: int | None = None, seed: int | None = None,
            draws_file: str | Path | pd.DataFrame | None = None, variants: list[str] | None = None,
            solver: str = "newton") -> MonteCarlo:
    """The scenario made ready for its draws 0..N (see `run_draws` for N), ``montecarlo.draws`` set to N."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    update = {"seed": seed} if seed is not None else {}
    if draws is not None:
        if draws < 0:
            raise InputError(f"the number of draws must be ≥ 0, not {draws}", field="--draws")
        update["draws"] = int(draws)
    if update:
        sc = sc.model_copy(update={"montecarlo": sc.montecarlo.model_copy(update=update)})
    mc = MonteCarlo(sc, variants=variants, draws_file=draws_file, solver=solver)
    N = mc.scenario.montecarlo.draws
    if mc.supplied is not None and draws is None and (N == 0 or draws_file is not None):
        N = int(mc.supplied.index.max())
        mc.scenario = mc.scenario.model_copy(update={"montecarlo": mc.scenario.montecarlo.model_copy(update={"draws": N})})
    return mc


def default_chunk(mc: MonteCarlo) -> int:
    """Draws per chunk when none is asked for: `DEFAULT_CHUNK`, fewer for a large economy, so that the
    arrays of a chunk (base, shocked parameters and solution of every member, each sweep point and
    variant, and their copies in the chunk's Dataset: ~4 × 8 bytes × (variants + 2) × (variables +
    parameters) per draw and sweep point) stay below `CHUNK_BYTES`. Results do not depend on it."""
    per_draw = 4 * 8 * len(mc.points) * (len(mc.variants) + 2) * (mc.system.n + mc.system.k)
    return int(max(1, min(DEFAULT_CHUNK, CHUNK_BYTES // max(per_draw, 1))))


def chunk_ranges(n_draws: int, size: int) -> list[tuple[int, int]]:
    """Draws 0..N in chunks of ``size``: [(first, last), ...]."""
    if size < 1:
        raise InputError(f"the chunk size must be ≥ 1, not {size}", field="--chunk")
    return [(a, min(a + size - 1, n_draws)) for a in range(0, n_draws + 1, size)]


def run_draws(scenario: Scenario | str | Path, *, draws: int | None = None, seed: int | None = None,
              chunk: int | None = None, draws_file: str | Path | None = None, variants: list[str] | None = None,
              strict: bool | None = None, solver: str = "newton", store=None) -> xr.Dataset:
    """Draws 0..N of every variant, solved ``chunk`` draws at a time. ``N``: ``draws`` if given; else,
    with draws supplied here (``draws_file``), the last draw they give; else the scenario's
    ``montecarlo.draws`` (or, when that is 0 and the scenario names a draws file, its last draw).

    ``strict`` (default: when only the point estimates are solved, without sweeps) raises
    `SolveError` with the labelled residual table if a solve fails, instead of keeping the failure.
    ``solver``: the backend that solves (`MonteCarlo`). ``store`` (see `lewie.runs.engine.ChunkStore`):
    keeps every chunk in a file as it is solved (the format of `lewie batch`), reuses the chunks
    it already holds, and merges the files; without it the chunks are merged in memory.
    """
    mc = prepare(scenario, draws=draws, seed=seed, draws_file=draws_file, variants=variants, solver=solver)
    N = mc.scenario.montecarlo.draws
    ranges = chunk_ranges(N, default_chunk(mc) if chunk is None else chunk)
    if store is None:
        ds = merge_draws([mc.solve(a, b) for a, b in ranges])
    else:
        store.begin(mc, ranges)
        for a, b in ranges:
            if not store.done(a, b):
                store.save(mc.solve(a, b), a, b)
        ds = store.merge()
    from lewie.results.uncertainty import NO_UNCERTAINTY, WHY, parameter_uncertainty
    if N > 0 and not parameter_uncertainty(ds):
        log.warning("%s: %s (%s)", mc.scenario.source or mc.scenario.name, NO_UNCERTAINTY, WHY)
    return check_failures(mc, ds, strict=strict)


def check_failures(mc: MonteCarlo, ds: xr.Dataset, *, strict: bool | None = None) -> xr.Dataset:
    """Raise the first failure when ``strict`` (default: point estimates only, no sweeps), else log
    how many solves failed (they are kept in the results with status and reason)."""
    N = mc.scenario.montecarlo.draws
    if strict is None:
        strict = N == 0 and not mc.scenario.sweeps
    failed = ds["status_code"] != int(RunStatus.CONVERGED)
    if strict and bool(failed.any()):
        _raise_failure(mc, ds)
    n_failed = int(failed.sum())
    if n_failed:
        log.warning("%s: %d of %d solves failed (kept in the results with status and reason)",
                    mc.scenario.source or mc.scenario.name, n_failed, failed.size)
    return ds


def _raise_failure(mc: MonteCarlo, ds: xr.Dataset) -> None:
    """The first failed solve as an error: `CalibrationError` when the draw could not be calibrated,
    `SolveError` with the labelled residual table at the start point when the solver failed."""
    code = ds["status_code"]
    st = code.stack(member=code.dims)
    first = st[st != int(RunStatus.CONVERGED)].isel(member=0)
    sel = {d: first[d].values for d in code.dims}
    v, what = str(first["variant"].values), RunStatus(int(first.values))
    why = str(ds["reason"].sel(sel).values)
    where = mc.scenario.source or mc.scenario.name
    if what in (RunStatus.RECALIBRATION, RunStatus.BASE_CHECK):
        raise CalibrationError(f"{where}: draw {int(sel['draw'])}: {why}")
    if what in (RunStatus.SHOCK, RunStatus.VERIFICATION):
        raise SolveError(f"{where}: variant '{v}': {why}")
    pt = mc.points[0]
    system = mc.system
    x0, p0 = system.get_x(), system.get_p()  # the calibrated base (draw 0)
    pos, fac, add = pt.shocks[mc.variants.index(v)]
    p = p0.copy()
    p[pos] = p0[pos] * fac + add
    table = compiled_residual_table(system, x0, p)
    raise SolveError(f"{where}: variant '{v}': solver '{mc.backend.name}' did not converge ({what.label}: {why}); "
                     "worst equations at the start point:\n" + format_residuals(table), report=table)
