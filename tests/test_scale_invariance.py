"""Verdicts and numbers do not depend on the currency unit of the economy.

The same economy in units or in millions (every money value of the SAM or workbook, and the shocks'
amounts, times a factor s in 1e-6 … 1e6) has the same multipliers to 1e-9 and the same verdicts
(every solve converged and verified, the same base check).
"""
from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lewie
from lewie.results import analysis as A
from lewie.sam.io import read_sam, write_sam
from lewie.config.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example_village.toml"
SAM = ROOT / "sam" / "data" / "example_village" / "sam.csv"
AQUA = ROOT / "scenarios" / "myanmar_aqua.toml"

scales = st.floats(min_value=-6, max_value=6, allow_nan=False).map(lambda e: float(10.0 ** e))


def _sam_run(tmp_path, s: float):
    sam = read_sam(SAM) * s
    path = tmp_path / f"sam_{s!r}.csv"
    write_sam(sam, path)
    data = tomllib.loads(EXAMPLE.read_text())
    data["sam"] = str(path)
    data["interventions"][0]["amount"] *= s
    return lewie.run(scenario_from_dict(data, source=EXAMPLE))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return _sam_run(tmp_path_factory.mktemp("ref"), 1.0)


def _multipliers(ds):
    return np.array([float(A.income_multiplier(ds, real=r).sel(variant=v, draw=0))
                     for r in (False, True) for v in ds["variant"].values])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s=scales)
def test_sam_in_any_unit_gives_the_same_multipliers_and_verdicts(tmp_path, reference, s):
    ds = _sam_run(tmp_path, s)
    assert (ds["status"] == "converged").all() and list(ds["status"].values.ravel()) == \
        list(reference["status"].values.ravel())
    np.testing.assert_allclose(_multipliers(ds), _multipliers(reference), rtol=1e-9, atol=0)
    # and every level scales with s
    np.testing.assert_allclose(ds["income"].values, reference["income"].values * s, rtol=1e-9)


def _aqua_scaled(tmp_path, s: float):
    """The Aqua workbook with its money values (HHexp per household, QP per household) times s, and the
    land shocks' amounts times s (land is valued at its rent)."""
    src = openpyxl.load_workbook(ROOT / "sam" / "data" / "myanmar_aqua" / "AQ_LEWIE_InputSheet.xlsx", data_only=True)
    ws = src["Input"]
    for r in range(5, ws.max_row + 1):
        if str(ws.cell(row=r, column=2).value).strip().lower() in ("hhexp", "qp"):
            for c in range(6, 11):
                v = ws.cell(row=r, column=c).value
                if isinstance(v, (int, float)):
                    ws.cell(row=r, column=c).value = v * s
    path = tmp_path / f"aqua_{s!r}.xlsx"
    src.save(path)
    data = tomllib.loads(AQUA.read_text())
    data["workbook"] = str(path)
    for itv in data["interventions"]:
        itv["amount"] *= s
    return lewie.run(scenario_from_dict(data, source=AQUA), draws=0)


@pytest.mark.parametrize("s", [1e-6, 1e6])
def test_a_gams_workbook_in_millions_gives_the_same_multipliers(tmp_path, s):
    ref, ds = _aqua_scaled(tmp_path, 1.0), _aqua_scaled(tmp_path, s)
    assert (ds["status"] == "converged").all() and (ref["status"] == "converged").all()
    np.testing.assert_allclose(_multipliers(ds), _multipliers(ref), rtol=1e-9, atol=0)
