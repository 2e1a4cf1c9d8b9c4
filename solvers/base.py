"""What every solver backend offers: a status enum, a result record and the backend interface."""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lewie.solvers.residuals import SOLUTION_TOL, relative_residuals, worst


class SolverStatus(str, enum.Enum):
    """Outcome of one solve (one batch member for batched backends)."""

    CONVERGED = "converged"
    ITERATION_LIMIT = "iteration_limit"
    DIVERGED = "diverged"
    SINGULAR_JACOBIAN = "singular_jacobian"
    NOT_VERIFIED = "not_verified"  # the backend said yes, the Pyomo constraints said no
    UNAVAILABLE = "unavailable"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        return self is SolverStatus.CONVERGED


@dataclass
class BatchResult:
    """Solutions and per-member outcome of a batched solve (members flattened: b = d·S + s)."""

    x: np.ndarray  # (B, n)
    status: np.ndarray  # (B,) of SolverStatus
    iterations: np.ndarray  # (B,)
    max_residual: np.ndarray  # (B,) worst relative residual of any equation at x (`residuals`)
    message: np.ndarray  # (B,) of str
    shape: tuple[int, ...] | None = None  # (D, S) for draws × shocks, None when flat
    details: dict = field(default_factory=dict)  # timings, Jacobian refreshes, continuation counts

    @property
    def ok(self) -> np.ndarray:
        return _is(self.status, SolverStatus.CONVERGED)

    def failures(self) -> pd.DataFrame:
        """One row per member that is not CONVERGED: member, draw, shock, status, message."""
        bad = np.flatnonzero(~self.ok)
        S = self.shape[1] if self.shape is not None and len(self.shape) == 2 else 1
        return pd.DataFrame({"member": bad, "draw": bad // S, "shock": bad % S,
                             "status": [self.status[b].value for b in bad],
                             "max_residual": self.max_residual[bad],
                             "message": [self.message[b] for b in bad]})


def _is(status: np.ndarray, value: SolverStatus) -> np.ndarray:
    """Elementwise ``status is value`` (numpy's == would compare the enum as a plain string)."""
    return np.fromiter((s is value for s in status), dtype=bool, count=len(status))


def _statuses(values) -> np.ndarray:
    """An object array of SolverStatus members (np.array would store their str values)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


@dataclass
class SolveResult:
    """What a backend reports for one solve."""

    status: SolverStatus
    iterations: int = 0
    max_residual: float = float("nan")
    message: str = ""
    solver: str = ""
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BackendInfo:
    """One row of the registry: what `lewie solvers` prints."""

    name: str
    available: bool
    version: str
    capabilities: tuple[str, ...]
    reason: str = ""  # why it is unavailable and how to add it


class Backend(ABC):
    """A solver of the square LEWIE system held in a Pyomo model.

    `solve` starts from the model's current variable values, leaves the solution in them and
    returns a `SolveResult`. `solve_batch` solves many parameter sets of one model (draws ×
    shocks, each from its draw's base) and returns a `BatchResult`; a backend without a batched
    algorithm solves the members one by one with `solve` (the default here). Either way every
    member's status says whether every equation holds to `residuals.SOLUTION_TOL` (the one residual
    measure); Pyomo's own check of a sample is done by the caller (`lewie.runs.verify`).
    """

    name: str = ""
    capabilities: tuple[str, ...] = ()

    @classmethod
    @abstractmethod
    def info(cls) -> BackendInfo:
        """Availability, version and capabilities, without raising."""

    @abstractmethod
    def solve(self, model, *, tol: float = 1e-10, max_iter: int = 100) -> SolveResult:
        """Solve the model's active square system in place."""

    def solve_batch(self, system, X_base: np.ndarray, P_base: np.ndarray, P: np.ndarray, *, model=None,
                    tol: float | None = None, **options) -> BatchResult:
        """Solve every member of a draws × shocks batch (see `lewie.solvers.reduced_newton.solve_batch` for
        the shapes: X_base (D, n) solves the system at P_base (D, k); P is (D, k) or (D, S, k)).

        This default solves the members one by one in ``model`` (the Pyomo model ``system`` was
        compiled from): parameters and start point loaded, `solve` called, the solution read back;
        the model's values are restored afterwards. A member is CONVERGED only if the backend says
        so and its worst relative residual is ≤ ``residuals.SOLUTION_TOL``."""
        if model is None:
            raise ValueError(f"backend '{self.name}' solves a batch member by member in the Pyomo model: give model=")
        X_base = np.atleast_2d(np.asarray(X_base, dtype=float))
        P = np.asarray(P, dtype=float)
        flat = P.ndim == 2
        P3 = P[:, None, :] if flat else P
        D, S, k = P3.shape
        B = D * S
        x = np.full((B, system.n), np.nan)
        status, iters = [], np.zeros(B, dtype=np.int64)
        resid, message = np.full(B, np.inf), np.empty(B, dtype=object)
        kw = {} if tol is None else {"tol": tol}
        x_saved, p_saved = system.get_x(), system.get_p()
        try:
            for b in range(B):
                d, s = divmod(b, S)
                system.set_p(P3[d, s])
                system.set_x(X_base[d])
                r = self.solve(model, **kw)
                xb = system.get_x()
                rel = worst(relative_residuals(system, xb, P3[d, s]))[0]
                st, msg = r.status, r.message
                if st.ok and not rel <= SOLUTION_TOL:
                    st, msg = SolverStatus.NOT_VERIFIED, (f"{self.name} converged but the worst relative residual "
                                                          f"is {rel:.3g} > {SOLUTION_TOL:g}")
                elif not st.ok and rel <= SOLUTION_TOL and np.isfinite(xb).all():
                    msg = f"{msg} (every equation holds within {rel:.2g}: accepted)"
                    st = SolverStatus.CONVERGED
                x[b], iters[b], resid[b], message[b] = xb, r.iterations, rel, msg
                status.append(st)
        finally:
            system.set_p(p_saved)
            system.set_x(x_saved)
        return BatchResult(x, _statuses(status), iters, resid, message, shape=(D,) if flat else (D, S),
                           details={"members": B, "solver": self.name})
