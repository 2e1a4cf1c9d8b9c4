"""Finished work lost (issue 11): outputs are checked writable before any solving, written atomically
(a failure leaves the old file, or none, never a half-written one), and an output folder is used by
one run at a time without another batch's chunks being deleted."""
from __future__ import annotations

import errno
import os

import pytest
import xarray as xr

from lewie.runs.chunk_files import FolderInUse, lock_folder
from lewie.files import FileError, atomic_write, check_writable

from .reliability import EXAMPLE_SCENARIO, assert_clean_error, lewie, write


def _no_solving(monkeypatch):
    import lewie.runs.engine as engine

    def must_not_run(*a, **k):
        raise AssertionError("solved before the output was checked")
    monkeypatch.setattr(engine, "run_to_folder", must_not_run)


@pytest.mark.parametrize("where", ["a folder", "under a file", "read-only folder"])
def test_run_out_that_cannot_be_written_fails_before_solving(tmp_path, capsys, monkeypatch, where):
    _no_solving(monkeypatch)
    if where == "a folder":
        out, words = tmp_path, ("is a folder",)
    elif where == "under a file":
        blocker = write(tmp_path, "file.txt", "x")
        out, words = blocker / "r.nc", ("file.txt", "is a file, not a folder")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        os.chmod(ro, 0o555)
        if os.access(ro, os.W_OK) and os.geteuid() == 0:  # root writes anywhere: use a read-only mount
            if not os.path.isdir("/proc/sys") or os.access("/proc/sys/lewie-test", os.F_OK):
                pytest.skip("no read-only place to write to")
            out = "/proc/sys/lewie-test/r.nc"
        else:
            out = ro / "r.nc"
        words = ("cannot",)
    rc, _, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", out)
    assert_clean_error(rc, err, names=(str(out), *words))


def test_batch_out_that_is_a_file_fails_before_any_work(tmp_path, capsys):
    blocker = write(tmp_path, "file.txt", "x")
    rc, _, err = lewie(capsys, "batch", EXAMPLE_SCENARIO, "--out", blocker, "--no-progress")
    assert_clean_error(rc, err, names=("file.txt", "is a file, not a folder"))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_partial_one(tmp_path, monkeypatch):
    """A full disk in the middle of writing results: the error names the file and the reason, the
    previous results are intact, no temporary file is left."""
    from lewie.results.dataset import save_results
    ds = xr.Dataset({"x": ("i", [1.0, 2.0])}, attrs={"lewie_version": "test"})
    path = tmp_path / "r.nc"
    save_results(ds, path)
    before = path.read_bytes()

    def full_disk(ds, target, *a, **k):
        with open(target, "wb") as f:
            f.write(b"CDF\x01 partial")
        raise OSError(errno.ENOSPC, "No space left on device")
    import lewie.results.dataset
    monkeypatch.setattr(lewie.results.dataset, "_write_netcdf3", full_disk)  # results are written as netCDF3
    with pytest.raises(FileError, match=r"r\.nc: cannot write the results file: no space left"):
        save_results(ds * 2, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]


@pytest.fixture(scope="module")
def results():
    from lewie import run
    return run(EXAMPLE_SCENARIO)


def _write(writer, ds, target):
    if writer == "results":
        from lewie.results.dataset import save_results
        save_results(ds, target / "r.nc")
    elif writer == "report":
        from lewie.report.html_report import write_report
        write_report(ds, target / "r.html")
    elif writer == "xlsx":
        from lewie.results.paper_tables import export_xlsx
        export_xlsx(ds, target / "t.xlsx")
    elif writer == "csv":
        from lewie.results.export import export_csv
        export_csv(ds, target / "tables")
    else:
        from lewie.sam.io import read_sam, write_sam
        from .reliability import EXAMPLE_SAM
        write_sam(read_sam(EXAMPLE_SAM), target / "sam.xlsx")


@pytest.mark.parametrize("writer", ["results", "report", "xlsx", "csv", "sam"])
def test_every_writer_fails_cleanly_on_a_full_disk(tmp_path, monkeypatch, results, writer):
    """The disk fills up as a file is put in place: a `FileError` naming the file, and nothing left
    behind (no partial file, no temporary file)."""
    real_replace = os.replace

    def full(src, dst, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(FileError, match="no space left on the device"):
        _write(writer, results, tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    monkeypatch.setattr(os, "replace", real_replace)
    _write(writer, results, tmp_path)  # and it works when there is room
    assert [p for p in tmp_path.rglob("*") if p.is_file()] and not list(tmp_path.rglob(".*tmp*"))


def test_atomic_write_refuses_a_folder(tmp_path):
    with pytest.raises(FileError, match="is a folder"):
        with atomic_write(tmp_path):
            pass
    with pytest.raises(FileError, match="is a folder"):
        check_writable(tmp_path)


def test_an_output_folder_is_used_by_one_run_at_a_time(tmp_path, capsys):
    out = tmp_path / "out"
    with lock_folder(out, what="batch"):
        with pytest.raises(FolderInUse, match=rf"{out}: the folder is in use by another lewie batch \(process "
                                              rf"{os.getpid()}"):
            with lock_folder(out):
                pass
        rc, _, err = lewie(capsys, "batch", EXAMPLE_SCENARIO, "--out", out, "--draws", "2", "--no-progress")
        assert_clean_error(rc, err, names=(str(out), "in use by another lewie batch"))
    with lock_folder(out):  # released when the run ends
        pass


def test_the_lock_dies_with_its_process(tmp_path):
    """A run killed with SIGKILL leaves no stale lock: the operating system releases it."""
    import signal
    import subprocess
    import sys
    out = tmp_path / "out"
    code = ("import sys, time\nfrom lewie.runs.chunk_files import lock_folder\n"
            f"with lock_folder({str(out)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(FolderInUse):
            with lock_folder(out):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with lock_folder(out):  # the lock is non-blocking (LOCK_NB): entering at once proves the kill released it
        pass


def test_two_batches_in_one_folder_keep_each_others_chunks(tmp_path):
    """Cleaning up removes only this batch's chunk folders (keyed by the inputs' content)."""
    from lewie.runs.batch_plan import CHUNK_DIR, Chunk
    from lewie.runs.chunk_files import write_chunk
    out = tmp_path / "out"
    other = Chunk("other", "f" * 64, 0, 1)
    ds = xr.Dataset({"x": ("draw", [1.0, 2.0])}, coords={"draw": [0, 1]})
    p = write_chunk(ds, other, out)
    from lewie.runs.dask_batch import run_batch
    from .reliability import REPO
    run_batch([REPO / "scenarios" / "zambia_cgp.toml"], out, draws=1, chunk_size=1, n_workers=1, processes=False,
              progress=False, overwrite=True)
    assert p.exists() and (out / CHUNK_DIR).exists()
    assert (out / "zambia_cgp.nc").exists()
