"""Tests of the ``sam`` click group (``lewie sam check|balance``)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lewie.errors import InputError, LewieError, SAMError
from lewie.sam import check_sam, read_sam, write_sam
from lewie.cli.sam_commands import sam as sam_group

EXAMPLE = Path(__file__).parent.parent / "sam" / "data" / "example_village" / "sam.csv"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def unbalanced(tmp_path) -> Path:
    sam = read_sam(EXAMPLE)
    rng = np.random.default_rng(1)
    return write_sam(sam * rng.uniform(0.9, 1.1, sam.shape), tmp_path / "noisy.csv")


def test_check_ok(runner):
    result = runner.invoke(sam_group, ["check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "SAM OK: 26 accounts, total 173,108.77"


def test_check_errors_exit_1(runner, unbalanced):
    result = runner.invoke(sam_group, ["check", str(unbalanced)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].split() == ["severity", "code", "account", "amount", "message"]
    assert "unbalanced" in lines[2] and "relative tolerance 1e-09" in lines[2]
    assert "SAM OK" not in result.output


def test_check_tol(runner, tmp_path):
    sam = read_sam(EXAMPLE)
    sam.loc["hh:eligible", "fac:labor"] += 1e-3
    path = write_sam(sam, tmp_path / "almost.csv")
    assert runner.invoke(sam_group, ["check", str(path)]).exit_code == 1
    result = runner.invoke(sam_group, ["check", str(path), "--tol", "1e-6"])
    assert result.exit_code == 0 and "SAM OK: 26 accounts" in result.output


def test_check_missing_file_raises_sam_error(runner, tmp_path):
    result = runner.invoke(sam_group, ["check", str(tmp_path / "nope.csv")])
    assert isinstance(result.exception, SAMError)
    assert "file not found" in str(result.exception)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_balance_ras(runner, unbalanced, tmp_path, suffix):
    out = tmp_path / f"balanced{suffix}"
    result = runner.invoke(sam_group, ["balance", str(unbalanced), "--method", "ras", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ras: converged in")
    assert "largest changes:" in result.output and f"wrote {out}" in result.output
    balanced = read_sam(out)
    assert check_sam(balanced).ok
    assert list(balanced.index) == list(read_sam(unbalanced).index)


def test_balance_cross_entropy_with_fixed_cells_and_totals(runner, unbalanced, tmp_path):
    out = tmp_path / "ce.csv"
    result = runner.invoke(sam_group, [
        "balance", str(unbalanced), "--method", "cross-entropy", "--out", str(out),
        "--fix-cell", "com:outside,hh:ineligible", "--fix-cell", " fac:land , act:crops:ineligible",
        "--fix-total", "hh:eligible=4800", "--fix-total", "com:crops=15000"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("cross-entropy: converged in")
    before, after = read_sam(unbalanced), read_sam(out)
    assert check_sam(after).ok
    assert after.loc["com:outside", "hh:ineligible"] == pytest.approx(
        before.loc["com:outside", "hh:ineligible"], rel=1e-12)
    assert after.loc["fac:land", "act:crops:ineligible"] == pytest.approx(
        before.loc["fac:land", "act:crops:ineligible"], rel=1e-12)
    assert after["hh:eligible"].sum() == pytest.approx(4800.0, rel=1e-10)
    assert after.loc["com:crops"].sum() == pytest.approx(15000.0, rel=1e-10)


def test_balance_fix_options_need_cross_entropy(runner, unbalanced, tmp_path):
    result = runner.invoke(sam_group, ["balance", str(unbalanced), "--method", "ras", "--out",
                                       str(tmp_path / "o.csv"), "--fix-total", "hh:eligible=1"])
    assert isinstance(result.exception, InputError)
    assert "only with --method cross-entropy" in str(result.exception)
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("option, value, text", [
    ("--fix-cell", "com:outside", "should be ROW,COLUMN"),
    ("--fix-total", "hh:eligible", "should be ACCOUNT=VALUE"),
    ("--fix-total", "hh:eligible=lots", "should be ACCOUNT=VALUE"),
    ("--fix-cell", "com:outsid,hh:eligible", "did you mean 'com:outside'"),
    ("--fix-total", "hh:eligble=10", "did you mean 'hh:eligible'"),
])
def test_balance_bad_fix_options(runner, unbalanced, tmp_path, option, value, text):
    result = runner.invoke(sam_group, ["balance", str(unbalanced), "--method", "cross-entropy",
                                       "--out", str(tmp_path / "o.csv"), option, value])
    assert isinstance(result.exception, LewieError), result.output
    assert text in str(result.exception)


def test_balance_infeasible_reports_error(runner, tmp_path):
    result = runner.invoke(sam_group, [
        "balance", str(EXAMPLE), "--method", "cross-entropy", "--out", str(tmp_path / "o.csv"),
        "--fix-total", "com:crops=15000", "--fix-total", "act:crops:eligible=2400",
        "--fix-total", "act:crops:ineligible=1000"])
    assert isinstance(result.exception, SAMError)
    assert "cannot balance with these fixed cells and totals" in str(result.exception)


def test_balance_requires_method_and_out(runner):
    result = runner.invoke(sam_group, ["balance", str(EXAMPLE), "--out", "x.csv"])
    assert result.exit_code == 2 and "--method" in result.output
    result = runner.invoke(sam_group, ["balance", str(EXAMPLE), "--method", "gras", "--out", "x.csv"])
    assert result.exit_code == 2
