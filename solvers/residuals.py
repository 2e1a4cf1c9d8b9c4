"""The one residual measure of lewie: each equation's residual relative to the magnitude of the
quantities it is built from, so it is unit-free. Verification (`lewie.runs.verify`), the native solvers'
stopping rules (`lewie.solvers.newton`, `lewie.solvers.reduced_newton`), the checks of every draw's base
(`lewie.model.recalibration`) and the reports all use it, and the tolerances below.

For an equation F(x, p) = lhs − rhs = 0, its **magnitude** M is F evaluated with every quantity
replaced by its absolute value and every sum by the sum of absolute values of its terms, through
the whole expression:

    M(leaf) = |leaf|                       M(Σ wᵢ·aᵢ) = Σ |wᵢ|·M(aᵢ)
    M(a·b) = M(a)·M(b)                     M(a / b)  = M(a) / |b|
    M(a^e) = M(a)^e (e ≥ 0), |a|^e (e < 0)  M(f(a))  = |f(a)| (other functions)

(e.g. for ``QC = cmin + share/PH·(Y − TROUT − SAV − EXPROC)``, M = |QC| + |cmin| + |share|/|PH|·(|Y| +
|TROUT| + |SAV| + |EXPROC|)). M has the units of the equation, so the **relative residual**

    r = |F| / M      (0 when F = 0, including M = 0; ∞ when F is not finite)

is unit-free: multiplying every amount of a SAM by 10⁻⁶ or 10⁶ leaves r unchanged, and r is the
size of the equation's error relative to the largest error rounding could make in it (≈ 1e-16·M
per operation), whatever the values. Always r ≤ 1 unless F is not finite: an equation that holds
only by r ≈ 1 does not hold at all.

A variable defined by an equation (``x == rhs`` as declared) counts with the magnitude of its
definition (see `Magnitudes`), so a market-clearing equation is judged against the supply and
demand it balances.

M is computed on the compiled tape of the Pyomo model (`lewie.solvers.tape.CompiledSystem`): the
magnitude plan is derived from the tape once per compiled system (`measure_for`), then evaluated at
any batch of points in one pass, for about the cost of the residual itself.
"""
from __future__ import annotations

import numpy as np

from lewie.solvers.cache import DerivedCache

# ---- tolerances: defined here once, imported everywhere -----------------------------------------
ROUNDING = 64 * np.finfo(float).eps  # ≈ 1.4e-14: relative residuals below this are rounding noise
STOP_TOL = ROUNDING  # Newton stops when every (core) equation's relative residual is ≤ this ...
STALL_TOL = 1e-11  # ... or when no step decreases it any more and it is ≤ this (the rounding level of
#                    equations with long sums): no futile iterations, no futile continuation
SOLUTION_TOL = 1e-8  # every verified solution: every equation's relative residual ≤ this
BASE_TOL = 1e-9  # every calibrated base (the point estimates and every draw's): ≤ this

__all__ = ["STOP_TOL", "STALL_TOL", "SOLUTION_TOL", "BASE_TOL", "ROUNDING", "Magnitudes", "measure_for", "magnitudes",
           "relative", "relative_residuals", "worst", "stopping_scale"]


class Magnitudes:
    """The magnitude plan of a compiled system (module docstring), derived once per system
    (`measure_for`); `evaluate` gives the residual F and the magnitude M of every equation at a
    batch of points.

    A variable that an equation defines as declared (``x == rhs``: a household's surplus from its
    output and consumption, the village's from the households', ...) counts with the magnitude of
    its definition, M(x) = max(|x|, M(rhs)), not only with its own value: the market of a closed
    village, ``VMS = net trade = 0``, balances amounts of hundreds that cancel to 0 and is judged
    against them, not against the rounding left in VMS. Definitions are followed through chains
    (the magnitudes are re-evaluated until they stop growing, at most `MAX_PASSES` times).

    An equation's magnitude is at least ROUNDING × the largest magnitude of the equations of its
    block (one indexed Pyomo constraint: the same units): quantities below the rounding level of
    their block are 0.
    """

    MAX_PASSES = 12
    BLOCK_BYTES = 8 << 20  # tape values of the points evaluated together (evaluate_T)

    def __init__(self, system):
        from pyomo.core.base.var import VarData
        self.system = system
        self._plan = system._residual_plan
        self._abs = {}
        for g in self._plan:
            if g.op == "lin":
                m = g.matrix.copy()
                m.data = np.abs(m.data)
                self._abs[id(g)] = m
        self._leaves = np.r_[np.arange(system.n + system.k), system._c_nodes].astype(np.int64)
        # definitions x == rhs: x a variable alone on the declared left-hand side, a term of the residual
        var_index = {id(v): j for j, v in enumerate(system.variables)}
        eqs, vars_, weights = [], [], []
        for i, con in enumerate(system.constraints):
            args = getattr(con.expr, "args", None)
            if not args or not isinstance(args[0], VarData) or args[0].fixed:
                continue
            j = var_index.get(id(args[0]))
            node = int(system.residual_nodes[i])
            if j is None or system._ops[node] != "lin" or j not in system._args[node]:
                continue
            w = system._weights[node][system._args[node].index(j)]
            eqs.append(node)
            vars_.append(j)
            weights.append(abs(w))
        # equations of one indexed block (one Pyomo constraint component) share their units
        block_of = {}
        self._block = np.array([block_of.setdefault(id(c.parent_component()), len(block_of))
                                for c in system.constraints], dtype=np.int64)
        self._n_blocks = len(block_of)
        self._def_nodes = np.asarray(eqs, dtype=np.int64)
        self._def_vars = np.asarray(vars_, dtype=np.int64)
        self._def_w = np.asarray(weights, dtype=float)[:, None]
        # the defined variables and, for each, its first definition and its further ones (a variable
        # with several definitions keeps the largest; row gathers, not a slow unbuffered `maximum.at`)
        self._defined, self._def_first = np.unique(self._def_vars, return_index=True)
        row = {int(v): r for r, v in enumerate(self._defined)}
        first = set(self._def_first.tolist())
        seen: dict[int, int] = {}
        rounds: list[tuple[list, list]] = []  # round r: the (r+2)-th definition of each variable that has one
        for i in range(self._def_vars.size):
            if i in first:
                continue
            r = seen[int(self._def_vars[i])] = seen.get(int(self._def_vars[i]), -1) + 1
            if r == len(rounds):
                rounds.append(([], []))
            rounds[r][0].append(row[int(self._def_vars[i])])
            rounds[r][1].append(i)
        self._def_extra = [(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)) for a, b in rounds]
        # the equations of each block, contiguous
        self._block_order = np.argsort(self._block, kind="stable")
        if np.array_equal(self._block_order, np.arange(self._block.size)):
            self._block_order = None  # constraints come block by block (as Pyomo declares them)
        self._block_starts = np.flatnonzero(np.r_[True, np.diff(np.sort(self._block)) != 0]) if self._block.size \
            else np.zeros(0, dtype=np.int64)
        # the passes after the first re-evaluate only the magnitudes that depend on those of the
        # defined variables (the others, and every |f(a)| of a function, are as the first pass left
        # them): the same array calls on fewer rows, so the same values
        self._repeat_plan = system.plan(self._after_definitions())
        for g in self._repeat_plan:
            if g.op == "lin":
                m = g.matrix.copy()
                m.data = np.abs(m.data)
                self._abs[id(g)] = m

    def _after_definitions(self) -> np.ndarray:
        """The nodes of the residual plan whose magnitude depends on a defined variable's."""
        s = self.system
        dirty = np.zeros(s.n_nodes, dtype=bool)
        dirty[self._def_vars] = True
        nodes = np.unique(np.concatenate([np.arange(s.n_nodes)[g.out] for g in self._plan])) if self._plan \
            else np.zeros(0, dtype=np.int64)
        for i in nodes:  # node numbers grow with depth: children first
            op, args = s._ops[i], s._args[i]
            if op == "lin" or op == "mul":
                dirty[i] = dirty[list(args)].any()
            elif op in ("div", "pow"):
                dirty[i] = dirty[args[0]]  # M(a / b) = M(a) / |b|, M(a^e) = M(a)^e or |a|^e
        return nodes[dirty[nodes]]

    def _magnitude(self, V: np.ndarray, M: np.ndarray, plan=None, powers: dict | None = None) -> None:
        """One pass of the magnitude plan (or of ``plan``, a part of it) into M. ``powers`` keeps
        |a|^e of each power group (it does not depend on M) from one pass to the next."""
        for g in (self._plan if plan is None else plan):
            out = g.out
            if g.op == "lin":
                M[out] = self._abs[id(g)] @ M
            elif g.op == "mul":
                M[out] = M[g.a] * M[g.b]
            elif g.op == "div":
                M[out] = M[g.a] / np.abs(V[g.b])
            elif g.op == "pow":
                e = V[g.b]
                negative = None if powers is None else powers.get(id(g))
                if negative is None:
                    negative = np.power(np.abs(V[g.a]), e)
                    if powers is not None:
                        powers[id(g)] = negative
                M[out] = np.where(e >= 0, np.power(M[g.a], e), negative)
            else:
                M[out] = np.abs(V[out])

    def evaluate_T(self, XT: np.ndarray, PT: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residuals F and magnitudes M, both (m, B), at points XT (n, B) and parameters PT (k, B).

        Every point's values are its own (no operation mixes points), so the points are evaluated
        in blocks whose tape values stay in the processor's cache (`BLOCK_BYTES`), each block for
        as many passes as its own definitions need."""
        s = self.system
        XT = np.asarray(XT, dtype=float)
        PT = np.asarray(PT, dtype=float)
        B = max(XT.shape[1], PT.shape[1])
        width = max(16, int(self.BLOCK_BYTES // (8 * s.n_nodes)))
        if B <= width:
            return self._evaluate_block(XT, PT)
        XT = np.broadcast_to(XT, (XT.shape[0], B))
        PT = np.broadcast_to(PT, (PT.shape[0], B))
        F = np.empty((s.m, B))
        M = np.empty((s.m, B))
        for lo in range(0, B, width):
            sl = slice(lo, min(B, lo + width))
            F[:, sl], M[:, sl] = self._evaluate_block(XT[:, sl], PT[:, sl])
        return F, M

    def _evaluate_block(self, XT: np.ndarray, PT: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.system
        V = s.run(s.new_values(XT, PT), self._plan)
        M = np.empty_like(V)
        with np.errstate(all="ignore"):
            M[self._leaves] = np.abs(V[self._leaves])
            own = M[self._def_vars]
            defined = self._defined
            powers: dict = {}
            for p in range(self.MAX_PASSES):
                self._magnitude(V, M, None if p == 0 else self._repeat_plan, powers)
                if self._def_nodes.size == 0:
                    break
                # the magnitude of each definition's right-hand side, in the units of its variable:
                # (M(equation) - w·M(x)) / w, in place
                rhs = M[self._def_nodes]
                rhs -= np.multiply(self._def_w, M[self._def_vars])
                rhs /= self._def_w
                np.maximum(rhs, 0.0, out=rhs)
                np.copyto(rhs, 0.0, where=~np.isfinite(rhs))
                np.maximum(own, rhs, out=rhs)
                # a variable with several definitions keeps the largest
                best = rhs[self._def_first]
                for rows, extra in self._def_extra:  # each row at most once per round
                    best[rows] = np.maximum(best[rows], rhs[extra])
                current = M[defined]
                # unchanged: a further pass would compute the same values again (a NaN magnitude,
                # of a NaN quantity, is NaN from the start and stays so)
                grown = best > current
                if not grown.any():
                    break
                M[defined] = np.maximum(current, best)
            Mr = M[s.residual_nodes]
            # an equation whose every quantity is below the rounding level of its block (e.g. the
            # surplus of a factor a household neither has nor uses, 0 = 0 up to 1e-41) is judged
            # against that level: ROUNDING × the largest magnitude of its block
            finite = np.where(np.isfinite(Mr), Mr, 0.0)
            if self._block_order is not None:
                finite = finite[self._block_order]
            top = np.maximum(np.maximum.reduceat(finite, self._block_starts, axis=0), 0.0) if finite.shape[0] \
                else np.zeros((self._n_blocks, Mr.shape[1]))
            # a block whose every quantity is itself rounding dust next to the economy (e.g. transfers
            # out when every transfer rate is 0: 0 = 0 up to 1e-50) is judged against the rounding
            # level of the largest quantity of the whole system
            top = np.maximum(top, ROUNDING * top.max(axis=0, keepdims=True))
            Mr = np.maximum(Mr, ROUNDING * top[self._block])
        return V[s.residual_nodes], Mr

    def evaluate(self, X, P) -> tuple[np.ndarray, np.ndarray]:
        """Residuals F and magnitudes M, both (B, m), at points X (B, n) and parameters P (B, k)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        P = np.atleast_2d(np.asarray(P, dtype=float))
        F, M = self.evaluate_T(X.T, P.T)
        return F.T.copy(), M.T.copy()


MEASURES = DerivedCache("magnitude plan of a compiled system", Magnitudes)


def measure_for(system) -> Magnitudes:
    """The magnitude plan of a compiled system, derived once (`MEASURES` is the cache)."""
    return MEASURES.get(system)


def magnitudes(system, X, P) -> np.ndarray:
    """Magnitude of every equation at each point: (B, m) for X (B, n), P (B, k)."""
    return measure_for(system).evaluate(X, P)[1]


def relative(F: np.ndarray, M: np.ndarray) -> np.ndarray:
    """|F| / M elementwise: 0 where F = 0 (also when M = 0), ∞ where F is not finite."""
    F = np.asarray(F, dtype=float)
    M = np.asarray(M, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(F) / M
    r = np.where(F == 0, 0.0, r)
    return np.where(np.isfinite(r), r, np.inf)


def relative_residuals(system, X, P) -> np.ndarray:
    """Relative residual of every equation at each point: (B, m)."""
    F, M = measure_for(system).evaluate(X, P)
    return relative(F, M)


def worst(rel: np.ndarray, axis: int = -1) -> np.ndarray:
    """The worst relative residual along ``axis`` (∞ if any is not finite)."""
    rel = np.asarray(rel, dtype=float)
    out = np.max(np.where(np.isnan(rel), np.inf, rel), axis=axis, initial=0.0)
    return out


def stopping_scale(M: np.ndarray) -> np.ndarray:
    """Scales for a Newton stopping rule and line search from magnitudes at a start point: M where
    it is positive; an equation whose every term is 0 at the start point is held to the smallest
    positive magnitude of the point's equations (along axis 0, equations first in (m, B) layout), so
    it is driven to 0 without dividing by 0."""
    M = np.asarray(M, dtype=float)
    pos = np.where((M > 0) & np.isfinite(M), M, np.inf)
    floor = pos.min(axis=0, keepdims=True)
    floor = np.where(np.isfinite(floor), floor, 1.0)
    return np.where((M > 0) & np.isfinite(M), M, floor)
