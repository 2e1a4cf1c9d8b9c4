"""Exit codes (issue 11): 0 only for success; 1 for user errors and for runs where solves failed (with
the count); 130 for an interruption; 2 for an internal error. Documented in the README."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lewie.sam.io import read_sam, write_sam

from .reliability import EXAMPLE_SAM, EXAMPLE_SCENARIO, REPO, assert_clean_error, lewie, write


@pytest.fixture(scope="module")
def example_results():
    from lewie import run
    return run(EXAMPLE_SCENARIO, draws=3)


def test_success_is_zero(tmp_path, capsys):
    rc, out, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", tmp_path / "r.nc")
    assert rc == 0 and "results written" in out and err == ""


def test_sam_check_exits_one_on_a_sam_with_errors(tmp_path, capsys):
    s = read_sam(EXAMPLE_SAM)
    s.loc["com:crops", "hh:eligible"] += 1.0  # unbalanced
    bad = write_sam(s, tmp_path / "bad.csv")
    rc, out, err = lewie(capsys, "sam", "check", bad)
    assert rc == 1 and "unbalanced" in out and "SAM OK" not in out
    rc, out, _ = lewie(capsys, "sam", "check", EXAMPLE_SAM)
    assert rc == 0 and "SAM OK" in out


def test_sam_check_exits_one_as_a_program_too(tmp_path):
    """`ctx.exit(1)` reaches the process exit code (main() used to drop click's return value)."""
    import subprocess
    import sys
    s = read_sam(EXAMPLE_SAM)
    s.loc["com:crops", "hh:eligible"] += 1.0
    bad = write_sam(s, tmp_path / "bad.csv")
    proc = subprocess.run([sys.executable, "-m", "lewie.cli.main", "sam", "check", str(bad)], capture_output=True,
                          text=True)
    assert proc.returncode == 1, proc.stderr


@pytest.mark.parametrize("args", [["run", "missing.toml"], ["report", "missing.nc"],
                                  ["sam", "check", "missing.csv"], ["batch", "missing.toml", "--no-progress"]])
def test_user_errors_are_one(tmp_path, capsys, args):
    args = [str(tmp_path / a) if a.startswith("missing") else a for a in args]
    rc, _, err = lewie(capsys, *args)
    assert_clean_error(rc, err, names=("missing",))


def test_run_with_failed_solves_is_one_with_the_count(tmp_path, capsys, monkeypatch, example_results):
    ds = example_results.copy(deep=True)
    status = ds["status"].values.astype(object)
    status[..., 2] = "failed: solver"
    ds["status"] = (ds["status"].dims, status.astype(str))
    import lewie.runs.engine as engine
    from lewie.results.dataset import save_results

    def run_to_folder(*a, save_to=None, **k):  # writes the results inside the folder's lock, as the real one
        save_results(ds, save_to)
        return ds
    monkeypatch.setattr(engine, "run_to_folder", run_to_folder)
    rc, out, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", tmp_path / "r.nc")
    n = int((ds["status"] != "converged").sum())
    assert_clean_error(rc, err, names=(f"{n} of {ds['status'].size} solves failed",))
    assert (tmp_path / "r.nc").exists()  # the results are kept, with their status and reason


def _outcome(failed):
    sp = SimpleNamespace(failed=failed, uncertain=True, variants=["all"], file=Path("x.toml"))
    plan = SimpleNamespace(scenarios=[sp], draws=9)
    return SimpleNamespace(plan=plan, outputs=[Path("out/x.nc")], computed=["a"], reused=[], seconds=1.0,
                           draws_per_second=10.0, workers=1)


@pytest.mark.parametrize("failed, code", [((10, 10), 1), ((1, 10), 1), ((0, 10), 0)])
def test_batch_with_failed_solves_is_one(tmp_path, capsys, monkeypatch, failed, code):
    import lewie.runs.dask_batch as batch
    monkeypatch.setattr(batch, "run_batch", lambda *a, **k: _outcome(failed))
    rc, out, err = lewie(capsys, "batch", EXAMPLE_SCENARIO, "--out", tmp_path, "--no-progress")
    assert rc == code, err
    if code:
        assert f"{failed[0]} of {failed[1]} solves failed" in err and "Traceback" not in err


def test_interrupted_run_is_130(tmp_path, capsys, monkeypatch):
    import lewie.runs.engine as engine

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(engine, "run_to_folder", interrupted)
    rc, _, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", tmp_path / "r.nc")
    assert rc == 130 and "Traceback" not in err


def test_interrupted_batch_is_130_and_says_how_far_it_got(tmp_path, capsys, monkeypatch):
    import lewie.runs.dask_batch as batch

    def interrupted(*a, **k):
        raise batch.BatchInterrupted(3, 8, tmp_path)
    monkeypatch.setattr(batch, "run_batch", interrupted)
    rc, _, err = lewie(capsys, "batch", EXAMPLE_SCENARIO, "--out", tmp_path, "--no-progress")
    assert rc == 130 and "3 of 8 chunks are saved" in err and "--resume" in err


def test_internal_error_is_two_and_one_line(tmp_path, capsys, monkeypatch):
    import lewie.runs.engine as engine

    def bug(*a, **k):
        raise ZeroDivisionError("a bug")
    monkeypatch.setattr(engine, "run_to_folder", bug)
    rc, _, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", tmp_path / "r.nc")
    assert rc == 2 and err.startswith("internal error: ZeroDivisionError") and "Traceback" not in err


def test_exit_codes_are_documented_in_the_readme():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Exit codes"):]
    section = section[:section.find("\n## ", 5)] if "\n## " in section[5:] else section
    for code in ("0", "1", "2", "130"):
        assert f"`{code}`" in section
