"""What every solver backend offers: a status enum, a result record and the backend interface."""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field


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
    returns a `SolveResult`. Verification against the Pyomo constraints is done by the caller
    (`lewie.verify`), whatever the backend says.
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
