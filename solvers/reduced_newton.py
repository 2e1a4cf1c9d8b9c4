"""Batched reduced-space Newton: many parameter sets of one model solved at once, each verified.

The problem: draws d = 1..D, each with its own base point ``X_base[d]`` solving the system at its own
parameters ``P_base[d]`` (a recalibrated draw, see `lewie.model.recalibration`), and for each draw S shocked
parameter sets ``P[d, s]``. Member b = d·S + s is solved from its draw's base.

The algorithm (see `lewie.solvers.tearing` for the split of the system):

1. Core and explicit variables. Only the core C — output of each activity, local prices and wages
   (27 of 353 variables in the benchmark economy) — is iterated on; the explicit variables are
   computed from C exactly, level by level, so every iterate satisfies every defining equation and
   the Newton system is the small reduced one, G(C) = 0, with Jacobian S = J_CC − J_CE·J_EE⁻¹·J_EC.
2. Factor once per draw. S is formed at each draw's base and inverted (batched numpy, D × n_c ×
   n_c); all the draw's shocks iterate with it (chord steps C ← C − S⁻¹G(C)). A member whose residual
   falls too slowly (ratio > ``refresh_ratio``), whose step fails, or whose step the bound below
   cuts short, gets its own S at its current point (a Newton step).
3. Safeguards: a step may not shrink a positive core variable by more than half nor grow it more
   than fourfold (prices and quantities stay positive; the iterate cannot slide into the model's
   degenerate equilibrium where an activity produces nothing — all equations hold there — nor fly
   off after a nearly singular S); then backtracking on the scaled 2-norm of G (a step making an
   explicit value non-finite is rejected).
4. Continuation: members that still fail are stepped in from their draw's base (P_base → P in 4,
   then 16 equal steps), each step warm-started from the last.
5. Verification: every member's full residual (all equations, compiled from the Pyomo constraints)
   is evaluated at the end, each equation relative to its magnitude (`lewie.solvers.residuals`); a member is
   CONVERGED only if its worst scaled residual is ≤ ``verify_tol`` and no positive core variable
   collapsed to 0, else NOT_VERIFIED. `lewie.runs.verify.verify_batch` adds Pyomo's own evaluation of the
   constraints for member 0 and a random sample (Pyomo costs ~40 ms a member on the benchmark
   economy, 200× a batched solve, so it checks a sample; the compiled residual checks every member).

Every member has its own status and message; one member's failure never affects the others.
Work is done in chunks of draws, so memory stays bounded whatever D is.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from lewie.model.registry import constraint_labels

from lewie.solvers.base import BatchResult, SolverStatus, _is
from lewie.solvers.tape import CompiledSystem
from lewie.solvers.residuals import (SOLUTION_TOL, STALL_TOL, STOP_TOL, measure_for, relative, stopping_scale, worst as worst_of)
from lewie.solvers.tearing import Explicit, explicit_for
from lewie.solvers.threads import one_blas_thread


COLLAPSE = 1e-9  # a positive core variable below this fraction of its base value has collapsed
SINGULAR = "the reduced Jacobian is singular: the solution is not locally unique"


def _inverse(S: np.ndarray) -> np.ndarray:
    """Batched inverse; members whose S is singular or not finite get NaN."""
    out = np.full_like(S, np.nan)
    finite = np.isfinite(S).all(axis=(1, 2))
    idx = np.flatnonzero(finite)
    if idx.size:
        try:
            out[idx] = np.linalg.inv(S[idx])
        except np.linalg.LinAlgError:
            for b in idx:
                try:
                    out[b] = np.linalg.inv(S[b])
                except np.linalg.LinAlgError:
                    pass
    bad = ~np.isfinite(out).all(axis=(1, 2))
    out[bad] = np.nan
    return out


def _statuses(n: int, value: SolverStatus) -> np.ndarray:
    out = np.empty(n, dtype=object)
    out.fill(value)  # (np.full would store the str value, not the enum member)
    return out


class _Factors:
    """Inverse reduced Jacobians shared by members: a store of K matrices and each member's slot in it.

    At the start every member points at its draw's matrix (formed once per draw at the draw's base),
    so the S shocks of a draw share one matrix and nothing is copied per member. A member whose
    Jacobian is refreshed gets a private slot (reused at its next refresh). ``need[b]``: member b's
    matrix is to be formed at its current point before its next step. Steps are applied per slot
    (`apply`): one batched product per slot for all of its members' right-hand sides.

    The factor is the explicit inverse, not an LU: measured (benchmarks/end_to_end.py notes), with
    one BLAS thread, forming 200 LU factors of 154×154 takes 0.09 s against 0.15 s for the inverses,
    but each application with SciPy's batched ``lu_solve`` costs 2.4× the product with the inverse
    (and 35× at the 27×27 of an Aqua-size economy), and a draw's factor is applied 5-10 times.
    """

    def __init__(self, inv: np.ndarray, slot: np.ndarray):
        self.inv = inv  # (K, nc, nc); NaN matrices: singular or not finite
        self.used = inv.shape[0]
        self.slot = np.asarray(slot, dtype=np.int64).copy()
        self.private = np.zeros(self.slot.size, dtype=bool)
        self.need = np.isnan(inv[self.slot, 0, 0]) if inv.shape[0] else np.zeros(self.slot.size, dtype=bool)

    def singular(self, members: np.ndarray) -> np.ndarray:
        """Members (of ``members``) whose matrix is NaN (S was singular or not finite)."""
        return np.isnan(self.inv[self.slot[members], 0, 0])

    def store(self, members: np.ndarray, inv: np.ndarray) -> None:
        """Give ``members`` their own matrices ``inv`` (len(members), nc, nc)."""
        new = members[~self.private[members]]
        if new.size:
            need = self.used + new.size
            if need > self.inv.shape[0]:
                grown = np.empty((max(need, 2 * self.inv.shape[0]),) + self.inv.shape[1:])
                grown[:self.used] = self.inv[:self.used]
                self.inv = grown
            self.slot[new] = np.arange(self.used, need)
            self.private[new] = True
            self.used = need
        self.inv[self.slot[members]] = inv
        self.need[members] = False

    def apply(self, members: np.ndarray, G: np.ndarray) -> np.ndarray:
        """S⁻¹·G for each member: G is (nc, len(members)), column j belonging to members[j]."""
        m = members.size
        if m == 0:
            return np.zeros_like(G)
        slots = self.slot[members]
        u, group, counts = np.unique(slots, return_inverse=True, return_counts=True)
        if counts.max() == 1:
            return np.einsum("bij,jb->ib", self.inv[slots], G)
        order = np.argsort(group, kind="stable")
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        pos = np.empty(m, dtype=np.int64)
        pos[order] = np.arange(m) - np.repeat(starts, counts)
        R = np.zeros((u.size, counts.max(), G.shape[0]))  # right-hand sides, contiguous along j
        R[group, pos] = G.T
        mats = self.inv[:u.size] if (u.size == self.used and u[-1] == u.size - 1) else self.inv[u]
        # the same sums over j, with both operands contiguous along j, as the product member by member
        # (`np.einsum("bij,jb->ib", inv[slots], G)`): the results are identical to the bit
        return np.einsum("bij,jbk->ibk", mats, R.transpose(2, 0, 1))[:, group, pos]

    def take(self, members: np.ndarray) -> np.ndarray:
        """Each member's matrix as an array (len(members), nc, nc) (a copy); a member whose matrix is
        to be formed anew has NaN in its first entry, so that a `_Factors` made from it forms it."""
        out = self.inv[self.slot[members]]
        out[self.need[members], 0, 0] = np.nan
        return out


class _Members:
    """Members being solved, in (·, B) layout: points, parameters, their reduced Jacobians' inverses
    (`_Factors`, shared by the members of a draw) and the scale of each core equation."""

    def __init__(self, XT, PT, factors: _Factors, scale_core):
        self.XT, self.PT, self.fac, self.scale = XT, PT, factors, scale_core


def _step_bound(C: np.ndarray, dC: np.ndarray, max_shrink: float, max_grow: float) -> np.ndarray:
    """Largest step ≤ 1 per member that changes no positive core variable (output, prices) by more
    than a factor: it may lose at most ``max_shrink`` of its value and gain at most ``max_grow``
    times it. Positive quantities and prices stay positive, an iterate cannot fall into the
    degenerate equilibrium where an activity produces nothing, nor fly off after a step computed
    with a nearly singular Jacobian."""
    with np.errstate(divide="ignore", invalid="ignore"):
        down = np.where((C > 0) & (dC < 0), max_shrink * C / -dC, np.inf)
        up = np.where((C > 0) & (dC > 0), max_grow * C / dC, np.inf)
    return np.minimum(1.0, np.minimum(down, up).min(axis=0, initial=np.inf))


def _reduced_newton(ex: Explicit, st: _Members, *, tol: float, max_iter: int, refresh_ratio: float,
                    max_halvings: int = 12, max_shrink: float = 0.5, max_grow: float = 3.0):
    """Chord/Newton iterations on every member of ``st`` (updated in place).

    Returns status, iterations, message (arrays over the members) and counts of work done.
    """
    core = ex.part.core_vars
    B = st.XT.shape[1]
    status = _statuses(B, SolverStatus.ITERATION_LIMIT)
    message = np.full(B, "", dtype=object)
    iters = np.zeros(B, dtype=np.int64)
    counts = {"evaluations": 0, "refreshes": 0}
    G, _ = ex.evaluate(st.XT, st.PT)
    counts["evaluations"] += B
    gs = G / st.scale
    gnorm = np.sqrt((gs ** 2).sum(axis=0))
    ginf = np.abs(gs).max(axis=0, initial=0.0)
    bad = ~np.isfinite(ginf)
    for b in np.flatnonzero(bad):
        status[b] = SolverStatus.DIVERGED
        message[b] = _nonfinite_message(ex, st.XT, st.PT, b, "at the start point")
    active = np.flatnonzero(~bad)
    stale = np.ones(B, dtype=bool)  # members whose S was not formed at their current point
    for it in range(max_iter + 1):
        done = ginf[active] <= tol
        status[active[done]] = SolverStatus.CONVERGED
        iters[active[done]] = it
        active = active[~done]
        if active.size == 0 or it == max_iter:
            break
        # refresh the Jacobians that were asked for (and those never formed)
        need = active[st.fac.need[active]]
        if need.size:
            _refresh(ex, st, need, counts)
            stale[need] = False
            sing = need[st.fac.singular(need)]
            for b in sing:
                status[b], message[b] = SolverStatus.SINGULAR_JACOBIAN, SINGULAR
            active = np.setdiff1d(active, sing, assume_unique=True)
            if active.size == 0:
                break
        g_old = gnorm[active]
        C0 = st.XT[core][:, active]
        dC = np.zeros((core.size, active.size))
        t = np.zeros(active.size)
        pending = np.ones(active.size, dtype=bool)
        tried_fresh = ~stale[active]

        def direction(rows):
            """Chord or Newton direction of these rows of ``active``, and its bounded first step."""
            dC[:, rows] = -st.fac.apply(active[rows], G[:, active[rows]])
            t[rows] = _step_bound(C0[:, rows], dC[:, rows], max_shrink, max_grow)

        def refresh(rows):
            """A Jacobian formed at the current point, and the Newton direction it gives."""
            if rows.size == 0:
                return
            _refresh(ex, st, active[rows], counts)
            stale[active[rows]] = False
            tried_fresh[rows] = True
            okS = ~st.fac.singular(active[rows])
            direction(rows[okS])
            for r in rows[~okS]:
                b = active[r]
                status[b], message[b] = SolverStatus.SINGULAR_JACOBIAN, SINGULAR
                pending[r] = False

        direction(np.arange(active.size))
        # a stale Jacobian whose step the bound cuts short is not worth a trial: form a fresh one
        refresh(np.flatnonzero(~tried_fresh & (t < 0.25)))
        for _ in range(max_halvings + 2):
            idx = np.flatnonzero(pending)
            if idx.size == 0:
                break
            members = active[idx]
            XT = st.XT[:, members].copy()
            XT[core] = C0[:, idx] + t[idx] * dC[:, idx]
            Gt, _ = ex.evaluate(XT, st.PT[:, members])
            counts["evaluations"] += members.size
            gst = Gt / st.scale[:, members]
            with np.errstate(over="ignore", invalid="ignore"):
                gn = np.sqrt((gst ** 2).sum(axis=0))
            good = np.isfinite(gn) & (gn <= (1 - 1e-4 * t[idx]) * g_old[idx])
            acc = members[good]
            st.XT[:, acc] = XT[:, good]
            G[:, acc] = Gt[:, good]
            gnorm[acc] = gn[good]
            ginf[acc] = np.abs(gst[:, good]).max(axis=0, initial=0.0)
            # slow chord convergence: form this member's own Jacobian next iteration
            slow = good & (gn > refresh_ratio * g_old[idx]) & stale[members]
            st.fac.need[members[slow]] = True
            pending[idx[good]] = False
            # a rejected step: with a stale Jacobian, refresh it and retry; with a fresh one, halve
            rej = idx[~good]
            halve = rej[tried_fresh[rej]]
            refresh(rej[~tried_fresh[rej]])
            t[halve] *= 0.5
            for r in halve[t[halve] < 2.0 ** -max_halvings]:
                _stalled(status, message, active[r], ginf)
                pending[r] = False
        for r in np.flatnonzero(pending):
            _stalled(status, message, active[r], ginf)
        moved = _is(status[active], SolverStatus.ITERATION_LIMIT)
        iters[active] = it + 1
        active = active[moved]
        stale[active] = True
    for b in np.flatnonzero(_is(status, SolverStatus.ITERATION_LIMIT)):
        message[b] = f"no convergence in {max_iter} iterations"
    return status, iters, message, counts


def _stalled(status, message, b, ginf) -> None:
    """No step decreases member b's residual: converged if it is at the rounding level of its
    equations (`lewie.solvers.residuals.STALL_TOL`), else diverged."""
    if ginf[b] <= STALL_TOL:
        status[b] = SolverStatus.CONVERGED
        message[b] = f"converged to the rounding level of its equations ({ginf[b]:.2g})"
    else:
        status[b] = SolverStatus.DIVERGED
        message[b] = "line search found no decrease of the residual"


def _refresh(ex: Explicit, st: _Members, members: np.ndarray, counts: dict) -> None:
    """Form and invert the reduced Jacobian of ``members`` at their current points."""
    s = ex.system
    V = s.run(s.new_values(st.XT[:, members], st.PT[:, members]), s._full_plan)
    st.fac.store(members, _inverse(ex.schur(V[s.jac_nodes])))
    counts["refreshes"] += members.size


def _nonfinite_message(ex: Explicit, XT, PT, b, where: str) -> str:
    hit = ex.first_nonfinite(XT, PT, b)
    if hit is None:
        return f"the residual is not finite {where}"
    i, j, coef = hit
    con, var = ex.system.constraints[i], ex.system.variables[j]
    why = (f"its coefficient there is {coef:g}" if coef == 0 or not np.isfinite(coef)
           else "the other terms are not finite (a power of a negative quantity, or a division by zero)")
    return f"{con.name} cannot be solved for {var.name} {where}: {why}"


def solve_batch(system: CompiledSystem, X_base: np.ndarray, P_base: np.ndarray, P: np.ndarray, *,
                tol: float = STOP_TOL, verify_tol: float = SOLUTION_TOL, max_iter: int = 40,
                refresh_ratio: float = 0.2, continuation: tuple[int, ...] = (4, 16),
                chunk: int | None = None, explicit: Explicit | None = None,
                base_magnitudes: np.ndarray | None = None) -> BatchResult:
    """Solve every member of a draws × shocks batch by reduced-space Newton (see module docstring).

    ``X_base`` (D, n) solves the system at ``P_base`` (D, k) (each draw's own base); ``P`` is (D, k)
    or (D, S, k) — the parameter sets to solve for. The result's members are flattened draw-major
    (b = d·S + s) and ``result.shape`` is (D, S) (or (D,)). ``tol`` is the Newton tolerance on the
    scaled core residuals, ``verify_tol`` the tolerance every member's full scaled residual must meet.
    ``chunk`` draws are solved at a time (default `default_chunk`; the results do not depend on it:
    no operation mixes members). ``base_magnitudes`` (D, m): the magnitude of every equation at each
    draw's base, ``measure_for(system).evaluate(X_base, P_base)[1]``, when the caller has them (from
    its check of the bases); else they are evaluated here, the same values.
    """
    X_base = np.atleast_2d(np.asarray(X_base, dtype=float))
    P_base = np.atleast_2d(np.asarray(P_base, dtype=float))
    P = np.asarray(P, dtype=float)
    flat = P.ndim == 2
    if flat:
        P = P[:, None, :]
    D, S, k = P.shape
    if X_base.shape != (D, system.n) or P_base.shape != (D, system.k) or k != system.k:
        raise ValueError(f"shapes: X_base {X_base.shape}, P_base {P_base.shape}, P {P.shape}; expected "
                         f"({D}, {system.n}), ({D}, {system.k}), (D, S, {system.k})")
    if base_magnitudes is not None and np.shape(base_magnitudes) != (D, system.m):
        raise ValueError(f"base_magnitudes {np.shape(base_magnitudes)}; expected ({D}, {system.m})")
    ex = explicit if explicit is not None else explicit_for(system)
    chunk = default_chunk(system, S) if chunk is None else int(chunk)
    B = D * S
    x = np.empty((B, system.n))
    status = np.empty(B, dtype=object)
    iters = np.zeros(B, dtype=np.int64)
    worst = np.full(B, np.inf)
    message = np.empty(B, dtype=object)
    totals = {"evaluations": 0, "refreshes": 0, "continued": 0, "continued_ok": 0}
    with one_blas_thread():  # parallelism across processes, not BLAS threads (see solvers/threads.py)
        for lo in range(0, D, chunk):
            hi = min(D, lo + chunk)
            out = _solve_chunk(ex, X_base[lo:hi], P_base[lo:hi], P[lo:hi], tol=tol, verify_tol=verify_tol,
                               Mb=None if base_magnitudes is None else base_magnitudes[lo:hi],
                               max_iter=max_iter, refresh_ratio=refresh_ratio, continuation=continuation)
            sl = slice(lo * S, hi * S)
            x[sl], status[sl], iters[sl], worst[sl], message[sl], counts = out
            for key, v in counts.items():
                totals[key] += v
    return BatchResult(x, status, iters, worst, message, shape=(D,) if flat else (D, S), details=totals)


CHUNK = (16, 256)  # draws solved together: at least, at most (see `default_chunk`)
CHUNK_BYTES = 64 << 20  # tape values of one chunk's members (draws × shocks × tape nodes × 8 bytes)


def default_chunk(system: CompiledSystem, shocks: int) -> int:
    """Draws solved together by `solve_batch`: as many as keep the tape values of the chunk's members
    (draws × shocks × nodes of the tape) below `CHUNK_BYTES`, within `CHUNK`. Measured on this
    2-core machine (1,200 solves, results identical): fewer, larger array operations pay up to
    there, larger arrays than that fall out of the caches shared with other processes: Aqua-size
    economy, 256 draws ~6% faster than 128; 40-group economy, 55 draws as fast as 128 on a quiet
    machine and ~15% faster with three other processes running (96 and more: slower)."""
    per_draw = 8 * max(int(shocks), 1) * max(int(system.n_nodes), 1)
    return int(max(CHUNK[0], min(CHUNK[1], CHUNK_BYTES // per_draw)))


def _solve_chunk(ex: Explicit, Xb, Pb, P, *, tol, verify_tol, max_iter, refresh_ratio, continuation, Mb=None):
    system, part = ex.system, ex.part
    Dc, S, _ = P.shape
    XbT, PbT = Xb.T.copy(), Pb.T.copy()
    # each draw's base: the magnitude of each equation (the scale of the stopping rule, see
    # `lewie.solvers.residuals`) and the reduced Jacobian
    Vb = system.run(system.new_values(XbT, PbT), system._full_plan)
    JbT = Vb[system.jac_nodes]
    MbT = measure_for(system).evaluate_T(XbT, PbT)[1] if Mb is None else np.asarray(Mb, dtype=float).T
    scale_d = stopping_scale(MbT)  # (m, Dc)
    Sinv_d = _inverse(ex.schur(JbT))
    of = np.repeat(np.arange(Dc), S)  # draw of each member
    XT = XbT[:, of]
    PT = P.reshape(Dc * S, -1).T.copy()
    scale = scale_d[:, of]
    st = _Members(XT, PT, _Factors(Sinv_d, of), scale[part.core_eqs])
    status, iters, message, counts = _reduced_newton(ex, st, tol=tol, max_iter=max_iter,
                                                     refresh_ratio=refresh_ratio)
    counts.update(continued=0, continued_ok=0)
    scale_core = scale[part.core_eqs]
    first_message = message.copy()
    for n_steps in continuation:
        failed = np.flatnonzero(~_is(status, SolverStatus.CONVERGED))
        if failed.size == 0:
            break
        counts["continued"] += failed.size
        d = of[failed]
        XTc, Sinv_c = XbT[:, d].copy(), Sinv_d[d].copy()
        alive = np.ones(failed.size, dtype=bool)
        total_it = np.zeros(failed.size, dtype=np.int64)
        why = np.full(failed.size, "", dtype=object)
        for step in range(1, n_steps + 1):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            base = PbT[:, d[idx]]
            sub = _Members(XTc[:, idx].copy(), base + step / n_steps * (PT[:, failed[idx]] - base),
                           _Factors(Sinv_c[idx], np.arange(idx.size)), scale_core[:, failed[idx]])
            s2, i2, m2, c2 = _reduced_newton(ex, sub, tol=tol, max_iter=max_iter, refresh_ratio=refresh_ratio)
            counts["evaluations"] += c2["evaluations"]
            counts["refreshes"] += c2["refreshes"]
            total_it[idx] += i2
            XTc[:, idx], Sinv_c[idx] = sub.XT, sub.fac.take(np.arange(idx.size))
            ok = _is(s2, SolverStatus.CONVERGED)
            for r, stt, msg in zip(idx[~ok], s2[~ok], m2[~ok]):
                same = msg == first_message[failed[r]]
                why[r] = f"{stt.value} at step {step}" + (" for the same reason" if same else f": {msg}")
            alive[idx[~ok]] = False
        for r, b in enumerate(failed):
            iters[b] += total_it[r]
            if alive[r]:
                st.XT[:, b] = XTc[:, r]
                status[b], message[b] = SolverStatus.CONVERGED, f"converged by continuation in {n_steps} steps"
                counts["continued_ok"] += 1
            else:
                message[b] = f"{first_message[b]}; continuation in {n_steps} steps: {why[r]}"
    # verify every member on the full system: every equation's relative residual at the solution
    F, M = measure_for(system).evaluate_T(st.XT, st.PT)
    rel = relative(F, M)
    worst = worst_of(rel, axis=0)
    # the degenerate equilibrium: an activity whose output (or a price) positive at the base collapsed
    core = part.core_vars
    base_core = XbT[core][:, of]
    collapsed = (base_core > 0) & (st.XT[core] <= COLLAPSE * base_core)
    for b in np.flatnonzero(_is(status, SolverStatus.CONVERGED) & collapsed.any(axis=0)):
        j = core[int(np.flatnonzero(collapsed[:, b])[0])]
        status[b] = SolverStatus.NOT_VERIFIED
        message[b] = (f"converged to a degenerate point: {system.variables[j].name} fell from "
                      f"{XbT[j, of[b]]:g} to {st.XT[j, b]:g}")
    for b in np.flatnonzero(_is(status, SolverStatus.CONVERGED) & ~(worst <= verify_tol)):
        status[b] = SolverStatus.NOT_VERIFIED
        i = int(np.argmax(rel[:, b]))
        message[b] = (f"Newton converged but the full residual is {worst[b]:.3g} > {verify_tol:g} "
                      f"(worst: {system.constraints[i].name})")
    return st.XT.T.copy(), status, iters, worst, message, counts


def residual_table(system: CompiledSystem, x: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Labelled residuals of one point from the compiled system, worst first (for batch reports).

    Columns as `lewie.runs.verify.residual_table`: equation, labels, residual, scale (the equation's
    magnitude, `lewie.solvers.residuals`), relative.
    """
    F, M = measure_for(system).evaluate(x, p)
    df = pd.DataFrame({"equation": [c.parent_component().name for c in system.constraints],
                       "labels": [constraint_labels(c) for c in system.constraints], "residual": F[0],
                       "scale": M[0]})
    df["relative"] = relative(F[0], M[0])
    return df.sort_values("relative", ascending=False, kind="stable").reset_index(drop=True)
