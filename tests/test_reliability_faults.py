"""Faults (issue 11): `lewie batch` interrupted by SIGINT (Ctrl-C) or killed by SIGKILL mid-run keeps
every finished chunk; `--resume` then gives results identical (`xarray.testing.assert_identical`) to an
uninterrupted run. The batch runs as a real program in its own process group (so SIGKILL takes its
Dask workers too); the reference and the resumed run are in-process, which is faster."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr

from lewie.results.dataset import load_results

from lewie.runs.dask_batch import run_batch
from lewie.runs.batch_plan import CHUNK_DIR, MANIFEST

from .reliability import REPO

SCENARIO = REPO / "scenarios" / "example_village.toml"
DRAWS, CHUNK = 40, 1


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    outcome = run_batch([SCENARIO], out, draws=DRAWS, chunk_size=CHUNK, n_workers=1, processes=False,
                        progress=False)
    return load_results(outcome.outputs[0])


def _saved(out) -> int:
    """Chunks saved with their checksum (not the temporary files of a write cut short by SIGKILL)."""
    if not (out / CHUNK_DIR).exists():
        return 0
    return sum(1 for p in (out / CHUNK_DIR).rglob("draws-*.nc.sha256") if not p.name.startswith("."))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_batch_resumes_to_identical_results(tmp_path, reference, sig):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lewie.cli.main", "batch", str(SCENARIO), "--draws", str(DRAWS), "--chunk-size",
           str(CHUNK), "--workers", "1", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _saved(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, f"the batch ended before it could be interrupted: {proc.communicate()}"
        if sig == signal.SIGINT:
            proc.send_signal(signal.SIGINT)  # Ctrl-C reaches the client process
        else:
            os.killpg(proc.pid, signal.SIGKILL)  # the client and its workers, at once
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    saved = _saved(out)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, stderr
        assert "interrupted:" in stderr and "--resume" in stderr and "Traceback" not in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    assert 3 <= saved < DRAWS + 1 and (out / MANIFEST).exists()
    assert not (out / "example_village.nc").exists()
    resumed = run_batch([SCENARIO], out, draws=DRAWS, chunk_size=CHUNK, n_workers=1, processes=False,
                        progress=False, resume=True)
    assert len(resumed.reused) == saved and len(resumed.computed) + len(resumed.reused) == DRAWS + 1
    xr.testing.assert_identical(load_results(resumed.outputs[0]), reference)
