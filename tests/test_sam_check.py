"""Tests of lewie.sam.check: problems found in a SAM and how they are reported."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lewie.errors import SAMError
from lewie.sam import Problem, SamReport, check_sam, read_sam

EXAMPLE = Path(__file__).parent.parent / "sam" / "data" / "example_village" / "sam.csv"


@pytest.fixture
def sam() -> pd.DataFrame:
    return read_sam(EXAMPLE)


def codes(report: SamReport) -> list[str]:
    return [p.code for p in report.problems]


def only(report: SamReport, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, report.format()
    return found[0]


def test_example_is_ok(sam):
    report = check_sam(sam)
    assert report.ok and report.problems == [] and report.errors == []
    assert report.accounts == 26
    assert report.total == pytest.approx(173108.77)
    assert report.format() == "no problems found"
    assert list(report.to_frame().columns) == ["severity", "code", "account", "amount", "message"]
    report.raise_if_errors()  # no error


def test_unbalanced_names_worst_account_and_gap(sam):
    sam.loc["hh:eligible", "fac:labor"] += 50.0  # hh:eligible receives 50 more, fac:labor pays 50 more
    sam.loc["com:crops", "hh:traders"] += 5.0
    report = check_sam(sam)
    assert not report.ok
    worst = report.errors[0]
    assert worst.code == "unbalanced" and worst.account in ("hh:eligible", "fac:labor")
    assert abs(worst.amount) == pytest.approx(50.0)
    p = [p for p in report.errors if p.account == "hh:eligible"][0]
    assert p.message == ("account 'hh:eligible' is unbalanced: receipts (row total) 4,850, payments "
                         "(column total) 4,800, gap +50 (relative 1.03e-02; relative tolerance "
                         "1e-09, i.e. 1e-09 x 4,850 = 4.85e-06)")
    assert [p.account for p in report.errors][-2:] in (["com:crops", "hh:traders"],
                                                       ["hh:traders", "com:crops"])
    with pytest.raises(SAMError) as err:
        report.raise_if_errors("village.csv")
    text = str(err.value)
    assert text.startswith("village.csv: SAM has 4 error(s), worst first:")
    assert "gap +50" in text and "gap -50" in text and "gap +5 " in text


def test_tolerance_is_relative(sam):
    sam.loc["hh:eligible", "fac:labor"] += 1e-7  # 2e-11 relative
    assert check_sam(sam).ok
    assert not check_sam(sam, tol=1e-12).ok
    assert "relative tolerance 1e-12" in check_sam(sam, tol=1e-12).errors[0].message


def test_negative_cell_not_allowed_names_row_and_column(sam):
    sam.loc["com:crops", "hh:eligible"] = -3.0
    sam.loc["com:crops", "out:world"] -= 10.0  # allowed: out:world column
    report = check_sam(sam, tol=1.0)  # ignore the imbalance
    p = only(report, "negative")
    assert p.account == "com:crops" and p.amount == -3.0
    assert p.message == ("negative cell (row 'com:crops', column 'hh:eligible') = -3: negative "
                         "values are allowed only in the out:world row or column (net trade, "
                         "exogenous income)")


def test_negative_in_world_row_or_column_is_allowed(sam):
    sam.loc["out:world", "fac:inputs"] *= -1
    sam.loc["com:crops", "out:world"] *= -1
    assert "negative" not in codes(check_sam(sam))


def test_nan_cell(sam):
    sam.loc["com:livestock", "hh:eligible"] = np.nan
    report = check_sam(sam)
    p = report.errors[0]  # no size: sorts first
    assert p.code == "missing" and p.account == "com:livestock"
    assert p.message == ("cell (row 'com:livestock', column 'hh:eligible') is missing (NaN); "
                         "write 0 for no flow")
    # the accounts whose totals are unknown are not reported unbalanced
    assert "unbalanced" not in codes(report)


def test_activity_without_factor_payments(sam):
    for f in ("fac:labor", "fac:land", "fac:capital", "fac:inputs"):
        sam.loc[f, "act:livestock:eligible"] = 0.0
    p = only(check_sam(sam), "no-factor-payments")
    assert p.account == "act:livestock:eligible"
    assert p.message.startswith("activity 'act:livestock:eligible' pays no factors: its column "
                                "has no positive fac:* entry")
    assert p.amount == pytest.approx(120.0)  # its remaining payments


def test_household_without_spending(sam):
    sam.loc[:, "hh:traders"] = 0.0
    report = check_sam(sam)
    p = only(report, "no-spending")
    assert p.account == "hh:traders"
    assert p.message == "household 'hh:traders' has no spending: its column is empty"
    assert "no-income" not in codes(report)


def test_household_without_income(sam):
    sam.loc["hh:eligible", :] = 0.0
    assert only(check_sam(sam), "no-income").message == \
        "household 'hh:eligible' has no income: its row is empty"


def test_activity_sells_only_to_its_commodity(sam):
    sam.loc["act:crops:eligible", "hh:eligible"] = 7.0
    p = only(check_sam(sam), "activity-sales")
    assert "activity 'act:crops:eligible' sells to 'hh:eligible'" in p.message
    assert "its own commodity 'com:crops'" in p.message


def test_activity_without_commodity():
    labels = ["act:rice:h", "com:crops", "fac:labor", "hh:h", "out:world"]
    sam = pd.DataFrame(0.0, index=labels, columns=labels)
    sam.loc["act:rice:h", "com:crops"] = 10.0
    sam.loc["fac:labor", "act:rice:h"] = 10.0
    report = check_sam(sam, tol=1e9)
    p = only(report, "no-commodity")
    assert "there is no account 'com:rice'" in p.message
    assert "activity-sales" in codes(report)


def test_activity_without_sales(sam):
    sam.loc["act:retail:eligible", "com:retail"] = 0.0
    assert only(check_sam(sam), "no-sales").account == "act:retail:eligible"


def test_leakage_pays_only_world(sam):
    sam.loc["hh:eligible", "out:savings"] = 4.0
    p = only(check_sam(sam), "leakage-pays")
    assert p.message.startswith("'out:savings' pays 'hh:eligible' (row 'hh:eligible', column "
                                "'out:savings') = 4;")


def test_labels_shape_and_values():
    sam = pd.DataFrame([[1.0, "x"], [0.0, 1.0]], index=["hh:a", "hh:b"], columns=["hh:a", "hh:c"])
    report = check_sam(sam)
    assert {"not-square", "not-number"} <= set(codes(report))
    assert "account 'hh:b' is a row but not a column (did you mean 'hh:c'?)" in report.format()
    bad = pd.DataFrame(0.0, index=["hh:a", "hhh:b"], columns=["hh:a", "hhh:b"])
    p = only(check_sam(bad), "bad-label")
    assert "unknown kind 'hhh'" in p.message and "did you mean 'hh'" in p.message
    dup = pd.DataFrame(0.0, index=["hh:a", "hh:a"], columns=["hh:a", "hh:b"])
    assert "duplicate-label" in codes(check_sam(dup))
    inf = pd.DataFrame([[np.inf]], index=["hh:a"], columns=["hh:a"])
    assert "not-finite" in codes(check_sam(inf))


def test_warnings_do_not_fail(sam):
    sam.loc["fac:land", :] = 0.0
    sam.loc[:, "fac:land"] = 0.0
    sam.loc["hh:eligible", "hh:eligible"] = 1.0
    report = check_sam(sam, tol=1.0)
    assert {p.code for p in report.warnings} == {"empty-account", "diagonal"}
    assert all(p.severity == "warning" for p in report.problems[-2:])


def test_sorted_worst_first_and_raise_limits_to_ten(sam):
    rng = np.random.default_rng(0)
    noisy = sam * rng.uniform(0.9, 1.1, sam.shape)
    noisy.loc["fac:land", :] = 0.0
    noisy.loc[:, "fac:land"] = 0.0  # a warning
    report = check_sam(noisy)
    sev = [p.severity for p in report.problems]
    assert sev == sorted(sev, key=["error", "warning"].index)
    amounts = [abs(p.amount) for p in report.errors]
    assert amounts == sorted(amounts, reverse=True)
    assert len(report.errors) > 10
    with pytest.raises(SAMError) as err:
        report.raise_if_errors()
    lines = str(err.value).splitlines()
    assert len(lines) == 12
    assert lines[-1] == f"  ... and {len(report.errors) - 10} more"
    assert lines[1].startswith(f"  - {report.errors[0].account}: ")
    table = report.format().splitlines()
    assert table[0].split() == ["severity", "code", "account", "amount", "message"]
    assert table[-1] == f"{len(report.errors)} error(s), 1 warning(s)"


def test_problem_severity_validated():
    with pytest.raises(ValueError):
        Problem("fatal", "x", "hh:a", "m")


@pytest.mark.parametrize("factor", [1e-6, 1.0, 1e6])
def test_balance_verdict_does_not_depend_on_units(sam, factor):
    """The same SAM in other units gets the same verdict: a gap of 1e-8 of an account's flow is found in a SAM
    in millions as in one in units (the tolerance was once floored at 1 currency unit)."""
    assert check_sam(sam * factor).ok
    bad = sam.copy()
    bad.loc["hh:eligible", "fac:labor"] += 1e-8 * bad.loc["hh:eligible"].abs().sum()
    report = check_sam(bad * factor)
    assert sorted(p.account for p in report.errors) == ["fac:labor", "hh:eligible"]
