"""Faults of `lewie run --draws` (issue 11): SIGINT (Ctrl-C) and SIGKILL mid-run keep every finished
chunk of draws (the chunk files of `lewie batch`, with their checksums); `--resume` then gives results
identical (`xarray.testing.assert_identical`) to an uninterrupted run; a chunk damaged on disk (bytes
zeroed, checksum missing) is found on resume and computed again. The interrupted run is a real
program in its own process group, signalled once its first chunk is on disk; the reference and the
resumed runs are in-process (faster). The case has standard errors on its shares, so the draws differ.

Also: the folder lock `lewie run` shares with `lewie batch`, its progress line, and the warning of a
batch without parameter uncertainty (issue 12)."""
from __future__ import annotations

import io
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import xarray as xr

from lewie.runs.dask_batch import run_batch
from lewie.runs.batch_plan import CHUNK_DIR
from lewie.runs.chunk_files import FolderInUse, checksum_path, lock_folder, lock_output
from lewie.results.dataset import load_results
from lewie.results.uncertainty import NO_UNCERTAINTY

from .reliability import EXAMPLE_SAM, EXAMPLE_SCENARIO, assert_clean_error, lewie

DRAWS, CHUNK = 60, 1
N_CHUNKS = DRAWS // CHUNK + 1


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The example economy with standard errors on its shares (its template, filled in)."""
    from lewie.cli.main import run_main
    folder = tmp_path_factory.mktemp("case")
    shutil.copy(EXAMPLE_SAM, folder / "sam.csv")
    text = re.sub(r'^sam = ".*"$', 'sam = "sam.csv"', EXAMPLE_SCENARIO.read_text(), flags=re.M)
    (folder / "plain.toml").write_text(text)
    assert run_main(["params", "template", str(folder / "sam.csv"), "--scenario", str(folder / "plain.toml"),
                     "--out", str(folder / "parameters.csv")]) == 0
    table = pd.read_csv(folder / "parameters.csv", dtype=str, keep_default_na=False)
    table.loc[table["parameter"].isin(["factor_share", "budget_share"]), "se"] = "0.02"
    table.to_csv(folder / "parameters.csv", index=False)
    path = folder / "case.toml"
    path.write_text(text.replace('sam = "sam.csv"', 'sam = "sam.csv"\nparameters = "parameters.csv"', 1))
    return path


def _run_args(case, out, *extra) -> list[str]:
    return ["run", str(case), "--draws", str(DRAWS), "--chunk", str(CHUNK), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def reference(case, tmp_path_factory):
    from lewie.cli.main import run_main
    out = tmp_path_factory.mktemp("reference") / "r.nc"
    assert run_main(_run_args(case, out)) == 0
    ds = load_results(out)
    assert float(ds["income"].std("draw").max()) > 0  # the draws differ: identity is a real check
    return ds


def _chunks(out_file):
    """The run's chunk files saved with their checksum (not a write cut short)."""
    folder = out_file.parent / CHUNK_DIR
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("draws-*.nc") if not p.name.startswith(".") and checksum_path(p).exists())


def _interrupt(case, out, sig) -> tuple[int, str]:
    """Start `lewie run` as a program, wait for its first saved chunk, signal it: (exit code, stderr)."""
    cmd = [sys.executable, "-m", "lewie.cli.main", *_run_args(case, out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not _chunks(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, f"the run ended before it could be interrupted: {proc.communicate()}"
        if sig == signal.SIGINT:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_run_resumes_to_identical_results(tmp_path, capsys, case, reference, sig):
    out = tmp_path / "out" / "r.nc"
    rc, stderr = _interrupt(case, out, sig)
    saved = _chunks(out)
    assert 1 <= len(saved) < N_CHUNKS and not out.exists()
    if sig == signal.SIGINT:
        assert rc == 130, stderr
        assert "Traceback" not in stderr and "internal error" not in stderr, stderr
        m = re.search(r"interrupted: (\d+) of (\d+) chunks of draws are saved in (\S+);", stderr)
        assert m, stderr
        assert (int(m.group(1)), int(m.group(2))) == (len(saved), N_CHUNKS)
        assert m.group(3) == str(saved[0].parent)
        resume = re.search(r"^  lewie (run .*)$", stderr, flags=re.M).group(1).split()
        assert resume == _run_args(case, out, "--resume")  # the command to type, printed
        assert not (out.parent / ".lewie.lock").exists() and not (out.parent / ".r.lewie.lock").exists()
    else:
        assert rc == -signal.SIGKILL
    rc, _, err = lewie(capsys, *_run_args(case, out, "--resume"))
    assert rc == 0, err
    xr.testing.assert_identical(load_results(out), reference)
    assert not (out.parent / CHUNK_DIR).exists()  # merged, then removed


def test_a_damaged_chunk_is_found_on_resume_and_computed_again(tmp_path, capsys, caplog, case, reference):
    out = tmp_path / "out" / "r.nc"
    rc, stderr = _interrupt(case, out, signal.SIGKILL)
    assert rc == -signal.SIGKILL, stderr
    saved = _chunks(out)
    assert len(saved) >= 1
    zeroed = saved[0]
    data = bytearray(zeroed.read_bytes())
    data[-128:-64] = bytes(64)  # a bad sector in the numbers (after the header): the file still opens
    zeroed.write_bytes(bytes(data))
    xr.open_dataset(zeroed, engine="scipy").close()
    damaged = [zeroed]
    if len(saved) >= 2:  # killed between writing a chunk and its checksum
        checksum_path(saved[1]).unlink()
        damaged.append(saved[1])
    with caplog.at_level(logging.WARNING, logger="lewie"):
        rc, _, err = lewie(capsys, *_run_args(case, out, "--resume", "--keep-chunks"))
    assert rc == 0, err
    for path in damaged:
        assert re.search(rf"chunk file {re.escape(str(path))} will be computed again: .*"
                         rf"(damaged|no checksum)", caplog.text), caplog.text
    xr.testing.assert_identical(load_results(out), reference)
    from lewie.runs.chunk_files import verify_checksum
    assert all(verify_checksum(p) is None for p in damaged)  # written again, with a checksum


# ------------------------------------------------------------------------------------------------
# the lock of the output folder
# ------------------------------------------------------------------------------------------------
def test_a_run_and_a_batch_share_the_lock_of_a_folder(tmp_path, capsys):
    out = tmp_path / "out"
    with lock_folder(out, what="batch"):  # a batch holds the folder: a run there is refused
        rc, _, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", out / "r.nc")
        assert_clean_error(rc, err, names=(str(out), "in use by another lewie batch"))
    assert not (out / "r.nc").exists()
    with lock_output(out / "r.nc"):  # a run writing r.nc: another run writing it is refused ...
        rc, _, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", out / "r.nc")
        assert_clean_error(rc, err, names=(str(out), "in use by another lewie run"))
        rc, _, err = lewie(capsys, "batch", EXAMPLE_SCENARIO, "--out", out, "--no-progress")  # ... and a batch
        assert_clean_error(rc, err, names=(str(out), "in use by another lewie run"))
        rc, _, err = lewie(capsys, "run", EXAMPLE_SCENARIO, "--out", out / "other.nc")  # another file: fine
        assert rc == 0, err
    assert (out / "other.nc").exists() and sorted(p.name for p in out.iterdir()) == ["other.nc"]
    with lock_folder(out, what="batch"):  # every lock released, and no lock file left behind
        pass


def test_a_shared_lock_is_kept_while_another_run_holds_it(tmp_path):
    out = tmp_path / "out"
    with lock_output(out / "a.nc"):
        with lock_output(out / "b.nc"):
            pass
        with pytest.raises(FolderInUse, match="in use by another lewie run"):  # a's run still holds it
            with lock_folder(out, what="batch"):
                pass
    with lock_folder(out, what="batch"):
        pass


# ------------------------------------------------------------------------------------------------
# progress of a long run
# ------------------------------------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_run_shows_its_progress_on_a_terminal_and_not_in_a_short_log(tmp_path):
    from lewie.runs.engine import run_to_folder
    tty = _Terminal()
    run_to_folder(EXAMPLE_SCENARIO, tmp_path, stem="a", draws=4, chunk=2, stream=tty)
    lines = tty.getvalue().split("\r")
    assert lines[0].startswith("run [------------------------] 0/3 chunks")
    assert re.match(r"run \[#+\] 3/3 chunks  [\d,.]+ draws/s  elapsed \d:\d\d:\d\d  left \d:\d\d:\d\d *\n$",
                    lines[-1]), lines
    log = io.StringIO()  # not a terminal, a short run: nothing
    run_to_folder(EXAMPLE_SCENARIO, tmp_path, stem="b", draws=4, chunk=2, stream=log)
    assert log.getvalue() == ""
    quiet = _Terminal()
    run_to_folder(EXAMPLE_SCENARIO, tmp_path, stem="c", draws=4, chunk=2, stream=quiet, progress=False)
    assert quiet.getvalue() == ""


def test_a_long_run_reports_progress_in_a_log(tmp_path, monkeypatch):
    import lewie.runs.engine
    from lewie.runs.engine import run_to_folder
    monkeypatch.setattr(lewie.runs.engine, "PROGRESS_QUIET_SECONDS", 0.0)  # as if it had lasted
    log = io.StringIO()
    run_to_folder(EXAMPLE_SCENARIO, tmp_path, stem="a", draws=4, chunk=2, stream=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("run [") and " 0/3 chunks" in lines[0] and lines[-1].split()[2] == "3/3"


# ------------------------------------------------------------------------------------------------
# issue 12: a batch without parameter uncertainty warns, as `lewie run` does
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("uncertain", [False, True], ids=["no-se", "with-se"])
def test_a_batch_without_parameter_uncertainty_warns(tmp_path, caplog, case, uncertain):
    scenario = case if uncertain else EXAMPLE_SCENARIO
    with caplog.at_level(logging.WARNING, logger="lewie"):
        outcome = run_batch([scenario], tmp_path / "out", draws=3, n_workers=1, processes=False, progress=False)
    warned = [r.getMessage() for r in caplog.records if NO_UNCERTAINTY in r.getMessage()]
    assert outcome.plan.scenarios[0].uncertain is uncertain
    if uncertain:
        assert warned == []
    else:
        assert len(warned) == 1 and str(scenario) in warned[0] and "standard errors" in warned[0]


def test_the_batch_command_says_which_results_have_no_bands(tmp_path, capsys, caplog, case):
    with caplog.at_level(logging.WARNING, logger="lewie"):
        rc, out, err = lewie(capsys, "batch", EXAMPLE_SCENARIO, case, "--draws", "2", "--workers", "1",
                             "--out", tmp_path / "out", "--no-progress")
    assert rc == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines[str(tmp_path / "out" / "example_village.nc")].endswith(f"({NO_UNCERTAINTY})")
    assert NO_UNCERTAINTY not in lines[str(tmp_path / "out" / "case.nc")]
    assert NO_UNCERTAINTY in caplog.text
