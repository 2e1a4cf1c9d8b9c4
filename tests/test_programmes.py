"""Interventions for the programmes themselves (public works, asset transfers, savings and leakage
rates, school meals), each against a closed form derived by hand."""
from __future__ import annotations

import pytest

import lewie
from lewie.results import analysis as A
from lewie.errors import InputError

from .conftest import write_scenario
from .test_interventions import WORLD, fixed_supply_economy, one_local_good_labour_economy, world_economy


def point(sc):
    return lewie.run(sc).sel(variant="all", draw=0)


# ---- public works --------------------------------------------------------------------------------
def test_public_works_priced_outside_pays_wages_less_the_time_given(tmp_path):
    """Wages W for time 0.6·W at the outside wage 1: the owner's labour income falls by 0.6·W,
    so income rises by 0.4·W and the multiplier is 0.4 (free cash would give 1)."""
    W = 10.0
    sc = write_scenario(tmp_path, world_economy(), **WORLD, interventions=[
        {"kind": "public_works", "households": ["owner"], "factor": "labor", "amount": W, "labour_time": 0.6}])
    ds = point(sc)
    assert float(A.income_change(ds)) == pytest.approx(0.4 * W, rel=1e-10)
    assert float(A.income_multiplier(ds)) == pytest.approx(0.4, rel=1e-10)
    assert float(A.change(ds, "factor_supply").sel(factor="labor", household="owner")) == pytest.approx(-0.6 * W,
                                                                                                      rel=1e-10)
    assert float(ds["cost"]) == W


@pytest.mark.parametrize("elasticity", [0.0, 1.0, 100.0])
def test_public_works_in_a_village_labour_market(tmp_path, elasticity):
    """Labour-only local good (c = 0.45): all local spending returns as labour income, so
    Y = (E + W)/(1 − c) whatever time is taken; the time raises the wage:
    w^(1+ε)·(L0 − T) = c(E + W)/(1 − c)."""
    W, T = 10.0, 8.0
    sc = write_scenario(tmp_path, one_local_good_labour_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local", "labor"], "world": ["outside"]},
                        labour_supply={"elasticity": elasticity},
                        interventions=[{"kind": "public_works", "households": ["hh"], "factor": "labor",
                                        "amount": W, "labour_time": T / W}])
    ds = point(sc)
    c, E, L0 = 0.45, 55.0, 45.0
    assert float(A.income_multiplier(ds)) == pytest.approx(1 / (1 - c), rel=1e-10)
    wage = (c * (E + W) / (1 - c) / (L0 - T)) ** (1 / (1 + elasticity))
    assert float(ds["wage"].sel(state="simulated", factor="labor", village="v")) == pytest.approx(wage, rel=1e-9)


def test_public_works_cannot_take_more_time_than_supplied(tmp_path):
    sc = write_scenario(tmp_path, world_economy(), **WORLD, interventions=[
        {"kind": "public_works", "households": ["owner"], "factor": "labor", "amount": 50.0}])
    with pytest.raises(InputError, match="labour_time"):
        lewie.run(sc)


# ---- asset transfers -----------------------------------------------------------------------------
def test_asset_transfer_priced_outside_earns_its_service_flow(tmp_path):
    """Land-like assets worth 40 with service rate 0.25: everything else priced outside, so value
    added is proportional to the fixed factor and its rent stays 1; income rises by the service
    flow 10, the multiplier on the purchase cost is the service rate."""
    sc = write_scenario(tmp_path, world_economy(), **WORLD, interventions=[
        {"kind": "asset_transfer", "households": ["owner"], "activity": "crops", "factor": "land", "good": "crops",
         "amount": 40.0, "service_rate": 0.25}])
    ds = point(sc)
    assert float(A.income_change(ds)) == pytest.approx(10.0, rel=1e-10)
    assert float(A.income_multiplier(ds)) == pytest.approx(0.25, rel=1e-10)
    assert float(ds["intervention_service_flow"].sum()) == pytest.approx(10.0)
    assert float(A.change(ds, "value_added").sel(good="crops", household="owner")) == pytest.approx(100 / 3,
                                                                                                   rel=1e-10)


@pytest.mark.parametrize("local", [0.0, 1.0])
def test_asset_transfer_bought_in_the_village_is_a_demand_shock_there(tmp_path, local):
    """Assets worth A = 20 bought as the local good (share b locally), adding 0.25·A of land:
    output K' = 50, demand QC + bA. Market: p(K' − bA) = c(pK' + E), so p = cE/((1 − c)K' − bA)."""
    sc = write_scenario(tmp_path, fixed_supply_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local"], "world": ["outside"]},
                        interventions=[{"kind": "asset_transfer", "households": ["hh"], "activity": "local",
                                        "factor": "land", "good": "local", "amount": 20.0, "service_rate": 0.25,
                                        "bought_locally": local}])
    ds = point(sc)
    c, E, K = 0.45, 55.0, 50.0
    p = c * E / ((1 - c) * K - local * 20.0)
    assert float(ds["price"].sel(state="simulated", good="local", village="v")) == pytest.approx(p, rel=1e-9)
    assert float(A.income_change(ds)) == pytest.approx(p * K + E - 100.0, rel=1e-9)


def test_asset_transfer_needs_a_fixed_factor_the_activity_uses(tmp_path):
    sc = write_scenario(tmp_path, world_economy(), **WORLD, interventions=[
        {"kind": "asset_transfer", "households": ["owner"], "activity": "crops", "factor": "labor", "good": "crops",
         "amount": 40.0, "service_rate": 0.25}])
    with pytest.raises(InputError, match="fixed factor"):
        lewie.run(sc)


# ---- savings and leakage rates ---------------------------------------------------------------------
def test_savings_kept_local_raise_the_local_spending_share(tmp_path):
    """Savings rate 5% → 2%: the local spending share becomes c' = 0.5·(1 − 0.07) and income
    Y = E/(1 − c') (labour-only local good)."""
    sc = write_scenario(tmp_path, one_local_good_labour_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local", "labor"], "world": ["outside"]},
                        interventions=[{"kind": "leakage_rate", "households": ["hh"], "rate": "savings",
                                        "change": -0.03, "cost": 1.0}])
    ds = point(sc)
    assert float(A.income_change(ds)) == pytest.approx(55.0 / (1 - 0.5 * 0.93) - 100.0, rel=1e-10)
    assert float(A.change(ds, "savings").sel(household="hh")) == pytest.approx(
        0.02 * 55.0 / (1 - 0.5 * 0.93) - 5.0, rel=1e-10)


def test_leakage_rate_must_stay_a_rate(tmp_path):
    sc = write_scenario(tmp_path, one_local_good_labour_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local", "labor"], "world": ["outside"]},
                        interventions=[{"kind": "leakage_rate", "households": ["hh"], "rate": "savings",
                                        "change": -0.06, "cost": 1.0}])
    with pytest.raises(InputError, match="rate must stay"):
        lewie.run(sc)


# ---- school meals ------------------------------------------------------------------------------------
@pytest.mark.parametrize("local", [0.0, 1.0])
def test_school_meals_eaten_by_pupils_households(tmp_path, local):
    """Q = 5 of the local good (fixed supply L = 45) eaten by the household; bought locally (b = 1)
    the village supply is unchanged and the price solves p(0.55·L − 0.45·Q) = 0.45·E; imported
    (b = 0) it adds to supply: 0.55·p·(L + Q) = 0.45·E. Income Y = pL + E + pQ."""
    sc = write_scenario(tmp_path, fixed_supply_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local"], "world": ["outside"]},
                        interventions=[{"kind": "school_meals", "good": "local", "households": ["hh"],
                                        "amount": 5.0, "bought_locally": local}])
    ds = point(sc)
    E, L, Q = 55.0, 45.0, 5.0
    p = 0.45 * E / (0.55 * L - 0.45 * Q) if local else 0.45 * E / (0.55 * (L + Q))
    assert float(ds["price"].sel(state="simulated", good="local", village="v")) == pytest.approx(p, rel=1e-9)
    assert float(A.income_change(ds)) == pytest.approx(p * L + E + p * Q - 100.0, rel=1e-9)
    assert float(ds["cost"]) == Q


def test_school_meals_sellers_are_checked(tmp_path):
    sc = write_scenario(tmp_path, world_economy(), **WORLD, interventions=[
        {"kind": "school_meals", "good": "crops", "households": ["owner"], "amount": 5.0, "sellers": ["ownr"]}])
    with pytest.raises(InputError, match="did you mean 'owner'"):
        lewie.run(sc)
