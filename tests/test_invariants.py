"""Invariants: zero shock, price homogeneity, Walras' law, balanced simulated SAM."""
import numpy as np
import pyomo.environ as pyo
import pytest
import xarray as xr

import lewie
from lewie.results import analysis as A
from lewie.config.scenario import scenario_from_dict
from lewie.model.social_accounts import sam_from_model

from .conftest import example_dict



def test_zero_shock_gives_zero_change():
    data = example_dict()
    data["interventions"][0]["amount"] = 0.0
    data["interventions"][0]["cost"] = 1.0  # a variant costing 0 is refused (its multipliers would be 0/0)
    ds = lewie.run(scenario_from_dict(data))
    for var in ds.data_vars:
        if "state" in ds[var].dims:
            assert float(np.nanmax(np.abs(A.change(ds, var).values), initial=0.0)) <= 1e-10, var


def test_homogeneity_doubling_fixed_prices_and_exogenous_income(example_scenario):
    """Doubling every fixed price (world prices and wages, the outside price level), every exogenous
    income and the transfer doubles nominal results and leaves real ones and quantities unchanged."""
    from lewie.model.interventions import shocked_parameters
    from lewie.solvers import get_backend
    from lewie.runs.verify import verify

    def solve(factor):
        sim = lewie.Simulation(example_scenario).load().validate().calibrate().build()
        m = sim.model
        for name, values in shocked_parameters(sim.scenario.interventions, sim.calibration).items():
            for k, v in values.items():
                m.find_component(name)[k] = v
        for name in ("world_price", "world_wage", "exogenous_income", "input_budget", "outside_price"):
            comp = m.find_component(name)
            for k in comp:
                comp[k] = factor * pyo.value(comp[k])
        # start from the base at the new price level (the doubled base is an equilibrium)
        for name in ("price_household", "price_village", "price_zone", "price_value_added", "wage_village",
                     "wage_zone", "rent", "income", "transfers_out", "savings", "outside_spending", "cpi"):
            for v in m.find_component(name).values():
                v.set_value(factor * v.value)
        assert get_backend("newton").solve(m).status.ok
        verify(m, tol=1e-9)
        return lewie.results.dataset.snapshot(m, sim.structure)

    one, two = solve(1.0), solve(2.0)
    nominal = ("income", "price_household", "rent", "savings", "exogenous_income", "price_value_added")
    quantities = ("real_income", "production", "consumption", "factor_demand", "intermediate_demand",
                  "labour_supply", "household_surplus")
    for name in nominal + quantities:
        k = 2.0 if name in nominal else 1.0
        for idx, v in one[name].items():
            assert two[name][idx] == pytest.approx(k * v, rel=1e-9, abs=1e-9), (name, idx)
    for idx, w in one["wages"].items():
        assert two["wages"][idx] == pytest.approx(2 * w, rel=1e-9)


def test_simulated_sam_balances_walras_law(example_scenario):
    sim = lewie.Simulation(example_scenario).load().validate().calibrate().build().solve()
    sam = sam_from_model(sim.model, sim.structure)
    gap = (sam.sum(axis=1) - sam.sum(axis=0)).abs()
    # commodity and factor accounts close on the outside by construction; activities (zero profit),
    # households (budget) and the outside (Walras' law) are real checks
    assert gap.max() <= 1e-8 * sam.to_numpy().max(), gap.sort_values().tail()


# ------------------------------------------------------------------------------------------------
# the same invariants with the liquidity constraint (shadow price > 1, outside finance, credit) and
# labour factors with their own elasticities
# ------------------------------------------------------------------------------------------------
def liquidity_dict(amount: float = 480.0) -> dict:
    return example_dict(
        input_budget={"factors": ["inputs"], "households": ["eligible", "ineligible"],
                      "shadow_price": {"crops": 1.3, "livestock": {"eligible": 1.5, "ineligible": 1.1}}},
        labour_supply={"elasticity": {"eligible": 0.5, "ineligible": 1.0, "traders": 100.0}},
        interventions=[
            {"name": "cash", "kind": "cash_transfer", "households": ["eligible"], "amount": amount,
             "input_budget_share": 0.25},
            {"name": "credit", "kind": "input_budget", "households": ["eligible", "ineligible"],
             "activities": ["crops"], "amount": amount / 4, "cost": 10.0},
            {"name": "seeds", "kind": "productivity", "activity": "crops", "households": ["eligible"],
             "change": 0.1 if amount else 0.0, "cost": 10.0}])


def test_zero_shock_gives_zero_change_with_liquidity_constraint():
    ds = lewie.run(scenario_from_dict(liquidity_dict(0.0)))
    for var in ds.data_vars:
        if "state" in ds[var].dims:
            assert float(np.nanmax(np.abs(A.change(ds, var).values), initial=0.0)) <= 1e-10, var


def test_homogeneity_with_liquidity_constraint():
    """Doubling every fixed price, exogenous income, the input budgets and their outside finance
    doubles nominal results (the liquidity rent too) and leaves quantities unchanged."""
    from lewie.model.interventions import shocked_parameters
    from lewie.solvers import get_backend
    from lewie.runs.verify import verify

    def solve(factor):
        sim = lewie.Simulation(scenario_from_dict(liquidity_dict())).load().validate().calibrate().build()
        m = sim.model
        for name, values in shocked_parameters(sim.scenario.interventions, sim.calibration).items():
            for k, v in values.items():
                m.find_component(name)[k] = v
        for name in ("world_price", "world_wage", "exogenous_income", "input_budget", "input_finance",
                     "outside_price"):
            comp = m.find_component(name)
            for k in comp:
                comp[k] = factor * pyo.value(comp[k])
        for name in ("price_household", "price_village", "price_zone", "price_value_added", "wage_village",
                     "wage_zone", "rent", "income", "transfers_out", "savings", "outside_spending", "cpi",
                     "liquidity_rent"):
            for v in m.find_component(name).values():
                v.set_value(factor * v.value)
        assert get_backend("newton").solve(m).status.ok
        verify(m, tol=1e-9)
        snap = lewie.results.dataset.snapshot(m, sim.structure)
        snap["liquidity_rent"] = {k: pyo.value(v) for k, v in m.liquidity_rent.items()}
        return snap

    one, two = solve(1.0), solve(2.0)
    assert max(abs(v) for v in one["liquidity_rent"].values()) > 1.0  # the constraint is there and binds
    for name in ("income", "price_household", "rent", "liquidity_rent", "real_income", "production",
                 "factor_demand", "labour_supply"):
        k = 2.0 if name in ("income", "price_household", "rent", "liquidity_rent") else 1.0
        for idx, v in one[name].items():
            assert two[name][idx] == pytest.approx(k * v, rel=1e-9, abs=1e-9), (name, idx)


def test_simulated_sam_balances_walras_law_with_liquidity_constraint():
    sim = lewie.Simulation(scenario_from_dict(liquidity_dict())).load().validate().calibrate().build().solve()
    sam = sam_from_model(sim.model, sim.structure)
    gap = (sam.sum(axis=1) - sam.sum(axis=0)).abs()
    assert gap.max() <= 1e-8 * sam.to_numpy().max(), gap.sort_values().tail()
    assert float(sum(pyo.value(v) for v in sim.model.liquidity_rent.values())) > 1.0
