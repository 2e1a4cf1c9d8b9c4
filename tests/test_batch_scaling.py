"""What makes `lewie batch` scale (issue 14): the chunk merge, chunk files read once, the default
chunk size recorded in the manifest, and Dask workers without the nanny's allocator setting.

Speed itself is measured by benchmarks/batch_scaling.py; these tests check the behaviour the
speed-ups must keep: the same merged results as xarray's own concat and reader, resume with the
batch's own chunk size, errors for chunks that do not belong together.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import lewie.runs.batch_plan as P
import lewie.runs.chunk_files as C
import lewie.runs.dask_batch as B
from lewie.errors import LewieError
from lewie.runs.chunks import merge_draws

REPO = Path(__file__).resolve().parents[1]
ZAMBIA = REPO / "scenarios" / "zambia_cgp.toml"
LESOTHO = REPO / "scenarios" / "lesotho_cgp_springs.toml"


def _chunk(first: int, last: int, *, note: str = "", order: int = 0) -> xr.Dataset:
    """A chunk of draws shaped like a solver's: draw and non-draw variables, strings, ints, bools."""
    draws = np.arange(first, last + 1)
    n = draws.size
    rng = np.random.default_rng(first)
    data = {
        "value": (("variant", "draw", "good"), rng.normal(size=(2, n, 3))),
        "status": (("variant", "draw"), np.array([["converged"] * n, ["failed: x"] * n], dtype=object)),
        "iterations": (("variant", "draw"), np.full((2, n), first, dtype=np.int64)),
        "verified": (("draw",), draws % 2 == 0),
        "note": (("draw",), np.array([note * (d % 3) for d in draws])),  # <U0.. <Un: lengths differ by chunk
        "cost": (("variant",), np.array([1.5, 2.5])),
    }
    if order:
        data = dict(reversed(list(data.items())))  # a chunk may list its variables in another order
    ds = xr.Dataset(data, coords={"variant": ["a", "b"], "draw": draws, "good": ["x", "y", "z"],
                                  "group_size": ("good", [1.0, np.nan, 3.0])})
    ds["value"].attrs["units"] = "SAM currency"
    ds.attrs = {"title": "t", "solver_iterations": int(first), "max_relative_residual": float(first) * 1e-15}
    return ds


def _xarray_concat(parts):
    parts = sorted(parts, key=lambda d: int(d["draw"].values[0]))
    return xr.concat([p.drop_attrs(deep=False) for p in parts], dim="draw", data_vars="minimal", coords="minimal",
                     compat="equals", join="exact", combine_attrs="override").drop_encoding()


def test_merge_is_xarrays_concat_variable_by_variable():
    parts = [_chunk(4, 6, note="long note", order=1), _chunk(0, 3, note="n"), _chunk(7, 7)]
    merged = merge_draws(parts)
    want = _xarray_concat(parts)
    xr.testing.assert_identical(merged.drop_attrs(deep=False), want.drop_attrs(deep=False))
    assert list(merged.variables) == list(want.variables) and list(merged.coords) == list(want.coords)
    assert all(merged[n].dtype == want[n].dtype for n in want.variables)  # '<U18': the longest string
    assert merged.attrs == {"title": "t", "solver_iterations": 11, "max_relative_residual": 7e-15}
    assert [int(d) for d in merged["draw"]] == list(range(8))


def test_merge_refuses_chunks_whose_draw_free_variables_differ():
    a, b = _chunk(0, 1), _chunk(2, 3)
    b["cost"] = ("variant", np.array([1.5, 9.0]))
    with pytest.raises(LewieError, match="'cost'.*differs between chunks"):
        merge_draws([a, b])


def test_merge_of_chunks_laid_out_differently_falls_back_to_xarray():
    a, b = _chunk(0, 1), _chunk(2, 3)
    b["iterations"] = b["iterations"].astype(float)  # another dtype: xarray promotes (its rules)
    merged = merge_draws([a, b])
    assert merged["iterations"].dtype == np.float64 and merged.sizes["draw"] == 4


def _old_read_chunk(path):
    """The reader as it was: xr.open_dataset, then the recorded dtypes restored."""
    with xr.open_dataset(path, engine="scipy") as f:
        ds = f.load()
    ds.attrs.pop(C._ORDER_ATTR, None)
    for name, dt in json.loads(ds.attrs.pop(C._DTYPES_ATTR, "{}")).items():
        if ds[name].dtype.str != dt:
            ds[name] = ds[name].astype(np.dtype(dt))
    return ds


def test_a_chunk_file_reads_back_as_xarray_reads_it(tmp_path):
    chunk = P.Chunk("s", "k" * 64, 0, 3)
    ds = _chunk(0, 3, note="abc")
    path = C.write_chunk(ds, chunk, tmp_path)
    got, want = C.read_chunk(path), _old_read_chunk(path)
    xr.testing.assert_identical(got, want)
    assert list(got.variables) == list(ds.variables)  # the solver's order, recorded (the file's is by shape)
    assert got["iterations"].dtype == np.int64 and got["verified"].dtype == bool
    assert C.chunk_is_done(chunk, tmp_path)
    assert not C.chunk_is_done(P.Chunk("s", "k" * 64, 0, 2), tmp_path)  # not this draw range (another path)
    other = P.Chunk("s", "k" * 64, 0, 3)
    object.__setattr__(other, "key", "k" * 16 + "j" * 48)  # same path, another batch's chunk
    assert not C.chunk_is_done(other, tmp_path)


@pytest.mark.parametrize("draws, scenarios, workers, size", [
    (400, 16, 2, 401),   # many scenarios: each one chunk (one task writing its results file)
    (1000, 16, 2, 501),  # at most 1000, evened out: 501 + 500, not 1000 + 1
    (2500, 16, 2, 834),
    (9, 1, 2, 3),        # one scenario, two workers: two chunks per worker
    (400, 1, 1, 201),
    (0, 3, 8, 1),        # the point estimates alone: one chunk of one draw
    (100, 2, 8, 13),     # few scenarios, many workers: 8 chunks each
])
def test_default_chunk_size(draws, scenarios, workers, size):
    assert P.default_chunk_size(draws, scenarios, workers) == size
    n_chunks = -(-(draws + 1) // size)
    assert size <= P.MAX_CHUNK_SIZE and n_chunks * scenarios >= min(P.CHUNKS_PER_WORKER * workers,
                                                                    (draws + 1) * scenarios)


def test_resume_uses_the_chunk_size_in_the_manifest(tmp_path):
    out = tmp_path / "out"
    first = B.run_batch([ZAMBIA], out, draws=5, n_workers=1, processes=False, progress=False, keep_chunks=True)
    assert first.plan.chunk_size == P.default_chunk_size(5, 1, 1) == 3
    assert json.loads((out / P.MANIFEST).read_text())["chunk_size"] == 3
    # resumed where the default would now differ (more workers): the batch's own chunks are reused
    again = B.run_batch([ZAMBIA], out, draws=5, n_workers=3, processes=False, progress=False, resume=True)
    assert again.plan.chunk_size == 3 and again.computed == [] and len(again.reused) == 2


def test_local_workers_run_without_the_nannys_malloc_trim_threshold():
    import dask
    with B.worker_settings():
        environ = dask.config.get("distributed.nanny.pre-spawn-environ")
        assert "MALLOC_TRIM_THRESHOLD_" not in environ
        assert environ.get("OPENBLAS_NUM_THREADS") == 1  # the other settings kept
        assert dask.config.get("distributed.worker.profile.enabled") is False
    assert "MALLOC_TRIM_THRESHOLD_" in dask.config.get("distributed.nanny.pre-spawn-environ")  # restored


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False


def test_allocator_defaults_only_where_a_nanny_set_the_variable(monkeypatch):
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    assert B._allocator_defaults() is False
    if not _glibc():
        pytest.skip("mallopt is glibc's")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    assert B._allocator_defaults() is True


def test_tasks_place_split_scenarios_on_one_worker_and_larger_work_first(tmp_path):
    """A scenario in several chunks goes to one worker (the least loaded so far), a scenario in one
    chunk wherever the scheduler finds a free worker; a task's priority is its work (larger first),
    and writes come before any solve."""
    myanmar = REPO / "scenarios" / "myanmar_aqua.toml"
    plan = P.plan_batch([ZAMBIA, myanmar], tmp_path / "p", draws=3, chunk_size=2)
    zambia, aqua = plan.scenarios
    assert aqua.size > zambia.size  # more goods and factors per household group

    class Client:  # records what would be submitted
        def __init__(self):
            self.calls = []

        def scheduler_info(self):
            return {"workers": {"w2": {}, "w1": {}}}

        def run(self, fn):
            return {"w1": fn(), "w2": fn()}

        def submit(self, fn, *args, **kw):
            self.calls.append((fn, args, kw))
            return len(self.calls)

    client = Client()
    tasks = B._Tasks(client, tmp_path / "out", n_scenarios=2, retries=0, solve=None)
    tasks.solve(aqua)
    tasks.solve(zambia)
    homes = [kw.get("workers") for _, _, kw in client.calls]
    assert homes == [["w1"], ["w1"], ["w2"], ["w2"]]  # each split scenario on one worker, the larger first
    assert all(kw["allow_other_workers"] for _, _, kw in client.calls)
    prio = [kw["priority"] for _, _, kw in client.calls]
    assert prio[0] == prio[1] > prio[2] == prio[3] > 0
    assert all(args[2] is None and kw["simulation"] is sp.simulation  # the validation's calibrated simulation
               for (_, args, kw), sp in zip(client.calls, [aqua, aqua, zambia, zambia]))
    assert all(kw["out"] == str(tmp_path / "out") and kw["run"] == tasks.run for _, _, kw in client.calls)
    assert [kw["final"] for _, _, kw in client.calls] == [False] * 4  # chunk files, merged by the client
    solved = next(iter(tasks.chunks))
    tasks.write(solved)  # a chunk solved before the batch started: written where its results are
    fn, args, kw = client.calls[-1]
    assert fn is B.write_result and args[0] == solved and kw["priority"] > max(prio) and "workers" not in kw
    assert solved not in tasks.chunks and len(tasks.chunks) == 4
    whole = P.plan_batch([ZAMBIA], tmp_path / "w", draws=3, chunk_size=4)
    client.calls.clear()
    B._Tasks(client, tmp_path / "out", n_scenarios=2, retries=0, solve=None).solve(whole.scenarios[0])
    assert len(client.calls) == 1 and "workers" not in client.calls[0][2]  # one task: the scheduler places it
    assert client.calls[0][2]["final"]  # which writes the scenario's results file


@pytest.mark.parametrize("scenario", [ZAMBIA, LESOTHO], ids=["zambia", "lesotho"])
def test_a_scenario_in_one_chunk_is_written_by_its_worker_as_the_merge_would(tmp_path, scenario):
    """A scenario whose draws fit in one chunk is one task writing its results file: the bytes the
    client's merge of the chunk file gives, no chunk file, and done on a second try."""
    whole = P.plan_batch([scenario], tmp_path / "whole", draws=4, chunk_size=5)
    sp, = whole.scenarios
    assert B._is_whole(sp) and len(sp.chunks) == 1
    report = B.write_result(B.solve_chunk(sp.scenario, sp.chunks[0], simulation=sp.simulation), sp.chunks[0],
                            str(whole.out), final=True)
    assert report["computed"] and report["final"] and not (whole.out / P.CHUNK_DIR).exists()
    merged = P.plan_batch([scenario], tmp_path / "merged", draws=4, chunk_size=5)
    mp, = merged.scenarios
    B.write_result(B.solve_chunk(mp.scenario, mp.chunks[0]), mp.chunks[0], str(merged.out))  # a chunk file,
    B.merge_scenario(mp, merged)                                                                 # then the merge
    assert sp.output(whole.out).read_bytes() == mp.output(merged.out).read_bytes()
    assert (report["uncertain"], tuple(report["failed"])) == (mp.uncertain, mp.failed)
    assert B._output_is_done(sp, whole)


def test_a_batch_of_whole_scenarios_merges_nothing_and_resumes(tmp_path):
    out = tmp_path / "out"
    first = B.run_batch([ZAMBIA, LESOTHO], out, draws=3, chunk_size=4, n_workers=1, processes=False, progress=False,
                        keep_chunks=True)
    assert len(first.computed) == 2 and first.merged == {sp.key for sp in first.plan.scenarios}
    assert not (out / P.CHUNK_DIR).exists()  # no chunk files at all, even kept
    assert all(sp.uncertain is not None and sp.failed is not None for sp in first.plan.scenarios)
    split = B.run_batch([ZAMBIA, LESOTHO], tmp_path / "split", draws=3, chunk_size=2, n_workers=1, processes=False,
                        progress=False)
    from lewie.results.dataset import load_results
    for a, b in zip(first.outputs, split.outputs):  # the same results whoever wrote them, whatever the chunks
        xr.testing.assert_identical(load_results(a), load_results(b))
    kept = (out / "lesotho_cgp_springs.nc").read_bytes()
    (out / "zambia_cgp.nc").write_bytes(b"CDF\x02 cut short")  # a results file that does not read back
    again = B.run_batch([ZAMBIA, LESOTHO], out, draws=3, n_workers=1, processes=False, progress=False, resume=True)
    assert len(again.computed) == 1 and len(again.reused) == 1 and again.merged == {first.plan.scenarios[0].key}
    assert (out / "lesotho_cgp_springs.nc").read_bytes() == kept  # done: not written again
    xr.testing.assert_identical(load_results(out / "zambia_cgp.nc"), load_results(split.outputs[0]))


def test_workers_solve_validated_scenarios_while_the_client_validates_the_rest(tmp_path):
    from lewie.errors import InputError
    bad = tmp_path / "bad.toml"
    bad.write_text("this is not [toml\n")
    text = ZAMBIA.read_text(encoding="utf-8").replace('"../sam/', f'"{REPO}/sam/')
    assert 'households = ["eligible"]' in text
    bad_label = tmp_path / "bad_label.toml"  # found by the deep validation (the economy's labels), not the schema
    bad_label.write_text(text.replace('households = ["eligible"]', 'households = ["eligble"]'), encoding="utf-8")
    with B.dask_client(n_workers=1, processes=False) as client:
        B._SOLVERS.clear()
        started = []
        real = B._Tasks.solve

        def solve(self, sp, chunks=None):
            started.append(sp.stem)
            return real(self, sp, chunks)

        B._Tasks.solve = solve
        try:
            with pytest.raises(InputError, match="bad_label.toml"):  # validation stops the batch, naming the file
                B.run_batch([ZAMBIA, LESOTHO, bad_label], tmp_path / "out", draws=2, client=client, progress=False)
            assert started == ["zambia_cgp", "lesotho_cgp_springs"]  # solved (or solving) meanwhile
            assert not (tmp_path / "out").exists()  # but nothing written
            started.clear()
            started.clear()
            with pytest.raises(InputError, match="bad.toml"):  # files in turn: ZAMBIA is started, then cancelled
                B.run_batch([ZAMBIA, bad], tmp_path / "out", draws=2, client=client, progress=False)
            assert started == ["zambia_cgp"] and not (tmp_path / "out").exists()
            started.clear()
            with pytest.raises(InputError, match="bad.toml"):  # each file's own draws: every schema read first,
                B.run_batch([ZAMBIA, bad], tmp_path / "out", client=client, progress=False)  # nothing started
            assert started == [] and not (tmp_path / "out").exists()
        finally:
            B._Tasks.solve = real
        reports = []
        outcome = B.run_batch([ZAMBIA, LESOTHO], tmp_path / "ok", draws=2, client=client, progress=False,
                              on_chunk=reports.append)
        assert len(reports) == 2 and {r["ident"] for r in reports} == {c.ident for c in outcome.plan.chunks}
        assert all(r["final"] for r in reports)


def test_a_worker_builds_from_the_validations_simulation_as_from_the_scenario(tmp_path):
    """`MonteCarlo` of the client's calibrated simulation (what a batch's workers get) gives the same
    results as `MonteCarlo` of the scenario, and leaves the simulation as it was (calibrated)."""
    from lewie.runs.montecarlo import MonteCarlo
    sp, = P.plan_batch([LESOTHO], tmp_path / "p", draws=3).scenarios
    sim = sp.simulation
    assert sim.stage == "calibrated"
    a = MonteCarlo(sim).solve(0, 3)
    b = MonteCarlo(sim).solve(0, 3)  # built again from the same simulation
    assert sim.stage == "calibrated" and sim.model is None and not sim.states
    ref = MonteCarlo(sp.scenario).solve(0, 3)
    xr.testing.assert_identical(a, ref)
    xr.testing.assert_identical(b, ref)
    built = MonteCarlo(sp.scenario).sim
    from lewie.errors import StageError
    with pytest.raises(StageError, match="calibrated simulation"):
        MonteCarlo(built)


def test_a_chunk_is_written_by_its_solve_once_the_batch_has_started(tmp_path):
    """Before the client has written the manifest naming the batch's run, a solved chunk stays in memory
    (the client has it written later); after, the solve writes it. Another run's manifest is not ours."""
    plan = P.plan_batch([ZAMBIA], tmp_path / "out", draws=2, chunk_size=3)
    sp, = plan.scenarios
    chunk = sp.chunks[0]
    out = str(plan.out)
    before = B.solve_chunk(sp.scenario, chunk, simulation=sp.simulation, out=out, run="run-a", final=True)
    assert isinstance(before, tuple) and not plan.out.exists()  # nothing written, not even the folder
    B.start(plan, run="run-b")  # another run's manifest
    again = B.solve_chunk(sp.scenario, chunk, simulation=sp.simulation, out=out, run="run-a", final=True)
    assert isinstance(again, tuple) and not sp.output(plan.out).exists()
    B.start(plan, run="run-a")
    assert json.loads((plan.out / P.MANIFEST).read_text())["run"] == "run-a"
    report = B.solve_chunk(sp.scenario, chunk, simulation=sp.simulation, out=out, run="run-a", final=True)
    assert isinstance(report, dict) and report["final"] and sp.output(plan.out).exists()
    written = sp.output(plan.out).read_bytes()
    sp.output(plan.out).unlink()
    B.write_result(before, chunk, out, final=True)  # the results kept in memory, written later: the same file
    assert sp.output(plan.out).read_bytes() == written
    assert P.manifest_differences(json.loads((plan.out / P.MANIFEST).read_text()), plan.manifest()) == []


def _cpus():
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


@pytest.mark.skipif(len(_cpus()) < 2, reason="binding workers to CPUs of their own needs two CPUs (Linux)")
def test_a_local_clusters_workers_are_set_up_and_each_bound_to_a_cpu_of_its_own():
    with B.dask_client(n_workers=2) as client:
        cpus = client.run(lambda: sorted(os.sched_getaffinity(0)))
        threads = client.run(lambda: {tuple(sorted(os.sched_getaffinity(int(t)))) for t in os.listdir("/proc/self/task")})
        assert sorted(c for cs in cpus.values() for c in cs) == _cpus()[:2]  # one CPU each, distinct
        assert all(len(cs) == 1 and ts == {tuple(cs)} for (w, cs), ts in zip(cpus.items(), threads.values()))
        assert all(client.run(lambda: bool(B._PINNED)).values())  # set up for solving (BLAS, imports) already
    assert os.sched_getaffinity(0) == set(_cpus())  # the client's own process is not bound
    with B.dask_client(n_workers=1, processes=False) as client:  # a worker in the client's process: not bound
        assert B.pin_workers(client) == {}
    assert os.sched_getaffinity(0) == set(_cpus())
