"""The IPOPT backend on small square nonlinear systems with known solutions.

Skipped when IPOPT is not set up (`make ipopt` / tools/setup_ipopt.sh), except under CI=true or
LEWIE_REQUIRE_IPOPT=1, where an unavailable backend fails: CI must run the cross-check.
"""
from __future__ import annotations

import math
import os

import pyomo.environ as pyo
import pytest

from lewie.solvers.base import SolverStatus
from lewie.solvers.ipopt import IpoptBackend

pytestmark = pytest.mark.ipopt

_REQUIRED = os.environ.get("CI") == "true" or os.environ.get("LEWIE_REQUIRE_IPOPT") == "1"


@pytest.fixture(scope="module")
def backend():
    info = IpoptBackend.info()
    if not info.available:
        if _REQUIRED:
            pytest.fail(f"IPOPT backend required (CI/LEWIE_REQUIRE_IPOPT) but unavailable: "
                        f"{info.reason}")
        pytest.skip(f"IPOPT backend unavailable: {info.reason}")
    return IpoptBackend()


# Known solution: x=1, y=2, z=0.5, w=3 (a is a fixed variable = 4).
SOLUTION = {"x": 1.0, "y": 2.0, "z": 0.5, "w": 3.0}


def square_model():
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=0.7)
    m.y = pyo.Var(initialize=1.5)
    m.z = pyo.Var(initialize=0.8)
    m.w = pyo.Var(initialize=2.0)
    m.a = pyo.Var(initialize=4.0)
    m.a.fix()
    m.c1 = pyo.Constraint(expr=pyo.exp(m.x - 1) + m.y**2 == 5.0)        # 1 + 4
    m.c2 = pyo.Constraint(expr=m.x * m.y * m.z == 1.0)                  # 1*2*0.5
    m.c3 = pyo.Constraint(expr=m.w**1.5 - m.a * m.z * math.sqrt(3) == math.sqrt(3))  # 3^1.5 - 2√3
    m.c4 = pyo.Constraint(expr=m.x + m.y + m.z + m.w == 6.5)
    return m


def _objectives(m):
    return list(m.component_objects(pyo.Objective, descend_into=True))


def test_info_reports_ipopt():
    info = IpoptBackend.info()
    assert info.name == "ipopt"
    assert "square-system" in info.capabilities
    if info.available:
        assert info.version
    else:
        assert "setup_ipopt" in info.reason


def test_converges_to_known_solution(backend):
    m = square_model()
    names_before = sorted(c.name for c in m.component_objects())
    res = backend.solve(m, tol=1e-12, max_iter=100)
    assert res.status is SolverStatus.CONVERGED, res.message
    assert res.status.ok
    assert res.solver == "ipopt"
    assert res.iterations > 0
    assert res.max_residual < 1e-9
    for name, expected in SOLUTION.items():
        assert abs(pyo.value(getattr(m, name)) - expected) < 1e-8, name
    # the model is left as it was, apart from the variable values
    assert _objectives(m) == []
    assert sorted(c.name for c in m.component_objects()) == names_before
    assert m.a.fixed and pyo.value(m.a) == 4.0
    assert all(v.lb is None and v.ub is None for v in m.component_data_objects(pyo.Var))


def test_existing_objective_is_restored(backend):
    m = square_model()
    m.obj = pyo.Objective(expr=m.x**2)
    res = backend.solve(m, tol=1e-12)
    assert res.status is SolverStatus.CONVERGED, res.message
    assert [o.name for o in _objectives(m)] == ["obj"] and m.obj.active
    assert abs(pyo.value(m.w) - 3.0) < 1e-8


def test_infeasible_system_is_not_converged(backend):
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=1.0)
    m.y = pyo.Var(initialize=0.5)
    m.c1 = pyo.Constraint(expr=m.x**2 + m.y**2 == -1.0)  # no real solution
    m.c2 = pyo.Constraint(expr=m.x - m.y == 0.0)
    res = backend.solve(m, tol=1e-10, max_iter=200)
    assert not res.status.ok
    assert res.status in (SolverStatus.DIVERGED, SolverStatus.ITERATION_LIMIT,
                          SolverStatus.SINGULAR_JACOBIAN, SolverStatus.ERROR)
    assert res.message
    assert _objectives(m) == []


def test_iteration_limit(backend):
    m = square_model()
    res = backend.solve(m, tol=1e-12, max_iter=1)
    assert res.status is SolverStatus.ITERATION_LIMIT, res.message
    assert _objectives(m) == []


def test_evaluation_error_does_not_raise(backend):
    m = pyo.ConcreteModel()
    m.x = pyo.Var(initialize=-1.0)  # log undefined at the start
    m.y = pyo.Var(initialize=1.0)
    m.c1 = pyo.Constraint(expr=pyo.log(m.x) == 1.0)
    m.c2 = pyo.Constraint(expr=m.y - m.x == 0.0)
    res = backend.solve(m)
    assert not res.status.ok
    assert res.message
    assert _objectives(m) == []
