"""One engine: a point run is draw 0 of the Monte Carlo path, every backend solves draws through the
same interface, statuses are an enum in the results, chunks are saved as they are solved (Ctrl-C keeps
them, resume reuses them), a member Pyomo rejects is recorded instead of stopping the run."""
from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import lewie
from lewie.runs import montecarlo
from lewie.runs.engine import RunInterrupted, run_to_folder
from lewie.solvers import registry
from lewie.results.status import RunStatus

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "scenarios" / "example_village.toml"
WORKBOOK = REPO / "scenarios" / "example_workbook.toml"
OUTPUTS = ["income", "real_income", "production", "consumption", "factor_demand", "price", "wage", "cpi"]


@pytest.mark.parametrize("scenario", [EXAMPLE, WORKBOOK], ids=["sam", "workbook"])
def test_a_point_run_is_draw_0_of_a_monte_carlo_run_to_the_bit(scenario):
    point = lewie.run(scenario, draws=0)
    mc = lewie.run(scenario, draws=6, chunk=4)
    for name, da in point.data_vars.items():
        if "draw" in da.dims:
            other = mc[name].sel(draw=[0])
            assert da.dtype == other.dtype and np.array_equal(da.values, other.values, equal_nan=da.dtype.kind == "f"), name
        else:
            xr.testing.assert_identical(da, mc[name])


def test_status_is_an_enum_with_its_text_and_reason_beside_it():
    ds = lewie.run(EXAMPLE, draws=2)
    assert ds["status_code"].dims == ds["status"].dims == ds["reason"].dims == ("variant", "draw")
    meanings = ds["status_code"].attrs["flag_meanings"].split()
    assert list(ds["status_code"].attrs["flag_values"]) == list(range(len(meanings)))
    assert meanings == [s.name.lower() for s in RunStatus]
    for code, text in zip(ds["status_code"].values.ravel(), ds["status"].values.ravel()):
        assert RunStatus(int(code)).label == text == "converged"
    assert RunStatus.from_label("failed: base check") is RunStatus.BASE_CHECK


def test_a_solution_pyomo_rejects_is_recorded_and_the_run_goes_on(monkeypatch):
    real = montecarlo.verify_points

    def picky(model, system, X, P, tols, whats):
        found = real(model, system, X, P, tols, whats)
        return [f"{w} does not satisfy the model: (test) eq_income[household=eligible]"
                if w.startswith("draw 1, variant") else f for f, w in zip(found, whats)]

    monkeypatch.setattr(montecarlo, "verify_points", picky)
    ds = lewie.run(EXAMPLE, draws=3)
    st = ds["status_code"].sel(variant="all")
    assert st.values.tolist() == [0, int(RunStatus.VERIFICATION), 0, 0]
    assert str(ds["status"].sel(variant="all", draw=1).values) == "failed: verification"
    assert "eq_income" in str(ds["reason"].sel(variant="all", draw=1).values)
    assert bool(ds["income"].sel(variant="all", draw=1, state="simulated").isnull().all())
    assert bool(ds["income"].sel(variant="all", draw=2, state="simulated").notnull().all())


def test_an_interrupted_run_keeps_its_chunks_and_resumes_with_the_missing_ones(tmp_path, monkeypatch):
    calls = []
    solve = montecarlo.MonteCarlo.solve

    def interrupted(self, first, last):
        calls.append((first, last))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return solve(self, first, last)

    monkeypatch.setattr(montecarlo.MonteCarlo, "solve", interrupted)
    with pytest.raises(RunInterrupted, match="2 of 4 chunks of draws are saved") as info:
        run_to_folder(EXAMPLE, tmp_path, stem="example", draws=7, chunk=2)
    assert len(list(info.value.folder.glob("draws-*.nc"))) == 2
    calls.clear()
    ds = run_to_folder(EXAMPLE, tmp_path, stem="example", draws=7, chunk=2, resume=True)
    assert calls == [(4, 5), (6, 7)]  # only the missing chunks
    assert not (tmp_path / ".chunks").exists()  # merged and removed
    monkeypatch.setattr(montecarlo.MonteCarlo, "solve", solve)
    whole = lewie.run(EXAMPLE, draws=7, chunk=2)
    xr.testing.assert_equal(ds, whole)
    calls.clear()
    monkeypatch.setattr(montecarlo.MonteCarlo, "solve", interrupted)
    run_to_folder(EXAMPLE, tmp_path, stem="example", draws=7, chunk=4, keep_chunks=True)  # no resume: all anew
    assert calls == [(0, 3), (4, 7)]


def test_cli_run_resumes(tmp_path):
    from click.testing import CliRunner
    from lewie.cli.main import cli
    out = tmp_path / "r" / "ex.nc"
    res = CliRunner().invoke(cli, ["run", str(EXAMPLE), "--draws", "3", "--chunk", "2", "--out", str(out),
                                   "--keep-chunks"])
    assert res.exit_code == 0, res.output
    assert len(list((out.parent / ".chunks").glob("ex-*/draws-*.nc"))) == 2
    res = CliRunner().invoke(cli, ["run", str(EXAMPLE), "--draws", "3", "--chunk", "2", "--out", str(out), "--resume"])
    assert res.exit_code == 0, res.output
    assert not (out.parent / ".chunks").exists()


def _ipopt():
    info = next(r for r in registry() if r.name == "ipopt")
    if not info.available:
        pytest.skip(f"IPOPT backend unavailable: {info.reason}")


@pytest.mark.ipopt
def test_ipopt_and_the_native_solver_agree_draw_by_draw():
    _ipopt()
    native = lewie.run(EXAMPLE, draws=4)
    ipopt = lewie.run(EXAMPLE, draws=4, solver="ipopt")
    assert ipopt.attrs["solver"] == "ipopt" and native.attrs["solver"] == "newton"
    assert (ipopt["status_code"] == 0).all() and (native["status_code"] == 0).all()
    for name in OUTPUTS:
        a, b = ipopt[name].values, native[name].values
        err = np.nanmax(np.abs(a - b) / np.maximum(1.0, np.abs(b)), axis=tuple(i for i in range(a.ndim) if i != 1))
        assert err.shape == (5,) and (err <= 1e-8).all(), (name, err)


def _imports(path: Path) -> set[str]:
    """Modules a file imports, at any level (function-level imports included)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the file's package
                pkg = {"lewie": "lewie", "solvers": "lewie.solvers", "sam": "lewie.sam"}[path.parent.name]
                parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.add(base)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_no_pipeline_montecarlo_cycle_and_solvers_do_not_import_upward():
    assert not any(m.startswith("lewie.runs.montecarlo") for m in _imports(REPO / "lewie" / "runs" / "stages.py"))
    assert "lewie.runs.stages" in _imports(REPO / "lewie" / "runs" / "montecarlo.py")
    for f in (REPO / "solvers").glob("*.py"):
        bad = {m for m in _imports(f) if m.startswith("lewie.") and not m.startswith("lewie.solvers")
               and m not in ("lewie.errors", "lewie.model.registry")}
        assert not bad, f"{f.name} imports {sorted(bad)}"


def test_a_fresh_run_merges_in_memory_and_writes_its_last_chunk_only_if_it_does_not_finish(tmp_path, monkeypatch):
    from lewie.runs import engine
    written = []
    real_write = engine.write_chunk

    def counting(ds, chunk, out):
        written.append((chunk.first, chunk.last))
        return real_write(ds, chunk, out)

    monkeypatch.setattr(engine, "write_chunk", counting)
    ds = run_to_folder(EXAMPLE, tmp_path, stem="a", draws=5, chunk=2)
    assert written == [(0, 1), (2, 3)]  # the last chunk is merged from memory, never written
    xr.testing.assert_identical(ds, lewie.run(EXAMPLE, draws=5, chunk=2))
    written.clear()
    run_to_folder(EXAMPLE, tmp_path, stem="b", draws=5, chunk=2, keep_chunks=True)
    assert written == [(0, 1), (2, 3), (4, 5)]

    # interrupted while the results are written: the last chunk is saved too, and a resume solves nothing
    from lewie.results import dataset

    def interrupted(ds, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(dataset, "save_results", interrupted)
    with pytest.raises(RunInterrupted, match="3 of 3 chunks of draws are saved"):
        run_to_folder(EXAMPLE, tmp_path, stem="c", draws=5, chunk=2, save_to=tmp_path / "c.nc")
    monkeypatch.undo()
    calls = []
    solve = montecarlo.MonteCarlo.solve

    def counted(self, first, last):
        calls.append((first, last))
        return solve(self, first, last)

    monkeypatch.setattr(montecarlo.MonteCarlo, "solve", counted)
    resumed = run_to_folder(EXAMPLE, tmp_path, stem="c", draws=5, chunk=2, resume=True, save_to=tmp_path / "c.nc")
    assert calls == []
    xr.testing.assert_equal(resumed, ds)
    assert (tmp_path / "c.nc").exists() and not list((tmp_path / ".chunks").glob("c-*"))


def test_the_default_chunk_keeps_a_chunk_within_its_memory_budget():
    mc = montecarlo.prepare(EXAMPLE, draws=3)
    assert montecarlo.default_chunk(mc) == montecarlo.DEFAULT_CHUNK  # a small economy: the most draws
    per_draw = 4 * 8 * len(mc.points) * (len(mc.variants) + 2) * (mc.system.n + mc.system.k)
    size = montecarlo.CHUNK_BYTES // per_draw
    mc.points = mc.points * (size // montecarlo.DEFAULT_CHUNK + 2)  # as many sweep points as it takes
    assert 1 <= montecarlo.default_chunk(mc) < montecarlo.DEFAULT_CHUNK


def test_import_frozen_imports_with_the_collector_paused_and_leaves_it_running():
    import gc
    import sys
    from lewie.lazy_imports import import_frozen
    before = gc.get_freeze_count()
    try:
        import_frozen("lewie.results.statistics", "lewie.no_such_module")
        assert gc.isenabled() and "lewie.results.statistics" in sys.modules
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()
