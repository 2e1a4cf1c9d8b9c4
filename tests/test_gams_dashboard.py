"""A GAMS dashboard with its own Index sheet (simActive, facSim, pzSim, pshiftSim) becomes variants
named after its sims (lewie.sam.dashboard, lewie.results.gams.with_gams_dashboard)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pytest

import lewie
from lewie.errors import InputError
from lewie.sam.dashboard import read_gams_dashboard
from lewie.config.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "example_workbook.toml"
WORKBOOK = ROOT / "sam" / "data" / "example_workbook" / "workbook.xlsx"


def dashboard(tmp_path, active=(1, 1, 0, 1)):
    book = openpyxl.Workbook()
    ix = book.active
    ix.title = "Index"
    ix.append(["Type", "Name", "Range", "rdim", "cdim"])
    ix.append(["par", "simActive", "Dash!B1", 0, 1])     # sims across one row, flags below
    ix.append(["par", "facSim", "Dash!A5", 3, 1])        # g, f, h down; sims across
    ix.append(["par", "pzSim", "Dash!A10", 1, 1])        # g down; sims across
    ix.append(["par", "pshiftSim", "Dash!A14", 2, 1])    # g, h down; sims across
    ws = book.create_sheet("Dash")
    sims = ["sim1", "sim2", "sim3", "sim4"]
    for j, s in enumerate(sims):
        ws.cell(row=1, column=2 + j, value=s)
        ws.cell(row=2, column=2 + j, value=active[j])
    ws.cell(row=5, column=4, value=None)
    for j, s in enumerate(sims):
        ws.cell(row=5, column=4 + j, value=s)
        ws.cell(row=10, column=2 + j, value=s)
        ws.cell(row=14, column=3 + j, value=s)
    for c, v in zip("ABC", ("Crop", "Land", "Elig")):
        ws[f"{c}6"] = v
    ws["D6"] = 100  # sim1: 100 units of land to the eligible households' crops
    ws["A11"], ws["C11"] = "crop", 0.1  # sim2: world price of crop +10%
    ws["A15"], ws["B15"], ws["E15"] = "crop", "Elig", 0.05  # sim3 (inactive): TFP +5%
    ws["A16"], ws["B16"], ws["F16"] = "livestock", "Inel", 0.05  # sim4: TFP +5%
    path = tmp_path / "dashboard.xlsx"
    book.save(path)
    return path


def scenario(path):
    data = tomllib.loads(SCENARIO.read_text())
    data["workbook"] = str(WORKBOOK)
    data["dashboard"] = {"file": str(path)}
    data["montecarlo"] = {"draws": 0}
    return scenario_from_dict(data, source=SCENARIO)


def test_read_through_the_index_with_active_flags(tmp_path):
    shocks, sims, notes = read_gams_dashboard(dashboard(tmp_path))
    assert sims == ["sim1", "sim2", "sim4"]
    assert shocks[["sim", "family", "good", "factor", "household", "value"]].values.tolist() == [
        ["sim1", "factor", "Crop", "Land", "Elig", 100.0], ["sim2", "price", "crop", "", "", 0.1],
        ["sim4", "productivity", "livestock", "", "Inel", 0.05]]
    assert "sim 'sim3' is not active (simActive): not run" in notes


def test_every_active_sim_is_a_variant_with_its_gams_name(tmp_path):
    ds = lewie.run(scenario(dashboard(tmp_path)))
    assert list(ds["variant"].values) == ["sim1", "sim2", "sim4"]
    assert (ds["status"] == "converged").all()
    # sim1 is the Sims-sheet shock of the example scenario: the same numbers
    ref = lewie.run(SCENARIO, draws=0).sel(variant="sim1")
    np.testing.assert_allclose(ds["income"].sel(variant="sim1").values, ref["income"].values, rtol=1e-12)
    # sim2: the world price of crop is 1.1 in the solution
    assert float(ds["price"].sel(variant="sim2", good="crop", state="simulated").max()) == pytest.approx(1.1)
    kinds = dict(zip(ds["intervention"].values, ds["intervention_kind"].values))
    assert kinds["sim2_price_crop"] == "price" and kinds["sim4_productivity_livestock_Inel"] == "productivity"


def test_a_dashboard_label_unknown_to_the_workbook_names_the_cell(tmp_path):
    path = dashboard(tmp_path)
    book = openpyxl.load_workbook(path)
    book["Dash"]["A11"] = "crops"
    book.save(path)
    with pytest.raises(InputError, match=r"Dash!C11: good 'crops' is not declared .*did you mean 'crop'"):
        lewie.run(scenario(path))
