"""Assertions for users' own tests of lewie results and SAMs (as ``xarray.testing`` / ``pandas.testing``).

    from lewie.testing import assert_results_equal, assert_sam_balanced
    assert_results_equal(lewie.run("my.toml"), xr.load_dataset("expected.nc"))
    assert_sam_balanced(ds.lewie.sam(variant="cash", state="simulated"))

Both are unit-free: a results value is compared relative to itself (with a floor relative to the
largest value of its variable, so a change of a near-zero quantity is judged on the variable's scale),
and an account's receipts are compared with its payments relative to its gross flow.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["results_differences", "assert_results_equal", "sam_imbalances", "assert_sam_balanced"]


def results_differences(actual: xr.Dataset, expected: xr.Dataset, *, rtol: float = 1e-12,
                        variables=None) -> list[str]:
    """Every way `actual` differs from `expected`, one line per variable (empty when they agree).

    A variable agrees when both have it, with the same coordinates, NaN in the same places and every
    value within ``rtol · max(|expected|, 1e-12 · max|expected of that variable|)``.
    """
    names = sorted(set(expected.data_vars) | set(actual.data_vars)) if variables is None else list(variables)
    problems = []
    for v in names:
        if v not in actual or v not in expected:
            problems.append(f"{v}: only in {'expected' if v in expected else 'actual'} results")
            continue
        a, b = xr.align(actual[v], expected[v], join="outer")
        if a.shape != actual[v].shape or b.shape != expected[v].shape or a.dims != b.dims:
            problems.append(f"{v}: coordinates differ ({dict(actual[v].sizes)} vs {dict(expected[v].sizes)})")
            continue
        if b.dtype.kind not in "fciub":
            if not np.array_equal(a.values, b.values):
                problems.append(f"{v}: values differ")
            continue
        x, y = a.values.astype(float), b.values.astype(float)
        same_nan = np.isnan(x) == np.isnan(y)
        scale = np.maximum(np.abs(y), 1e-12 * np.nanmax(np.abs(y), initial=0.0))
        close = np.isnan(x) | np.isnan(y) | (np.abs(x - y) <= rtol * np.maximum(scale, 1e-300))
        if not (same_nan.all() and close.all()):
            bad = ~(same_nan & close)
            where = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
            label = ", ".join(f"{d}={np.asarray(a[d].values[i]).item()!r}" if d in a.coords else f"{d}[{i}]"
                              for d, i in zip(a.dims, where))
            err = np.nanmax(np.abs(x - y) / np.maximum(scale, 1e-300))
            problems.append(f"{v}: differs (max relative {err:.3g}; first at {label or 'the scalar'}: "
                            f"{float(x[where])!r} vs {float(y[where])!r})")
    return problems


def assert_results_equal(actual: xr.Dataset, expected: xr.Dataset, *, rtol: float = 1e-12, variables=None) -> None:
    """Fail (AssertionError naming each variable and its first differing label) unless the two results
    Datasets agree to ``rtol`` relative (see `results_differences`)."""
    problems = results_differences(actual, expected, rtol=rtol, variables=variables)
    if problems:
        raise AssertionError("results differ:\n  " + "\n  ".join(problems))


def sam_imbalances(sam: pd.DataFrame, *, rtol: float = 1e-9) -> pd.Series:
    """Accounts whose receipts (row total) and payments (column total) differ by more than ``rtol`` of
    the account's gross flow (the larger of ``sum |row|`` and ``sum |column|``): the relative gap, by
    account. Unit-free: a SAM in millions and the same SAM in units have the same imbalances."""
    if not isinstance(sam, pd.DataFrame) or list(map(str, sam.index)) != list(map(str, sam.columns)):
        raise AssertionError("a SAM must be a square DataFrame with the same accounts as rows and columns")
    values = sam.to_numpy(dtype=float)
    rows, cols = values.sum(axis=1), values.sum(axis=0)
    gross = np.maximum(np.abs(values).sum(axis=1), np.abs(values).sum(axis=0))
    gap = np.abs(rows - cols) / np.where(gross > 0, gross, 1.0)
    gap = pd.Series(gap, index=sam.index, name="relative_gap")
    return gap[gap > rtol]


def assert_sam_balanced(sam: pd.DataFrame, *, rtol: float = 1e-9) -> None:
    """Fail (AssertionError naming each account, its receipts and payments) unless every account of the SAM
    balances to ``rtol`` of its gross flow (see `sam_imbalances`)."""
    bad = sam_imbalances(sam, rtol=rtol)
    if len(bad):
        lines = [f"{acc}: receipts {sam.loc[acc].sum():.12g}, payments {sam[acc].sum():.12g} "
                 f"(gap {g:.3g} of its gross flow)" for acc, g in bad.items()]
        raise AssertionError("SAM does not balance:\n  " + "\n  ".join(lines))
