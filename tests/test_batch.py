"""`lewie batch`: scenarios × variants × draws on dask.distributed, chunk by chunk, resumable.

The distributed runs are compared with a plain in-process run of the same draws
(`lewie.runs.montecarlo.run_draws`): a worker killed mid-batch, an interrupted batch resumed, any chunk
size and 1 or 2 workers must all give identical results.
"""
from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import socket
from pathlib import Path

import pytest
import xarray as xr
from click.testing import CliRunner

from lewie.runs.dask_batch import BatchInterrupted, Progress, dask_client, run_batch
from lewie.runs.batch_plan import CHUNK_DIR, MANIFEST, plan_batch, scenario_key
from lewie.cli.batch_commands import batch_cmd
from lewie.errors import InputError
from lewie.runs.montecarlo import run_draws
from lewie.results.dataset import load_results, save_results

REPO = Path(__file__).resolve().parents[1]
ZAMBIA = REPO / "scenarios" / "zambia_cgp.toml"
LESOTHO = REPO / "scenarios" / "lesotho_cgp_springs.toml"
BATCH_ATTRS = ("scenario_key", "batch_draws")


def reference(scenario, tmp_path: Path) -> xr.Dataset:
    """A plain in-process run of the same draws (`lewie.runs.montecarlo.run_draws`), written like any results."""
    ds = run_draws(scenario)
    return load_results(save_results(ds, tmp_path / f"reference-{Path(scenario.source).stem}.nc"))


def batch_result(path: Path) -> xr.Dataset:
    ds = load_results(path)
    for a in BATCH_ATTRS:
        ds.attrs.pop(a)
    return ds


@pytest.fixture(scope="module")
def threads_client():
    """An in-process cluster of two single-threaded workers (fast to start) for most tests."""
    with dask_client(n_workers=2, processes=False) as client:
        yield client


# ------------------------------------------------------------------------------------------------
# plan and bad input
# ------------------------------------------------------------------------------------------------
def _bad_copy(tmp_path: Path, text_from: Path, old: str, new: str, name: str) -> Path:
    """A copy of a scenario file (data paths made absolute) with ``old`` replaced by ``new``."""
    text = text_from.read_text(encoding="utf-8").replace('"../sam/', f'"{REPO}/sam/')
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_bad_scenario_file_stops_the_batch_before_any_work(tmp_path):
    bad_key = _bad_copy(tmp_path, ZAMBIA, "[labour_supply]", "[labor_supply]", "bad_key.toml")
    bad_label = _bad_copy(tmp_path, ZAMBIA, 'households = ["eligible"]', 'households = ["eligble"]', "bad_label.toml")
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        run_batch([ZAMBIA, bad_key, bad_label], out, draws=4)
    msg = str(err.value)
    assert "2 scenario files failed validation; nothing was run" in msg
    assert "bad_key.toml" in msg and "labor_supply" in msg
    assert "bad_label.toml" in msg and "eligble" in msg and "did you mean 'eligible'" in msg
    assert "zambia_cgp.toml" not in msg
    assert not out.exists()  # no manifest, no chunk, no cluster


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(InputError, match=f"cannot reach the Dask scheduler at '{address}' within 3 s"):
        run_batch([ZAMBIA], tmp_path / "out", draws=2, scheduler=address)
    assert not (tmp_path / "out").exists()  # nothing written: the same command works once the scheduler is up


def test_chunks_are_keyed_by_inputs_seed_and_draws(tmp_path):
    sam = REPO / "sam" / "data" / "zambia_cgp"
    plan = plan_batch([ZAMBIA], tmp_path, draws=10, chunk_size=4)
    sc = plan.scenarios[0].scenario
    assert [(c.first, c.last) for c in plan.chunks] == [(0, 3), (4, 7), (8, 10)]
    key = plan.scenarios[0].key
    assert scenario_key(sc, seed=sc.montecarlo.seed) == key
    assert plan_batch([ZAMBIA], tmp_path, draws=30).scenarios[0].key != key  # the results record N
    assert plan_batch([ZAMBIA], tmp_path, draws=10, seed=1).scenarios[0].key != key
    # a copy of the data elsewhere: another key (the results record the paths); a number changed: another
    copy = tmp_path / "data"
    shutil.copytree(sam, copy)
    moved = _bad_copy(tmp_path, ZAMBIA, f'"{sam}/', f'"{copy}/', "zambia_cgp.toml")
    moved_key = plan_batch([moved], tmp_path, draws=10).scenarios[0].key
    assert moved_key != key and plan_batch([moved], tmp_path, draws=10).scenarios[0].key == moved_key
    text = (copy / "parameters.csv").read_text()
    (copy / "parameters.csv").write_text(text.replace("0.05", "0.06", 1))
    assert plan_batch([moved], tmp_path, draws=10).scenarios[0].key not in (key, moved_key)


def test_progress_line_shows_chunks_rate_and_time_left():
    stream = io.StringIO()
    bar = Progress(10, 100, done_chunks=2, stream=stream, min_interval=0)
    bar.t0 -= 2.0  # two seconds in
    bar.update(10, force=True)
    line = stream.getvalue().strip()
    assert "3/10 chunks" in line and "draws/s" in line and "left 0:00:" in line and "elapsed 0:00:02" in line


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow  # Zambia / Lesotho end to end
def test_one_file_per_scenario_identical_to_in_process_solves(tmp_path, threads_client):
    out = tmp_path / "out"
    outcome = run_batch([ZAMBIA, LESOTHO], out, draws=9, chunk_size=4, client=threads_client, progress=False)
    assert [p.name for p in outcome.outputs] == ["zambia_cgp.nc", "lesotho_cgp_springs.nc"]
    assert len(outcome.computed) == 6 and not outcome.reused
    assert not (out / CHUNK_DIR).exists()  # merged, then removed
    assert (out / MANIFEST).exists()
    for sp, path in zip(outcome.plan.scenarios, outcome.outputs):
        got = batch_result(path)
        assert list(got["draw"].values) == list(range(10))
        assert list(got["variant"].values) == sp.variants
        xr.testing.assert_identical(got, reference(sp.scenario, tmp_path))


@pytest.mark.slow  # Zambia / Lesotho end to end
def test_results_do_not_depend_on_the_number_of_workers(tmp_path, threads_client):
    two = run_batch([LESOTHO], tmp_path / "two", draws=9, chunk_size=3, client=threads_client, progress=False)
    with dask_client(n_workers=1, processes=False) as one_client:
        one = run_batch([LESOTHO], tmp_path / "one", draws=9, chunk_size=3, client=one_client, progress=False)
    xr.testing.assert_identical(load_results(one.outputs[0]), load_results(two.outputs[0]))


@pytest.mark.slow  # Zambia / Lesotho end to end
def test_results_do_not_depend_on_the_chunk_size(tmp_path, threads_client):
    small = run_batch([ZAMBIA], tmp_path / "small", draws=12, chunk_size=5, client=threads_client, progress=False)
    single = run_batch([ZAMBIA], tmp_path / "single", draws=12, chunk_size=1, client=threads_client, progress=False)
    whole = reference(small.plan.scenarios[0].scenario, tmp_path)  # one in-process solve of draws 0..12
    xr.testing.assert_identical(batch_result(small.outputs[0]), whole)
    xr.testing.assert_identical(batch_result(single.outputs[0]), whole)


# ------------------------------------------------------------------------------------------------
# interruption and resume
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow  # Zambia / Lesotho end to end
def test_an_interrupted_batch_resumes_computing_only_the_missing_chunks(tmp_path):
    out = tmp_path / "out"
    done = []

    def interrupt(report):
        done.append(report["ident"])
        if len(done) == 2:
            raise KeyboardInterrupt  # as Ctrl-C would, after two chunks

    with pytest.raises(BatchInterrupted, match="--resume") as err:
        run_batch([ZAMBIA, LESOTHO], out, draws=9, chunk_size=4, n_workers=1, processes=False, progress=False,
                  on_chunk=interrupt)
    assert err.value.total == 6 and 2 <= err.value.saved < 6
    saved = {p.relative_to(out) for p in (out / CHUNK_DIR).rglob("*.nc")}  # (each scenario has its folder)
    assert len(saved) == err.value.saved
    assert not list(out.glob("*.nc"))  # nothing merged yet

    with pytest.raises(InputError, match="--resume"):  # the same folder again without --resume
        run_batch([ZAMBIA, LESOTHO], out, draws=9, chunk_size=4, n_workers=1, processes=False, progress=False)

    resumed = run_batch([ZAMBIA, LESOTHO], out, draws=9, chunk_size=4, n_workers=1, processes=False,
                        progress=False, resume=True)
    assert len(resumed.reused) == len(saved) and len(resumed.computed) == 6 - len(saved)
    assert set(resumed.computed).isdisjoint(resumed.reused)

    whole = run_batch([ZAMBIA, LESOTHO], tmp_path / "whole", draws=9, chunk_size=4, n_workers=1, processes=False,
                      progress=False)
    for a, b in zip(resumed.outputs, whole.outputs):
        xr.testing.assert_identical(load_results(a), load_results(b))

    # resuming a finished batch does nothing; resuming another batch is refused
    again = run_batch([ZAMBIA, LESOTHO], out, draws=9, chunk_size=4, n_workers=1, processes=False,
                      progress=False, resume=True)
    assert again.computed == [] and len(again.reused) == 6
    with pytest.raises(InputError, match=r"not the one asked for \(draws: 9 in the folder, 12 now"):
        run_batch([ZAMBIA, LESOTHO], out, draws=12, chunk_size=4, resume=True)
    with pytest.raises(InputError, match="scenario 'lesotho_cgp_springs' is in the folder's batch but not"):
        run_batch([ZAMBIA], out, draws=9, chunk_size=4, resume=True)


@pytest.mark.slow  # Zambia / Lesotho end to end
def test_a_damaged_chunk_file_is_recomputed_on_resume(tmp_path, threads_client):
    out = tmp_path / "out"
    first = run_batch([ZAMBIA], out, draws=7, chunk_size=4, client=threads_client, progress=False, keep_chunks=True)
    chunk = first.plan.chunks[1].path(out)
    chunk.write_bytes(chunk.read_bytes()[:100])  # a machine lost while copying, a full disk...
    first.outputs[0].unlink()
    again = run_batch([ZAMBIA], out, draws=7, chunk_size=4, client=threads_client, progress=False, resume=True)
    assert again.computed == [first.plan.chunks[1].ident] and len(again.reused) == 1
    xr.testing.assert_identical(batch_result(again.outputs[0]),
                                reference(first.plan.scenarios[0].scenario, tmp_path))


# ------------------------------------------------------------------------------------------------
# a worker killed mid-batch
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow  # Zambia / Lesotho end to end
def test_a_worker_killed_mid_batch_is_replaced_and_results_are_identical(tmp_path):
    from dask.distributed import Client, LocalCluster
    killed: dict[str, int] = {}
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:

        def kill_a_busy_worker(report):
            if killed:
                return
            busy = [w for w, keys in client.processing().items() if keys]
            if not busy:
                return
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            os.kill(pid, signal.SIGKILL)  # the worker process dies mid-chunk, as on a lost machine
            killed[busy[0]] = pid

        outcome = run_batch([ZAMBIA], out, draws=20, chunk_size=3, client=client, progress=False,
                            on_chunk=kill_a_busy_worker)
        pids_now = set(client.run(os.getpid).values())
    assert killed, "no worker was busy when the first chunk finished"
    assert not set(killed.values()) & pids_now  # the killed process is gone (its nanny started another)
    assert len(outcome.computed) == 7
    sp = outcome.plan.scenarios[0]
    xr.testing.assert_identical(batch_result(outcome.outputs[0]), reference(sp.scenario, tmp_path))


# ------------------------------------------------------------------------------------------------
# command line
# ------------------------------------------------------------------------------------------------
@pytest.mark.slow  # Zambia / Lesotho end to end
def test_cli_batch_runs_and_refuses_to_overwrite_without_resume(tmp_path):
    args = [str(ZAMBIA), "--draws", "3", "--chunk-size", "2", "--workers", "1", "--out", str(tmp_path / "res"),
            "--no-progress"]
    runner = CliRunner()
    result = runner.invoke(batch_cmd, args)
    assert result.exit_code == 0, result.output
    assert "1 scenario, 1 variant, draws 0..3: 2 chunks solved, 0 reused" in result.output
    assert load_results(tmp_path / "res" / "zambia_cgp.nc").sizes["draw"] == 4
    again = runner.invoke(batch_cmd, args)
    assert isinstance(again.exception, InputError) and "--resume" in str(again.exception)
    resumed = runner.invoke(batch_cmd, args + ["--resume"])
    assert resumed.exit_code == 0 and "0 chunks solved, 2 reused" in resumed.output
