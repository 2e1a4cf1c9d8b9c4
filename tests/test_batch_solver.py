"""The batched reduced-space Newton solver, the core/explicit split it rests on, and draw recalibration."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.core.expr.visitor import identify_variables

import lewie
from benchmarks.economies import SHOCKS, apply_shock, benchmark_scenario
from lewie.model.recalibration import check_bases, normalise, perturb_shares, recalibrate
from lewie.model.calibration import ShareDraws, base_shares
from lewie.errors import CalibrationError
from lewie.solvers.base import SolverStatus
from lewie.solvers.reduced_newton import explicit_for, residual_table, solve_batch
from lewie.runs.verify import verify_batch
from lewie.solvers.tape import compile_model
from lewie.solvers.newton import NewtonBackend, newton_batch, residual_scale

from .conftest import EXAMPLE_SCENARIO, REPO
from .test_jacobian import pyomo_residuals

SCENARIOS = sorted((REPO / "scenarios").glob("*.toml"))


def _built(scenario):
    return lewie.Simulation(scenario).load().validate().calibrate().build()


@pytest.fixture(scope="module")
def example():
    return _built(EXAMPLE_SCENARIO)


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    return _built(benchmark_scenario(tmp_path_factory.mktemp("bench")))


@pytest.fixture(params=["example", "bench"])
def sim(request):
    return request.getfixturevalue(request.param)


def _dense(system, jv):
    J = np.zeros((system.m, system.n))
    J[system.jac_rows, system.jac_cols] = jv
    return J


def _rel(a, b):
    return np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))


def _positions(sim):
    system = compile_model(sim.model)
    return {name: system.param_positions(sim.model.find_component(name))
            for name in {c[0] for sh in SHOCKS for c in sh.changes}}


# ---- the split -------------------------------------------------------------------------------------
def test_partition_gives_a_small_core_and_a_triangular_explicit_block(sim):
    system = compile_model(sim.model)
    part = explicit_for(system).part
    n_c = part.n_core
    assert n_c == part.core_eqs.size and n_c + part.expl_vars.size == system.n
    assert sorted(np.r_[part.core_vars, part.expl_vars]) == list(range(system.n))
    assert sorted(np.r_[part.core_eqs, part.expl_eqs]) == list(range(system.m))
    assert n_c <= 0.1 * system.n
    # core: output and local prices / wages (plus a few factor demands), never a derived quantity
    blocks = {system.variables[j].parent_component().name for j in part.core_vars}
    assert blocks <= {"production", "price_village", "price_zone", "wage_village", "wage_zone", "factor_demand"}
    J = _dense(system, system.jacobian_values(system.get_x(), system.get_p())[0])
    JEE = J[np.ix_(part.expl_eqs, part.expl_vars)]
    assert np.all(np.triu(JEE, 1) == 0) and np.all(np.diag(JEE) != 0)
    # each explicit variable reads only core variables and variables of lower levels
    for i, j in zip(part.expl_eqs, part.expl_vars):
        others = system.jac_cols[(system.jac_rows == i) & (system.jac_cols != j)]
        assert np.all(part.level[others] < part.level[j])


def test_explicit_evaluation_and_reduced_jacobian(sim):
    """x_E(x_C) solves every defining equation; S is the elimination of J and the derivative of G."""
    system = compile_model(sim.model)
    ex = explicit_for(system)
    part = ex.part
    rng = np.random.default_rng(3)
    x0, p0 = system.get_x(), system.get_p()
    XT = np.repeat(x0[:, None], 3, axis=1)
    XT[part.core_vars] *= 1 + 0.02 * rng.standard_normal((part.n_core, 3))
    PT = np.repeat(p0[:, None], 3, axis=1)
    G, _ = ex.evaluate(XT, PT)
    F = system.residual(XT.T, PT.T)
    scale = residual_scale(system, x0, p0)
    assert np.abs(F[:, part.expl_eqs] / scale[part.expl_eqs]).max() <= 1e-12
    np.testing.assert_allclose(G.T, F[:, part.core_eqs], rtol=1e-12, atol=1e-9)
    S = ex.schur(system.jacobian_values(XT.T, PT.T).T)
    for b in range(3):
        J = _dense(system, system.jacobian_values(XT[:, b], p0)[0])
        Ce, Ee, C, E = part.core_eqs, part.expl_eqs, part.core_vars, part.expl_vars
        dense = J[np.ix_(Ce, C)] - J[np.ix_(Ce, E)] @ np.linalg.solve(J[np.ix_(Ee, E)], J[np.ix_(Ee, C)])
        np.testing.assert_allclose(S[b], dense, rtol=1e-9, atol=1e-9 * np.abs(dense).max())
    # central differences of the reduced residual G(x_C) = F_C(x_C, x_E(x_C))
    fd = np.zeros_like(S[0])
    for k, c in enumerate(part.core_vars):
        h = 1e-6 * max(1.0, abs(XT[c, 0]))
        up, down = XT[:, :1].copy(), XT[:, :1].copy()
        up[c] += h
        down[c] -= h
        fd[:, k] = (ex.evaluate(up, PT[:, :1])[0] - ex.evaluate(down, PT[:, :1])[0])[:, 0] / (2 * h)
    assert np.abs(fd - S[0]).max() <= 1e-5 * np.abs(S[0]).max()


@pytest.mark.parametrize("scenario", SCENARIOS + ["benchmark"], ids=[p.stem for p in SCENARIOS] + ["benchmark"])
def test_compiled_system_matches_pyomo_on_every_bundled_model(scenario, request):
    """Residual = Pyomo's, and every Jacobian column = central differences of the Pyomo constraints,
    at a generic point of every bundled scenario's model and of the benchmark economy.

    A column is differenced on the constraints Pyomo says contain the variable (the others do not
    change). The country SAMs have flows of 1e7 next to variables near 0, so a difference quotient
    carries a rounding error of about eps·(size of the equation's terms)/h, and the labour supply
    (wage^100) a large truncation error: each entry must match one of two quotients (h = 1e-6 and
    1e-4 relative) within 1e-5 plus that quotient's rounding error.
    """
    model = (request.getfixturevalue("bench") if scenario == "benchmark" else _built(scenario)).model
    system = compile_model(model)
    x0, p = system.get_x(), system.get_p()
    x = x0 * (1 + 0.01 * np.cos(np.arange(system.n)))
    system.set_x(x)
    try:
        np.testing.assert_allclose(system.residual(x, p)[0], pyomo_residuals(system), rtol=1e-12,
                                   atol=1e-12 * np.abs(x).max())
        J = system.jacobian(x, p).toarray()
        row_scale = residual_scale(system, x, p)
        rows_of = pyo.ComponentMap()
        for i, con in enumerate(system.constraints):
            for v in identify_variables(con.body, include_fixed=False):
                rows_of.setdefault(v, []).append(i)

        def residuals(rows):
            return np.array([pyo.value(system.constraints[i].body) - pyo.value(system.constraints[i].upper)
                             for i in rows])

        for j, v in enumerate(system.variables):
            rows = np.array(rows_of[v])
            assert np.all(J[np.setdiff1d(np.arange(system.m), rows), j] == 0), v.name
            ok = np.zeros(rows.size, dtype=bool)
            seen = np.zeros(rows.size, dtype=bool)
            for rel_step in (1e-6, 1e-4):  # small steps: truncation error; large: rounding error
                h = rel_step * max(1.0, abs(x[j]))
                v.set_value(x[j] + h)
                up = residuals(rows)
                v.set_value(x[j] - h)
                down = residuals(rows)
                v.set_value(x[j])
                fd = (up - down) / (2 * h)
                rounding = 10 * np.finfo(float).eps * row_scale[rows] / h
                ok |= np.abs(J[rows, j] - fd) <= 1e-5 * (1 + np.abs(J[rows, j])) + rounding
                seen |= np.abs(fd) > 1e-5 + rounding
            assert ok.all(), (v.name, system.constraints[int(rows[~ok][0])].name)
            assert np.all(seen <= (J[rows, j] != 0)), v.name
    finally:
        system.set_x(x0)


# ---- solving ---------------------------------------------------------------------------------------
def test_batch_agrees_with_full_space_newton(example):
    system = compile_model(example.model)
    x0, p0 = system.get_x(), system.get_p()
    exinc = system.param_positions(example.model.exogenous_income)
    P = np.tile(p0, (6, 1))
    for b, (h, amount) in enumerate([("eligible", 480), ("eligible", 4800), ("ineligible", 1000),
                                     ("traders", 700), ("traders", -500), ("eligible", 0)]):
        P[b, exinc[h]] += amount
    res = solve_batch(system, x0[None], p0[None], P[None])
    assert res.shape == (1, 6) and res.ok.all()
    assert all(s is SolverStatus.CONVERGED for s in res.status)
    assert res.max_residual.max() <= 1e-8
    ref = newton_batch(system, np.tile(x0, (6, 1)), P, scale=residual_scale(system, x0, p0))
    assert ref.ok.all()
    assert _rel(res.x, ref.x) <= 1e-9
    assert _rel(res.x[5], x0) <= 1e-12  # no shock: the base


def test_benchmark_draws_by_shocks_all_converge_and_verify(bench):
    system = compile_model(bench.model)
    draws = perturb_shares(bench.calibration, 24, rng=np.random.default_rng(11))
    X0, P0 = recalibrate(bench.model, bench.calibration, draws)
    pos = _positions(bench)
    P = np.stack([apply_shock(P0, sh, pos) for sh in SHOCKS], axis=1)
    res = solve_batch(system, X0, P0, P, chunk=10)  # several chunks
    assert res.shape == (24, 6) and res.ok.all(), res.failures()
    assert res.max_residual.max() <= 1e-8
    checked = verify_batch(bench.model, system, res, P, sample=3)
    assert len(checked) == 4 and checked["member"].iloc[0] == 0
    assert checked["max_relative_residual"].max() <= 1e-8
    assert np.array_equal(system.get_p(), compile_model(bench.model).get_p())  # model restored
    # members are independent of their batch: a member solved alone gives the same answer
    alone = solve_batch(system, X0[7:8], P0[7:8], P[7:8, 4])
    assert _rel(alone.x[0], res.x[7 * 6 + 4]) <= 1e-9
    # and full-space Newton from the draw's base agrees
    scale = residual_scale(system, X0[7], P0[7])
    ref = newton_batch(system, np.tile(X0[7], (6, 1)), P[7], scale=scale)
    assert ref.ok.all() and _rel(ref.x, res.x[42:48]) <= 1e-9


def test_hard_shock_converges_by_continuation(bench):
    """TFP ×10 in one activity: Newton from the base fails; stepping the shock in succeeds."""
    system = compile_model(bench.model)
    x0, p0 = system.get_x(), system.get_p()
    p = p0.copy()
    p[_positions(bench)["tfp"]["rice", "smallholder"]] *= 10
    direct = solve_batch(system, x0[None], p0[None], p[None], continuation=())
    res = solve_batch(system, x0[None], p0[None], p[None])
    assert not direct.ok[0]
    assert res.ok[0] and "continuation" in res.message[0]
    assert res.max_residual[0] <= 1e-8


def test_newton_backend_solves_in_reduced_space(example):
    sim = lewie.Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build().solve()
    info = next(iter(sim.solve_info.values()))
    assert info["status"] == "converged"
    result = NewtonBackend().solve(sim.model)  # already solved: zero iterations
    assert result.status is SolverStatus.CONVERGED and result.details["path"] == "reduced-space"
    assert result.iterations == 0


def test_residual_table_is_labelled(example):
    system = compile_model(example.model)
    x = system.get_x() * 1.01
    table = residual_table(system, x, system.get_p())
    assert list(table.columns) == ["equation", "labels", "residual", "scale", "relative"]
    assert len(table) == system.m and table["relative"].is_monotonic_decreasing
    assert "household=" in " ".join(table["labels"])


# ---- recalibrated draws ----------------------------------------------------------------------------
def test_recalibrating_the_calibrated_shares_gives_the_base(example):
    system = compile_model(example.model)
    X0, P0 = recalibrate(example.model, example.calibration, base_shares(example.calibration))
    np.testing.assert_allclose(X0[0], system.get_x(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(P0[0], system.get_p(), rtol=1e-12, atol=1e-9)


def test_every_draw_solves_its_own_model(sim):
    draws = perturb_shares(sim.calibration, 50, rng=np.random.default_rng(5), concentration=50, rate_sd=0.3)
    system = compile_model(sim.model)
    X0, P0 = recalibrate(sim.model, sim.calibration, draws)
    assert X0.shape == (50, system.n) and P0.shape == (50, system.k)
    assert check_bases(system, X0, P0).max() <= 1e-9
    assert np.ptp(P0, axis=0).max() > 0  # the draws differ


def test_shares_that_do_not_sum_to_one_are_refused(example):
    cal = example.calibration
    fs = base_shares(cal).factor_share * 1.01
    with pytest.raises(CalibrationError, match=r"draw 0: factor_share of \('crops', 'eligible'\) sums to"):
        recalibrate(example.model, cal, ShareDraws(factor_share=fs))
    fixed = normalise(cal, ShareDraws(factor_share=fs))
    X0, P0 = recalibrate(example.model, cal, fixed)
    np.testing.assert_allclose(X0[0], compile_model(example.model).get_x(), rtol=1e-12, atol=1e-9)


def test_the_chunk_of_draws_solved_together_does_not_change_a_bit(bench):
    from lewie.solvers.reduced_newton import CHUNK, default_chunk
    system = compile_model(bench.model)
    draws = perturb_shares(bench.calibration, 12, rng=np.random.default_rng(5))
    X0, P0 = recalibrate(bench.model, bench.calibration, draws)
    P = np.stack([apply_shock(P0, sh, _positions(bench)) for sh in SHOCKS], axis=1)
    whole = solve_batch(system, X0, P0, P)
    for chunk in (1, 5):
        part = solve_batch(system, X0, P0, P, chunk=chunk)
        assert np.array_equal(part.x, whole.x) and np.array_equal(part.iterations, whole.iterations)
        assert np.array_equal(part.max_residual, whole.max_residual)
    # the bases' magnitudes given by the caller (from its base check) are the ones evaluated here
    from lewie.solvers.residuals import measure_for
    given = solve_batch(system, X0, P0, P, base_magnitudes=measure_for(system).evaluate(X0, P0)[1])
    assert np.array_equal(given.x, whole.x) and np.array_equal(given.iterations, whole.iterations)
    with pytest.raises(ValueError, match="base_magnitudes"):
        solve_batch(system, X0, P0, P, base_magnitudes=np.ones((3, system.m)))
    assert CHUNK[0] <= default_chunk(system, len(SHOCKS)) <= CHUNK[1]
    assert default_chunk(system, 10 ** 6) == CHUNK[0]  # tape values of a huge batch: the smallest chunk
