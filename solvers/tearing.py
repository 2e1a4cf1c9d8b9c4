"""The structure of a compiled square system: a small core, and variables the other equations define.

Most LEWIE variables are *explicit*: one equation defines each of them, linearly, from variables
already known (household prices from market prices, factor demands from prices and output, value
added from factor demands, incomes, consumption, surpluses, ...). `partition` finds such a split
automatically from the compiled Pyomo equations (no model knowledge is written here):

* greedy tearing on the incidence graph: an equation with exactly one unknown variable, in which it
  is linear (∂F/∂x does not depend on x, see `CompiledSystem.jac_linear`), defines that variable;
  when none is left, a *core* (tear) variable is chosen: the unknown variable in the most unused
  equations (ties: the one letting most equations define their last unknown); tears made
  redundant by later ones are dropped; the equations never used to define a variable are the core
  equations;
* explicit variables get levels (1 + the highest level among the variables their equation reads;
  core variables are level 0), so J_EE, ordered by level, is triangular with a non-zero diagonal.

For the benchmark economy (5 groups, 8 goods, 4 factors: 353 variables) the core is output per
activity plus local prices and wages. Then:

* `Explicit.evaluate` computes the explicit variables from the core exactly, level by level
  (each defining equation is linear in its variable: x ← x − F/∂F∂x), evaluating only the tape
  nodes each level needs;
* `Explicit.schur` forms the reduced Jacobian S = J_CC − J_CE·J_EE⁻¹·J_EC for a batch, with the
  level-scheduled triangular solve done on the structural pattern of J_EE⁻¹·J_EC only.

det J = det J_EE · det S, so S is singular exactly when the full Jacobian is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lewie.solvers.cache import DerivedCache
from lewie.solvers.tape import CompiledSystem, _LEAVES


@dataclass
class Partition:
    """Core and explicit variables of a square system (indices into its variables / constraints)."""

    core_vars: np.ndarray  # (n_c,)
    core_eqs: np.ndarray  # (n_c,)
    expl_vars: np.ndarray  # (n_e,), by level
    expl_eqs: np.ndarray  # (n_e,): the equation defining each explicit variable
    level: np.ndarray  # (n,) level of every variable: 0 for core, ≥ 1 for explicit

    @property
    def n_core(self) -> int:
        return int(self.core_vars.size)

    @property
    def n_levels(self) -> int:
        return int(self.level.max(initial=0))

    def describe(self, system: CompiledSystem) -> str:
        """Core size and which variable blocks are core, e.g. for a benchmark report."""
        from collections import Counter
        blocks = Counter(system.variables[j].parent_component().name for j in self.core_vars)
        inner = ", ".join(f"{k} {v}" for k, v in blocks.items())
        return (f"{system.n} variables: core {self.n_core} ({inner}), explicit {self.expl_vars.size} "
                f"in {self.n_levels} levels")


def partition(system: CompiledSystem, x: np.ndarray | None = None, p: np.ndarray | None = None) -> Partition:
    """Split the system into core and explicit variables by greedy tearing (see module docstring).

    An equation may define a variable only if

    * the variable is on the equation's left-hand side as declared (``v == f(...)``; any variable
      when the left-hand side names none): the model's own statement of what each equation
      determines. This keeps the explicit chain causal — prices and output → factor demands →
      incomes → consumption → surpluses — instead of, say, running a fixed net trade backwards
      into one household's output, which is a difference of large numbers and turns negative;
    * it is linear in it (∂F/∂x does not depend on x), with a coefficient that is not zero at the
      point (x, p) (default: the model's current values, e.g. the calibrated base): a term that
      vanishes there (say a zero minimum consumption times a price) cannot define anything.
    """
    n, m = system.n, system.m
    x = system.get_x() if x is None else np.asarray(x, dtype=float)
    p = system.get_p() if p is None else np.asarray(p, dtype=float)
    jv = system.jacobian_values(x, p)[0]
    rows, cols = system.jac_rows, system.jac_cols
    usable = system.jac_linear & np.isfinite(jv) & (jv != 0.0) & system.jac_on_lhs
    vars_of = [[] for _ in range(m)]
    eqs_of = [[] for _ in range(n)]
    can_define = {}
    for r, c, ok in zip(rows.tolist(), cols.tolist(), usable.tolist()):
        vars_of[r].append(c)
        eqs_of[c].append(r)
        can_define[r, c] = ok

    def propagate(tears, *, choose: bool):
        """Define what the equations can, from the tear variables. With ``choose``, tear another
        variable whenever nothing more can be defined, until everything is known; without, give
        up (return None) instead."""
        tears = list(tears)
        known = np.zeros(n, dtype=bool)
        used = np.zeros(m, dtype=bool)
        unknown = np.array([len(v) for v in vars_of], dtype=np.int64)
        level = np.zeros(n, dtype=np.int64)
        defined_by = np.full(n, -1, dtype=np.int64)
        queue = [i for i in range(m) if unknown[i] == 1]

        def mark_known(j):
            known[j] = True
            for i in eqs_of[j]:
                unknown[i] -= 1
                if unknown[i] == 1 and not used[i]:
                    queue.append(i)

        for t in tears:
            mark_known(t)
        while True:
            while queue:
                i = queue.pop()
                if used[i] or unknown[i] != 1:
                    continue
                j = next(v for v in vars_of[i] if not known[v])
                if not can_define[i, j]:
                    continue  # j is left to another equation or to the core
                used[i] = True
                defined_by[j] = i
                level[j] = 1 + max((level[v] for v in vars_of[i] if v != j), default=0)
                mark_known(j)
            if known.all():
                return tears, used, level, defined_by
            if not choose:
                return None
            # tear the unknown variable in the most equations still unused (a price or an output:
            # everything downstream of it becomes explicit), then the one letting most equations
            # define their last unknown (the first such variable on ties)
            best = _best_tear(graph, known, used, unknown)
            tears.append(best)
            mark_known(best)

    graph = _Graph(rows, cols, usable, n, m)
    tears, used, level, defined_by = propagate([], choose=True)
    # drop tears the others make unnecessary (greedy choices made early can be redundant). Whether
    # the others determine everything depends only on the set of tears (`_Graph.determines`, array
    # code); the partition is then built once from the final set, by the same propagation as before.
    dropped = False
    for t in list(reversed(tears)):
        rest = [v for v in tears if v != t]
        if graph.determines(rest, t):
            tears, dropped = rest, True
    if dropped:
        tears, used, level, defined_by = propagate(tears, choose=False)
    core_eqs = np.flatnonzero(~used)
    expl = np.flatnonzero(defined_by >= 0)
    expl = expl[np.lexsort((expl, level[expl]))]
    if core_eqs.size != len(tears):  # cannot happen for a square system; guard the invariant
        raise RuntimeError(f"partition: {core_eqs.size} core equations for {len(tears)} core variables")
    level[tears] = 0
    return Partition(np.array(sorted(tears), dtype=np.int64), core_eqs, expl, defined_by[expl], level)


class _Graph:
    """The equation × variable incidence of a system as sparse matrices, for array-code closures.

    ``A[i, j]`` counts variable j in equation i; ``Dm[i, j]`` is 1 where equation i can define
    variable j (`partition`'s rules).
    """

    def __init__(self, rows, cols, usable, n, m):
        ones = np.ones(len(rows))
        self.n, self.m = n, m
        self.A = sp.csr_matrix((ones, (rows, cols)), shape=(m, n))
        self.AT = self.A.T.tocsr()
        self.Dm = sp.csr_matrix((np.asarray(usable, dtype=float), (rows, cols)), shape=(m, n))
        self.Dm.eliminate_zeros()
        self.ids = np.arange(1, n + 1, dtype=float)

    def determines(self, tears, target: int) -> bool:
        """Whether the variables ``tears`` determine every variable: the closure of the rule "an
        equation whose only unknown it can define defines it" reaches ``target``. (The closure does
        not depend on the order in which equations fire, so it is computed in rounds: every
        equation with one unknown that it can define fires at once.) Called with a set of tears from
        which everything was determined plus ``target``, reaching ``target`` means reaching all."""
        known = np.zeros(self.n, dtype=bool)
        known[list(tears)] = True
        while not known[target]:
            unk = (~known).astype(float)
            count = self.A @ unk
            fire = (count == 1) & (self.Dm @ unk == 1)
            if not fire.any():
                return False
            j = (self.A @ (unk * self.ids))[fire].astype(np.int64) - 1  # each firing equation's unknown
            known[j] = True
        return True


def _best_tear(graph: _Graph, known, used, unknown) -> int:
    """The unknown variable in the most unused equations; ties: the one letting most unused equations
    with two unknowns define the other one; then the lowest index (`partition`)."""
    unused = (~used).astype(float)
    degree = graph.AT @ unused  # per variable: unused equations containing it
    unk = (~known).astype(float)
    two = (~used) & (unknown == 2)
    enabled = np.zeros(graph.n)
    if two.any():
        # in an unused equation with two unknowns j and v, j enables it if the equation can define v
        A2 = graph.A[two].multiply(unk[None, :]).tocsr()  # the two unknowns of each such equation
        D2 = graph.Dm[two].multiply(unk[None, :]).tocsr()
        defines_other = (D2 @ np.ones(graph.n))[:, None]  # unknowns it can define (0, 1 or 2)
        # for unknown j of equation e: can e define the other unknown? = D2 count minus D2[e, j]
        A2 = A2.tocoo()
        d_self = np.asarray(D2[A2.row, A2.col]).ravel()
        other = defines_other[A2.row, 0] - d_self > 0
        np.add.at(enabled, A2.col[other], 1.0)
    cand = np.flatnonzero(~known)
    order = np.lexsort((cand, -enabled[cand], -degree[cand]))
    return int(cand[order[0]])


@dataclass
class _Level:
    """What evaluating one level of explicit variables needs."""

    vars: np.ndarray  # explicit variables defined at this level
    res_nodes: np.ndarray  # residual node of each defining equation
    diag_nodes: np.ndarray  # ∂F/∂x node of each (equation, its variable)
    final_plan: list  # nodes whose inputs became final at the previous level (evaluated once)
    temp_plan: list  # nodes reading this level's variables, evaluated with their old values


@dataclass
class Explicit:
    """Evaluation of explicit variables from the core, and the reduced (Schur) Jacobian, batched.

    All arrays here have the batch on the last axis: X (n, B), P (k, B), tape values V (n_nodes, B).
    """

    system: CompiledSystem
    part: Partition
    levels: list[_Level] = field(default_factory=list)
    core_plan: list = field(default_factory=list)  # nodes of the core residuals, after the last level
    # Schur complement maps
    _schur: dict = field(default_factory=dict)

    @classmethod
    def build(cls, system: CompiledSystem, part: Partition | None = None) -> "Explicit":
        part = part if part is not None else partition(system)
        self = cls(system, part)
        self._build_levels()
        self._build_schur()
        return self

    # ----- explicit evaluation ------------------------------------------------------------------
    def _build_levels(self) -> None:
        s, part = self.system, self.part
        nn = s.n_nodes
        # level of each node: the highest level of the variables it reads (-1: parameters only)
        lam = np.full(nn, -1, dtype=np.int64)
        for i, op in enumerate(s._ops):
            if op == "x":
                lam[i] = part.level[s._args[i][0]]
            elif op not in _LEAVES:
                lam[i] = max(lam[j] for j in s._args[i])
        diag = {(int(r), int(c)): k for k, (r, c) in enumerate(zip(s.jac_rows, s.jac_cols))}
        L = part.n_levels
        needs = []  # nodes each level reads (closure)
        per_level = []
        for ell in range(1, L + 1):
            sel = part.level[part.expl_vars] == ell
            vars_ = part.expl_vars[sel]
            eqs = part.expl_eqs[sel]
            res = s.residual_nodes[eqs]
            dn = s.jac_nodes[[diag[int(i), int(j)] for i, j in zip(eqs, vars_)]]
            per_level.append((vars_, res, dn))
            needs.append(s.closure(np.concatenate([res, dn])))
        core_needs = s.closure(s.residual_nodes[part.core_eqs])
        # a node of level λ is final once level λ is done: evaluate it at the start of level λ+1
        # (or after the last level) if anything later needs it
        final_at: dict[int, set] = {ell: set() for ell in range(1, L + 2)}
        for ell, nodes in enumerate(needs, start=1):
            for i in nodes[lam[nodes] < ell]:
                final_at[max(int(lam[i]), 0) + 1].add(int(i))
        for i in core_needs:
            final_at[max(int(lam[i]), 0) + 1].add(int(i))
        for ell, (vars_, res, dn) in enumerate(per_level, start=1):
            temp = needs[ell - 1][lam[needs[ell - 1]] == ell]
            self.levels.append(_Level(vars_, res, dn, s.plan(sorted(final_at[ell])), s.plan(temp)))
        self.core_plan = s.plan(sorted(final_at[L + 1]))

    def evaluate(self, XT: np.ndarray, PT: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fill the explicit rows of XT (n, B) in place from its core rows; return (G, V).

        G (n_c, B) are the core residuals at the completed point, V the tape values (residual
        nodes valid). Members whose explicit values are not finite have non-finite G.
        """
        s = self.system
        XT[self.part.expl_vars] = 0.0  # defining equations are linear: solve them from 0, exactly
        V = s.new_values(XT, PT)
        for lev, new in self._explicit_levels(V):
            XT[lev.vars] = new
        s.run(V, self.core_plan)
        G = V[s.residual_nodes[self.part.core_eqs]]
        return G, V

    def first_nonfinite(self, XT: np.ndarray, PT: np.ndarray, b: int) -> tuple[int, int, float] | None:
        """(equation, variable, coefficient) of the first explicit definition that is not finite for
        member b: the equation cannot be solved for its variable there."""
        x = XT[:, b:b + 1].copy()
        x[self.part.expl_vars] = 0.0
        p = PT[:, b:b + 1]
        V = self.system.new_values(x, p)
        for lev, new in self._explicit_levels(V):
            bad = ~np.isfinite(new[:, 0])
            if bad.any():
                t = int(np.flatnonzero(bad)[0])
                j = int(lev.vars[t])
                i = int(self.part.expl_eqs[np.flatnonzero(self.part.expl_vars == j)[0]])
                return i, j, float(V[lev.diag_nodes[t], 0])
        return None

    def _explicit_levels(self, V: np.ndarray):
        """Solve the explicit variables level by level in the tape values V: yields each level and its
        variables' new values, which are written into V when the caller asks for the next level."""
        s = self.system
        for lev in self.levels:
            s.run(V, lev.final_plan)
            s.run(V, lev.temp_plan)
            with np.errstate(all="ignore"):
                new = V[lev.vars] - V[lev.res_nodes] / V[lev.diag_nodes]
            yield lev, new
            V[lev.vars] = new

    # ----- reduced Jacobian -----------------------------------------------------------------------
    def _build_schur(self) -> None:
        """Index maps for S = J_CC − J_CE·W, W = J_EE⁻¹·J_EC, on the structural pattern of W."""
        s, part = self.system, self.part
        ne_, nc = part.expl_vars.size, part.n_core
        epos = np.full(s.n, -1, dtype=np.int64)
        epos[part.expl_vars] = np.arange(ne_)
        cpos = np.full(s.n, -1, dtype=np.int64)
        cpos[part.core_vars] = np.arange(nc)
        eq_e = np.full(s.m, -1, dtype=np.int64)
        eq_e[part.expl_eqs] = np.arange(ne_)  # row position of an explicit equation = its variable's
        eq_c = np.full(s.m, -1, dtype=np.int64)
        eq_c[part.core_eqs] = np.arange(nc)
        rows, cols = s.jac_rows, s.jac_cols
        # W row r (explicit variable epos r, defined by equation expl_eqs[r]):
        #   W[r, :] = (J_EC[r, :] − Σ_j J_EE[r, j]·W[j, :]) / J_EE[r, r]
        pattern: list[dict[int, int]] = [dict() for _ in range(ne_)]  # W row -> {core col: W entry id}
        n_w = 0
        terms_t, terms_k, terms_s = [], [], []  # W[t] += −J[k]·W[s]
        direct_t, direct_k = [], []  # W[t] += J[k]
        diag_k = np.full(ne_, -1, dtype=np.int64)
        entries_of_row: list[list[int]] = [[] for _ in range(s.m)]
        for k, r in enumerate(rows.tolist()):
            entries_of_row[r].append(k)
        order = np.argsort(part.level[part.expl_vars], kind="stable")
        for r in order:
            i = part.expl_eqs[r]
            for k in entries_of_row[i]:
                j = int(cols[k])
                if epos[j] == r:
                    diag_k[r] = k
                elif cpos[j] >= 0:
                    c = int(cpos[j])
                    if c not in pattern[r]:
                        pattern[r][c] = n_w
                        n_w += 1
                    direct_t.append(pattern[r][c])
                    direct_k.append(k)
                else:
                    src = int(epos[j])
                    for c, w in pattern[src].items():
                        if c not in pattern[r]:
                            pattern[r][c] = n_w
                            n_w += 1
                        terms_t.append(pattern[r][c])
                        terms_k.append(k)
                        terms_s.append(w)
        # W entries are created row by row in level order, so each level's targets are contiguous
        w_row = np.empty(n_w, dtype=np.int64)
        for r in range(ne_):
            for w in pattern[r].values():
                w_row[w] = r
        lev_of_w = part.level[part.expl_vars[w_row]]
        terms_t, terms_k, terms_s = map(np.asarray, (terms_t, terms_k, terms_s))
        direct_t, direct_k = np.asarray(direct_t, dtype=np.int64), np.asarray(direct_k, dtype=np.int64)
        steps = []
        for ell in range(1, part.n_levels + 1):
            targets = np.flatnonzero(lev_of_w == ell)
            if targets.size == 0:
                continue
            lo, hi = int(targets[0]), int(targets[-1]) + 1
            assert hi - lo == targets.size
            sel_d = (direct_t >= lo) & (direct_t < hi)
            sel_t = (terms_t >= lo) & (terms_t < hi) if terms_t.size else np.zeros(0, dtype=bool)
            # one sparse matrix sums direct J entries and −J·W products into the targets
            nd, nt = int(sel_d.sum()), int(sel_t.sum())
            A = sp.csr_matrix((np.concatenate([np.ones(nd), -np.ones(nt)]),
                               (np.concatenate([direct_t[sel_d], terms_t[sel_t]]) - lo, np.arange(nd + nt))),
                              shape=(hi - lo, nd + nt))
            steps.append((lo, hi, direct_k[sel_d], terms_k[sel_t] if nt else np.zeros(0, np.int64),
                          terms_s[sel_t] if nt else np.zeros(0, np.int64), A, diag_k[w_row[lo:hi]]))
        # S[a, c] = J_CC[a, c] − Σ_e J_CE[a, e]·W[e, c]
        s_dir_t, s_dir_k, s_t, s_k, s_s = [], [], [], [], []
        for a, i in enumerate(part.core_eqs):
            for k in entries_of_row[i]:
                j = int(cols[k])
                if cpos[j] >= 0:
                    s_dir_t.append(a * nc + int(cpos[j]))
                    s_dir_k.append(k)
                else:
                    for c, w in pattern[int(epos[j])].items():
                        s_t.append(a * nc + c)
                        s_k.append(k)
                        s_s.append(w)
        nd, nt = len(s_dir_t), len(s_t)
        S_sum = sp.csr_matrix((np.concatenate([np.ones(nd), -np.ones(nt)]),
                               (np.asarray(s_dir_t + s_t, dtype=np.int64), np.arange(nd + nt))),
                              shape=(nc * nc, nd + nt))
        self._schur = dict(n_w=n_w, steps=steps, s_dir_k=np.asarray(s_dir_k, dtype=np.int64),
                           s_k=np.asarray(s_k, dtype=np.int64), s_s=np.asarray(s_s, dtype=np.int64), S_sum=S_sum,
                           products=int(terms_t.size + nt))

    def schur(self, JT: np.ndarray) -> np.ndarray:
        """Reduced Jacobians S (B, n_c, n_c) from Jacobian values JT (nnz, B) at points where the
        explicit equations hold (there the reduced Newton step is the full one)."""
        d = self._schur
        B = JT.shape[1]
        W = np.empty((d["n_w"], B))
        with np.errstate(all="ignore"):
            for lo, hi, dk, tk, ts, A, diag in d["steps"]:
                stacked = np.concatenate([JT[dk], JT[tk] * W[ts]]) if tk.size else JT[dk]
                W[lo:hi] = (A @ stacked) / JT[diag]
            stacked = np.concatenate([JT[d["s_dir_k"]], JT[d["s_k"]] * W[d["s_s"]]])
            S = d["S_sum"] @ stacked
        nc = self.part.n_core
        return np.ascontiguousarray(S.T).reshape(B, nc, nc)


EXPLICIT = DerivedCache("core/explicit split of a compiled system", lambda system: Explicit.build(system))


def explicit_for(system: CompiledSystem) -> Explicit:
    """The core/explicit split of a compiled system, computed once (at the model's values when first
    asked for, e.g. the calibrated base; `EXPLICIT` is the cache)."""
    return EXPLICIT.get(system)
