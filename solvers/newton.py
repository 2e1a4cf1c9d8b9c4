"""Native Newton solvers of the compiled square system, batched over parameter sets.

Two paths, both on the residual and Jacobian compiled from the Pyomo constraints:

* the default, `lewie.solvers.reduced_newton.solve_batch`: reduced-space Newton on the small core of the
  system (the other variables are defined explicitly by their equations), one factorisation per
  draw, batched dense linear algebra — the fast path for many parameter sets;
* the generic full-space path here, `newton_batch`: damped Newton on all variables with one sparse
  LU (SuperLU) of the block-diagonal batch Jacobian; `solve_with_continuation` steps failing members
  in from their start point. It needs no structure, and is the fallback and the reference.

Each batch member is solved by damped Newton steps (backtracking line search on the residual norm);
every member gets its own status; one failure never loses the others.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from lewie.solvers.base import Backend, BackendInfo, BatchResult, SolveResult, SolverStatus
from lewie.solvers.reduced_newton import COLLAPSE, solve_batch
from lewie.solvers.tape import CompiledSystem, compile_model
from lewie.solvers.residuals import STALL_TOL, STOP_TOL, measure_for, stopping_scale

__all__ = ["BatchResult", "NewtonBackend", "newton_batch", "residual_scale", "solve_batch",
           "solve_with_continuation"]


def residual_scale(system: CompiledSystem, x: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Scale of each equation for the stopping rule: its magnitude at a point (the one residual
    measure, `lewie.solvers.residuals`; an equation whose terms are all 0 there gets the smallest
    positive magnitude). A residual is judged against its equation's magnitude, so an income
    equation in thousands and a price equation near 1 are held to the same relative accuracy,
    whatever the units of the SAM.
    """
    M = measure_for(system).evaluate_T(np.asarray(x, dtype=float)[:, None], np.asarray(p, dtype=float)[:, None])[1]
    return stopping_scale(M)[:, 0]


def _block_jacobian(system: CompiledSystem, J: np.ndarray) -> sp.csc_matrix:
    B = J.shape[0]
    rows = (system.jac_rows[None, :] + system.m * np.arange(B)[:, None]).ravel()
    cols = (system.jac_cols[None, :] + system.n * np.arange(B)[:, None]).ravel()
    return sp.csc_matrix((J.ravel(), (rows, cols)), shape=(B * system.m, B * system.n))


def _solve_linear(system: CompiledSystem, J: np.ndarray, F: np.ndarray):
    """Newton directions for every member; members whose Jacobian is singular get NaN."""
    import scipy.sparse.linalg as spla  # here: with scipy.linalg, ~0.1 s of start-up for the fallback path
    B = J.shape[0]
    out = np.full((B, system.n), np.nan)
    try:
        lu = spla.splu(_block_jacobian(system, J))
        out[:] = lu.solve(-F.ravel()).reshape(B, system.n)
        return out
    except RuntimeError:
        pass  # at least one member is singular: find which, one by one
    for b in range(B):
        try:
            lu = spla.splu(_block_jacobian(system, J[b:b + 1]))
            out[b] = lu.solve(-F[b])
        except RuntimeError:
            pass
    return out


def newton_batch(system: CompiledSystem, X0: np.ndarray, P: np.ndarray, *, scale: np.ndarray,
                 tol: float = STOP_TOL, max_iter: int = 50, chunk: int = 256) -> BatchResult:
    """Damped Newton on every member of the batch (rows of X0 and P)."""
    X = np.array(X0, dtype=float, copy=True)
    P = np.broadcast_to(np.asarray(P, dtype=float), (X.shape[0], system.k))
    B = X.shape[0]
    status = np.array([SolverStatus.ITERATION_LIMIT] * B, dtype=object)
    iters = np.zeros(B, dtype=int)
    worst = np.full(B, np.inf)
    message = np.array([""] * B, dtype=object)
    for lo in range(0, B, chunk):
        sl = slice(lo, min(B, lo + chunk))
        _newton_chunk(system, X[sl], P[sl], scale, tol, max_iter, status[sl], iters[sl], worst[sl], message[sl])
    return BatchResult(X, status, iters, worst, message)


def _newton_chunk(system, X, P, scale, tol, max_iter, status, iters, worst, message):
    active = np.arange(X.shape[0])
    F, J = system.residual_and_jacobian(X, P)
    norm = np.abs(F / scale).max(axis=1)
    for it in range(max_iter + 1):
        bad = ~np.isfinite(norm[active])
        for b in active[bad]:
            status[b], message[b] = SolverStatus.DIVERGED, "residual is not finite"
        done = norm[active] <= tol
        for b in active[done]:
            status[b], iters[b] = SolverStatus.CONVERGED, it
        active = active[~done & ~bad]
        worst[:] = norm
        if active.size == 0 or it == max_iter:
            break
        dx = _solve_linear(system, J[active], F[active])
        singular = ~np.isfinite(dx).all(axis=1)
        for b in active[singular]:
            status[b], message[b] = SolverStatus.SINGULAR_JACOBIAN, "the Jacobian is singular"
        active, dx = active[~singular], dx[~singular]
        if active.size == 0:
            break
        # backtracking line search on the scaled 2-norm, member by member
        f0 = np.linalg.norm(F[active] / scale, axis=1)
        step = np.ones(active.size)
        accepted = np.zeros(active.size, dtype=bool)
        Xa, Pa = X[active], P[active]
        for _ in range(30):
            trial = Xa + step[:, None] * dx
            Ft, Jt = system.residual_and_jacobian(trial, Pa)
            ft = np.linalg.norm(Ft / scale, axis=1)
            ok = np.isfinite(ft) & (ft <= (1 - 1e-4 * step) * f0) & ~accepted
            idx = active[ok]
            X[idx], F[idx], J[idx] = trial[ok], Ft[ok], Jt[ok]
            norm[idx] = np.abs(Ft[ok] / scale).max(axis=1)
            accepted |= ok
            if accepted.all():
                break
            step[~accepted] *= 0.5
        for b in active[~accepted]:
            if norm[b] <= STALL_TOL:  # no decrease possible at the rounding level: converged
                status[b], message[b] = SolverStatus.CONVERGED, "converged to the rounding level of its equations"
            else:
                status[b], message[b] = SolverStatus.DIVERGED, "line search found no decrease of the residual"
            iters[b] = it + 1
        active = active[accepted]
        iters[active] = it + 1
    for b in active:
        message[b] = f"no convergence in {max_iter} iterations"


def solve_with_continuation(system: CompiledSystem, x_start: np.ndarray, p_start: np.ndarray,
                            P_target: np.ndarray, *, scale: np.ndarray, tol: float = STOP_TOL,
                            max_iter: int = 50, steps: tuple[int, ...] = (4, 16, 64)) -> BatchResult:
    """Solve at P_target from x_start; members that fail are stepped in from p_start.

    ``x_start`` solves the system at ``p_start`` (e.g. the calibrated base). For a failing member the
    shock is applied in n equal steps, each warm-started from the last, for n in ``steps``.
    """
    P_target = np.atleast_2d(P_target)
    B = P_target.shape[0]
    X0 = np.broadcast_to(x_start, (B, system.n))
    res = newton_batch(system, X0, P_target, scale=scale, tol=tol, max_iter=max_iter)
    for n in steps:
        failed = np.flatnonzero(~res.ok)
        if failed.size == 0:
            break
        X = np.broadcast_to(x_start, (failed.size, system.n)).copy()
        alive = np.ones(failed.size, dtype=bool)
        total_it = np.zeros(failed.size, dtype=int)
        for k in range(1, n + 1):
            t = k / n
            Pk = p_start + t * (P_target[failed] - p_start)
            sub = newton_batch(system, X, Pk, scale=scale, tol=tol, max_iter=max_iter)
            total_it += sub.iterations
            X = np.where(sub.ok[:, None], sub.x, X)
            alive &= sub.ok
        for j, b in enumerate(failed):
            if alive[j]:
                res.x[b], res.status[b] = X[j], SolverStatus.CONVERGED
                res.iterations[b] = res.iterations[b] + total_it[j]
                res.max_residual[b] = np.abs(system.residual(X[j], P_target[b])[0] / scale).max()
                res.message[b] = f"converged by continuation in {n} steps"
    return res


class NewtonBackend(Backend):
    """The default backend: Newton on the system compiled from the Pyomo model.

    `solve` solves the model in place: reduced-space Newton first (`solve_batch` with one member),
    the full-space sparse Newton if that fails. `solve_batch` solves draws × shocks at once.
    """

    name = "newton"
    capabilities = ("square-system", "batched", "continuation", "sparse-jacobian", "reduced-space")

    @classmethod
    def info(cls) -> BackendInfo:
        import scipy
        return BackendInfo(cls.name, True, f"lewie native (scipy {scipy.__version__})", cls.capabilities)

    def solve(self, model, *, tol: float = STOP_TOL, max_iter: int = 50) -> SolveResult:
        system = compile_model(model)
        x, p = system.get_x(), system.get_p()
        details: dict = {}
        reduced = solve_batch(system, x[None], p[None], p[None], tol=tol, max_iter=max_iter, continuation=())
        details["reduced_space"] = {"status": reduced.status[0].value, "message": str(reduced.message[0]),
                                    "iterations": int(reduced.iterations[0])}
        if reduced.ok[0]:
            res, path = reduced, "reduced-space"
        else:
            scale = residual_scale(system, x, p)
            res = newton_batch(system, x[None, :], p[None, :], scale=scale, tol=tol, max_iter=max_iter)
            path = "full-space (after reduced-space: " + f"{reduced.status[0].value}: {reduced.message[0]})"
            F_sol, J_sol = system.residual_and_jacobian(res.x[0], p)
            if res.ok[0] and not np.isfinite(_solve_linear(system, J_sol, F_sol)).all():
                # the equations hold but not at an isolated solution (e.g. the rent of a factor
                # nobody has): that is no answer to report
                res.status[0] = SolverStatus.SINGULAR_JACOBIAN
                res.message[0] = ("the equations hold at a point where the Jacobian is singular: the "
                                  "solution is not locally unique")
            collapsed = np.flatnonzero((x > 0) & (np.abs(res.x[0]) <= COLLAPSE * x))
            if res.ok[0] and collapsed.size:
                j = int(collapsed[0])
                res.status[0] = SolverStatus.NOT_VERIFIED
                res.message[0] = (f"converged to a degenerate point: {system.variables[j].name} fell from "
                                  f"{x[j]:g} to {res.x[0][j]:g}")
        details["path"] = path
        if np.isfinite(res.x[0]).all():
            system.set_x(res.x[0])
        message = str(res.message[0])
        if not res.ok[0]:
            message = (f"reduced-space Newton: {reduced.status[0].value}: {reduced.message[0]}; "
                       f"full-space Newton: {res.status[0].value}: {res.message[0]}")
        return SolveResult(res.status[0], int(res.iterations[0]), float(res.max_residual[0]), message,
                           solver=self.name, details=details)

    def solve_batch(self, system: CompiledSystem, X_base: np.ndarray, P_base: np.ndarray, P: np.ndarray, *,
                    model=None, **options) -> BatchResult:
        """Draws × shocks at once, by batched reduced-space Newton (`lewie.solvers.reduced_newton.solve_batch`;
        ``model`` is not needed)."""
        return solve_batch(system, X_base, P_base, P, **options)
