"""Independent verification of a solution: every Pyomo constraint evaluated by Pyomo itself, each
relative to its magnitude (the one residual measure, `lewie.solvers.residuals`).

The residuals are Pyomo's own values of the declared constraints; the magnitudes (the scale of each
equation) come from the magnitude plan of the model's compiled system, derived once per model.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.numeric_types import nonpyomo_leaf_types
from pyomo.core.expr.visitor import ExpressionValueVisitor

from lewie.solvers.cache import DerivedCache
from lewie.solvers.tape import CompiledSystem, compile_model
from lewie.solvers.residuals import BASE_TOL, SOLUTION_TOL, measure_for, relative

from lewie.errors import SolveError
from lewie.model.registry import INDEX_DIMS, constraint_labels

__all__ = ["residual_table", "format_residuals", "verify", "verify_batch", "verify_points", "pyomo_residuals", "pyomo_residuals_at",
           "INDEX_DIMS", "BASE_TOL", "SOLUTION_TOL"]

_labels = constraint_labels  # the name earlier code used


def _system(model, system=None):
    return system if system is not None else compile_model(model)


def _equation_labels(system) -> tuple[list[str], list]:
    """Each constraint's block name and labels, in the system's order (derived once per system)."""
    cons = system.constraints
    return [c.parent_component().name for c in cons], [constraint_labels(c) for c in cons]


_LABELS = DerivedCache("equation names and labels of a compiled system", _equation_labels)


def residual_table(model: pyo.Block, system=None) -> pd.DataFrame:
    """Residual of every active constraint (Pyomo's evaluation), with its labels, its scale (the
    equation's magnitude at the model's current values) and its relative residual, worst first.
    ``system``: the model's compiled system (default: compiled, or taken from the cache)."""
    s = _system(model, system)
    cons = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    if len(cons) != s.m or any(a is not b for a, b in zip(cons, s.constraints)):
        s = CompiledSystem(model)  # the model changed since it was compiled
    _, M = measure_for(s).evaluate(s.get_x(), s.get_p())
    residuals = pyomo_residuals(s)  # s.constraints are cons
    names, labels = _LABELS.get(s)  # cons are s.constraints (checked above)
    df = pd.DataFrame({"equation": names, "labels": labels, "residual": residuals})
    df["scale"] = M[0]
    df["relative"] = relative(df["residual"].to_numpy(dtype=float), M[0])
    return df.sort_values("relative", ascending=False, kind="stable").reset_index(drop=True)


def _bounded(system) -> list[tuple]:
    """Each constraint's body and upper bound, the Pyomo expressions ``con.body`` and ``con.upper``
    give (standardised from the declared expression once per system, not at every evaluation)."""
    return [(c.body, c.upper) for c in system.constraints]


_BOUNDED = DerivedCache("constraint bodies and bounds of a compiled system", _bounded)


def pyomo_residuals(system) -> np.ndarray:
    """Pyomo's own value of body − upper bound of every constraint of ``system`` (in its order) at the
    model's current values; NaN where Pyomo cannot evaluate it (as `residual_table`)."""
    out = np.empty(system.m)
    value = pyo.value
    for j, (body, upper) in enumerate(_BOUNDED.get(system)):
        try:
            out[j] = value(body) - value(upper)
        except (ValueError, ZeroDivisionError, OverflowError):
            out[j] = np.nan
    return out


class _PointsEvaluation(ExpressionValueVisitor):
    """Pyomo's evaluation of an expression, as `pyomo.core.expr.visitor.evaluate_expression` does it
    (each node's own operation applied to its arguments' values, `dfs_postorder_stack`), with the
    values of a compiled system's variables and parameters given as arrays over many points: the
    same expression trees and operations, evaluated for all points in one walk, the model untouched."""

    def __init__(self, leaves: dict[int, np.ndarray]):
        self.leaves = leaves

    def visit(self, node, values):
        return node._apply_operation(values)

    def visiting_potential_leaf(self, node):
        if node.__class__ in nonpyomo_leaf_types:
            return True, node
        if node.is_expression_type():
            return False, None
        if node.is_numeric_type():
            leaf = self.leaves.get(id(node))
            return True, (leaf if leaf is not None else pyo.value(node))
        return True, node


def pyomo_residuals_at(system, X: np.ndarray, P: np.ndarray) -> np.ndarray:
    """`pyomo_residuals` at many points at once, (B, m) for X (B, n) and P (B, k): every constraint's
    body − upper bound evaluated by Pyomo's expression trees with numpy arrays as the leaves' values
    (`_PointsEvaluation`; non-finite where an operation fails). Equal to `pyomo_residuals` point by
    point up to rounding (numpy's elementary functions may differ from Python's in the last bits).
    Raises TypeError (or another error) when an expression's operation does not take arrays."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    P = np.atleast_2d(np.asarray(P, dtype=float))
    XT, PT = np.ascontiguousarray(X.T), np.ascontiguousarray(P.T)
    leaves = {id(v): XT[j] for j, v in enumerate(system.variables)}
    leaves.update({id(q): PT[j] for j, q in enumerate(system.parameters)})
    walk = _PointsEvaluation(leaves).dfs_postorder_stack
    out = np.empty((system.m, len(X)))
    with np.errstate(all="ignore"):
        for j, (body, upper) in enumerate(_BOUNDED.get(system)):
            out[j] = walk(body) - walk(upper)
    return out.T


def verify_points(model: pyo.Block, system, X: np.ndarray, P: np.ndarray, tols, whats) -> list[str]:
    """`verify` at many points of one model (row b of ``X`` and ``P``, against ``tols[b]``): every
    constraint evaluated by Pyomo, relative to the equation's magnitude there. Returns, per point,
    '' when it passes, else the message `verify` raises with (``whats[b]`` naming the point).

    All points are evaluated at once (`pyomo_residuals_at`; magnitudes in one pass of the compiled
    magnitude plan). A point that does not pass there is loaded into the model and checked by
    `verify` itself, whose verdict and report are the ones kept; so is every point when an
    expression cannot be evaluated over arrays. The model's values are restored afterwards.
    ``system``: the model's compiled system (its constraints are the model's active constraints)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    P = np.atleast_2d(np.asarray(P, dtype=float))
    if not len(X):
        return []
    F, M = measure_for(system).evaluate(X, P)
    try:
        F = pyomo_residuals_at(system, X, P)
        if F.shape != M.shape:
            raise ValueError(f"residuals of shape {F.shape}, not {M.shape}")
        worst = relative(F, M).max(axis=1, initial=0.0)
        recheck = [b for b in range(len(X)) if not worst[b] <= tols[b]]
    except Exception:  # noqa: BLE001 - an operation that does not take arrays: point by point
        recheck = list(range(len(X)))
    out = [""] * len(X)
    if not recheck:
        return out
    x_saved, p_saved = system.get_x(), system.get_p()
    try:
        for b in recheck:
            system.set_p(P[b])
            system.set_x(X[b])
            try:
                verify(model, tol=tols[b], what=whats[b], system=system)
            except SolveError as exc:
                out[b] = str(exc)
    finally:
        system.set_p(p_saved)
        system.set_x(x_saved)
    return out


def format_residuals(table: pd.DataFrame, n: int = 8) -> str:
    head = table.head(n)
    lines = [f"  {r.equation}[{r.labels}]: residual {r.residual:.3g} (relative {r.relative:.3g})"
             for r in head.itertuples()]
    return "\n".join(lines)


def verify(model: pyo.Block, *, tol: float = SOLUTION_TOL, what: str = "solution", system=None) -> pd.DataFrame:
    """Raise SolveError naming the worst equations unless every relative residual is ≤ tol."""
    table = residual_table(model, system)
    worst = table["relative"].iloc[0] if len(table) else 0.0
    if not worst <= tol:
        raise SolveError(f"{what} does not satisfy the model: worst relative residual {worst:.3g} > {tol:g}\n"
                         + format_residuals(table), report=table)
    return table


def verify_batch(model, system, result, P: np.ndarray, *, sample: int = 8,
                 tol: float = SOLUTION_TOL, rng: np.random.Generator | None = None) -> pd.DataFrame:
    """Pyomo's own check of batch solutions: member 0 and ``sample`` random converged members.

    Each checked member's solution and parameters are loaded into ``model`` and every constraint is
    evaluated by Pyomo (`verify`, relative residual ≤ ``tol``), which raises
    `lewie.errors.SolveError` with the labelled residual table if one fails. The model's variable and
    parameter values are restored afterwards. Every member was already checked on all equations by
    the compiled residual inside `lewie.solvers.reduced_newton.solve_batch` (its ``max_residual``); this is the independent check
    that the compiled tape and Pyomo agree at the solutions. Returns member and worst residual.
    """
    P = np.asarray(P, dtype=float).reshape(-1, system.k)
    ok = np.flatnonzero(result.ok)
    rng = rng if rng is not None else np.random.default_rng(0)
    chosen = [int(ok[0])] if ok.size else []
    rest = ok[1:]
    if rest.size and sample > 0:
        chosen += sorted(int(b) for b in rng.choice(rest, size=min(sample, rest.size), replace=False))
    x_saved, p_saved = system.get_x(), system.get_p()
    rows = []
    try:
        for b in chosen:
            system.set_p(P[b])
            system.set_x(result.x[b])
            table = verify(model, tol=tol, system=system, what=f"batch member {b} (draw {b // _shocks(result)}, "
                                                f"shock {b % _shocks(result)})")
            rows.append((b, float(table["relative"].iloc[0]) if len(table) else 0.0))
    finally:
        system.set_p(p_saved)
        system.set_x(x_saved)
    return pd.DataFrame(rows, columns=["member", "max_relative_residual"])


def _shocks(result) -> int:
    return result.shape[1] if result.shape is not None and len(result.shape) == 2 else 1
