"""The one residual measure (lewie.solvers.residuals): each equation relative to the magnitude of the
quantities it is built from, so verification and the solvers' stopping rules do not depend on the
units of the SAM."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

import lewie
from lewie.results import analysis as A
from lewie.runs import montecarlo
from lewie.errors import SolveError
from lewie.sam.io import read_sam
from lewie.solvers.tape import compile_model
from lewie.solvers.residuals import SOLUTION_TOL, measure_for, relative, relative_residuals
from lewie.runs.verify import residual_table, verify

from .conftest import EXAMPLE_SAM, EXAMPLE_SCENARIO, example_dict, write_scenario

SCALES = [1e-12, 1e-6, 1.0, 1e6, 1e12]


def scaled_scenario(tmp_path, s: float):
    """The example scenario with every SAM amount and the transfer multiplied by ``s``."""
    data = example_dict()
    sam = read_sam(EXAMPLE_SAM) * s
    data.pop("sam")
    data["interventions"] = [{**data["interventions"][0], "amount": data["interventions"][0]["amount"] * s}]
    folder = tmp_path / f"s{s:g}"
    folder.mkdir()
    return write_scenario(folder, sam, **{k: v for k, v in data.items() if k != "name"})


def test_magnitude_of_a_hand_made_system():
    """x == 2·y − 3 and y == 5: M(y) = 5; x is defined by 2·y − 3, whose magnitude is 2·5 + 3 = 13,
    so M(x) = max(|x|, 13) and the first equation's magnitude is M(x) + 13 = 26."""
    m = pyo.ConcreteModel()
    m.x, m.y = pyo.Var(initialize=7.0), pyo.Var(initialize=5.0)
    m.c1 = pyo.Constraint(expr=m.x == 2 * m.y - 3)
    m.c2 = pyo.Constraint(expr=m.y == 5)
    s = compile_model(m)
    F, M = measure_for(s).evaluate(s.get_x(), s.get_p())
    assert F.tolist() == [[0.0, 0.0]]
    assert M.tolist() == [[26.0, 10.0]]
    m.x.set_value(7.5)
    rel = relative_residuals(s, s.get_x(), s.get_p())[0]
    assert rel[0] == pytest.approx(0.5 / 26, rel=1e-15)  # M(x) = max(|7.5|, 13), + M(2·y − 3) = 13
    assert relative(np.array([0.0, 1.0, np.nan]), np.array([0.0, 0.0, 1.0])).tolist() == [0.0, np.inf, np.inf]


def test_relative_residuals_do_not_depend_on_the_units(tmp_path):
    """The same wrong point in units ×1e-12 … ×1e12 has the same relative residuals."""
    rels = []
    for s in SCALES:
        sim = lewie.Simulation(scaled_scenario(tmp_path, s)).load().validate().calibrate().build()
        system = compile_model(sim.model)
        x, p = system.get_x(), system.get_p()
        x = x * (1 + 1e-3 * np.sin(np.arange(x.size)))  # the same relative error of every variable
        rels.append(relative_residuals(system, x, p)[0])
    for r in rels[1:]:
        np.testing.assert_allclose(r, rels[2], rtol=1e-6, atol=1e-15)
    assert rels[2].max() > 1e-4  # the point is wrong, visibly


@pytest.mark.parametrize("s", SCALES)
def test_verdict_and_multipliers_do_not_depend_on_the_units(tmp_path, s):
    ds = lewie.run(scaled_scenario(tmp_path, s)).sel(draw=0)
    ref = lewie.run(EXAMPLE_SCENARIO).sel(draw=0)
    assert (ds["status"] == "converged").all()
    assert float(ds["max_relative_residual"].max()) <= 1e-12
    for real in (False, True):
        np.testing.assert_allclose(A.income_multiplier(ds, real=real), A.income_multiplier(ref, real=real),
                                   rtol=1e-9)
    np.testing.assert_allclose(ds["income"] / s, ref["income"], rtol=1e-9)


def test_a_correct_solution_in_large_units_passes_and_a_wrong_one_in_tiny_units_fails(tmp_path):
    big = lewie.Simulation(scaled_scenario(tmp_path, 1e9)).load().validate().calibrate().build().solve()
    verify(big.model)  # the solution in units of 1e9 holds to rounding
    tiny = lewie.Simulation(scaled_scenario(tmp_path, 1e-9)).load().validate().calibrate().build().solve()
    table = verify(tiny.model)
    assert table["relative"].max() <= 1e-12
    h = next(iter(tiny.model.consumption))
    tiny.model.consumption[h].set_value(tiny.model.consumption[h].value * (1 + 1e-6))  # 1e-15 in absolute terms
    with pytest.raises(SolveError, match="eq_consumption"):
        verify(tiny.model)
    table = residual_table(tiny.model)
    assert table["relative"].iloc[0] > SOLUTION_TOL


@pytest.mark.slow
def test_a_member_that_stalled_at_the_rounding_floor_now_converges():
    """Zambia, draw 139 (seed of the scenario): with the old, unit-dependent scale Newton stalled at the
    rounding floor above its 1e-12 tolerance, ran 40 futile iterations and a continuation that failed
    ("no convergence in 40 iterations; continuation in 16 steps: diverged at step 1"). On the
    unit-free measure it stops at the rounding level."""
    ds = montecarlo.solve_draws(Path(EXAMPLE_SCENARIO).parents[1] / "scenarios" / "zambia_cgp.toml", 139, 139)
    assert ds["status"].values.tolist() == [["converged"]], ds["reason"].values
    assert float(ds["max_relative_residual"].max()) <= 1e-13
    assert int(ds["solver_iterations"].max()) <= 12
