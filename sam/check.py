"""Checking a SAM: balance, signs, missing values and the structure the lewie model needs.

`check_sam` is pure: it never raises for a bad SAM, it returns a `SamReport` listing every
problem found, worst first.  Call `SamReport.raise_if_errors` to turn errors into a `SAMError`.

Checks (code in brackets):

* labels: valid account labels [bad-label], no duplicates [duplicate-label], rows and columns
  name the same accounts [not-square];
* cells: numbers [not-number], present [missing], finite [not-finite];
* balance: for each account, receipts (row total) equal payments (column total) within
  ``tol * max(gross, BALANCE_FLOOR * largest gross)`` where ``gross`` is the larger of the account's
  gross row and column flows ``sum |x|`` [unbalanced]: unit-free (the same SAM in millions or in units
  gets the same verdict), with accounts far smaller than the economy judged on a scale relative to the
  largest account;
* signs: negative cells only in the ``out:world`` row or column [negative];
* structure: each activity pays factors [no-factor-payments], sells only to its own
  commodity [activity-sales], which exists [no-commodity] and buys something from it
  [no-sales]; each household has income [no-income] and spending [no-spending]; the
  ``out:savings``, ``out:transfers`` and ``out:spending`` columns pay only ``out:world``
  [leakage-pays];
* magnitude: every non-zero cell is between `MIN_MAGNITUDE` and `MAX_MAGNITUDE` in absolute value
  [magnitude]: outside, the model's products and squares leave what double precision can carry
  (a SAM × 1e-300 would "solve" in 0 iterations, one × 1e300 give multipliers of 0); rescale the SAM
  (e.g. to thousands) instead;
* flows the model has a place for [unsupported-flow] (`unsupported_flows`, the one rule the
  calibration uses too): e.g. a household paying another household, a commodity paying a commodity;
* warnings: a commodity or factor with neither receipts nor payments [empty-account], an
  account paying itself [diagonal].
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lewie.errors import SAMError, did_you_mean

from lewie.sam.accounts import LEAKAGES, parse_account

__all__ = ["Problem", "SamReport", "check_sam", "flow_is_supported", "unsupported_flows"]

SEVERITIES = ("error", "warning")
WORLD = "out:world"
MAX_LISTED = 10
MIN_MAGNITUDE = 1e-100
MAX_MAGNITUDE = 1e100
# accounts far smaller than the economy are judged on this fraction of the largest account's gross flow
BALANCE_FLOOR = 1e-6
NO_SIZE = float("nan")
"""Amount of a problem that has no size (bad label, missing cell); these sort first."""


@dataclass(frozen=True)
class Problem:
    """One problem of a SAM.

    ``severity`` is ``"error"`` (the model cannot use the SAM) or ``"warning"``; ``code`` a
    short machine-readable name (see the module docstring); ``account`` the account concerned
    (for a cell: its row); ``amount`` the size of the problem in SAM units (a gap, a cell
    value, an account total), NaN for problems that make sizes meaningless (bad labels,
    missing or non-numeric cells), which sort first among errors.
    """

    severity: str
    code: str
    account: str
    message: str
    amount: float = 0.0

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


def _sort_key(p: Problem) -> tuple:
    amount = np.inf if np.isnan(p.amount) else abs(p.amount)
    return (SEVERITIES.index(p.severity), -amount)


@dataclass
class SamReport:
    """Problems of a SAM, worst first (errors before warnings, then by ``|amount|``).

    ``accounts`` is the number of accounts, ``total`` the sum of all cells, ``tol`` the
    relative tolerance of the balance check and ``file`` where the SAM came from (if known).
    """

    problems: list[Problem] = field(default_factory=list)
    accounts: int = 0
    total: float = 0.0
    tol: float = 1e-9
    file: object | None = None

    def __post_init__(self):
        self.problems = sorted(self.problems, key=_sort_key)

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self):
        return iter(self.problems)

    def to_frame(self) -> pd.DataFrame:
        """The problems as a table: severity, code, account, amount, message."""
        cols = ["severity", "code", "account", "amount", "message"]
        return pd.DataFrame([[getattr(p, c) for c in cols] for p in self.problems], columns=cols)

    def format(self) -> str:
        """The problems as a plain-text table (one line each), or 'no problems found'."""
        if not self.problems:
            return "no problems found"
        head = ("severity", "code", "account", "amount", "message")
        rows = [(p.severity, p.code, p.account, "" if np.isnan(p.amount) or p.amount == 0 else _num(p.amount), p.message)
                for p in self.problems]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]

        def line(r):
            cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].ljust(widths[2]),
                     r[3].rjust(widths[3]), r[4]]
            return "  ".join(cells).rstrip()

        out = [line(head), "  ".join("-" * w for w in widths) + "  -------", *map(line, rows)]
        n_err, n_warn = len(self.errors), len(self.warnings)
        out.append(f"{n_err} error(s), {n_warn} warning(s)")
        return "\n".join(out)

    def raise_if_errors(self, file: object | None = None) -> None:
        """Raise a SAMError listing the worst errors (at most 10, then 'and N more')."""
        errors = self.errors
        if not errors:
            return
        lines = [f"SAM has {len(errors)} error(s), worst first:"]
        lines += [f"  - {p.account}: {p.message}" for p in errors[:MAX_LISTED]]
        if len(errors) > MAX_LISTED:
            lines.append(f"  ... and {len(errors) - MAX_LISTED} more")
        first = errors[0]
        raise SAMError("\n".join(lines), file=file if file is not None else self.file,
                       label=first.account)


def _flow_hint(row_kind: str, col) -> str:
    col_kind = getattr(col, "kind", None)
    if row_kind == "hh" and col_kind == "hh":
        return ("; transfers between household groups are not modelled: route them through 'out:transfers' "
                "and the 'out:world' column, or merge the groups")
    if row_kind == "com" and col_kind == "com":
        return "; a commodity buys nothing: record inputs in the activities' columns"
    return "; see the SAM format in sam/README.md"


def _num(x: float) -> str:
    return f"{x:,.6g}" if np.isfinite(x) else str(x)


def _cell(r: str, c: str, v: float) -> str:
    return f"(row '{r}', column '{c}') = {_num(v)}"


def flow_is_supported(row: str, col: str) -> bool:
    """Whether the LEWIE model has a place for a non-zero cell (row ``row``, column ``col``): the
    payment by account ``col`` to account ``row``. The one rule `check_sam` and the calibration use."""
    rk, ck = row.split(":")[0], col.split(":")[0]
    return (
        (ck == "act" and rk in ("com", "fac"))  # an activity buys inputs and pays factors
        or (rk == "act" and ck == "com" and row.split(":")[1] == col.split(":")[1])  # sells its own good
        or (ck == "com" and row == WORLD)  # imports
        or (rk == "com" and ck == "hh")  # households buy goods
        or (rk == "com" and col == WORLD)  # exports
        or (ck == "fac" and (rk == "hh" or row == WORLD))  # factor income to households or outside
        or (rk == "fac" and col == WORLD)  # factor income from outside
        or (rk == "hh" and col == WORLD)  # exogenous income
        or (ck == "hh" and rk == "out" and row != WORLD)  # savings, transfers, spending outside
        or (ck == "out" and col != WORLD and row == WORLD)  # the leakages leave to the outside
    )


def unsupported_flows(sam: pd.DataFrame) -> list[tuple[str, str, float]]:
    """Non-zero cells (row, column, value) the LEWIE model has no place for (see `flow_is_supported`)."""
    x = sam.to_numpy(dtype=float)
    rows, cols = [str(r) for r in sam.index], [str(c) for c in sam.columns]
    return [(rows[i], cols[j], float(x[i, j])) for i, j in np.argwhere((x != 0) & np.isfinite(x))
            if not flow_is_supported(rows[i], cols[j])]


def check_sam(sam: pd.DataFrame, *, tol: float = 1e-9, file: object | None = None) -> SamReport:
    """Check a SAM and return a `SamReport` of its problems (never raises for a bad SAM).

    Works on any labelled DataFrame, not only on what `read_sam` returns.  An account is
    unbalanced when ``|receipts - payments| > tol * max(gross, BALANCE_FLOOR * largest gross)``,
    ``receipts`` being its row total, ``payments`` its column total and ``gross`` the larger of
    ``sum |row|`` and ``sum |column|`` (unit-free).
    """
    if not isinstance(sam, pd.DataFrame):
        raise SAMError(f"a SAM must be a pandas DataFrame, not {type(sam).__name__}", file=file)
    problems: list[Problem] = []
    add = problems.append
    rows = [str(r).strip() for r in sam.index]
    cols = [str(c).strip() for c in sam.columns]
    if not rows and not cols:
        add(Problem("error", "empty", "-", "the SAM has no accounts"))
        return SamReport(problems, 0, 0.0, tol, file)

    # labels
    parsed = {}
    for lab in dict.fromkeys(rows + cols):
        try:
            parsed[lab] = parse_account(lab)
        except SAMError as exc:
            add(Problem("error", "bad-label", lab, str(exc), NO_SIZE))
    for where, labels in (("row", rows), ("column", cols)):
        seen: set[str] = set()
        for lab in labels:
            if lab in seen:
                add(Problem("error", "duplicate-label", lab, f"account '{lab}' appears twice as a {where}", NO_SIZE))
            seen.add(lab)
    for lab in rows:
        if lab not in cols:
            add(Problem("error", "not-square", lab, f"account '{lab}' is a row but not a column"
                        f"{did_you_mean(lab, [c for c in cols if c not in rows])}", NO_SIZE))
    for lab in cols:
        if lab not in rows:
            add(Problem("error", "not-square", lab, f"account '{lab}' is a column but not a row"
                        f"{did_you_mean(lab, [r for r in rows if r not in cols])}", NO_SIZE))

    # cells
    values = np.full((len(rows), len(cols)), np.nan)
    # numpy float or integer columns (what read_sam gives) are their own numbers: one array, no pandas per column
    numeric = all(isinstance(t, np.dtype) and t.kind in "fiu" for t in sam.dtypes)
    whole = sam.to_numpy(dtype=float) if numeric else None
    for j in range(len(cols)):
        num = whole[:, j] if whole is not None else \
            pd.to_numeric(sam.iloc[:, j], errors="coerce").to_numpy(dtype=float)
        values[:, j] = num
        for i in np.nonzero(np.isnan(num))[0]:
            v = sam.iloc[i, j]
            blank = v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or \
                (isinstance(v, str) and v.strip() == "")
            if blank:
                add(Problem("error", "missing", rows[i], f"cell (row '{rows[i]}', column "
                            f"'{cols[j]}') is missing (NaN); write 0 for no flow", NO_SIZE))
            else:
                add(Problem("error", "not-number", rows[i], f"cell (row '{rows[i]}', column "
                            f"'{cols[j]}') is not a number: {v!r}", NO_SIZE))
        for i in np.nonzero(np.isinf(num))[0]:
            add(Problem("error", "not-finite", rows[i], f"cell (row '{rows[i]}', column "
                        f"'{cols[j]}') is not finite: {num[i]}", NO_SIZE))
    finite = np.where(np.isfinite(values), values, 0.0)

    # magnitude: what double precision can carry through the model (one problem for the SAM)
    mag = np.abs(finite)
    out_of_range = (mag > MAX_MAGNITUDE) | ((mag != 0) & (mag < MIN_MAGNITUDE))
    if out_of_range.any():
        cells = np.argwhere(out_of_range)
        i, j = max(cells, key=lambda ij: abs(np.log10(mag[ij[0], ij[1]])))
        add(Problem("error", "magnitude", rows[i],
                    f"{len(cells)} of {int((mag != 0).sum())} non-zero cells are outside what lewie can compute "
                    f"with in double precision, e.g. {_cell(rows[i], cols[j], finite[i, j])}: non-zero cells must be "
                    f"between {MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g} in absolute value, or the model's products "
                    "and squares overflow or underflow; rescale the SAM (e.g. to thousands) and the scenario's "
                    "amounts with it", float(finite[i, j])))

    # signs
    for i, j in np.argwhere(finite < 0):
        if rows[i] != WORLD and cols[j] != WORLD:
            add(Problem("error", "negative", rows[i],
                        f"negative cell {_cell(rows[i], cols[j], finite[i, j])}: negative values "
                        f"are allowed only in the {WORLD} row or column (net trade, exogenous "
                        "income)", float(finite[i, j])))

    square = (len(set(rows)) == len(rows) == len(cols) == len(set(cols))
              and set(rows) == set(cols))
    total = float(finite.sum())
    if not square:
        return SamReport(problems, len(set(rows) | set(cols)), total, tol, file)

    # align columns on rows from here on
    order = [cols.index(r) for r in rows]
    x = finite[:, order]
    bad = ~np.isfinite(values[:, order])
    labels = rows

    # balance
    receipts, payments = x.sum(axis=1), x.sum(axis=0)
    gross = np.maximum(np.abs(x).sum(axis=1), np.abs(x).sum(axis=0))
    floor = BALANCE_FLOOR * float(gross.max(initial=0.0))
    for i, lab in enumerate(labels):
        if bad[i].any() or bad[:, i].any():
            continue  # totals unknown; the missing cells are reported
        gap = receipts[i] - payments[i]
        limit = tol * max(gross[i], floor)
        if abs(gap) > limit:
            rel = abs(gap) / gross[i] if gross[i] else np.inf
            add(Problem("error", "unbalanced", lab,
                        f"account '{lab}' is unbalanced: receipts (row total) {_num(receipts[i])}, "
                        f"payments (column total) {_num(payments[i])}, gap {gap:+,.6g} "
                        f"(relative {rel:.2e}; relative tolerance {tol:g}, i.e. "
                        + (f"{tol:g} x {_num(gross[i])}" if gross[i] >= floor else
                           f"{tol:g} x {BALANCE_FLOOR:g} x the largest account's gross flow {_num(floor / BALANCE_FLOOR)}")
                        + f" = {limit:.3g})", float(gap)))

    # structure
    acc = {lab: parsed.get(lab) for lab in labels}
    index = {lab: i for i, lab in enumerate(labels)}
    commodities = [lab for lab, a in acc.items() if a is not None and a.kind == "com"]
    for lab, a in acc.items():
        if a is None:
            continue
        i = index[lab]
        row, col = x[i], x[:, i]
        if a.kind == "act":
            com = f"com:{a.name}"
            pays_factors = any(col[index[f]] > 0 for f, fa in acc.items()
                               if fa is not None and fa.kind == "fac")
            if not pays_factors:
                add(Problem("error", "no-factor-payments", lab,
                            f"activity '{lab}' pays no factors: its column has no positive fac:* "
                            "entry (the model needs factor payments to calibrate production)",
                            float(col.sum())))
            if com not in index:
                add(Problem("error", "no-commodity", lab,
                            f"activity '{lab}' produces good '{a.name}' but there is no account "
                            f"'{com}'{did_you_mean(com, commodities)}", float(row.sum())))
            elif row[index[com]] == 0 and not bad[i, index[com]]:
                add(Problem("error", "no-sales", lab,
                            f"activity '{lab}' sells nothing: cell (row '{lab}', column '{com}') "
                            "is zero", float(col.sum())))
            for j in np.nonzero(row)[0]:
                if labels[j] != com:
                    add(Problem("error", "activity-sales", lab,
                                f"activity '{lab}' sells to '{labels[j]}' "
                                f"{_cell(lab, labels[j], row[j])}; an activity sells only to its "
                                f"own commodity '{com}'", float(row[j])))
        elif a.kind == "hh":
            if not np.any(row != 0) and not bad[i].any():
                add(Problem("error", "no-income", lab, f"household '{lab}' has no income: its "
                            "row is empty", float(col.sum())))
            if not np.any(col != 0) and not bad[:, i].any():
                add(Problem("error", "no-spending", lab, f"household '{lab}' has no spending: its "
                            "column is empty", float(row.sum())))
        elif a.kind == "out" and a.name in LEAKAGES:
            for j in np.nonzero(col)[0]:
                if labels[j] != WORLD:
                    add(Problem("error", "leakage-pays", labels[j],
                                f"'{lab}' pays '{labels[j]}' {_cell(labels[j], lab, col[j])}; "
                                f"{', '.join('out:' + k for k in LEAKAGES)} pay only {WORLD}",
                                float(col[j])))
        if a.kind in ("com", "fac") and not row.any() and not col.any() and not bad[i].any() \
                and not bad[:, i].any():
            add(Problem("warning", "empty-account", lab,
                        f"account '{lab}' is empty: no receipts and no payments"))
        for j in np.nonzero(row)[0]:
            if bad[i, j] or flow_is_supported(lab, labels[j]):
                continue
            if a.kind == "act" or (parsed.get(labels[j]) is not None and parsed[labels[j]].kind == "out"
                                   and parsed[labels[j]].name in LEAKAGES):
                continue  # reported above as activity-sales / leakage-pays
            add(Problem("error", "unsupported-flow", lab,
                        f"the model has no place for the flow {_cell(lab, labels[j], row[j])}: "
                        f"'{labels[j]}' pays '{lab}'" + _flow_hint(a.kind, parsed.get(labels[j])),
                        float(row[j])))
        if x[i, i] != 0:
            add(Problem("warning", "diagonal", lab,
                        f"account '{lab}' pays itself {_num(x[i, i])} (cell row '{lab}', column "
                        f"'{lab}'); diagonal cells cancel out of its balance", float(x[i, i])))
    return SamReport(problems, len(labels), total, tol, file)
