"""Every bundled scenario's simulated economies keep their accounts, and the liquidity constraint
against hand-derived closed forms (lewie.model.liquidity)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import lewie
from lewie.results import analysis as A
from lewie.errors import CalibrationError, InputError

from .conftest import sam_from_flows, write_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))
TOL = 1e-9


def activity_gaps(ds: xr.Dataset) -> xr.DataArray:
    """Relative gap of each activity account: output value at the household's prices − intermediate
    inputs − every factor payment (rents of fixed factors, wages, budget-constrained inputs) − the rent
    of liquidity-constrained inputs, over output value. Computed from the results only."""
    ph = ds["household_price"]
    revenue = ph * ds["production"]
    inputs = (ph.rename(good="input_good") * ds["intermediate_demand"]).sum("input_good")
    wage = ds["wage"].sel(village=ds["household_village"]).drop_vars(["village", "household_village"],
                                                                    errors="ignore")
    tradable = ds["factor_market_level"] != "fixed"
    price = xr.where(tradable, wage, ds["rent"].fillna(0.0))
    payments = (price * ds["factor_demand"]).where(ds["factor_demand"] != 0, 0.0).sum("factor")
    rent = ds["liquidity_rent"].sum("factor") if "liquidity_rent" in ds else 0.0
    gap = revenue - inputs - payments - rent
    return (abs(gap) / abs(revenue)).where(ds["production"] > 0, 0.0)


def household_gaps(ds: xr.Dataset) -> xr.DataArray:
    """Relative gap of each household account: income − (consumption at its prices + savings +
    transfers out + spending outside), over income."""
    uses = (ds["household_price"] * ds["consumption"]).sum("good") + ds["savings"] + ds["transfers_out"] \
        + ds["outside_spending"]
    return abs(ds["income"] - uses) / abs(ds["income"])


def income_source_gaps(ds: xr.Dataset) -> xr.DataArray:
    """Relative gap of each household's income against its sources: returns to its fixed factors,
    wages of the labour it supplies, the rents of its liquidity-constrained inputs, exogenous income,
    outside finance of its inputs and goods received in kind at its prices. With the activity and
    household identities this says every account closes: nobody's rent is lost."""
    fixed = ds["factor_market_level"] == "fixed"
    rents = (ds["rent"].where(fixed).fillna(0.0) * ds["factor_demand"]).sum(["good", "factor"])
    wage = ds["wage"].sel(village=ds["household_village"]).drop_vars(["village", "household_village"],
                                                                    errors="ignore")
    wages = (wage.fillna(0.0) * ds["factor_supply"]).sum("factor")
    sources = rents + wages + ds["liquidity_rent"].sum(["good", "factor"]) + ds["exogenous_income"] \
        + ds["input_finance"].sum(["good", "factor"]) + (ds["household_price"] * ds["in_kind"]).sum("good")
    return abs(ds["income"] - sources) / abs(ds["income"])


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_bundled_scenario_keeps_its_accounts(path):
    """For every variant, the point estimates and three Monte Carlo draws, base and simulated."""
    ds = lewie.run(path, draws=3, seed=7)
    ds = A.converged_only(ds) if "status" in ds else ds
    acts, hhs = activity_gaps(ds), household_gaps(ds)
    worst_act = float(acts.max())
    assert worst_act <= TOL, acts.where(acts == acts.max(), drop=True).squeeze()
    assert float(household_gaps(ds).max()) <= TOL, hhs.where(hhs == hhs.max(), drop=True).squeeze()
    src = income_source_gaps(ds)
    assert float(src.max()) <= TOL, src.where(src == src.max(), drop=True).squeeze()


# ------------------------------------------------------------------------------------------------
# a tiny economy: one household, one activity with labour (priced outside), land (fixed) and inputs
# (priced outside, bought with a budget); everything priced outside, so the closed forms are exact
# ------------------------------------------------------------------------------------------------
VA, LAB, LAND, INP = 100.0, 40.0, 40.0, 20.0  # value added and its SAM payments


def farm_flows(land=LAND):
    flows = {
        ("act:crop:hh", "com:crop"): 120.0,
        ("com:crop", "act:crop:hh"): 20.0,            # seed from own crop: intermediate input
        ("fac:labor", "act:crop:hh"): LAB, ("fac:land", "act:crop:hh"): land, ("fac:inputs", "act:crop:hh"): INP,
        ("hh:hh", "fac:labor"): LAB, ("hh:hh", "fac:land"): land,
        ("out:world", "fac:inputs"): INP,
        ("hh:hh", "out:world"): 20.0,
        ("com:crop", "hh:hh"): 50.0, ("com:outside", "hh:hh"): 40.0,
        ("out:world", "com:outside"): 40.0, ("com:crop", "out:world"): 50.0,
        ("out:savings", "hh:hh"): 10.0, ("out:world", "out:savings"): 10.0,
    }
    return flows


def farm(tmp_path, *, shadow_price=1.4, interventions=(), gams_compat=False, input_budget=None, **extra):
    return write_scenario(tmp_path, sam_from_flows(farm_flows()), villages={"v": ["hh"]},
                          markets={"world": ["crop", "outside", "labor", "inputs"]},
                          input_budget=input_budget or {"factors": ["inputs"], "shadow_price": shadow_price},
                          interventions=list(interventions), gams_compat=gams_compat, **extra)


def test_base_shadow_price_calibrates_share_and_rent(tmp_path):
    """λ0 = 1.4: the inputs' share of value added is 1.4·20/100 = 0.28, the base rent 0.4·20 = 8 is
    taken out of land's SAM return (40 → 32), the SAM is rebuilt exactly (checked when building)."""
    sim = lewie.Simulation(farm(tmp_path, interventions=[{"kind": "cash_transfer", "households": ["hh"],
                                                          "amount": 1.0}])).load().validate().calibrate().build()
    cal = sim.calibration
    assert cal.params["factor_share"]["crop", "inputs", "hh"] == pytest.approx(0.28, rel=1e-14)
    assert cal.params["factor_share"]["crop", "land", "hh"] == pytest.approx(0.32, rel=1e-14)
    assert cal.params["fixed_factor"]["crop", "land", "hh"] == pytest.approx(32.0, rel=1e-14)
    assert cal.levels["liquidity_rent"]["crop", "inputs", "hh"] == pytest.approx(8.0, rel=1e-14)
    assert cal.params["input_budget"]["crop", "inputs", "hh"] == pytest.approx(20.0, rel=1e-14)


@pytest.mark.parametrize("lam", [1.0, 1.4, 2.0])
def test_credit_for_inputs_closed_form(tmp_path, lam):
    """Savings-group credit ΔB for inputs, everything priced outside. With labour share a and the
    inputs' share c = λ0·B/VA, value added solves QVA^(1−a) ∝ X^c, so QVA'/QVA = ((B+ΔB)/B)^(c/(1−a));
    labour is hired at wage 1 (its supply is unchanged), so income rises by land's rent and the
    liquidity rent, less the extra inputs: ΔY = (1 − a)·ΔQVA − ΔB. At the margin dY/dB = λ0 − 1."""
    dB = 5.0
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": dB}
    ds = lewie.run(farm(tmp_path, shadow_price=lam, interventions=[itv])).sel(variant="all", draw=0)
    a, c = LAB / VA, lam * INP / VA
    dva = VA * ((INP + dB) / INP) ** (c / (1 - a)) - VA
    assert float(A.change(ds, "value_added").sel(good="crop", household="hh")) == pytest.approx(dva, rel=1e-10)
    assert float(A.income_change(ds)) == pytest.approx((1 - a) * dva - dB, rel=1e-9)
    rent = c * (VA + dva) - (INP + dB)
    assert float(ds["liquidity_rent"].sel(state="simulated", good="crop", factor="inputs", household="hh")) \
        == pytest.approx(rent, rel=1e-9)
    # the marginal return of credit is the shadow price less the unit repaid
    tiny = {**itv, "amount": 1e-4}
    ds = lewie.run(farm(tmp_path, shadow_price=lam, interventions=[tiny])).sel(variant="all", draw=0)
    assert float(A.income_change(ds)) / 1e-4 == pytest.approx(lam - 1, abs=1e-4)


def test_transfer_share_for_inputs_is_taken_out_of_the_transfer(tmp_path):
    """A transfer T with input_budget_share σ: σT pays for inputs (outside finance), (1 − σ)T is
    exogenous income; income rises by T plus the return on the extra inputs: ΔY = T + (1−a)ΔQVA − σT."""
    T, sigma = 10.0, 0.3
    itv = {"kind": "cash_transfer", "households": ["hh"], "amount": T, "input_budget_share": sigma}
    ds = lewie.run(farm(tmp_path, interventions=[itv])).sel(variant="all", draw=0)
    assert float(A.change(ds, "exogenous_income").sel(household="hh")) == pytest.approx((1 - sigma) * T, rel=1e-12)
    assert float(ds["input_finance"].sel(state="simulated", good="crop", factor="inputs", household="hh")) \
        == pytest.approx(sigma * T, rel=1e-12)
    a, c = LAB / VA, 1.4 * INP / VA
    dva = VA * ((INP + sigma * T) / INP) ** (c / (1 - a)) - VA
    assert float(A.income_change(ds)) == pytest.approx(T + (1 - a) * dva - sigma * T, rel=1e-9)
    assert float(A.cost(ds)) == pytest.approx(T)


def test_shadow_price_needs_fixed_factor_returns_to_hold_the_rent(tmp_path):
    with pytest.raises(CalibrationError, match="not below the returns to its fixed factors"):
        lewie.run(farm(tmp_path, shadow_price=3.0))  # rent 40 = land's whole return


@pytest.mark.parametrize("bad", [0.5, float("nan"), float("inf"), {"crop": 0.9}])
def test_shadow_price_is_finite_and_at_least_one(tmp_path, bad):
    with pytest.raises(InputError, match="shadow"):
        farm(tmp_path, shadow_price=bad)


def test_shadow_price_names_activities(tmp_path):
    with pytest.raises(InputError, match="did you mean 'crop'"):
        lewie.run(farm(tmp_path, shadow_price={"crops": 1.4}))


def test_gams_compat_keeps_the_published_form(tmp_path):
    """Under gams_compat the rent is income of nobody (the activity account does not close), and a
    shadow price other than 1 is refused."""
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": 5.0}
    with pytest.raises(InputError, match="gams_compat"):
        lewie.run(farm(tmp_path, gams_compat=True, interventions=[itv]))
    (tmp_path / "b").mkdir()
    ds = lewie.run(farm(tmp_path / "b", shadow_price=1.0, gams_compat=True, interventions=[itv]))
    a, b, c = LAB / VA, LAND / VA, INP / VA
    dva = VA * ((INP + 5.0) / INP) ** (c / (1 - a)) - VA
    # GAMS: only land's rent reaches the household; the extra inputs are paid by nobody
    assert float(A.income_change(ds.sel(variant="all", draw=0))) == pytest.approx(b * dva, rel=1e-9)
    ds = lewie.run(farm(tmp_path / "b", shadow_price=1.0, interventions=[itv]))
    assert float(A.income_change(ds.sel(variant="all", draw=0))) == pytest.approx((b + c) * dva - 5.0, rel=1e-9)


def test_monte_carlo_draws_with_a_shadow_price_keep_the_books(tmp_path):
    """The parameter table gives the SAM's payment shares (inputs 0.2); draws vary them around it and
    each draw is recalibrated with the same λ0: its base rent is (λ0 − 1)·(drawn input payment), and
    every simulated account closes."""
    import pandas as pd
    rows = [("factor_share", "crop", "", f, "hh", v, 0.1 * v) for f, v in
            (("labor", 0.4), ("land", 0.4), ("inputs", 0.2))]
    pd.DataFrame(rows, columns=["parameter", "good", "good2", "factor", "household", "value", "se"]).to_csv(
        tmp_path / "parameters.csv", index=False)
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": 5.0}
    ds = lewie.run(farm(tmp_path, interventions=[itv], parameters="parameters.csv"), draws=6, seed=3)
    assert (ds["status"] == "converged").all()
    base = ds.sel(state="base", variant="all")
    rent = base["liquidity_rent"].sel(good="crop", factor="inputs", household="hh")
    spend = base["factor_demand"].sel(good="crop", factor="inputs", household="hh")
    assert np.allclose(rent, 0.4 * spend, rtol=1e-12)
    assert float(spend.std()) > 0.1  # the draws moved the input payment
    assert float(activity_gaps(ds).max()) <= TOL and float(household_gaps(ds).max()) <= TOL
    point = lewie.run(farm(tmp_path, interventions=[itv], parameters="parameters.csv"), draws=0)
    assert float(A.income_change(ds.sel(draw=0, variant="all"))) == pytest.approx(
        float(A.income_change(point.sel(draw=0, variant="all"))), rel=1e-12)


def test_input_pack_paid_by_a_programme_is_the_households_money(tmp_path):
    """An input pack worth P paid from outside: the same extra inputs as credit P, but not repaid, so
    income rises by P more than with credit: ΔY = (1 − a)·ΔQVA − P + P."""
    P = 5.0
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": P, "paid_by": "outside"}
    ds = lewie.run(farm(tmp_path, interventions=[itv])).sel(variant="all", draw=0)
    a, c = LAB / VA, 1.4 * INP / VA
    dva = VA * ((INP + P) / INP) ** (c / (1 - a)) - VA
    assert float(A.income_change(ds)) == pytest.approx((1 - a) * dva, rel=1e-9)
    assert float(activity_gaps(ds).max()) <= TOL


def test_monte_carlo_draws_an_estimated_shadow_price(tmp_path):
    """shadow_price = 1.4 ± 0.2: draw 0 keeps 1.4, other draws differ, every draw keeps its books, and
    the base rent of each draw is (λ_d − 1)·spending with λ_d >= 1."""
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": 5.0}
    sc = farm(tmp_path, interventions=[itv], input_budget={"factors": ["inputs"], "shadow_price": 1.4,
                                                           "shadow_price_se": 0.2})
    ds = lewie.run(sc, draws=8, seed=5)
    base = ds.sel(state="base", variant="all")
    lam = 1 + base["liquidity_rent"].sel(good="crop", factor="inputs", household="hh") / \
        base["factor_demand"].sel(good="crop", factor="inputs", household="hh")
    assert float(lam.sel(draw=0)) == pytest.approx(1.4, rel=1e-12)
    assert float(lam.std()) > 0.05 and float(lam.min()) >= 1.0
    assert float(activity_gaps(ds).max()) <= TOL
    again = lewie.run(sc, draws=8, seed=5, chunk=3)
    np.testing.assert_allclose(again["income"].values, ds["income"].values, rtol=1e-12)
    with pytest.raises(InputError, match="standard error"):
        farm(tmp_path, input_budget={"factors": ["inputs"], "shadow_price": 1.4, "shadow_price_se": -0.1})


def test_drawn_shadow_prices_are_recorded_as_drawn_parameters(tmp_path):
    """parameter_value(draw, entry) records the shadow price each draw was recalibrated with, as the entry
    shadow_price|crop||inputs|hh: draw 0 the point estimate, every draw the λ its base rent implies
    (1 + rent/spending), the same whatever the chunks; the variance decomposition sees it (it is the only
    drawn parameter here, so it explains the whole band); without a standard error nothing is recorded."""
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": 5.0}
    sc = farm(tmp_path, interventions=[itv], input_budget={"factors": ["inputs"], "shadow_price": 1.4,
                                                           "shadow_price_se": 0.2})
    ds = lewie.run(sc, draws=12, seed=5)
    entry = "shadow_price|crop||inputs|hh"
    assert entry in ds["entry"].values
    e = ds.sel(entry=entry)
    assert (str(e["entry_parameter"].values), str(e["entry_factor"].values), str(e["entry_household"].values)) == \
        ("shadow_price", "inputs", "hh")
    recorded = ds["parameter_value"].sel(entry=entry)
    base = ds.sel(state="base", variant="all")
    lam = 1 + base["liquidity_rent"].sel(good="crop", factor="inputs", household="hh") / \
        base["factor_demand"].sel(good="crop", factor="inputs", household="hh")
    np.testing.assert_allclose(recorded.values, lam.values, rtol=1e-9)
    assert float(recorded.sel(draw=0)) == 1.4 and float(recorded.std()) > 0.05
    again = lewie.run(sc, draws=12, seed=5, chunk=5)
    np.testing.assert_array_equal(again["parameter_value"].sel(entry=entry).values, recorded.values)
    dec = A.variance_decomposition(ds, A.income_multiplier(ds))
    assert float(dec["share"].sel(entry=entry, variant="all")) == pytest.approx(1.0)
    plain = lewie.run(farm(tmp_path / "b", interventions=[itv], input_budget={"factors": ["inputs"],
                                                                            "shadow_price": 1.4}), draws=4)
    assert "parameter_value" not in plain or not any(str(x).startswith("shadow_price|") for x in plain["entry"].values)


def test_shadow_price_after_credit_in_closed_form(tmp_path):
    """λ' = c·QVA'/(B + ΔB): more inputs lower their marginal value; the base is λ0."""
    dB = 5.0
    itv = {"kind": "input_budget", "households": ["hh"], "activities": ["crop"], "amount": dB}
    ds = lewie.run(farm(tmp_path, interventions=[itv])).sel(variant="all", draw=0)
    lam = A.shadow_price(ds).sel(good="crop", factor="inputs", household="hh")
    a, c = LAB / VA, 1.4 * INP / VA
    qva = VA * ((INP + dB) / INP) ** (c / (1 - a))
    assert float(lam.sel(state="base")) == pytest.approx(1.4, rel=1e-12)
    assert float(lam.sel(state="simulated")) == pytest.approx(c * qva / (INP + dB), rel=1e-9)
    assert np.isnan(float(A.shadow_price(ds).sel(state="base", good="crop", factor="labor", household="hh")))
