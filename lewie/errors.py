"""Errors raised for users: each names the file, the field and the label, with a suggestion."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class LewieError(Exception):
    """Base class of every error lewie reports to a user (the CLI prints these without a traceback)."""


class InputError(LewieError):
    """Bad input data or configuration: a file, a field, a label."""

    def __init__(self, message: str, *, file: object | None = None, field: str | None = None,
                 label: str | None = None):
        parts = []
        if file is not None:
            parts.append(str(file))
        if field is not None:
            parts.append(f"field '{field}'")
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.file, self.field, self.label = file, field, label


class SAMError(InputError):
    """A social accounting matrix that cannot be used as it is."""


class CalibrationError(LewieError):
    """The calibrated base does not reproduce its SAM."""


class SolveError(LewieError):
    """A solve failed or its solution did not verify; carries the labelled residual report."""

    def __init__(self, message: str, report: object | None = None):
        super().__init__(message)
        self.report = report


class StageError(LewieError):
    """A stage was run out of order (e.g. solving before calibrating)."""


def did_you_mean(label: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest valid label, or '' when nothing is close.

    Matching ignores case, as GAMS labels do.
    """
    choices = list(choices)
    lower = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(str(label).lower(), list(lower), n=1, cutoff=0.6)
    return f" (did you mean '{lower[match[0]]}'?)" if match else ""


def unknown_label(kind: str, label: str, choices: Iterable[str]) -> str:
    """Message for a label that is not in a set, listing the valid ones and the closest match."""
    choices = list(choices)
    return (f"unknown {kind} '{label}'{did_you_mean(label, choices)}; "
            f"valid: {', '.join(map(str, choices))}")
