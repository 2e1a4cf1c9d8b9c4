"""Crashes (issue 11): inputs that used to end in a traceback or 'internal error' now give one clear
error naming the file, exit code 1, and leave nothing half-written."""
from __future__ import annotations

import pytest
import xarray as xr

from .reliability import EXAMPLE_SCENARIO, assert_clean_error, lewie, scenario_text, write


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A real results file of the example (point estimates)."""
    from lewie import run
    from lewie.results.dataset import save_results
    path = tmp_path_factory.mktemp("res") / "example.nc"
    save_results(run(EXAMPLE_SCENARIO), path)
    return path


def test_latin1_scenario_file(tmp_path, capsys):
    text = scenario_text().replace("Example village", "Exämple village")
    path = write(tmp_path, "latin.toml", text.encode("latin-1"))
    rc, _, err = lewie(capsys, "run", path, "--out", tmp_path / "r.nc")
    assert_clean_error(rc, err, names=("latin.toml", "not UTF-8", "line 2", "save it as UTF-8"))


def test_a_folder_as_the_scenario(tmp_path, capsys):
    rc, _, err = lewie(capsys, "run", tmp_path, "--out", tmp_path / "r.nc")
    assert_clean_error(rc, err, names=(str(tmp_path), "is a folder"))


@pytest.mark.parametrize("command", ["run", "batch"])
def test_negative_seed_and_nan_elasticity_are_refused_before_any_work(tmp_path, capsys, command):
    for name, rep in (("seed.toml", {"labour": "[montecarlo]\nseed = -5\n[labour_supply]"}),
                      ("nan.toml", {"elasticity": "elasticity = nan"})):
        path = write(tmp_path, name, scenario_text(**rep))
        args = ["run", path, "--out", tmp_path / "r.nc"] if command == "run" else \
            ["batch", path, "--out", tmp_path / "out", "--draws", "2", "--no-progress"]
        rc, _, err = lewie(capsys, *args)
        assert_clean_error(rc, err, names=(name,))
        assert not (tmp_path / "out" / "lewie-batch.json").exists()


def test_report_and_export_into_a_place_that_cannot_be_written(tmp_path, capsys, results):
    blocker = write(tmp_path, "file.txt", "a file, not a folder")
    for args, what in ((["report", results, "--out", blocker / "r.html"], "r.html"),
                       (["export", results, "--xlsx", blocker / "t.xlsx"], "t.xlsx"),
                       (["export", results, "--csv", blocker / "tables"], "tables"),
                       (["report", results, "--out", tmp_path], str(tmp_path))):
        rc, _, err = lewie(capsys, *args)
        assert_clean_error(rc, err, names=(what,))


def _truncated(tmp_path, results):
    data = results.read_bytes()
    return write(tmp_path, "truncated.nc", data[: len(data) // 3])


def _not_lewie(tmp_path):
    path = tmp_path / "other.nc"
    xr.Dataset({"temperature": ("time", [1.0, 2.0])}).to_netcdf(path, engine="h5netcdf")
    return path


@pytest.mark.parametrize("kind", ["truncated", "csv", "not lewie", "empty", "netcdf3 not lewie"])
@pytest.mark.parametrize("command", ["report", "export", "compare"])
def test_files_that_are_not_lewie_results_are_refused(tmp_path, capsys, results, kind, command):
    if kind == "truncated":
        path = _truncated(tmp_path, results)
    elif kind == "csv":
        path = write(tmp_path, "table.csv", "a,b\n1,2\n")
    elif kind == "not lewie":
        path = _not_lewie(tmp_path)
    elif kind == "empty":
        path = write(tmp_path, "empty.nc", b"")
    else:
        path = tmp_path / "old.nc"
        xr.Dataset({"x": ("i", [1.0])}).to_netcdf(path, engine="scipy")
    out = tmp_path / "out"
    args = {"report": ["report", path, "--out", out / "r.html"],
            "export": ["export", path, "--xlsx", out / "t.xlsx", "--csv", out / "csv"],
            "compare": ["compare", path, "--out", out / "c.csv", "--xlsx", out / "c.xlsx"]}[command]
    rc, _, err = lewie(capsys, *args)
    assert_clean_error(rc, err, names=(path.name, "not a lewie results file"))
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert written == []  # no broken xlsx, no half-written report


def test_a_results_file_still_works_everywhere(tmp_path, capsys, results):
    for args in (["report", results, "--out", tmp_path / "r.html"],
                 ["export", results, "--xlsx", tmp_path / "t.xlsx", "--csv", tmp_path / "csv"],
                 ["compare", results, "--out", tmp_path / "c.csv"]):
        rc, out, err = lewie(capsys, *args)
        assert rc == 0, err
    assert (tmp_path / "r.html").stat().st_size > 0 and (tmp_path / "t.xlsx").stat().st_size > 0
    assert not [p for p in tmp_path.rglob(".*.tmp*")]  # no temporary files left
