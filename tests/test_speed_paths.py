"""The fast paths give the same numbers as the straightforward ones (no timing asserts here: timings
are in benchmarks/). Recalibration maps are computed once per (model, calibration); start-up imports
only what a command needs."""
from __future__ import annotations

import gc
import subprocess
import sys

import numpy as np
import pytest

import lewie
from lewie.model import recalibration as D

from .conftest import EXAMPLE_SCENARIO


@pytest.fixture(scope="module")
def example():
    return lewie.Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build()


def _recalibrate_by_labels(model, cal, shares: D.ShareDraws):
    """The recalibration rules written out with labels and Pyomo positions, draw by draw (reference)."""
    from lewie.solvers.tape import compile_model
    system = compile_model(model)
    s = cal.structure
    out_x, out_p = [], []
    for d in range(shares.n_draws):
        fs = dict(zip(cal.factor_uses, shares.factor_share[d]))
        bs = dict(zip(cal.consumption, shares.budget_share[d]))
        rate = {k: dict(zip(s.households, getattr(shares, k)[d])) for k in ("savings_rate", "transfer_rate",
                                                                              "outside_rate")}
        x, p = D._base_x(system, model, cal), D._base_p(system, model, cal)

        def setp(name, key, v):
            p[system.param_positions(model.find_component(name))[key]] = v

        def setx(name, key, v):
            x[system.var_positions(model.find_component(name))[key]] = v

        fd = {u: cal.levels["value_added"][u[0], u[2]] * fs[u] for u in cal.factor_uses}
        for u in cal.factor_uses:
            setp("factor_share", u, fs[u])
            setx("factor_demand", u, fd[u])
            if u[1] in s.fixed_factors:
                setp("fixed_factor", u, fd[u])
        for a in s.activities:
            va = cal.levels["value_added"][a]
            setp("tfp", a, va / np.prod([fd[u] ** fs[u] for u in cal.factor_uses if (u[0], u[2]) == a]))
        for h in s.households:
            y = cal.levels["income"][h]
            spent = y * (1 - sum(rate[k][h] for k in rate)) - sum(
                cal.params["min_consumption"][k] for k in cal.consumption if k[1] == h)
            for k in cal.consumption:
                if k[1] == h:
                    qc = cal.params["min_consumption"][k] + bs[k] * spent
                    setx("consumption", k, qc)
                    setp("budget_share", k, bs[k])
                    setp("cpi_weight", k, qc / y)
            for k in rate:
                setp(k, h, rate[k][h])
        out_x.append(x)
        out_p.append(p)
    return np.array(out_x), np.array(out_p)


def test_array_recalibration_matches_label_rules(example):
    cal = example.calibration
    shares = D.perturb_shares(cal, 5, rng=np.random.default_rng(7))
    X, P = D.recalibrate(example.model, cal, shares)
    Xr, Pr = _recalibrate_by_labels(example.model, cal, shares)
    system = D.recalibration_maps(example.model, cal).system
    checked_p = np.concatenate([D.recalibration_maps(example.model, cal).p_index[n] for n in
                                ("factor_share", "fixed_factor", "tfp", "budget_share", "cpi_weight",
                                 "savings_rate", "transfer_rate", "outside_rate")])
    checked_x = np.concatenate([D.recalibration_maps(example.model, cal).x_index[n]
                                for n in ("factor_demand", "consumption")])
    assert checked_p.size > 10 and checked_x.size > 10 and system.k == P.shape[1]
    np.testing.assert_allclose(P[:, checked_p], Pr[:, checked_p], rtol=1e-13, atol=0)
    np.testing.assert_allclose(X[:, checked_x], Xr[:, checked_x], rtol=1e-13, atol=0)


def test_recalibration_maps_cached_per_model_and_calibration(example):
    cal = example.calibration
    a = D.recalibration_maps(example.model, cal)
    assert D.recalibration_maps(example.model, cal) is a
    other = lewie.Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build()
    b = D.recalibration_maps(other.model, other.calibration)
    assert b is not a
    n = len(D._CACHE)
    del other, b
    gc.collect()
    assert len(D._CACHE) == n - 1  # the entry goes with its model and calibration


def test_cli_start_does_not_import_the_numerical_stack():
    code = ("import sys, lewie.cli.main; heavy = [m for m in ('pyomo.environ', 'xarray', 'pandas', 'scipy', "
            "'matplotlib', 'dask', 'distributed', 'openpyxl') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_run_path_does_not_import_scipy_stats_matplotlib_or_dask():
    code = ("import sys, lewie.cli.main, lewie.runs.stages, lewie.runs.montecarlo, lewie.results.dataset, lewie.report.text_summary, "
            "lewie.solvers.reduced_newton; heavy = [m for m in ('scipy.stats', 'matplotlib', 'dask', 'distributed', "
            "'openpyxl') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_lazy_package_attributes():
    assert callable(lewie.run) and callable(lewie.summarize) and lewie.analysis.__name__ == "lewie.results.analysis"
    import lewie.sam as sam
    assert callable(sam.ras) and callable(sam.read_sam)
    with pytest.raises(AttributeError):
        lewie.no_such_thing  # noqa: B018


def test_shared_factors_apply_like_one_product_per_member():
    """Members share their draw's matrix; after some get private matrices (refreshed), each member's
    step is still exactly (to the bit) its own matrix times its own right-hand side."""
    from lewie.solvers.reduced_newton import _Factors
    rng = np.random.default_rng(5)
    D, S, nc = 7, 4, 9
    inv = rng.standard_normal((D, nc, nc))
    fac = _Factors(inv.copy(), np.repeat(np.arange(D), S))
    fac.store(np.array([2, 9, 27]), rng.standard_normal((3, nc, nc)))
    fac.store(np.array([9]), rng.standard_normal((1, nc, nc)))  # a second refresh reuses its slot
    assert fac.used == D + 3
    members = np.array([0, 1, 2, 3, 9, 10, 27, 26, 13])
    G = np.asfortranarray(rng.standard_normal((nc, members.size)))
    expected = np.einsum("bij,jb->ib", fac.take(members), G)
    assert np.array_equal(fac.apply(members, G), expected)
    fac.need[[1, 9]] = True
    taken = fac.take(np.array([1, 9, 3]))
    assert np.isnan(taken[:2, 0, 0]).all() and not np.isnan(taken[2]).any()
    assert _Factors(taken, np.arange(3)).need.tolist() == [True, True, False]


def test_one_blas_thread_restores_the_limits():
    from lewie.solvers.threads import one_blas_thread
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    with one_blas_thread():
        inside = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    after = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    assert all(n == 1 for n in inside) and after == before


def test_split_scenarios_go_to_the_least_loaded_worker_and_stay_there(tmp_path):
    from types import SimpleNamespace

    from lewie.runs.dask_batch import _Tasks
    from lewie.runs.batch_plan import Chunk

    class Client:
        def __init__(self, workers):
            self.workers, self.where = workers, []

        def scheduler_info(self):
            return {"workers": dict.fromkeys(self.workers, {})}

        def run(self, fn):
            return {w: fn() for w in self.workers}

        def submit(self, fn, scenario, chunk, *args, **kw):
            self.where.append((chunk.key, (kw.get("workers") or [None])[0]))

    sps = [SimpleNamespace(key=k, variants=["a"] * nv, size=1, scenario=None, simulation=None,
                           chunks=[Chunk("s", k, a, a + 9) for a in (0, 10)])
           for k, nv in (("k1", 3), ("k2", 1), ("k3", 1), ("k4", 1))]
    client = Client(["w2", "w1"])
    tasks = _Tasks(client, tmp_path, n_scenarios=4, retries=0, solve=None)
    for sp in sps:
        tasks.solve(sp)
    home = dict(client.where)
    assert len(client.where) == 8 and all(home[k] == w for k, w in client.where)  # a scenario's chunks together
    assert home["k1"] == "w1" and {home["k2"], home["k3"], home["k4"]} == {"w2"}  # 60 vs 60 draw-variants
    for workers, n in ((["w1"], 4), (["w1", "w2"], 1)):  # one worker, or fewer scenarios than workers: anywhere
        client = Client(workers)
        tasks = _Tasks(client, tmp_path, n_scenarios=n, retries=0, solve=None)
        tasks.solve(sps[0])
        assert {w for _, w in client.where} == {None}


def _partition_reference(system):
    """`partition` as first written: every candidate tear set re-propagated one equation at a time."""
    from lewie.solvers import tearing as st
    saved_best, saved_determines = st._best_tear, st._Graph.determines

    def best_loop(graph, known, used, unknown):
        A = graph.A.tocsr()
        best, best_score = -1, None
        for j in np.flatnonzero(~known):
            eqs = graph.AT[j].indices
            degree = sum(1 for i in eqs if not used[i])
            enabled = 0
            for i in eqs:
                if used[i] or unknown[i] != 2:
                    continue
                others = [v for v in A[i].indices if v != j and not known[v]]
                enabled += any(graph.Dm[i, v] != 0 for v in others)
            score = (degree, enabled, -j)
            if best_score is None or score > best_score:
                best, best_score = int(j), score
        return best

    def determines_by_sequence(graph, tears, target):
        A = graph.A.tocsr()
        known = np.zeros(graph.n, dtype=bool)
        known[list(tears)] = True
        changed = True
        while changed:  # one equation at a time
            changed = False
            for i in range(graph.m):
                unk = [v for v in A[i].indices if not known[v]]
                if len(unk) == 1 and graph.Dm[i, unk[0]] != 0:
                    known[unk[0]] = True
                    changed = True
        return bool(known.all())

    st._best_tear, st._Graph.determines = best_loop, determines_by_sequence
    try:
        return st.partition(system)
    finally:
        st._best_tear, st._Graph.determines = saved_best, saved_determines


def test_partition_by_array_code_is_the_sequential_one(example):
    from lewie.solvers.tape import compile_model
    from lewie.solvers.tearing import partition
    system = compile_model(example.model)
    fast, ref = partition(system), _partition_reference(system)
    for f in ("core_vars", "core_eqs", "expl_vars", "expl_eqs", "level"):
        assert np.array_equal(getattr(fast, f), getattr(ref, f)), f
    assert fast.n_core < system.n // 4


def test_results_do_not_import_dask_array_and_dask_arrays_still_work():
    code = ("import sys, lewie; ds = lewie.run(sys.argv[1], draws=3); a = 'dask.array' in sys.modules; "
            "import dask.array as da, xarray as xr; x = xr.DataArray(da.ones((4,), chunks=2), dims='i'); "
            "print(a, type(x.data).__module__.split('.')[0], x.chunks is not None, float(x.sum()))")
    out = subprocess.run([sys.executable, "-c", code, str(EXAMPLE_SCENARIO)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "dask", "True", "4.0"]


def test_blas_libraries_are_scanned_again_after_an_import(monkeypatch):
    """A BLAS loaded by a later import (e.g. SciPy's own) is limited too: the controller is found again once
    modules were imported since the last scan, and kept while none were."""
    import types

    from lewie.solvers import threads
    pytest.importorskip("threadpoolctl")
    first = threads._controller()
    assert threads._controller() is first
    monkeypatch.setitem(sys.modules, "lewie_test_fresh_module", types.ModuleType("lewie_test_fresh_module"))
    assert threads._controller() is not first
