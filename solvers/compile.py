"""Compile a Pyomo model's equality constraints into a vectorised numpy residual and sparse Jacobian.

The equations are never written twice: this module walks Pyomo's expression trees (and the trees
of Pyomo's own symbolic derivatives) into a tape of nodes, groups the nodes by depth and operation,
and evaluates each group with one numpy call over a batch axis. Evaluating a batch of B parameter
sets costs a few dozen numpy calls whatever B is.

    system = compile_model(model)
    F = system.residual(X, P)              # X: (B, n) variables, P: (B, k) parameters -> (B, m)
    J = system.jacobian_values(X, P)       # (B, nnz) values at (system.jac_rows, system.jac_cols)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.base.expression import ExpressionData
from pyomo.core.base.param import ParamData
from pyomo.core.base.var import VarData
from pyomo.core.expr import numeric_expr as ne
from pyomo.core.expr.calculus.derivatives import Modes, differentiate
from pyomo.core.expr.visitor import identify_variables

_UNARY = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "log10": np.log10, "sin": np.sin,
          "cos": np.cos, "tan": np.tan}


class _TapeBuilder:
    """Turns Pyomo expressions into tape nodes, sharing identical leaves and sub-expressions."""

    def __init__(self, var_index: dict, param_index: dict):
        self.var_index, self.param_index = var_index, param_index
        self.ops: list[str] = []  # x, p, c, sum, mul, div, pow, neg, <unary name>
        self.args: list[tuple] = []
        self.memo: dict = {}
        self._alive: list = []  # keeps memoised objects alive so their ids are never reused

    def _node(self, key, op, args):
        if key is not None and key in self.memo:
            return self.memo[key]
        self.ops.append(op)
        self.args.append(args)
        idx = len(self.ops) - 1
        if key is not None:
            self.memo[key] = idx
        return idx

    def const(self, value: float) -> int:
        return self._node(("c", float(value)), "c", (float(value),))

    def add(self, e) -> int:
        if isinstance(e, (int, float)):
            return self.const(e)
        key = id(e)
        if key in self.memo:
            return self.memo[key]
        self._alive.append(e)
        if isinstance(e, VarData):
            if e.fixed:
                if e not in self.param_index:
                    raise ValueError(f"fixed variable {e.name} was not registered as a parameter")
                return self._node(key, "p", (self.param_index[e],))
            return self._node(key, "x", (self.var_index[e],))
        if isinstance(e, ParamData):
            if e in self.param_index:
                return self._node(key, "p", (self.param_index[e],))
            return self.const(pyo.value(e))
        if isinstance(e, ExpressionData):
            idx = self.add(e.expr)
            self.memo[key] = idx
            return idx
        if not getattr(e, "is_expression_type", lambda: False)():
            return self.const(pyo.value(e))  # numeric constants and immutable params
        if isinstance(e, ne.SumExpression):
            children = [self.add(a) for a in e.args]
            return self._node(key, "sum", tuple(children)) if children else self.const(0.0)
        if isinstance(e, (ne.ProductExpression, ne.MonomialTermExpression)):
            a, b = e.args
            return self._node(key, "mul", (self.add(a), self.add(b)))
        if isinstance(e, ne.DivisionExpression):
            a, b = e.args
            return self._node(key, "div", (self.add(a), self.add(b)))
        if isinstance(e, ne.PowExpression):
            a, b = e.args
            return self._node(key, "pow", (self.add(a), self.add(b)))
        if isinstance(e, ne.NegationExpression):
            return self._node(key, "neg", (self.add(e.args[0]),))
        if isinstance(e, ne.UnaryFunctionExpression):
            name = e.getname()
            if name not in _UNARY:
                raise NotImplementedError(f"function {name} is not supported by the compiler")
            return self._node(key, name, (self.add(e.args[0]),))
        if isinstance(e, ne.AbsExpression):
            return self._node(key, "abs", (self.add(e.args[0]),))
        raise NotImplementedError(f"expression type {type(e).__name__} is not supported by the compiler")


@dataclass
class _Group:
    op: str
    out: np.ndarray  # node ids written
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    gather: np.ndarray | None = None  # for sums: child node ids, concatenated
    starts: np.ndarray | None = None  # for sums: segment starts (np.add.reduceat)


class CompiledSystem:
    """Vectorised residual and Jacobian of a square Pyomo system (see module docstring)."""

    def __init__(self, model: pyo.Block, *, jacobian: bool = True):
        cons = [c for c in model.component_data_objects(pyo.Constraint, active=True, descend_into=True)]
        for c in cons:
            if not c.equality:
                raise ValueError(f"constraint {c.name} is not an equality; the system must be square")
        variables: list[VarData] = []
        seen = set()
        fixed: list[VarData] = []
        fseen = set()
        for c in cons:
            for v in identify_variables(c.body, include_fixed=True):
                if v.fixed:
                    if id(v) not in fseen:
                        fseen.add(id(v))
                        fixed.append(v)
                elif id(v) not in seen:
                    seen.add(id(v))
                    variables.append(v)
        # keep the model's declaration order of variables
        order = {id(v): i for i, v in enumerate(model.component_data_objects(pyo.Var, descend_into=True))}
        variables.sort(key=lambda v: order[id(v)])
        params = [p for c in model.component_objects(pyo.Param, descend_into=True) if c.mutable for p in c.values()] + fixed
        self.constraints = cons
        self.variables = variables
        self.parameters = params
        self.n, self.m, self.k = len(variables), len(cons), len(params)
        var_index = pyo.ComponentMap((v, i) for i, v in enumerate(variables))
        param_index = pyo.ComponentMap((p, i) for i, p in enumerate(params))
        tb = _TapeBuilder(var_index, param_index)
        self.residual_nodes = np.empty(self.m, dtype=np.int64)
        for i, c in enumerate(cons):
            body = tb.add(c.body)
            upper = c.upper
            if upper is None or (not getattr(upper, "is_expression_type", lambda: False)() and pyo.value(upper) == 0):
                self.residual_nodes[i] = body
            else:
                self.residual_nodes[i] = tb._node(None, "sum", (body, tb._node(None, "neg", (tb.add(upper),))))
        rows, cols, jnodes = [], [], []
        if jacobian:
            for i, c in enumerate(cons):
                wrt = [v for v in identify_variables(c.body, include_fixed=False)]
                derivs = differentiate(c.body, wrt_list=wrt, mode=Modes.reverse_symbolic)
                for v, d in zip(wrt, derivs):
                    rows.append(i)
                    cols.append(var_index[v])
                    jnodes.append(tb.add(d))
        self.jac_rows = np.asarray(rows, dtype=np.int64)
        self.jac_cols = np.asarray(cols, dtype=np.int64)
        self.jac_nodes = np.asarray(jnodes, dtype=np.int64)
        self._finalise(tb)

    def _finalise(self, tb: _TapeBuilder) -> None:
        ops, args = tb.ops, tb.args
        nn = len(ops)
        level = np.zeros(nn, dtype=np.int64)
        for i, (op, a) in enumerate(zip(ops, args)):
            if op not in ("x", "p", "c"):
                level[i] = 1 + max(level[j] for j in a)
        self.n_nodes = nn
        kind = np.array(ops, dtype=object)
        self._x_nodes = np.array([i for i in range(nn) if ops[i] == "x"], dtype=np.int64)
        self._x_idx = np.array([args[i][0] for i in self._x_nodes], dtype=np.int64)
        self._p_nodes = np.array([i for i in range(nn) if ops[i] == "p"], dtype=np.int64)
        self._p_idx = np.array([args[i][0] for i in self._p_nodes], dtype=np.int64)
        self._c_nodes = np.array([i for i in range(nn) if ops[i] == "c"], dtype=np.int64)
        self._c_val = np.array([args[i][0] for i in self._c_nodes], dtype=float)
        groups: list[_Group] = []
        for lev in range(1, int(level.max(initial=0)) + 1):
            at = np.flatnonzero(level == lev)
            for op in sorted(set(kind[at])):
                ids = at[kind[at] == op]
                if op == "sum":
                    lens = np.array([len(args[i]) for i in ids])
                    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
                    gather = np.concatenate([np.asarray(args[i], dtype=np.int64) for i in ids])
                    groups.append(_Group(op, ids, gather=gather, starts=starts))
                elif op in ("mul", "div", "pow"):
                    groups.append(_Group(op, ids, a=np.array([args[i][0] for i in ids]),
                                         b=np.array([args[i][1] for i in ids])))
                else:
                    groups.append(_Group(op, ids, a=np.array([args[i][0] for i in ids])))
        self._groups = groups

    # ----- evaluation ---------------------------------------------------------------------------
    def _evaluate(self, X: np.ndarray, P: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(X)
        P = np.atleast_2d(P)
        B = max(X.shape[0], P.shape[0])
        V = np.empty((B, self.n_nodes))
        V[:, self._x_nodes] = X[:, self._x_idx]
        V[:, self._p_nodes] = P[:, self._p_idx]
        V[:, self._c_nodes] = self._c_val
        with np.errstate(all="ignore"):
            for g in self._groups:
                if g.op == "sum":
                    V[:, g.out] = np.add.reduceat(V[:, g.gather], g.starts, axis=1)
                elif g.op == "mul":
                    V[:, g.out] = V[:, g.a] * V[:, g.b]
                elif g.op == "div":
                    V[:, g.out] = V[:, g.a] / V[:, g.b]
                elif g.op == "pow":
                    V[:, g.out] = V[:, g.a] ** V[:, g.b]
                elif g.op == "neg":
                    V[:, g.out] = -V[:, g.a]
                elif g.op == "abs":
                    V[:, g.out] = np.abs(V[:, g.a])
                else:
                    V[:, g.out] = _UNARY[g.op](V[:, g.a])
        return V

    def residual(self, X, P) -> np.ndarray:
        """Residuals (body − right-hand side) of every constraint: shape (B, m)."""
        return self._evaluate(X, P)[:, self.residual_nodes]

    def residual_and_jacobian(self, X, P) -> tuple[np.ndarray, np.ndarray]:
        V = self._evaluate(X, P)
        return V[:, self.residual_nodes], V[:, self.jac_nodes]

    def jacobian_values(self, X, P) -> np.ndarray:
        return self._evaluate(X, P)[:, self.jac_nodes]

    def jacobian(self, x, p) -> sp.csc_matrix:
        """Sparse Jacobian at one point."""
        vals = self.jacobian_values(x, p)[0]
        return sp.csc_matrix((vals, (self.jac_rows, self.jac_cols)), shape=(self.m, self.n))

    # ----- exchange with the Pyomo model ------------------------------------------------------
    def get_x(self) -> np.ndarray:
        return np.array([v.value if v.value is not None else 0.0 for v in self.variables], dtype=float)

    def get_p(self) -> np.ndarray:
        return np.array([pyo.value(p) for p in self.parameters], dtype=float)

    def set_x(self, x: np.ndarray) -> None:
        for v, val in zip(self.variables, np.asarray(x, dtype=float)):
            v.set_value(float(val), skip_validation=True)

    def set_p(self, p: np.ndarray) -> None:
        for q, val in zip(self.parameters, np.asarray(p, dtype=float)):
            if isinstance(q, VarData):
                q.set_value(float(val), skip_validation=True)
            else:
                q.set_value(float(val))

    def param_positions(self, component) -> dict:
        """Index in the parameter vector of each element of an indexed Param, keyed by its index."""
        pos = pyo.ComponentMap((p, i) for i, p in enumerate(self.parameters))
        return {k: pos[component[k]] for k in component}

    def var_positions(self, component) -> dict:
        pos = pyo.ComponentMap((v, i) for i, v in enumerate(self.variables))
        return {k: pos[component[k]] for k in component if component[k] in pos}


def compile_model(model: pyo.Block, *, jacobian: bool = True) -> CompiledSystem:
    """Compile (and cache on the model) the vectorised system of its active equality constraints."""
    cached = getattr(model, "_lewie_compiled", None)
    if cached is not None and (cached._has_jac or not jacobian):
        return cached
    system = CompiledSystem(model, jacobian=jacobian)
    system._has_jac = jacobian
    model._lewie_compiled = system
    return system
