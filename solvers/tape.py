"""Compile a Pyomo model's equality constraints into a vectorised numpy residual and sparse Jacobian.

The equations are never written twice: this module walks Pyomo's expression trees (and the trees
of Pyomo's own symbolic derivatives) into a tape of nodes, folds constants, negations and constant
factors into weighted sums, shares structurally identical sub-expressions, groups the nodes by depth
and operation, and evaluates each group with one numpy (or scipy.sparse) call over a batch axis.
Evaluating a batch of B parameter sets costs a few dozen array calls whatever B is.

    system = compile_model(model)
    F = system.residual(X, P)              # X: (B, n) variables, P: (B, k) parameters -> (B, m)
    J = system.jacobian_values(X, P)       # (B, nnz) values at (system.jac_rows, system.jac_cols)

Internally node values are held as an array V of shape (n_nodes, B) (one row per node, batch last),
so that gathering a node's children reads contiguous rows. Solvers that work in this layout
(`lewie.solvers.tearing`) evaluate subsets of the tape through `plan` and `run`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.core.base.expression import ExpressionData
from pyomo.core.base.param import ParamData
from pyomo.core.base.var import VarData
from pyomo.common.collections import ComponentSet
from pyomo.core.expr import numeric_expr as ne
from pyomo.core.expr.relational_expr import EqualityExpression
from pyomo.core.expr.calculus.derivatives import Modes, differentiate
from pyomo.core.expr.visitor import identify_variables

from lewie.solvers.cache import DerivedCache

_UNARY = {"log": np.log, "exp": np.exp, "sqrt": np.sqrt, "log10": np.log10, "sin": np.sin,
          "cos": np.cos, "tan": np.tan, "abs": np.abs}
_LEAVES = ("x", "p", "c")


class _TapeBuilder:
    """Turns Pyomo expressions into tape nodes.

    Ops: ``x`` (variable), ``p`` (parameter), ``c`` (constant), ``lin`` (Σ wᵢ·childᵢ with constant
    weights: sums, negations and constant factors), ``mul``, ``div``, ``pow`` and unary functions.
    Nodes are hash-consed (one node per distinct operation on distinct children), so the many
    identical sub-expressions of Pyomo's derivative trees are evaluated once.
    """

    def __init__(self, var_index, param_index):
        self.var_index, self.param_index = var_index, param_index
        self.ops: list[str] = []
        self.args: list[tuple] = []
        self.weights: list[tuple | None] = []
        self.memo: dict = {}  # id(Pyomo object) -> node
        self.cons: dict = {}  # structural key -> node
        self._alive: list = []  # keeps memoised objects alive so their ids are never reused

    def _node(self, op, args, weights=None) -> int:
        key = (op, args, weights)
        node = self.cons.get(key)
        if node is None:
            self.ops.append(op)
            self.args.append(args)
            self.weights.append(weights)
            node = self.cons[key] = len(self.ops) - 1
        return node

    def const(self, value: float) -> int:
        return self._node("c", (float(value),))

    def _is_const(self, i: int) -> bool:
        return self.ops[i] == "c"

    def _value(self, i: int) -> float:
        return self.args[i][0]

    def lin(self, children, weights) -> int:
        """Σ wᵢ·childᵢ, folding constants, scaled single children and repeated children."""
        terms: dict[int, float] = {}
        total = 0.0
        for c, w in zip(children, weights):
            if self.ops[c] == "c":
                total += w * self._value(c)
                continue
            if self.ops[c] == "lin" and len(self.args[c]) == 1:
                c, w = self.args[c][0], w * self.weights[c][0]
            terms[c] = terms.get(c, 0.0) + w
        terms = {c: w for c, w in terms.items() if w != 0.0}
        if total != 0.0:
            terms[self.const(total)] = 1.0
        if not terms:
            return self.const(0.0)
        if len(terms) == 1:
            (c, w), = terms.items()
            if w == 1.0:
                return c
        return self._node("lin", tuple(terms), tuple(float(w) for w in terms.values()))

    def scale(self, child: int, w: float) -> int:
        return self.lin((child,), (w,))

    def mul(self, a: int, b: int) -> int:
        if self._is_const(a) and self._is_const(b):
            return self.const(self._value(a) * self._value(b))
        if self._is_const(a):
            return self.scale(b, self._value(a))
        if self._is_const(b):
            return self.scale(a, self._value(b))
        return self._node("mul", (min(a, b), max(a, b)))

    def div(self, a: int, b: int) -> int:
        if self._is_const(b) and self._value(b) != 0.0:
            return self.scale(a, 1.0 / self._value(b))
        if self._is_const(a) and self._value(a) == 0.0:
            return self.const(0.0)
        return self._node("div", (a, b))

    def pow(self, a: int, b: int) -> int:
        if self._is_const(b):
            e = self._value(b)
            if e == 0.0:
                return self.const(1.0)
            if e == 1.0:
                return a
            if self._is_const(a):
                with np.errstate(all="ignore"):
                    return self.const(float(np.float64(self._value(a)) ** e))
        return self._node("pow", (a, b))

    def unary(self, name: str, a: int) -> int:
        if self._is_const(a):
            with np.errstate(all="ignore"):
                return self.const(float(_UNARY[name](np.float64(self._value(a)))))
        return self._node(name, (a,))

    def add(self, e) -> int:
        if isinstance(e, (int, float)):
            return self.const(e)
        key = id(e)
        node = self.memo.get(key)
        if node is not None:
            return node
        node = self._add(e)
        self._alive.append(e)
        self.memo[key] = node
        return node

    def _add(self, e) -> int:
        if isinstance(e, VarData):
            if e.fixed:
                if e not in self.param_index:
                    raise ValueError(f"fixed variable {e.name} was not registered as a parameter")
                return self._node("p", (self.param_index[e],))
            return self._node("x", (self.var_index[e],))
        if isinstance(e, ParamData):
            if e in self.param_index:
                return self._node("p", (self.param_index[e],))
            return self.const(pyo.value(e))
        if isinstance(e, ExpressionData):
            return self.add(e.expr)
        if not getattr(e, "is_expression_type", lambda: False)():
            return self.const(pyo.value(e))  # numeric constants and immutable params
        if isinstance(e, ne.SumExpression):
            children = [self.add(a) for a in e.args]
            return self.lin(children, [1.0] * len(children))
        if isinstance(e, (ne.ProductExpression, ne.MonomialTermExpression)):
            a, b = e.args
            return self.mul(self.add(a), self.add(b))
        if isinstance(e, ne.DivisionExpression):
            a, b = e.args
            return self.div(self.add(a), self.add(b))
        if isinstance(e, ne.PowExpression):
            a, b = e.args
            return self.pow(self.add(a), self.add(b))
        if isinstance(e, ne.NegationExpression):
            return self.scale(self.add(e.args[0]), -1.0)
        if isinstance(e, ne.UnaryFunctionExpression):
            name = e.getname()
            if name not in _UNARY:
                raise NotImplementedError(f"function {name} is not supported by the compiler")
            return self.unary(name, self.add(e.args[0]))
        if isinstance(e, ne.AbsExpression):
            return self.unary("abs", self.add(e.args[0]))
        raise NotImplementedError(f"expression type {type(e).__name__} is not supported by the compiler")


@dataclass
class _Group:
    """One array call: nodes ``out`` (a slice when contiguous) of one operation at one depth."""

    op: str
    out: slice | np.ndarray
    a: np.ndarray | None = None
    b: np.ndarray | None = None
    matrix: sp.csr_matrix | None = None  # for lin: weights, (len(out), n_nodes)


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
        params = [p for c in model.component_objects(pyo.Param, descend_into=True) if c.mutable
                  for p in c.values()] + fixed
        self.constraints = cons
        self.variables = variables
        self.parameters = params
        self.n, self.m, self.k = len(variables), len(cons), len(params)
        var_index = pyo.ComponentMap((v, i) for i, v in enumerate(variables))
        param_index = pyo.ComponentMap((p, i) for i, p in enumerate(params))
        tb = _TapeBuilder(var_index, param_index)
        # every variable and parameter gets a leaf, so V holds the whole point
        for i in range(self.n):
            tb._node("x", (i,))
        for i in range(self.k):
            tb._node("p", (i,))
        residual_nodes = []
        for c in cons:
            body = tb.add(c.body)
            upper = c.upper
            if upper is None or (not getattr(upper, "is_expression_type", lambda: False)()
                                 and pyo.value(upper) == 0):
                residual_nodes.append(body)
            else:
                residual_nodes.append(tb.lin((body, tb.add(upper)), (1.0, -1.0)))
        rows, cols, jnodes, on_lhs = [], [], [], []
        if jacobian:
            for i, c in enumerate(cons):
                wrt = [v for v in identify_variables(c.body, include_fixed=False)]
                derivs = differentiate(c.body, wrt_list=wrt, mode=Modes.reverse_symbolic)
                lhs = _declared_lhs(c)
                for v, d in zip(wrt, derivs):
                    rows.append(i)
                    cols.append(var_index[v])
                    jnodes.append(tb.add(d))
                    on_lhs.append(lhs is None or v in lhs)
        self.jac_rows = np.asarray(rows, dtype=np.int64)
        self.jac_cols = np.asarray(cols, dtype=np.int64)
        # the variable is on the left-hand side of the equation as declared (`v == f(...)`), or the
        # left-hand side names no variable: how the modeller says which variable an equation defines
        self.jac_on_lhs = np.asarray(on_lhs, dtype=bool)
        self._finalise(tb, np.asarray(residual_nodes, dtype=np.int64), np.asarray(jnodes, dtype=np.int64))

    def _finalise(self, tb: _TapeBuilder, residual_nodes: np.ndarray, jac_nodes: np.ndarray) -> None:
        ops, args, weights = tb.ops, tb.args, tb.weights
        nn = len(ops)
        depth = [0] * nn  # Python lists, not numpy element access, in these per-node loops
        for i, (op, a) in enumerate(zip(ops, args)):
            if op not in _LEAVES:
                depth[i] = 1 + max(depth[j] for j in a)
        # renumber: x leaves (variable order), p leaves (parameter order), constants, then by depth and op
        rank = {"x": 0, "p": 1, "c": 2}

        inner = sorted(range(nn), key=lambda i: (depth[i], rank.get(ops[i], 3), ops[i] if ops[i] not in rank
                                                 else "", args[i][0] if ops[i] in ("x", "p") else i))
        new_of = np.empty(nn, dtype=np.int64)
        new_of[inner] = np.arange(nn)
        new = new_of.tolist()
        self.n_nodes = nn
        self._ops = [ops[i] for i in inner]
        self._args = [tuple(new[j] for j in args[i]) if ops[i] not in _LEAVES else args[i] for i in inner]
        self._weights = [weights[i] for i in inner]
        self._depth = np.asarray(depth, dtype=np.int64)[inner]
        self.residual_nodes = new_of[residual_nodes]
        self.jac_nodes = new_of[jac_nodes]
        # leaves: x nodes 0..n-1 (variable j at node j), p nodes n..n+k-1, then constants
        assert all(self._ops[j] == "x" and self._args[j][0] == j for j in range(self.n))
        assert all(self._ops[self.n + j] == "p" and self._args[self.n + j][0] == j for j in range(self.k))
        self._c_nodes = np.array([i for i, op in enumerate(self._ops) if op == "c"], dtype=np.int64)
        self._c_val = np.array([self._args[i][0] for i in self._c_nodes], dtype=float)
        self._full_plan = self.plan(np.arange(nn))
        self._residual_plan = self.plan(self.closure(self.residual_nodes))
        # which variables each node depends on (Python ints as bit sets), for structure analysis
        dep = [0] * nn
        for i, op in enumerate(self._ops):
            if op == "x":
                dep[i] = 1 << self._args[i][0]
            elif op not in _LEAVES:
                d = 0
                for j in self._args[i]:
                    d |= dep[j]
                dep[i] = d
        self._node_vars = dep
        # ∂F_i/∂x_j does not depend on x_j: equation i is linear in x_j
        self.jac_linear = np.array([not (dep[node] >> int(j)) & 1 for node, j in zip(self.jac_nodes, self.jac_cols)],
                                   dtype=bool)
        self._has_jac = True

    # ----- plans -----------------------------------------------------------------------------------
    def closure(self, roots) -> np.ndarray:
        """The non-leaf nodes needed to evaluate ``roots``, sorted."""
        need = np.zeros(self.n_nodes, dtype=bool)
        stack = [int(r) for r in np.ravel(roots)]
        while stack:
            i = stack.pop()
            if need[i] or self._ops[i] in _LEAVES:
                continue
            need[i] = True
            stack.extend(self._args[i])
        return np.flatnonzero(need)

    def plan(self, nodes) -> list[_Group]:
        """Array calls evaluating ``nodes`` (non-leaf nodes; leaves are ignored), children first."""
        nodes = np.unique(np.asarray(nodes, dtype=np.int64))
        nodes = nodes[[self._ops[i] not in _LEAVES for i in nodes]] if nodes.size else nodes
        groups: list[_Group] = []
        if nodes.size == 0:
            return groups
        keys = [(int(self._depth[i]), self._ops[i]) for i in nodes]
        start = 0
        for end in range(1, len(nodes) + 1):
            if end < len(nodes) and keys[end] == keys[start]:
                continue
            ids = nodes[start:end]
            op = keys[start][1]
            out = slice(int(ids[0]), int(ids[-1]) + 1) if ids[-1] - ids[0] + 1 == ids.size else ids
            if op == "lin":
                indptr = np.zeros(ids.size + 1, dtype=np.int64)
                indptr[1:] = np.cumsum([len(self._args[i]) for i in ids])
                indices = np.concatenate([np.asarray(self._args[i], dtype=np.int64) for i in ids])
                data = np.concatenate([np.asarray(self._weights[i], dtype=float) for i in ids])
                groups.append(_Group(op, out, matrix=sp.csr_matrix((data, indices, indptr),
                                                                   shape=(ids.size, self.n_nodes))))
            elif op in ("mul", "div", "pow"):
                groups.append(_Group(op, out, a=np.array([self._args[i][0] for i in ids]),
                                     b=np.array([self._args[i][1] for i in ids])))
            else:
                groups.append(_Group(op, out, a=np.array([self._args[i][0] for i in ids])))
            start = end
        return groups

    def new_values(self, XT: np.ndarray, PT: np.ndarray) -> np.ndarray:
        """Node values V (n_nodes, B) with the leaves set: XT (n, B) variables, PT (k, B) parameters."""
        B = max(XT.shape[1], PT.shape[1])
        V = np.empty((self.n_nodes, B))
        V[:self.n] = XT
        V[self.n:self.n + self.k] = PT
        V[self._c_nodes] = self._c_val[:, None]
        return V

    @staticmethod
    def run(V: np.ndarray, plan: list[_Group]) -> np.ndarray:
        """Evaluate the groups of a plan into V, in place."""
        with np.errstate(all="ignore"):
            for g in plan:
                op, out = g.op, g.out
                if op == "lin":
                    V[out] = g.matrix @ V
                    continue
                if op == "mul":
                    r = np.multiply(V[g.a], V[g.b])
                elif op == "div":
                    r = np.divide(V[g.a], V[g.b])
                elif op == "pow":
                    r = np.power(V[g.a], V[g.b])
                else:
                    r = _UNARY[op](V[g.a])
                V[out] = r
        return V

    # ----- evaluation ---------------------------------------------------------------------------
    def _values(self, X, P, plan) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        P = np.atleast_2d(np.asarray(P, dtype=float))
        return self.run(self.new_values(X.T, P.T), plan)

    def residual(self, X, P) -> np.ndarray:
        """Residuals (body − right-hand side) of every constraint: shape (B, m)."""
        return self._values(X, P, self._residual_plan)[self.residual_nodes].T.copy()

    def residual_and_jacobian(self, X, P) -> tuple[np.ndarray, np.ndarray]:
        V = self._values(X, P, self._full_plan)
        return V[self.residual_nodes].T.copy(), V[self.jac_nodes].T.copy()

    def jacobian_values(self, X, P) -> np.ndarray:
        return self._values(X, P, self._full_plan)[self.jac_nodes].T.copy()

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


def _declared_lhs(con):
    """Variables on the left-hand side of an equality as declared (None if it names none)."""
    expr = con.expr
    args = getattr(expr, "args", None)
    if not isinstance(expr, EqualityExpression) or not args:
        return None
    lhs = ComponentSet(v for v in identify_variables(args[0], include_fixed=False))
    return lhs or None


def _active_signature(model: pyo.Block) -> tuple:
    """What a compiled tape depends on besides the expressions: which constraints are active."""
    return tuple(id(c) for c in model.component_data_objects(pyo.Constraint, active=True, descend_into=True))


COMPILED = DerivedCache("compiled tape of a Pyomo model", lambda model: CompiledSystem(model),
                        signature=_active_signature)


def compile_model(model: pyo.Block) -> CompiledSystem:
    """The vectorised system of a model's active equality constraints, compiled once per model (and
    again if its active constraints change; `COMPILED` is the cache)."""
    return COMPILED.get(model)
