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
    lower = {str(c).lower(): c for c in choices}
    word = str(label).lower()
    if not lower:
        return ""
    close = difflib.get_close_matches(word, list(lower), n=len(lower), cutoff=0.6)
    near = [c for c in lower if _edit_distance(word, c) <= max(1, len(word) // 4)]
    candidates = list(dict.fromkeys(close + near))
    if not candidates:
        return ""
    # the fewest edits wins (a typo is a few keystrokes away), then the closest by difflib's ratio
    best = min(candidates, key=lambda c: (_edit_distance(word, c), -difflib.SequenceMatcher(None, word, c).ratio()))
    return f" (did you mean '{lower[best]}'?)"


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def unknown_label(kind: str, label: str, choices: Iterable[str]) -> str:
    """Message for a label that is not in a set, listing the valid ones and the closest match."""
    choices = list(choices)
    return (f"unknown {kind} '{label}'{did_you_mean(label, choices)}; "
            f"valid: {', '.join(map(str, choices))}")
