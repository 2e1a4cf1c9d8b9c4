"""Results: labelled dims, attributes, exact netCDF round trip, analysis functions, CLI."""
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import lewie
from lewie.results import analysis as A
from lewie.cli.main import main
from lewie.results.dataset import load_results, save_results


@pytest.fixture(scope="module")
def ds():
    from .conftest import EXAMPLE_SCENARIO
    return lewie.run(EXAMPLE_SCENARIO)


REQUIRED = ["income", "real_income", "cpi", "production", "value_added", "factor_demand", "intermediate_demand",
            "consumption", "price", "wage", "rent", "marketed_surplus", "exogenous_income"]


def test_dims_and_variables_are_labelled(ds):
    assert {"household", "good", "factor", "village", "state", "variant", "draw", "intervention"} <= set(ds.dims)
    assert list(ds["draw"].values) == [0]  # point estimates only: draw 0
    assert ds["status"].dims == ("variant", "draw") and bool((ds["status"] == "converged").all())
    assert list(ds["state"].values) == ["base", "simulated"]
    assert list(ds["variant"].values) == ["all"]  # a scenario without [variants]: every intervention together
    assert list(ds["intervention"].values) == ["cash_transfer"]  # unnamed: called by its kind
    assert list(ds["household"].values) == ["eligible", "ineligible", "traders"]
    for var in REQUIRED:
        assert var in ds, var
        assert ds[var].attrs["long_name"] and ds[var].attrs["units"], var
    assert ds["production"].dims == ("variant", "draw", "state", "good", "household")
    assert float(ds["cost"].sel(variant="all")) == 480.0
    assert ds["beneficiary"].sel(variant="all").values.tolist() == [True, False, False]
    assert ds.attrs["lewie_version"] == lewie.__version__
    assert ds.attrs["solver"] == "newton"
    assert ds.attrs["max_relative_residual"] <= 1e-8


def test_netcdf_round_trip_is_exact(ds, tmp_path):
    path = save_results(ds, tmp_path / "r.nc")
    xr.testing.assert_identical(load_results(path), ds)
    for v in ds.attrs.values():
        assert isinstance(v, (str, int, float))


def test_strict_labels_a_misspelled_household_raises(ds):
    with pytest.raises(KeyError):
        ds["income"].sel(household="eligble")


def test_multiplier_functions_are_consistent(ds):
    ds = ds.sel(variant="all", draw=0)
    total = float(A.income_multiplier(ds))
    by_h = A.income_multiplier(ds, by="household")
    by_group = A.income_multiplier(ds, by="group")
    by_v = A.income_multiplier(ds, by="village")
    assert float(by_h.sum()) == pytest.approx(total, rel=1e-12)
    assert float(by_group.sum()) == pytest.approx(total, rel=1e-12)
    assert float(by_v.sum()) == pytest.approx(total, rel=1e-12)
    assert float(by_group.sel(group="beneficiaries")) == pytest.approx(float(by_h.sel(household="eligible")))
    dy = float(ds["income"].sel(state="simulated").sum() - ds["income"].sel(state="base").sum())
    assert total == pytest.approx(dy / 480.0, rel=1e-12)
    # the transfer itself is part of the beneficiaries' gain; the local economy adds more
    assert total > 1.0
    assert float(A.income_multiplier(ds, real=True)) < total  # local prices rise
    np.testing.assert_allclose(A.pct_change(ds, "income").values,
                               100 * (ds["income"].sel(state="simulated") / ds["income"].sel(state="base") - 1).values,
                               rtol=1e-12, atol=1e-9)  # atol: a group the transfer does not reach changes by ~1e-14


def test_cli_run_writes_results_and_prints_summary(tmp_path, capsys):
    from .conftest import EXAMPLE_SCENARIO
    out = tmp_path / "res.nc"
    main(["run", str(EXAMPLE_SCENARIO), "--out", str(out)])  # returns normally on success
    text = capsys.readouterr().out
    assert "Income multipliers" in text and "eligible" in text and "price retail" in text
    assert out.exists()


def test_cli_error_is_one_line_and_non_zero(tmp_path, capsys):
    with pytest.raises(SystemExit) as ex:
        main(["run", str(tmp_path / "missing.toml")])
    assert ex.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "missing.toml" in err and "Traceback" not in err


def test_cli_debug_shows_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "lewie.cli.main", "--debug", "run", str(tmp_path / "missing.toml")],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_equation_listing_comes_from_the_model(example_scenario):
    from lewie.model.equations import describe_equations
    sim = lewie.Simulation(example_scenario).load().validate().calibrate().build()
    md = describe_equations(sim.model)
    import pyomo.environ as pyo
    for con in sim.model.component_objects(pyo.Constraint):
        assert f"`{con.name}`" in md
    assert r"\mathrm{consumption}" in md
    assert "\\begin{equation}" in describe_equations(sim.model, fmt="latex")
