"""Balancing a SAM: rescale its cells so that every account's receipts equal its payments.

Two methods, both pure functions that keep the labels and their order:

`ras`
    Biproportional (RAS) scaling, generalised to negative cells (GRAS, Junius & Oosterhaven
    2003).  Without targets the row and column multipliers of an account are reciprocal, which
    balances the SAM without fixing any account total in advance; with targets it is classic
    GRAS to given row and column totals.
`cross_entropy`
    Cross-entropy estimation in the style of Robinson, Cattaneo & El-Said (2001): minimise the
    Kullback-Leibler divergence of the column coefficients from the prior's, subject to
    row total = column total, optionally with fixed cells and fixed account totals.

Both return a `BalanceResult`.  Zero cells stay zero and every cell keeps its sign.

Notation used in the docstrings: ``A`` is the prior (unbalanced) SAM, ``X`` the balanced one,
``x_ij`` the payment from account ``j`` (column) to account ``i`` (row); ``P`` and ``N`` are the
positive and negative parts of ``A`` (``A = P - N``, both non-negative).  An account's gap is
``sum_j x_ij - sum_j x_ji`` (receipts minus payments); its relative gap divides by its gross
flow ``max(sum_j |x_ij|, sum_j |x_ji|)``.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from lewie.errors import SAMError, did_you_mean

__all__ = ["BalanceResult", "ras", "cross_entropy"]

_EXP_MAX = 700.0  # exp() of more than this overflows a float


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------

@dataclass
class BalanceResult:
    """Outcome of a balancing method.

    Attributes
    ----------
    sam : pandas.DataFrame
        The balanced SAM, same labels and order as the input.
    before : pandas.DataFrame
        The input SAM (the prior).
    method : str
        ``"ras"``, ``"gras-targets"`` or ``"cross-entropy"``.
    iterations : int
        Newton iterations used (for cross-entropy: feasibility phase plus optimality phase).
    converged : bool
        Whether the method met its tolerance.
    max_gap : float
        Largest relative gap ``|receipts - payments| / gross flow`` over the accounts of
        ``sam`` (for RAS to unequal targets: largest relative miss of a target).
    objective : float
        The minimised quantity: information loss ``sum |x| ln(|x|/|a|) - |x| + |a|`` for RAS,
        KL divergence of the column coefficients for cross-entropy.
    """

    sam: pd.DataFrame
    before: pd.DataFrame
    method: str
    iterations: int
    converged: bool
    max_gap: float
    objective: float = float("nan")
    notes: list[str] = field(default_factory=list)

    def report(self, *, rtol: float = 1e-12) -> pd.DataFrame:
        """Changed cells: ``row, column, before, after, change, pct``, largest ``|change|`` first.

        ``pct = 100 * change / |before|``.  A cell counts as changed when
        ``|change| > rtol * max(1, |before|)``.
        """
        before = self.before.loc[self.sam.index, self.sam.columns]
        b = before.to_numpy(float)
        a = self.sam.to_numpy(float)
        ch = a - b
        mask = np.abs(ch) > rtol * np.maximum(1.0, np.abs(b))
        i, j = np.nonzero(mask)
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(b[i, j] != 0, 100.0 * ch[i, j] / np.abs(b[i, j]), np.nan)
        out = pd.DataFrame({
            "row": self.sam.index[i].astype(str), "column": self.sam.columns[j].astype(str),
            "before": b[i, j], "after": a[i, j], "change": ch[i, j], "pct": pct,
        })
        order = np.argsort(-np.abs(out["change"].to_numpy()), kind="stable")
        return out.iloc[order].reset_index(drop=True)

    def totals(self) -> pd.DataFrame:
        """Per account: receipts and payments before, the balanced total after, and its change."""
        b, a = self.before, self.sam
        out = pd.DataFrame({"receipts_before": b.sum(axis=1), "payments_before": b.sum(axis=0),
                            "total_after": a.sum(axis=1)})
        out["change"] = out["total_after"] - (out["receipts_before"] + out["payments_before"]) / 2
        return out

    def summary(self, top: int = 5) -> str:
        """Plain-text summary: convergence, size of the changes and the largest changed cells."""
        state = (f"converged in {self.iterations} iterations" if self.converged
                 else f"DID NOT CONVERGE after {self.iterations} iterations")
        lines = [f"{self.method}: {state}; largest remaining relative gap {self.max_gap:.2e}"]
        rep = self.report()
        nonzero = int((self.before.to_numpy() != 0).sum())
        gross = float(np.abs(self.before.to_numpy()).sum())
        moved = float(rep["change"].abs().sum()) if len(rep) else 0.0
        share = 100.0 * moved / gross if gross else 0.0
        lines.append(f"{len(rep)} of {nonzero} nonzero cells changed; total absolute change "
                     f"{moved:,.6g} ({share:.3g}% of the SAM's gross total {gross:,.6g})")
        if len(rep):
            lines.append("largest changes:")
            for row in rep.head(top).itertuples(index=False):
                lines.append(f"  {row.row} <- {row.column}: {row.before:,.6g} -> {row.after:,.6g} "
                             f"({row.change:+,.6g}, {row.pct:+.3g}%)")
            tot = self.totals()
            k = tot["change"].abs().to_numpy().argmax()
            t = tot.iloc[k]
            lines.append(f"largest change of an account total: {tot.index[k]} "
                         f"(receipts {t.receipts_before:,.6g}, payments {t.payments_before:,.6g} "
                         f"-> {t.total_after:,.6g})")
        lines.extend(self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------

def _prepare(sam: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Labels (row order) and values with columns in row order; SAMError if not a usable SAM."""
    if not isinstance(sam, pd.DataFrame):
        raise SAMError(f"a SAM must be a pandas DataFrame, not {type(sam).__name__}")
    rows = list(sam.index)
    cols = list(sam.columns)
    if len(set(rows)) != len(rows) or len(set(cols)) != len(cols):
        raise SAMError("SAM has duplicate account labels; run check_sam for details")
    if set(rows) != set(cols):
        raise SAMError("SAM is not square: rows and columns name different accounts; "
                       "run check_sam for details")
    try:
        values = sam.loc[rows, rows].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise SAMError(f"SAM has cells that are not numbers ({exc}); run check_sam") from None
    if not np.isfinite(values).all():
        i, j = np.argwhere(~np.isfinite(values))[0]
        raise SAMError(f"cannot balance a SAM with missing or infinite cells, e.g. row "
                       f"'{rows[i]}', column '{rows[j]}'; run check_sam for all of them",
                       label=f"{rows[i]}/{rows[j]}")
    return rows, values


def _frame(values: np.ndarray, labels: list, like: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(values, index=like.index, columns=pd.Index(labels, name=like.columns.name))
    return out.loc[:, list(like.columns)]


def _relative_gaps(x: np.ndarray) -> np.ndarray:
    """|receipts - payments| / max(gross receipts, gross payments), 0 for an empty account."""
    gap = np.abs(x.sum(axis=1) - x.sum(axis=0))
    gross = np.maximum(np.abs(x).sum(axis=1), np.abs(x).sum(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gross > 0, gap / np.where(gross > 0, gross, 1.0), np.where(gap > 0, np.inf, 0.0))


def _check_circuits(values: np.ndarray, labels: list[str]) -> None:
    """Raise SAMError when some cell lies on no circuit of payments.

    Rescaling ``x_ij -> x_ij r_i / r_j`` (negatives ``x_ij r_j / r_i``) can balance a SAM only
    if every nonzero off-diagonal cell joins two accounts of the same strongly connected
    component of the payment graph (edge ``j -> i`` for a positive payment from ``j`` to ``i``,
    ``i -> j`` for a negative one).  The same condition is needed for any balanced SAM with
    the same zero pattern and signs, so it applies to cross-entropy as well.
    """
    n = len(labels)
    i, j = np.nonzero(values)
    off = i != j
    i, j = i[off], j[off]
    if not len(i):
        return
    neg = values[i, j] < 0
    src = np.where(neg, i, j)
    dst = np.where(neg, j, i)
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    _, comp = connected_components(graph, directed=True, connection="strong")
    bad = comp[src] != comp[dst]
    if not bad.any():
        return
    cells = sorted(zip(i[bad], j[bad]), key=lambda c: -abs(values[c]))
    shown = "; ".join(f"row '{labels[r]}', column '{labels[c]}' = {values[r, c]:,.6g}"
                      for r, c in cells[:5])
    more = f" and {len(cells) - 5} more" if len(cells) > 5 else ""
    raise SAMError(f"cannot balance by rescaling: {len(cells)} cell(s) lie on no circuit of "
                   f"payments, so the accounts they join can never have receipts equal to "
                   f"payments while these cells stay nonzero: {shown}{more}. Typically an "
                   "account pays but never receives (or receives but never pays); add the "
                   "missing flows or remove these cells",
                   label=f"{labels[cells[0][0]]}/{labels[cells[0][1]]}")


def _entropy_fit(w: np.ndarray, e: np.ndarray, d: np.ndarray, *, tol: float,
                 max_iter: int) -> tuple[np.ndarray, int, bool, float]:
    """Minimum-information fit: min_u sum_k w_k (u_k ln u_k - u_k + 1)  s.t.  E diag(w) u = d.

    ``w > 0`` are prior magnitudes, ``u`` the multipliers (``u = 1`` is the prior).  The
    minimiser has ``u_k = exp(-(E^T nu)_k)``; the concave dual
    ``g(nu) = -sum_k w_k (u_k - 1) - d^T nu`` is maximised by Newton's method with step
    ``(E W U E^T)^-1 (E W u - d)`` and backtracking.  Redundant constraints are dropped first.
    Convergence: every constraint residual ``<= tol * (sum_k |E_ek| w_k u_k + |d_e|)``.

    Returns ``(u, iterations, converged, largest relative residual)``.
    """
    m, k = e.shape
    if k == 0:
        bad = np.abs(d) > 0
        return np.ones(0), 0, not bad.any(), float(bad.any()) * np.inf
    if m:
        _, r, piv = linalg.qr(e.T, mode="economic", pivoting=True)
        diag = np.abs(np.diag(r))
        rank = int((diag > 1e-10 * diag.max()).sum()) if diag.size and diag.max() > 0 else 0
        keep = np.sort(piv[:rank])
    else:
        keep = np.zeros(0, int)
    ek, dk = e[keep], d[keep]
    g_full = e * w

    def dual(nu):
        z = -(ek.T @ nu) if len(nu) else np.zeros(k)
        if z.max(initial=-np.inf) > _EXP_MAX:
            return None, -np.inf
        u = np.exp(z)
        return u, -float((w * (u - 1.0)).sum()) - float(dk @ nu)

    nu = np.zeros(len(keep))
    u, g = dual(nu)
    it = 0
    while True:
        res = g_full @ u - d
        scale = np.abs(g_full) @ u + np.abs(d)
        rel = np.where(scale > 0, np.abs(res) / np.where(scale > 0, scale, 1.0),
                       np.where(res != 0, np.inf, 0.0))
        worst = float(rel.max(initial=0.0))
        if worst <= tol or it >= max_iter or not len(keep):
            return u, it, worst <= tol, worst
        rk = res[keep]
        hess = (ek * (w * u)) @ ek.T
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", linalg.LinAlgWarning)
                step = linalg.solve(hess, rk, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            step = linalg.lstsq(hess, rk)[0]
        slope = float(rk @ step)
        alpha = 1.0
        tiny = slope <= 1e-12 * float(w @ u)  # gain below what values of g resolve
        for _ in range(60):
            u_new, g_new = dual(nu + alpha * step)
            if u_new is not None and (tiny or g_new >= g + 1e-4 * alpha * slope):
                break
            alpha /= 2
        else:
            return u, it, worst <= tol, worst  # no progress possible (rounding or infeasible)
        it += 1
        if u_new is not None and np.array_equal(u_new, u):
            return u, it, worst <= tol, worst
        nu, u, g = nu + alpha * step, u_new, g_new


def _targets(targets, labels: list[str], what: str) -> np.ndarray:
    """Target totals as a vector in label order, from a mapping/Series or a sequence."""
    if isinstance(targets, Mapping | pd.Series):
        given = {str(k): v for k, v in dict(targets).items()}
        unknown = [k for k in given if k not in labels]
        if unknown:
            raise SAMError(f"unknown account '{unknown[0]}'"
                           f"{did_you_mean(unknown[0], labels)}", field=what, label=unknown[0])
        missing = [a for a in labels if a not in given]
        if missing:
            raise SAMError(f"no target for {len(missing)} account(s): "
                           f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}",
                           field=what, label=missing[0])
        out = np.array([float(given[a]) for a in labels])
    else:
        out = np.asarray(list(targets), dtype=float)
        if out.shape != (len(labels),):
            raise SAMError(f"expected {len(labels)} targets (one per account), "
                           f"got {out.size}", field=what)
    if not np.isfinite(out).all():
        raise SAMError("targets must be finite numbers", field=what)
    return out


# --------------------------------------------------------------------------------------------
# RAS
# --------------------------------------------------------------------------------------------

def ras(sam: pd.DataFrame, *, row_targets=None, col_targets=None, tol: float = 1e-12,
        max_iter: int = 10_000) -> BalanceResult:
    """Balance a SAM by biproportional (RAS) scaling, negatives handled as in GRAS.

    Every cell is rescaled by a row multiplier ``r_i`` and a column multiplier ``s_j``;
    negative cells are rescaled inversely (Junius & Oosterhaven 2003, GRAS)::

        x_ij = r_i p_ij s_j  -  n_ij / (r_i s_j)         (A = P - N)

    so zeros stay zero and signs are kept.  The multipliers are those of the RAS fixed point,
    which is the unique minimiser of the information loss (Bacharach 1970; Junius &
    Oosterhaven for GRAS)::

        min  sum_ij |x_ij| ln(|x_ij| / |a_ij|) - |x_ij| + |a_ij|

    under the total constraints below.  It is found by Newton's method on the dual (the same
    fixed point as alternating row/column scaling, reached in a handful of iterations, to
    machine precision).

    Parameters
    ----------
    sam : pandas.DataFrame
        Square SAM (``check_sam`` shape).
    row_targets, col_targets : mapping account -> total, pandas Series, or sequence in row order
        Targets for the row totals ``sum_j x_ij`` and column totals ``sum_i x_ij``.  If only
        one is given the other equals it (so the result is balanced at those totals).  Their
        sums must agree.
    tol : float
        Relative tolerance of every constraint (gap over gross flow of the account).
    max_iter : int
        Newton iteration cap.

    Without targets (the default) the SAM is balanced *without fixing totals*: the column
    multiplier of an account is the reciprocal of its row multiplier, times one common factor
    ``c`` that keeps the SAM's gross total ``sum |x_ij|``::

        x_ij = c (p_ij r_i / r_j  -  n_ij r_j / r_i),    receipts_i = payments_i for all i

    (for ``N = 0`` this is ``X = c D A D^-1``).  Fixing each account's total in advance, e.g. at
    the average of its row and column totals, is *not* used: it is infeasible whenever the
    zero pattern ties totals together -- in a lewie SAM each activity sells only to its own
    commodity and a commodity column pays only its activities, so ``total(com:g)`` must equal
    the sum of ``total(act:g:h)``, which averages do not satisfy.  A balanced SAM is returned
    unchanged, and scaling the input by ``k > 0`` scales the result by ``k``.

    Returns
    -------
    BalanceResult
        ``method`` is ``"ras"`` (no targets) or ``"gras-targets"``.

    Raises
    ------
    SAMError
        If the SAM is not square, has missing cells, cannot be balanced by rescaling (a cell on
        no circuit of payments), or targets are unknown, incomplete or inconsistent.
    """
    labels, a = _prepare(sam)
    n = len(labels)
    ri, ci = np.nonzero(a)
    w = np.abs(a[ri, ci])
    sgn = np.sign(a[ri, ci])
    k = len(ri)
    cols = np.arange(k)
    notes: list[str] = []
    if row_targets is None and col_targets is None:
        method = "ras"
        _check_circuits(a, labels)
        e = np.zeros((n + 1, k))
        np.add.at(e, (ri, cols), sgn)
        np.add.at(e, (ci, cols), -sgn)
        e[n] = 1.0
        d = np.zeros(n + 1)
        d[n] = w.sum()
    else:
        method = "gras-targets"
        rt = _targets(row_targets if row_targets is not None else col_targets, labels, "row_targets")
        ct = _targets(col_targets if col_targets is not None else row_targets, labels, "col_targets")
        scale = max(np.abs(rt).sum(), np.abs(ct).sum(), 1.0)
        if abs(rt.sum() - ct.sum()) > 1e-9 * scale:
            raise SAMError(f"row targets sum to {rt.sum():,.10g} but column targets to "
                           f"{ct.sum():,.10g}; they must agree", field="row_targets")
        for vec, where, idx in ((rt, "row", ri), (ct, "column", ci)):
            empty = np.bincount(idx, minlength=n) == 0
            bad = np.nonzero(empty & (vec != 0))[0]
            if len(bad):
                raise SAMError(f"account '{labels[bad[0]]}' has an empty {where} but a {where} "
                               f"target of {vec[bad[0]]:,.6g}; RAS keeps zeros zero",
                               field=f"{where}_targets", label=labels[bad[0]])
        e = np.zeros((2 * n, k))
        np.add.at(e, (ri, cols), sgn)
        np.add.at(e, (n + ci, cols), sgn)
        d = np.concatenate([rt, ct])
    u, it, conv, worst = _entropy_fit(w, e, d, tol=tol, max_iter=max_iter)
    x = np.zeros_like(a)
    x[ri, ci] = sgn * w * u
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = float(np.sum(w * (u * np.log(u) - u + 1.0)))
    gaps = _relative_gaps(x)
    max_gap = worst if method == "gras-targets" else float(gaps.max(initial=0.0))
    if not conv:
        notes.append("the targets could not be met with this zero pattern and these signs"
                     if method == "gras-targets" else "rescaling did not reach the tolerance")
    return BalanceResult(_frame(x, labels, sam), sam.copy(), method, it, conv, max_gap, loss, notes)


# --------------------------------------------------------------------------------------------
# cross-entropy
# --------------------------------------------------------------------------------------------

def _fixed_cells(fixed_cells, labels: list[str]) -> list[tuple[int, int]]:
    out = []
    for item in fixed_cells or ():
        try:
            r, c = item
        except (TypeError, ValueError):
            raise SAMError(f"fixed cell {item!r} should be a (row, column) pair",
                           field="fixed_cells") from None
        for lab in (str(r), str(c)):
            if lab not in labels:
                raise SAMError(f"fixed cell ({r}, {c}): unknown account '{lab}'"
                               f"{did_you_mean(lab, labels)}", field="fixed_cells", label=lab)
        out.append((labels.index(str(r)), labels.index(str(c))))
    return out


def _fixed_totals(fixed_totals, labels: list[str]) -> dict[int, float]:
    out = {}
    for lab, val in dict(fixed_totals or {}).items():
        lab = str(lab)
        if lab not in labels:
            raise SAMError(f"fixed total: unknown account '{lab}'{did_you_mean(lab, labels)}",
                           field="fixed_totals", label=lab)
        try:
            v = float(val)
        except (TypeError, ValueError):
            raise SAMError(f"fixed total of '{lab}' is not a number: {val!r}",
                           field="fixed_totals", label=lab) from None
        if not np.isfinite(v):
            raise SAMError(f"fixed total of '{lab}' is not finite", field="fixed_totals", label=lab)
        out[labels.index(lab)] = v
    return out


def _ce_objective(u, abar, col, fixed_rho, n, hessian=False):
    """KL divergence of column coefficients, in multipliers ``u`` (see `cross_entropy`).

    Per column ``j``: ``rho = sum_k abar_k u_k`` (plus fixed cells' ``abar``),
    ``T = sum_k abar_k u_k ln u_k``, ``phi_j = T / rho - ln rho``.
    Gradient ``abar_k (ln u_k / rho - T / rho^2)``; Hessian
    ``delta_kl abar_k / (u_k rho) + abar_k abar_l (2T / rho^3 - (ln u_k + ln u_l + 1) / rho^2)``
    for ``k, l`` in the same column.
    """
    lu = np.log(u)
    rho = np.bincount(col, abar * u, n) + fixed_rho
    t = np.bincount(col, abar * u * lu, n)
    used = rho > 0
    val = float((t[used] / rho[used] - np.log(rho[used])).sum())
    rc, tc = rho[col], t[col]
    grad = abar * (lu / rc - tc / rc**2)
    if not hessian:
        return val, grad, None
    k = len(u)
    hess = np.zeros((k, k))
    order = np.argsort(col, kind="stable")
    bounds = np.flatnonzero(np.diff(col[order])) + 1
    for idx in np.split(order, bounds):
        if not len(idx):
            continue
        j = col[idx[0]]
        ab, l_ = abar[idx], lu[idx]
        block = np.outer(ab, ab) * (2 * t[j] / rho[j] ** 3 - 1 / rho[j] ** 2)
        block -= (np.outer(ab * l_, ab) + np.outer(ab, ab * l_)) / rho[j] ** 2
        block[np.diag_indices(len(idx))] += ab / (u[idx] * rho[j])
        hess[np.ix_(idx, idx)] = block
    return val, grad, hess


def cross_entropy(sam: pd.DataFrame, *, fixed_cells: Iterable[tuple[str, str]] | None = None,
                  fixed_totals: Mapping[str, float] | None = None, tol: float = 1e-10,
                  max_iter: int = 500) -> BalanceResult:
    """Balance a SAM by cross-entropy: stay closest to the prior's column coefficients.

    With column coefficients ``a_ij = x_ij / y_j``, ``y_j = sum_i x_ij`` (and the prior's
    ``abar_ij`` from ``A``), solve (Robinson, Cattaneo & El-Said 2001)::

        min_X   sum_j sum_i a_ij ln(a_ij / abar_ij)
        s.t.    sum_j x_ij = sum_j x_ji               for every account i  (row = column)
                x_ij = a_ij  for (i, j) in fixed_cells
                sum_i x_ij = T_j (= sum_j x_ji)        for j in fixed_totals
                x_ij = 0 where a_ij = 0,  sign(x_ij) = sign(a_ij)

    Negative cells (allowed in the ``out:world`` row and column) are balanced on absolute
    values with their sign kept: a negative ``x_ij`` is read as the payment ``|x_ij|`` from
    ``i`` to ``j`` (net trade the other way), so coefficients and divergence use ``|x_ij|``
    *in column i* (``y_i`` then is account i's gross payments), while the balance constraints
    use the signed cell where it stands.  Moving a negative cell to the mirror position as a
    positive one changes no account's gap, and it makes the problem well posed: reading
    ``|x_ij|`` in column ``j`` instead would let the optimum shrink whole circuits to zero.
    When neither fixed cells nor fixed totals pin the size of the SAM (the objective does
    not depend on it), its gross total ``sum |x_ij|`` is kept at the prior's.

    Without fixed cells or totals the minimum is zero: every column keeps its prior
    coefficients and only the account totals move, to the vector ``y`` with ``y = A_bar y``
    (the Perron vector of the column-coefficient matrix, negatives mirrored as above).  Fix
    the totals you trust (``fixed_totals``) to make the coefficients, not the totals, absorb
    the imbalance.  A balanced SAM is returned unchanged; scaling the input by ``k > 0``
    scales the result by ``k``.

    Algorithm: the problem is written in multipliers ``u_ij = |x_ij| / |a_ij|`` over the
    nonzero, non-fixed cells, where every constraint is linear.  Phase 1 finds a strictly
    positive feasible point (minimum-information fit, Newton on its dual); phase 2 runs
    Newton's method on the objective in the null space of the constraints (exact gradient
    and Hessian, eigenvalue-modified where the objective is not convex, fraction-to-boundary
    step rule, backtracking), then projects onto the constraints once more to remove rounding.

    Parameters
    ----------
    sam : pandas.DataFrame
        Square SAM.
    fixed_cells : iterable of (row label, column label)
        Cells kept at their prior value.
    fixed_totals : mapping account label -> total
        Accounts whose (row = column) total is fixed.
    tol : float
        Relative feasibility tolerance (gap over gross flow) and optimality tolerance
        (largest reduced gradient component).
    max_iter : int
        Cap on the Newton iterations of each phase.

    Raises
    ------
    SAMError
        Unknown labels, missing cells, a cell on no circuit of payments, or fixed cells and
        totals that no SAM with this zero pattern and these signs can meet.
    """
    labels, a = _prepare(sam)
    n = len(labels)
    fixed = np.zeros_like(a, dtype=bool)
    for r, c in _fixed_cells(fixed_cells, labels):
        fixed[r, c] = True
    fixed &= a != 0
    totals = _fixed_totals(fixed_totals, labels)
    _check_circuits(a, labels)

    mag = np.abs(a)
    # a negative cell x_ij is the payment |x_ij| from i to j: it counts in column i's coefficients
    payer = np.where(a < 0, np.arange(n)[:, None], np.arange(n)[None, :])
    ypay = np.bincount(payer.ravel(), mag.ravel(), n)
    ri, ci = np.nonzero((a != 0) & ~fixed)
    k = len(ri)
    w = mag[ri, ci]
    sgn = np.sign(a[ri, ci])
    pay = payer[ri, ci]
    abar = w / ypay[pay]
    fr, fc = np.nonzero(fixed)
    fixed_rho = np.bincount(payer[fr, fc], mag[fr, fc], n) / np.where(ypay > 0, ypay, 1.0)
    af = np.where(fixed, a, 0.0)
    cols = np.arange(k)

    e = np.zeros((n, k))
    np.add.at(e, (ri, cols), sgn)
    np.add.at(e, (ci, cols), -sgn)
    d = -(af.sum(axis=1) - af.sum(axis=0))
    for j, total in totals.items():
        row = np.where(ci == j, sgn, 0.0)
        e = np.vstack([e, row])
        d = np.append(d, total - af[:, j].sum())
    notes: list[str] = []
    if not np.any(d != 0):
        e = np.vstack([e, np.ones(k)])
        d = np.append(d, w.sum())
        notes.append("no fixed cells or totals: column coefficients kept, gross total kept")

    # phase 1: strictly positive feasible multipliers
    u, it1, ok, worst = _entropy_fit(w, e, d, tol=min(tol, 1e-12), max_iter=max_iter)
    if not ok and worst > tol:
        names = ([f"balance of '{lab}'" for lab in labels]
                 + [f"fixed total of '{labels[j]}'" for j in totals] + ["gross total"])
        res = np.abs((e * w) @ u - d) / np.maximum(np.abs(e * w) @ u + np.abs(d), 1e-300)
        raise SAMError("cannot balance with these fixed cells and totals: no SAM with the same "
                       "zero pattern and signs meets them (worst: the "
                       f"{names[int(res.argmax())]}, relative miss {worst:.3g}); fix fewer "
                       "cells or check the totals",
                       field="fixed_totals" if totals else "fixed_cells")

    # phase 2: Newton in the null space of the constraints
    g_mat = e * w
    _, sv, vt = linalg.svd(g_mat, full_matrices=True) if k else (None, np.zeros(0), np.zeros((0, 0)))
    rank = int((sv > 1e-11 * sv.max()).sum()) if sv.size and sv.max() > 0 else 0
    z = vt[rank:].T if k else np.zeros((0, 0))
    it2 = 0
    converged = True
    val = _ce_objective(u, abar, pay, fixed_rho, n)[0] if k else 0.0
    if z.shape[1:] and z.shape[1] > 0:
        converged = False
        while it2 < max_iter:
            val, grad, hess = _ce_objective(u, abar, pay, fixed_rho, n, hessian=True)
            gz = z.T @ grad
            if np.abs(gz).max() <= tol:
                converged = True
                break
            hz = z.T @ hess @ z
            lam, vec = np.linalg.eigh((hz + hz.T) / 2)
            floor = max(np.abs(lam).max() * 1e-10, 1e-14)
            lam = np.maximum(np.abs(lam), floor)
            p = -z @ (vec @ ((vec.T @ gz) / lam))
            slope = float(grad @ p)
            if slope >= 0 or -slope <= 1e-30:
                converged = np.abs(gz).max() <= 10 * tol or -slope <= 1e-30
                break
            neg = p < 0
            alpha = min(1.0, 0.995 * float(np.min(u[neg] / -p[neg]))) if neg.any() else 1.0
            for _ in range(60):
                cand = u + alpha * p
                if (cand > 0).all() and -slope <= 1e-10 * max(1.0, abs(val)):
                    break  # decrease below what function values resolve: take the Newton step
                if (cand > 0).all():
                    cval = _ce_objective(cand, abar, pay, fixed_rho, n)[0]
                    if cval <= val + 1e-4 * alpha * slope:
                        break
                alpha /= 2
            else:
                converged = np.abs(gz).max() <= 1e3 * tol  # rounding floor reached
                break
            u = cand
            it2 += 1
        # remove rounding drift from the constraints (tiny weighted projection)
        for _ in range(2):
            res = g_mat @ u - d
            wts = u * u
            m = (g_mat * wts) @ g_mat.T
            corr = linalg.lstsq(m, res)[0]
            u_new = u - wts * (g_mat.T @ corr)
            if (u_new > 0).all():
                u = u_new
        val = _ce_objective(u, abar, pay, fixed_rho, n)[0]

    x = af.copy()
    x[ri, ci] = sgn * w * u
    gaps = _relative_gaps(x)
    max_gap = float(gaps.max(initial=0.0))
    converged = bool(converged and max_gap <= max(tol, 1e-12) * 10)
    return BalanceResult(_frame(x, labels, sam), sam.copy(), "cross-entropy", it1 + it2,
                         converged, max_gap, val, notes)
