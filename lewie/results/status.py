"""The outcome of one solve of a run (variant × sweep point × draw), kept in the results as an enum:
``status_code`` (an integer with CF ``flag_values`` / ``flag_meanings``) and ``status`` (its text,
"converged" or "failed: <what>"), with ``reason`` (why) beside them.

The solver's own outcomes (`lewie.solvers.SolverStatus`) come first, with the same names; then what
can fail around a solve: the draw's recalibration, its base check, the shock, Pyomo's verification.
"""
from __future__ import annotations

import enum

import numpy as np

from lewie.solvers.base import SolverStatus

from lewie.model import registry


class RunStatus(enum.IntEnum):
    """Outcome of one solve of a run; ``label`` is the text kept in ``status``."""

    CONVERGED = 0
    ITERATION_LIMIT = 1
    DIVERGED = 2
    SINGULAR_JACOBIAN = 3
    NOT_VERIFIED = 4  # the solver said yes, the compiled residual of every equation said no
    UNAVAILABLE = 5
    ERROR = 6
    RECALIBRATION = 7  # the draw's shares cannot be calibrated
    BASE_CHECK = 8  # the draw's recalibrated base does not solve the model
    SHOCK = 9  # the variant's shock leaves a parameter impossible (a fixed factor at 0)
    VERIFICATION = 10  # Pyomo's own evaluation of the constraints rejected the base or the solution

    @property
    def ok(self) -> bool:
        return self is RunStatus.CONVERGED

    @property
    def label(self) -> str:
        return "converged" if self.ok else "failed: " + self.name.lower().replace("_", " ")

    @classmethod
    def from_solver(cls, status: SolverStatus) -> "RunStatus":
        return cls[status.name]

    @classmethod
    def from_label(cls, label: str) -> "RunStatus":
        for s in cls:
            if s.label == label:
                return s
        raise ValueError(f"not a run status: {label!r}")


def flag_attrs() -> dict:
    """CF attributes of ``status_code``: what each integer means."""
    return {**registry.attrs("status_code"),
            "flag_values": np.array([s.value for s in RunStatus], dtype=np.int64),
            "flag_meanings": " ".join(s.name.lower() for s in RunStatus)}


def codes(labels) -> np.ndarray:
    """``status_code`` values of an array of ``status`` labels."""
    lab = np.asarray(labels, dtype=object)
    table = {s.label: s.value for s in RunStatus}
    return np.vectorize(lambda x: table[str(x)], otypes=[np.int64])(lab) if lab.size else lab.astype(np.int64)


__all__ = ["RunStatus", "flag_attrs", "codes"]
