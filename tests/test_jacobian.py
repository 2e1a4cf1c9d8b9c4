"""The Jacobian the solver uses matches central finite differences of the Pyomo constraints."""
import numpy as np
import pyomo.environ as pyo

import lewie
from lewie.solvers.tape import compile_model


def pyomo_residuals(system):
    """Residuals evaluated by Pyomo itself (not by the compiled tape)."""
    return np.array([pyo.value(c.body) - pyo.value(c.upper) for c in system.constraints])


def fd_jacobian(system, x, h=1e-6):
    J = np.zeros((system.m, system.n))
    for j, v in enumerate(system.variables):
        step = h * max(1.0, abs(x[j]))
        v.set_value(x[j] + step)
        up = pyomo_residuals(system)
        v.set_value(x[j] - step)
        down = pyomo_residuals(system)
        v.set_value(x[j])
        J[:, j] = (up - down) / (2 * step)
    return J


def test_compiled_residual_equals_pyomo_residual(example_scenario):
    sim = lewie.Simulation(example_scenario).load().validate().calibrate().build().solve()
    system = compile_model(sim.model)
    x, p = system.get_x(), system.get_p()
    # move away from the solution so residuals are not all zero
    x = x * (1 + 0.01 * np.sin(np.arange(system.n)))
    system.set_x(x)
    np.testing.assert_allclose(system.residual(x, p)[0], pyomo_residuals(system), rtol=1e-12, atol=1e-9)


def test_jacobian_matches_finite_differences_of_pyomo_constraints(example_scenario):
    sim = lewie.Simulation(example_scenario).load().validate().calibrate().build().solve()
    system = compile_model(sim.model)
    x, p = system.get_x(), system.get_p()
    x = x * (1 + 0.01 * np.cos(np.arange(system.n)))  # a generic point, not the solution
    system.set_x(x)
    J = system.jacobian(x, p).toarray()
    Jfd = fd_jacobian(system, x)
    err = np.abs(J - Jfd) / (1 + np.abs(J))
    assert err.max() <= 1e-5, np.unravel_index(err.argmax(), err.shape)
    # the sparsity pattern covers every entry finite differences see
    assert np.all((np.abs(Jfd) > 1e-7) <= (J != 0))
