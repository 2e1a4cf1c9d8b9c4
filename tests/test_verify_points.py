"""Pyomo's check of many points at once (`lewie.runs.verify.verify_points`): the same verdict and the
same message as `verify` one point at a time, the model's values restored."""
from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

import lewie
from lewie.errors import SolveError
from lewie.runs.verify import BASE_TOL, SOLUTION_TOL, pyomo_residuals, verify, verify_points
from lewie.solvers.tape import compile_model

from .conftest import EXAMPLE_SCENARIO


@pytest.fixture(scope="module")
def example():
    sim = lewie.Simulation(EXAMPLE_SCENARIO).load().validate().calibrate().build()
    return sim.model, compile_model(sim.model)


def test_pyomo_residuals_are_pyomos_own_values(example):
    model, system = example
    cons = list(model.component_data_objects(pyo.Constraint, active=True, descend_into=True))
    x = system.get_x()
    system.set_x(x * 1.001)
    try:
        direct = np.array([pyo.value(c.body) - pyo.value(c.upper) for c in cons])
        np.testing.assert_array_equal(pyomo_residuals(system), direct)
        assert np.abs(direct).max() > 0
    finally:
        system.set_x(x)


def test_verify_points_agrees_with_verify_and_restores_the_model(example):
    model, system = example
    x0, p0 = system.get_x(), system.get_p()
    bad = x0.copy()
    bad[np.argmax(np.abs(x0))] *= 1 + 1e-6  # one equation (at least) broken well above the tolerance
    found = verify_points(model, system, np.stack([x0, bad, x0]), np.stack([p0, p0, p0]),
                          [BASE_TOL, SOLUTION_TOL, SOLUTION_TOL], ["base", "bad point", "base again"])
    assert found[0] == found[2] == ""
    system.set_x(bad)
    with pytest.raises(SolveError) as info:
        verify(model, tol=SOLUTION_TOL, what="bad point", system=system)
    system.set_x(x0)
    assert found[1] == str(info.value) and "does not satisfy the model" in found[1]
    np.testing.assert_array_equal(system.get_x(), x0)
    np.testing.assert_array_equal(system.get_p(), p0)
    assert verify_points(model, system, np.empty((0, system.n)), np.empty((0, system.k)), [], []) == []


@pytest.mark.parametrize("scenario", ["example_village", "example_workbook", "example_liquidity"])
def test_pyomo_residuals_at_many_points_agree_with_one_point_at_a_time(scenario):
    from lewie.runs.verify import pyomo_residuals_at
    from lewie.solvers.residuals import measure_for
    from .conftest import REPO
    sim = lewie.Simulation(REPO / "scenarios" / f"{scenario}.toml").load().validate().calibrate().build()
    system = compile_model(sim.model)
    x0, p0 = system.get_x(), system.get_p()
    rng = np.random.default_rng(1)
    X = x0 * (1 + 1e-3 * rng.standard_normal((5, system.n)))
    P = p0 * (1 + 1e-3 * rng.standard_normal((5, system.k)))
    many = pyomo_residuals_at(system, X, P)
    one = []
    for b in range(len(X)):
        system.set_p(P[b])
        system.set_x(X[b])
        one.append(pyomo_residuals(system))
    system.set_p(p0)
    system.set_x(x0)
    one = np.array(one)
    _, M = measure_for(system).evaluate(X, P)
    assert np.abs(one).max() > 1e-6  # the points do not solve the model: a real comparison
    np.testing.assert_array_less(np.abs(many - one), 1e-14 * M + 1e-300)  # rounding of the magnitude
    np.testing.assert_array_equal(system.get_x(), x0)
