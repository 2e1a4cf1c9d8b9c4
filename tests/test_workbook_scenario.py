"""GAMS LEWIE workbooks as the economy of a scenario: import, calibration, exact base and round trip,
case-insensitive labels, and the dashboard's shocks as variants."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import xarray as xr

import lewie
from lewie.results import analysis as A
from lewie.errors import InputError
from lewie.results.dataset import load_results, save_results
from lewie.config.scenario import scenario_from_dict
from lewie.model.social_accounts import net_flows, sam_from_model

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "example_workbook.toml"
WORKBOOK = REPO / "sam" / "data" / "example_workbook" / "workbook.xlsx"


def scenario_dict(**overrides) -> dict:
    data = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    data["workbook"] = str(WORKBOOK)
    data["montecarlo"] = {"draws": 0, "seed": 1}
    data.update(overrides)
    return data


@pytest.fixture(scope="module")
def sim():
    sc = lewie.load_scenario(SCENARIO)
    return lewie.Simulation(sc).load().validate().calibrate().build()


@pytest.fixture(scope="module")
def ds():
    return lewie.run(SCENARIO, draws=0)


def test_the_workbook_imports_and_calibrates_with_the_dashboard_shocks_as_variants(sim):
    s = sim.structure
    assert s.households == ("Elig", "Inel", "Trader")
    assert s.fixed_factors == ("Land", "Capital") and s.tradable_factors == ("Labor", "Input")
    assert sim.scenario.variants == {"sim1": ["sim1_Land_crop_Elig"], "sim2": ["sim2_Capital_livestock_Elig"]}
    kinds = {e.name: (e.kind, e.add, e.cost) for e in sim.effects}
    assert kinds["sim1_Land_crop_Elig"] == ("factor_endowment", {"fixed_factor": {("crop", "Land", "Elig"): 100.0}},
                                            100.0)
    assert kinds["sim2_Capital_livestock_Elig"] == (
        "factor_endowment", {"fixed_factor": {("livestock", "Capital", "Elig"): 50.0}}, 50.0)
    # the parameter table (standard errors of the draws) comes from the workbook
    assert set(sim.parameters["parameter"]) >= {"factor_share", "budget_share", "savings_rate", "household_count"}
    assert sim.household_count == {"Elig": 400.0, "Inel": 900.0, "Trader": 150.0}


def test_round_trip_workbook_sam_model_sam_is_exact(sim):
    """The base reproduces the workbook's SAM: every equation holds and the SAM rebuilt from the
    model's base is the SAM the workbook gives (build checks both; here explicitly)."""
    from lewie.sam.workbook import read_workbook
    from lewie.sam.workbook_calibration import calibrate_workbook
    wb = read_workbook(WORKBOOK)
    econ = calibrate_workbook(wb, villages={"village": ["Elig", "Inel", "Trader"]}, fixed_factors=["Land", "Capital"],
                              labour_factors=["Labor"], input_factors=["Input"])
    rebuilt = net_flows(sam_from_model(sim.model, sim.structure)).reindex(index=econ.sam.index,
                                                                           columns=econ.sam.columns).fillna(0.0)
    scale = float(np.abs(econ.sam.to_numpy()).max())
    assert float((rebuilt - econ.sam).abs().to_numpy().max()) <= 1e-12 * scale
    from lewie.runs.verify import residual_table
    assert float(residual_table(sim.model)["relative"].max()) <= 1e-12


def test_both_dashboard_shocks_solve(ds):
    assert list(ds["variant"].values) == ["sim1", "sim2"]
    assert bool((ds["status"] == "converged").all())
    assert ds["cost"].values.tolist() == [100.0, 50.0]
    fixed = ds["factor_demand"].sel(draw=0, good="crop", factor="Land", household="Elig")
    # the 100 units of land are all used by the activity (rent adjusts)
    assert float(fixed.sel(variant="sim1", state="simulated") - fixed.sel(variant="sim1", state="base")) \
        == pytest.approx(100.0, rel=1e-12)
    m = A.income_multiplier(ds).sel(draw=0)
    assert (m > 1).all() and (m < 5).all()


def test_results_record_the_workbook_and_round_trip(ds, tmp_path):
    assert ds.attrs["economy"] == "workbook" and ds.attrs["sam_file"].endswith("workbook.xlsx")
    assert ds.attrs["gams_compat"] == 0 and isinstance(ds.attrs["calibration_log"], str)
    back = load_results(save_results(ds, tmp_path / "wb.nc"))
    xr.testing.assert_identical(back, ds)


def test_labels_are_case_insensitive():
    """'labor', 'LABOR' and 'Labor' are one factor; every label is respelled as the workbook has it."""
    data = scenario_dict(
        villages={"village": ["elig", "INEL", "trader"]},
        markets={"village": ["Retail", "SERVICES", "labor"], "world": ["Crop", "livestock", "PROD", "out", "input"]},
        purchased_inputs=["INPUT"], labour_supply={"elasticity": {"ELIG": 100, "inel": 100, "Trader": 100}},
        interventions=[{"name": "cash", "kind": "cash_transfer", "households": ["ELIG"], "amount": 100.0}],
        variants={"cash": ["cash"]})
    del data["dashboard"]
    low = lewie.run(scenario_from_dict(data))
    data = scenario_dict(interventions=[{"name": "cash", "kind": "cash_transfer", "households": ["Elig"],
                                         "amount": 100.0}], variants={"cash": ["cash"]})
    del data["dashboard"]
    canon = lewie.run(scenario_from_dict(data))
    assert list(low["household"].values) == ["Elig", "Inel", "Trader"]
    np.testing.assert_array_equal(low["income"].values, canon["income"].values)
    assert "read as" in low.attrs["calibration_log"]


def test_an_unknown_label_still_names_the_closest_one():
    data = scenario_dict(markets={"village": ["retail", "services", "Labour"],
                                  "world": ["crop", "livestock", "prod", "OUT", "Input"]})
    with pytest.raises(InputError, match=r"markets\.village\[2\].*unknown good or factor 'Labour' \(did you mean 'Labor'\?\)"):
        lewie.run(scenario_from_dict(data))


def test_a_purchased_input_must_be_traded():
    data = scenario_dict(markets={"village": ["retail", "services", "Labor"], "world": ["crop", "livestock", "prod",
                                                                                       "OUT"]})
    with pytest.raises(InputError, match=r"purchased_inputs\[0\].*purchased input 'Input'.*\[markets\]"):
        lewie.Simulation(scenario_from_dict(data)).load()


def _dashboard(tmp_path, rows) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Shocks"
    ws.append(["sim", "g", "f", "h", "value"])
    for r in rows:
        ws.append(r)
    path = tmp_path / "dash.xlsx"
    book.save(path)
    return path


def test_a_labour_shock_in_the_dashboard_is_new_labour_costing_its_value(tmp_path):
    path = _dashboard(tmp_path, [["migrants", "retail", "labor", "Inel", 25.0], ["land", "crop", "LAND", "elig", 10.0]])
    sc = scenario_from_dict(scenario_dict(dashboard={"file": str(path), "sheet": "Shocks"}))
    sim = lewie.Simulation(sc).load().validate().calibrate()
    effects = {e.name: e for e in sim.effects}
    e = effects["migrants_Labor_retail_Inel"]
    assert e.kind == "labour_supply" and e.cost == 25.0 and e.add == {"labour_endowment": {("Labor", "Inel"): 25.0}}
    assert effects["land_Land_crop_Elig"].kind == "factor_endowment"
    assert sim.scenario.variants == {"migrants": ["migrants_Labor_retail_Inel"], "land": ["land_Land_crop_Elig"]}
    ds = lewie.run(sc)
    assert bool((ds["status"] == "converged").all())


def test_a_dashboard_shock_to_a_purchased_input_is_an_error(tmp_path):
    path = _dashboard(tmp_path, [["inputs", "crop", "Input", "Elig", 5.0]])
    sc = scenario_from_dict(scenario_dict(dashboard={"file": str(path), "sheet": "Shocks"}))
    with pytest.raises(InputError, match=r"dash\.xlsx.*'Input' is a purchased input"):
        lewie.Simulation(sc).load()


def test_gams_compat_is_recorded():
    ds = lewie.run(scenario_from_dict(scenario_dict(gams_compat=True)))
    assert ds.attrs["gams_compat"] == 1 and ds.attrs["draw_method"] == "gams-compat"
