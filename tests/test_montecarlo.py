"""Monte Carlo runs: draws 0..N of every variant, recalibrated, checked, shocked and solved in batches;
reproducible whatever the chunking; failures kept visibly; supplied draws used exactly; sweeps."""
from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import lewie
from lewie.results import analysis as A
from lewie.cli.main import main
from lewie.errors import CalibrationError
from lewie.runs.montecarlo import MonteCarlo, prepare, pyomo_sample, solve_draws
from lewie.results.dataset import load_results, save_results
from lewie.runs.sampling import entry_keys, entry_name, point_values
from lewie.config.scenario import scenario_from_dict

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "example_workbook.toml"
WORKBOOK = REPO / "sam" / "data" / "example_workbook" / "workbook.xlsx"


def scenario(**overrides):
    data = tomllib.loads(SCENARIO.read_text(encoding="utf-8"))
    data["workbook"] = str(WORKBOOK)
    data.update(overrides)
    return scenario_from_dict(data, source=SCENARIO)


@pytest.fixture(scope="module")
def run200():
    return lewie.run(SCENARIO)  # [montecarlo] draws = 200, seed = 1


def test_200_draws_of_the_example_workbook(run200):
    ds = run200
    assert list(ds["draw"].values) == list(range(201))
    assert ds["income"].dims == ("variant", "draw", "state", "household")
    assert ds["status"].dims == ("variant", "draw")
    assert bool((ds["status"] == "converged").all()), ds["reason"].values
    assert ds.attrs["seed"] == 1 and ds.attrs["draws"] == 200 and ds.attrs["draw_method"] == "gams"
    # Pyomo re-checks draw 0 and one random draw in each range [2^j, 2^(j+1)), chosen by the seed
    sample = pyomo_sample(1, 200)
    assert ds["pyomo_verified"].values.nonzero()[0].tolist() == sample
    assert sample[:2] == [0, 1] and 7 <= len(sample) <= 9 and sample != pyomo_sample(2, 200)
    assert all(sum(2 ** j <= d < 2 ** (j + 1) for d in sample) == 1 for j in range(7))
    assert (ds["status_code"] == 0).all() and ds["status_code"].attrs["flag_meanings"].startswith("converged ")
    # the band of every variant's multiplier contains its point estimate
    for real in (False, True):
        m = A.income_multiplier(ds, real=real)
        st = lewie.summarize(ds, m.rename("m"))["m"]
        point = m.sel(draw=0)
        assert bool(((st.sel(statistic="p05") <= point) & (point <= st.sel(statistic="p95"))).all())
        assert bool((st.sel(statistic="p95") - st.sel(statistic="p05") > 0.05).all())  # the draws do vary


def test_statistics_are_numpy_on_the_same_draws(run200):
    ds = run200
    m = A.income_multiplier(ds)
    st = lewie.summarize(ds, m.rename("m"))
    for v in ds["variant"].values:
        x = m.sel(variant=v).values[1:]  # draws 1..200 (all converged)
        want = {"mean": x.mean(), "std": x.std(ddof=1), "p05": np.percentile(x, 5), "p50": np.median(x),
                "p95": np.percentile(x, 95), "mcse": x.std(ddof=1) / np.sqrt(x.size)}
        for stat, value in want.items():
            assert float(st["m"].sel(variant=v, statistic=stat)) == pytest.approx(value, rel=1e-12)
        assert int(st["n_draws"].sel(variant=v)) == 200


def test_drawn_parameters_are_in_the_results(run200, tmp_path):
    ds = run200
    pv = ds["parameter_value"]
    assert pv.dims == ("draw", "entry")
    assert "factor_share|crop||Labor|Elig" in ds["entry"].values
    e = pv.sel(entry="savings_rate||||Elig")
    assert str(e["entry_parameter"].values) == "savings_rate" and str(e["entry_household"].values) == "Elig"
    assert float(e.sel(draw=0)) == 0.02 and float(e.std()) > 0.005
    # the base of each draw is calibrated with its drawn values
    sav = ds["savings"].sel(state="base", variant="sim1", household="Elig")
    inc = ds["income"].sel(state="base", variant="sim1", household="Elig")
    np.testing.assert_allclose((sav / inc).values, e.values, rtol=1e-13)
    back = load_results(save_results(ds, tmp_path / "mc.nc"))
    xr.testing.assert_identical(back, ds)
    assert all(isinstance(v, (str, int, float)) for v in ds.attrs.values())


def test_same_seed_and_any_chunking_give_identical_results():
    one = lewie.run(SCENARIO, draws=9)
    xr.testing.assert_identical(lewie.run(SCENARIO, draws=9, chunk=4), one)  # same seed, other chunks
    mc = prepare(SCENARIO, draws=9)  # the same N: the Pyomo sample is fixed by the seed and N
    for first, last in ((0, 0), (1, 1), (2, 6), (7, 9)):  # one draw at a time, or a few
        xr.testing.assert_identical(mc.solve(first, last).drop_attrs(), one.sel(draw=slice(first, last)).drop_attrs())
    xr.testing.assert_identical(solve_draws(SCENARIO, 4, 7).drop_attrs(), one.sel(draw=slice(4, 7)).drop_attrs())
    other = lewie.run(SCENARIO, draws=9, seed=2)
    assert other.attrs["seed"] == 2
    assert not np.array_equal(other["income"].values[:, 1:], one["income"].values[:, 1:])
    np.testing.assert_array_equal(other["income"].sel(draw=0).values, one["income"].sel(draw=0).values)


def test_with_zero_standard_errors_every_draw_is_draw_zero(tmp_path):
    from lewie.sam.io import write_sam
    from lewie.sam.workbook import read_workbook, write_parameters
    from lewie.sam.workbook_calibration import calibrate_workbook
    econ = calibrate_workbook(read_workbook(WORKBOOK), villages={"v": ["Elig", "Inel", "Trader"]},
                              fixed_factors=["Land", "Capital"], labour_factors=["Labor"], input_factors=["Input"])
    write_sam(econ.sam, tmp_path / "sam.csv")
    write_parameters(econ.parameters.assign(se=0.0), tmp_path / "parameters.csv")
    sc = scenario_from_dict({
        "name": "zero se", "sam": "sam.csv", "parameters": "parameters.csv", "villages": {"v": ["Elig", "Inel", "Trader"]},
        "markets": {"village": ["retail", "services", "Labor"], "world": ["crop", "livestock", "prod", "OUT", "Input"]},
        "montecarlo": {"draws": 6, "seed": 3},
        "interventions": [{"kind": "cash_transfer", "households": ["Elig"], "amount": 500.0}]}, base=tmp_path)
    ds = lewie.run(sc)
    assert ds.sizes["draw"] == 7
    for name, da in ds.data_vars.items():
        if "draw" in da.dims and name not in ("solver_iterations", "max_relative_residual", "pyomo_verified"):
            first = da.sel(draw=0)
            assert bool(((da == first) | (da.isnull() & first.isnull())).all()), name


def _supplied(n=3, seed=5) -> pd.DataFrame:
    """Known draws: the point estimates, then new factor shares of crop/Elig, budget shares of Inel and
    savings rates of Trader."""
    sim = lewie.Simulation(SCENARIO).load().validate().calibrate()
    keys = entry_keys(sim.calibration)
    v = np.tile(point_values(sim.calibration, keys), (n + 1, 1))
    rng = np.random.default_rng(seed)
    crop = [j for j, k in enumerate(keys) if k[:2] == ("factor_share", "crop") and k[4] == "Elig"]
    inel = [j for j, k in enumerate(keys) if k[0] == "budget_share" and k[4] == "Inel"]
    for d in range(1, n + 1):
        for idx in (crop, inel):
            w = rng.dirichlet(20 * np.ones(len(idx)))
            v[d, idx] = w / w.sum()
        v[d, keys.index(("savings_rate", "", "", "", "Trader"))] = 0.05 + 0.02 * d
    return pd.DataFrame(v, index=pd.Index(range(n + 1), name="draw"), columns=[entry_name(k) for k in keys])


def test_supplied_draws_are_used_exactly(tmp_path):
    wide = _supplied()
    path = tmp_path / "bootstrap.csv"
    wide.to_csv(path)
    sc = scenario(montecarlo={"draws": 0})
    ds = lewie.run(sc, draws_file=path)
    # recorded portably: relative to the scenario's folder when near it, else by name (where the
    # checkout and the temporary folder are decides which)
    from lewie.results.provenance import portable_path, scenario_base
    assert ds.attrs["draw_method"] == "supplied"
    assert ds.attrs["draws_file"] == portable_path(path, scenario_base(sc))
    assert ds.attrs["draws_file"].endswith(path.name) and not ds.attrs["draws_file"].startswith("/")
    assert ds.attrs["draws_file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert list(ds["draw"].values) == [0, 1, 2, 3]
    np.testing.assert_array_equal(ds["parameter_value"].values, wide.to_numpy())
    base = ds.sel(state="base", variant="sim1")
    for d in range(4):
        row = wide.loc[d]
        b = base.sel(draw=d)
        for f in ("Labor", "Land", "Capital", "Input"):
            share = float(b["factor_demand"].sel(good="crop", factor=f, household="Elig")
                          / b["value_added"].sel(good="crop", household="Elig"))
            assert share == pytest.approx(row[f"factor_share|crop||{f}|Elig"], rel=1e-14)
        y = float(b["income"].sel(household="Trader"))
        assert float(b["savings"].sel(household="Trader")) / y == pytest.approx(row["savings_rate||||Trader"], rel=1e-14)
        local = float(b["income"].sel(household="Inel")) * (1 - sum(row[f"{r}||||Inel"] for r in
                                                                   ("savings_rate", "transfer_rate", "outside_rate")))
        for g in ("crop", "retail"):
            assert float(b["consumption"].sel(good=g, household="Inel")) / local == \
                pytest.approx(row[f"budget_share|{g}|||Inel"], rel=1e-13)
    # and in the model's parameters of each draw's recalibrated base
    mc = MonteCarlo(scenario(montecarlo={"draws": 0}), draws_file=path)
    from lewie.model.recalibration import recalibrate
    x0, p0 = recalibrate(mc.sim.model, mc.sim.calibration, mc.draws(0, 3).share_draws())
    pos = mc.system.param_positions(mc.sim.model.factor_share)
    for (g, f, h), j in pos.items():
        np.testing.assert_array_equal(p0[:, j], wide[f"factor_share|{g}||{f}|{h}"].to_numpy())


def test_an_earlier_run_can_be_replayed_from_its_results(tmp_path):
    first = lewie.run(SCENARIO, draws=4)
    path = save_results(first, tmp_path / "first.nc")
    again = lewie.run(SCENARIO, draws_file=path, draws=4)
    np.testing.assert_array_equal(again["parameter_value"].values, first["parameter_value"].values)
    np.testing.assert_array_equal(again["income"].values, first["income"].values)


def test_a_failed_draw_is_kept_visibly_and_left_out_of_the_statistics(tmp_path):
    wide = _supplied(n=5)
    crop = [c for c in wide.columns if c.startswith("factor_share|crop||") and c.endswith("|Elig")]
    wide.loc[3, crop] *= 0.5  # shares summing to 0.5: this draw cannot be calibrated
    path = tmp_path / "draws.csv"
    wide.to_csv(path)
    ds = lewie.run(scenario(montecarlo={"draws": 0}), draws_file=path)
    assert ds["status"].sel(draw=3).values.tolist() == ["failed: recalibration"] * 2
    assert "sum to 0.5" in str(ds["reason"].sel(draw=3, variant="sim1").values)
    assert bool(ds["income"].sel(draw=3).isnull().all())
    assert bool((ds["status"].sel(draw=[0, 1, 2, 4, 5]) == "converged").all())
    st = lewie.summarize(ds, "income")
    assert st["n_draws"].values.tolist() == [4, 4] and st.attrs["excluded_solves"] == 2
    assert st.attrs["excluded_draws"] == 1
    from lewie.report.text_summary import summary
    text = summary(ds)
    assert "failed: 2 of 12 solves" in text and "draw 3: failed: recalibration" in text
    from lewie.runs.montecarlo import run_draws
    with pytest.raises(CalibrationError, match="draw 3: supplied factor shares"):  # strict: raise instead
        run_draws(scenario(montecarlo={"draws": 0}), draws_file=path, draws=3, strict=True)


def test_a_shock_that_fails_in_some_draws():
    """Taking 97% of the land of an activity leaves none in draws whose land share is lower."""
    sim = lewie.Simulation(SCENARIO).load().validate().calibrate()
    land = sim.calibration.params["fixed_factor"][("crop", "Land", "Elig")]
    sc = scenario(dashboard=None, interventions=[{"name": "sell", "kind": "factor_endowment", "activity": "crop",
                                                  "factor": "Land", "households": ["Elig"], "amount": -0.97 * land, "cost": 1.0}],
                  montecarlo={"draws": 30, "seed": 1})
    ds = lewie.run(sc)
    status = ds["status"].sel(variant="all").values
    assert status[0] == "converged" and (status == "failed: shock").sum() >= 3
    failed = ds["status"].sel(variant="all") == "failed: shock"
    assert "cannot lose all of a fixed factor" in str(ds["reason"].sel(variant="all").where(failed, drop=True)[0].values)
    assert bool(ds["income"].sel(state="simulated").where(failed).isnull().all())
    ok = ds["status"].sel(variant="all") == "converged"
    assert bool(ds["income"].sel(state="simulated", variant="all").where(ok, drop=True).notnull().all())
    assert set(status) == {"converged", "failed: shock"}


def test_a_swept_setting_is_a_dim():
    sc = scenario(labour_supply={"elasticity": [0, 1, 100]}, montecarlo={"draws": 3, "seed": 1})
    ds = lewie.run(sc)
    assert ds["income"].dims == ("variant", "labour_supply_elasticity", "draw", "state", "household")
    assert ds["labour_supply_elasticity"].values.tolist() == [0.0, 1.0, 100.0]
    assert ds.attrs["sweeps"] == "labour_supply_elasticity"
    fixed = ds["factor_supply"].sel(labour_supply_elasticity=0)
    assert float(abs(fixed.sel(state="simulated") - fixed.sel(state="base")).max()) == 0.0
    plain = lewie.run(scenario(montecarlo={"draws": 3, "seed": 1}))
    np.testing.assert_array_equal(ds["income"].sel(labour_supply_elasticity=100).values, plain["income"].values)
    m = A.income_multiplier(ds).sel(draw=0, variant="sim1")
    assert float(m.sel(labour_supply_elasticity=0)) < float(m.sel(labour_supply_elasticity=1)) \
        < float(m.sel(labour_supply_elasticity=100))
    amounts = scenario(dashboard=None, interventions=[{"name": "cash", "kind": "cash_transfer", "households": ["Elig"],
                                                       "amount": [100.0, 400.0]}], montecarlo={"draws": 0})
    ds = lewie.run(amounts)
    assert ds["cost"].dims == ("variant", "cash_amount") and ds["cost"].values.tolist() == [[100.0, 400.0]]
    dy = A.income_change(ds).sel(draw=0, variant="all")
    assert float(dy.sel(cash_amount=400.0)) > 3.9 * float(dy.sel(cash_amount=100.0))


def test_cli_runs_draws_and_prints_bands(tmp_path, capsys):
    out = tmp_path / "r.nc"
    main(["run", str(SCENARIO), "--draws", "5", "--seed", "3", "--chunk", "2", "--out", str(out)])
    text = capsys.readouterr().out
    assert "Monte Carlo: draws 1..5 (seed 3, method gams)" in text and "nominal 5-95%" in text
    ds = load_results(out)
    assert ds.attrs["seed"] == 3 and ds.sizes["draw"] == 6
