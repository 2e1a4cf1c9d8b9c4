"""A shock with no (locally unique) solution gives a clear, labelled error quickly: no hang, no NaN
result reported as valid, and no effect on the other members of a batch.

Removing all the land of an activity (fixed_factor = 0) makes its Cobb-Douglas value added and
output 0 and leaves the rent of that land undetermined (0·R = 0): the Jacobian is singular. The
scenario layer refuses such an intervention; these tests set the parameter directly, as a Monte
Carlo draw or a programmatic caller could.
"""
from __future__ import annotations


import numpy as np
import pytest

import lewie
from lewie.errors import SolveError
from lewie.solvers.base import SolverStatus
from lewie.solvers.reduced_newton import residual_table, solve_batch
from lewie.solvers.tape import compile_model
from lewie.solvers.newton import NewtonBackend

from .conftest import EXAMPLE_SCENARIO

LAND = ("crops", "land", "eligible")


@pytest.fixture
def sim():
    return lewie.Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build()


def test_newton_backend_reports_a_labelled_failure(sim):
    sim.model.fixed_factor[LAND] = 0.0
    result = NewtonBackend().solve(sim.model)
    assert not result.status.ok
    assert result.status in (SolverStatus.SINGULAR_JACOBIAN, SolverStatus.DIVERGED)
    # names the equation that cannot be solved and the variable, with its index
    assert "eq_factor_demand[crops,land,eligible]" in result.message
    assert "rent[crops,land,eligible]" in result.message
    system = compile_model(sim.model)
    assert np.isfinite(system.get_x()).all()  # the model is never left holding NaN


def test_simulation_raises_solve_error_with_the_residual_table(sim):
    for shock in sim.shocks.values():  # every variant also removes the land (as a draw could)
        shock.setdefault("fixed_factor", {})[LAND] = 0.0
    with pytest.raises(SolveError, match=r"did not converge") as info:
        sim.solve()
    table = info.value.report
    assert list(table.columns)[:5] == ["equation", "labels", "residual", "scale", "relative"]
    assert "good=" in " ".join(table["labels"].head(8))
    assert sim.stage == "built"  # not marked solved


def test_one_impossible_member_does_not_spoil_the_batch(sim):
    system = compile_model(sim.model)
    x0, p0 = system.get_x(), system.get_p()
    land = system.param_positions(sim.model.fixed_factor)[LAND]
    exinc = system.param_positions(sim.model.exogenous_income)["eligible"]
    P = np.tile(p0, (4, 1))
    P[:, exinc] += [100.0, 200.0, 300.0, 400.0]
    P[2, land] = 0.0
    res = solve_batch(system, x0[None], p0[None], P[None])
    assert res.ok.tolist() == [True, True, False, True]
    assert res.status[2] is SolverStatus.DIVERGED
    assert "eq_factor_demand[crops,land,eligible] cannot be solved for rent[crops,land,eligible]" in res.message[2]
    assert "coefficient there is 0" in res.message[2]
    assert not np.isfinite(res.max_residual[2])
    failures = res.failures()
    assert failures[["member", "draw", "shock"]].values.tolist() == [[2, 0, 2]]
    # the good members are exactly what they are when solved without the bad one
    good = solve_batch(system, x0[None], p0[None], P[None, [0, 1, 3]])
    np.testing.assert_allclose(res.x[[0, 1, 3]], good.x, rtol=1e-13, atol=0)
    # converged members are finite; the failed member's labelled residual table shows what is wrong
    assert np.isfinite(res.x[res.ok]).all()
    table = residual_table(system, x0, P[2])
    assert table.iloc[0]["equation"] in ("eq_fixed_factor", "eq_factor_demand", "eq_value_added")
    assert "crops" in table.iloc[0]["labels"]
