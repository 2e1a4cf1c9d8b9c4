"""Calibration reproduces its SAM exactly; the base satisfies every equation."""
import numpy as np
import pytest

import lewie
from lewie.errors import CalibrationError
from lewie.runs.stages import check_base
from lewie.sam.io import read_sam
from lewie.model.social_accounts import net_flows, sam_from_model
from lewie.runs.verify import residual_table

from .conftest import EXAMPLE_SAM


def built(path):
    return lewie.Simulation(path).load().validate().calibrate().build()


def test_round_trip_sam_model_sam_is_exact(example_scenario):
    sim = built(example_scenario)
    sam = read_sam(EXAMPLE_SAM)
    rebuilt = net_flows(sam_from_model(sim.model, sim.structure)).reindex(index=sam.index, columns=sam.columns)
    assert np.abs(rebuilt.to_numpy() - sam.to_numpy()).max() <= 1e-9 * np.abs(sam.to_numpy()).max()


def test_every_equation_holds_at_the_base(example_scenario):
    sim = built(example_scenario)
    table = residual_table(sim.model)
    assert len(table) == sum(1 for _ in sim.model.component_data_objects(lewie.runs.stages.pyo.Constraint))
    assert table["relative"].max() <= 1e-9


def test_model_is_square(example_scenario):
    from lewie.solvers.tape import compile_model
    sim = built(example_scenario)
    system = compile_model(sim.model)
    assert system.n == system.m
    assert not list(sim.model.component_objects(lewie.runs.stages.pyo.Objective))


def test_base_check_catches_a_wrong_parameter(example_scenario):
    sim = built(example_scenario)
    sim.model.tfp["crops", "eligible"] = 1.01 * lewie.runs.stages.pyo.value(sim.model.tfp["crops", "eligible"])
    with pytest.raises(CalibrationError, match=r"eq_value_added\[good=crops, household=eligible\]"):
        check_base(sim.model, sim.sam, sim.structure)


def test_base_check_catches_a_sam_the_model_does_not_rebuild(example_scenario):
    sim = built(example_scenario)
    other = sim.sam.copy()
    other.loc["com:crops", "hh:eligible"] += 1.0
    with pytest.raises(CalibrationError, match=r"com:crops, hh:eligible"):
        check_base(sim.model, other, sim.structure)


def test_calibrated_shares(example_scenario):
    sim = built(example_scenario)
    p = sim.calibration.params
    sam = sim.sam
    assert p["factor_share"]["crops", "labor", "eligible"] == pytest.approx(0.45)
    assert sum(v for k, v in p["factor_share"].items() if k[0] == "crops" and k[2] == "eligible") == pytest.approx(1)
    assert sum(v for k, v in p["budget_share"].items() if k[1] == "traders") == pytest.approx(1)
    assert p["savings_rate"]["ineligible"] == pytest.approx(0.05)
    assert p["exogenous_income"]["eligible"] == sam.at["hh:eligible", "out:world"]


def test_stages_are_guarded(example_scenario):
    sim = lewie.Simulation(example_scenario)
    with pytest.raises(lewie.StageError, match="before the 'built' stage"):
        sim.solve()
    sim.load().validate().calibrate().build()
    with pytest.raises(lewie.StageError, match="already built"):
        sim.build()
