"""Each intervention kind in a small economy, against an expectation derived by hand."""
import math

import numpy as np
import pytest

import lewie
from lewie.results import analysis as A
from lewie.errors import InputError

from .conftest import sam_from_flows, write_scenario



def world_economy():
    """Two farm households in one village; every good and tradable factor is priced outside.

    owner: crops 100 = land 30 + labour 50 + inputs 20; income 100 = land 30 + labour 40 + exogenous 30.
    other: crops 50 = land 10 + labour 40; income 70 = land 10 + labour 40 + exogenous 20.
    """
    flows = {
        ("act:crops:owner", "com:crops"): 100.0, ("act:crops:other", "com:crops"): 50.0,
        ("fac:land", "act:crops:owner"): 30.0, ("fac:labor", "act:crops:owner"): 50.0,
        ("fac:inputs", "act:crops:owner"): 20.0,
        ("fac:land", "act:crops:other"): 10.0, ("fac:labor", "act:crops:other"): 40.0,
        ("hh:owner", "fac:land"): 30.0, ("hh:owner", "fac:labor"): 40.0, ("hh:owner", "out:world"): 30.0,
        ("hh:other", "fac:land"): 10.0, ("hh:other", "fac:labor"): 40.0, ("hh:other", "out:world"): 20.0,
        ("com:crops", "hh:owner"): 40.0, ("com:crops", "hh:other"): 30.0, ("com:crops", "out:world"): 80.0,
        ("com:outside", "hh:owner"): 50.0, ("com:outside", "hh:other"): 35.0, ("out:world", "com:outside"): 85.0,
        ("out:world", "fac:labor"): 10.0, ("out:world", "fac:inputs"): 20.0,
        ("out:savings", "hh:owner"): 10.0, ("out:savings", "hh:other"): 5.0, ("out:world", "out:savings"): 15.0,
    }
    return sam_from_flows(flows)


WORLD = {"villages": {"v": ["owner", "other"]},
         "markets": {"world": ["crops", "outside", "labor", "inputs"]},
         "labour_supply": {"elasticity": 1.0}}


def run_world(tmp_path, interventions, **extra):
    sc = write_scenario(tmp_path, world_economy(), **{**WORLD, **extra}, interventions=interventions)
    return lewie.run(sc).sel(variant="all", draw=0)


def fixed_supply_economy(villages=(("hh", 45.0, 55.0),)):
    """A local good made from land only (fixed supply), one household group per village.

    Each group: output = land rent L, exogenous income E, spends 45% of income on the local good,
    45% outside, 10% leaks. With E = 55/45·L the local market is in balance at base.
    """
    flows = {}
    for h, L, E in villages:
        y = L + E
        flows.update({
            (f"act:local:{h}", "com:local"): L, ("fac:land", f"act:local:{h}"): L, (f"hh:{h}", "fac:land"): L,
            (f"hh:{h}", "out:world"): E, ("com:local", f"hh:{h}"): 0.45 * y, ("com:outside", f"hh:{h}"): 0.45 * y,
            ("out:savings", f"hh:{h}"): 0.05 * y, ("out:transfers", f"hh:{h}"): 0.02 * y,
            ("out:spending", f"hh:{h}"): 0.03 * y,
        })
    total = sum(L + E for _, L, E in villages)
    flows[("out:world", "com:outside")] = 0.45 * total
    flows[("out:world", "out:savings")] = 0.05 * total
    flows[("out:world", "out:transfers")] = 0.02 * total
    flows[("out:world", "out:spending")] = 0.03 * total
    return sam_from_flows(flows)


def one_local_good_labour_economy():
    """As in test_closed_form: a local good made with labour only, supplied by the one household."""
    flows = {
        ("act:local:hh", "com:local"): 45.0, ("fac:labor", "act:local:hh"): 45.0, ("hh:hh", "fac:labor"): 45.0,
        ("hh:hh", "out:world"): 55.0, ("com:local", "hh:hh"): 45.0, ("com:outside", "hh:hh"): 45.0,
        ("out:world", "com:outside"): 45.0,
        ("out:savings", "hh:hh"): 5.0, ("out:transfers", "hh:hh"): 2.0, ("out:spending", "hh:hh"): 3.0,
        ("out:world", "out:savings"): 5.0, ("out:world", "out:transfers"): 2.0, ("out:world", "out:spending"): 3.0,
    }
    return sam_from_flows(flows)


def changes(ds, var):
    return A.change(ds, var)


# ------------------------------------------------------------------------------------------------
# cash transfer
# ------------------------------------------------------------------------------------------------
def test_cash_transfer_priced_outside_has_nominal_multiplier_exactly_one(tmp_path):
    """Nothing local responds to demand, so incomes rise by the transfer only; amounts per household
    come from the parameter table's household counts."""
    (tmp_path / "parameters.csv").write_text(
        "parameter,good,good2,factor,household,value,se\n"
        "household_count,,,,owner,10,0\nhousehold_count,,,,other,5,0\n")
    ds = run_world(tmp_path, [{"kind": "cash_transfer", "households": ["owner", "other"],
                               "amount_per_household": 2.0}], parameters="parameters.csv")
    d = changes(ds, "income")
    assert float(d.sel(household="owner")) == pytest.approx(20.0, abs=1e-10)
    assert float(d.sel(household="other")) == pytest.approx(10.0, abs=1e-10)
    assert float(ds["cost"]) == 30.0
    assert float(A.income_multiplier(ds)) == pytest.approx(1.0, abs=1e-12)
    assert float(A.income_multiplier(ds, real=True)) == pytest.approx(1.0, abs=1e-12)
    assert float(abs(A.production_change(ds)).max()) <= 1e-10


def test_cash_transfer_split_by_shares(tmp_path):
    ds = run_world(tmp_path, [{"kind": "cash_transfer", "households": ["owner", "other"], "amount": 30.0,
                               "shares": {"owner": 2, "other": 1}}])
    d = changes(ds, "income")
    assert float(d.sel(household="owner")) == pytest.approx(20.0, abs=1e-10)
    assert float(d.sel(household="other")) == pytest.approx(10.0, abs=1e-10)


def test_cash_transfer_relaxing_the_input_budget(tmp_path):
    """σ·T more input budget: with labour priced outside, value added V ∝ I^(0.2/(1 − 0.5)); land earns
    30% of V and the liquidity rent (20% of V less input spending) is the owner's too, while σT of the
    transfer pays for the inputs (lewie.model.liquidity), so the owner gains T + 50·((1 + σT/20)^0.4 − 1) − σT.
    (Before the books were kept the rent was nobody's: T + 30·(...).)"""
    T, sigma = 10.0, 0.5
    ds = run_world(tmp_path, [{"kind": "cash_transfer", "households": ["owner"], "amount": T,
                               "input_budget_share": sigma}],
                   input_budget={"factors": ["inputs"], "households": ["owner"]})
    expected = T + 50.0 * ((1 + sigma * T / 20.0) ** 0.4 - 1) - sigma * T
    assert float(changes(ds, "income").sel(household="owner")) == pytest.approx(expected, rel=1e-9)
    assert float(changes(ds, "factor_demand").sel(good="crops", factor="inputs", household="owner")) \
        == pytest.approx(sigma * T, rel=1e-9)


# ------------------------------------------------------------------------------------------------
# in-kind transfer
# ------------------------------------------------------------------------------------------------
def test_in_kind_transfer_of_a_good_priced_outside_is_cash_less_resale_losses(tmp_path):
    """Q of crops, half resold losing 20%: worth Q·(1 − 0.5·0.2) in cash; cost defaults to Q."""
    ik = run_world(tmp_path, [{"kind": "in_kind_transfer", "good": "crops", "households": ["owner"],
                               "amount": 10.0, "resold_share": 0.5, "resale_cost": 0.2}])
    cash = run_world(tmp_path, [{"kind": "cash_transfer", "households": ["owner"], "amount": 9.0}])
    assert float(changes(ik, "income").sel(household="owner")) == pytest.approx(9.0, abs=1e-10)
    assert float(ik["cost"]) == 10.0
    assert float(A.income_multiplier(ik)) == pytest.approx(0.9, abs=1e-12)
    for var in ("income", "real_income", "consumption", "production", "price"):
        np.testing.assert_allclose(changes(ik, var).values, changes(cash, var).values, atol=1e-10)


def test_in_kind_transfer_of_a_local_good_in_fixed_supply_lowers_its_price(tmp_path):
    """The goods add Q' = Q(1 − sτ) to the village's supply: P·(L + Q')·(1 − c) = c·E gives
    P = cE/((1 − c)(L + Q')), and nominal income E/(1 − c) does not change: the price falls by as
    much as the value received. Real income rises."""
    sc = write_scenario(tmp_path, fixed_supply_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local"], "world": ["outside"]},
                        interventions=[{"kind": "in_kind_transfer", "good": "local", "households": ["hh"],
                                        "amount": 5.0, "resold_share": 0.5, "resale_cost": 0.2}])
    ds = lewie.run(sc).sel(variant="all", draw=0)
    c, E, L, q = 0.45, 55.0, 45.0, 5.0 * (1 - 0.5 * 0.2)
    price = c * E / ((1 - c) * (L + q))
    assert float(ds["price"].sel(state="simulated", good="local", village="v")) == pytest.approx(price, rel=1e-9)
    assert float(changes(ds, "income").sum()) == pytest.approx(0.0, abs=1e-9)
    assert float(changes(ds, "production").sum()) == pytest.approx(0.0, abs=1e-9)
    assert float(ds["real_income"].sel(state="simulated").sum()) == pytest.approx(100.0 / (c * price + 0.55), rel=1e-9)


# ------------------------------------------------------------------------------------------------
# productivity, factor endowment, input budget
# ------------------------------------------------------------------------------------------------
def test_productivity_raises_the_fixed_factor_income_in_closed_form(tmp_path):
    """At fixed prices with labour and inputs bought at their price, value added is
    V = A^(1/α)·K·const (α = land's share 0.3), and land earns α·V: the owner gains
    30·((1 + x)^(1/0.3) − 1); nobody else gains."""
    x = 0.05
    ds = run_world(tmp_path, [{"kind": "productivity", "activity": "crops", "households": ["owner"],
                               "change": x, "cost": 4.0}])
    d = changes(ds, "income")
    assert float(d.sel(household="owner")) == pytest.approx(30.0 * ((1 + x) ** (1 / 0.3) - 1), rel=1e-9)
    assert float(d.sel(household="other")) == pytest.approx(0.0, abs=1e-10)
    assert float(ds["cost"]) == 4.0
    assert float(changes(ds, "production").sel(good="crops", household="owner")) \
        == pytest.approx(100.0 * ((1 + x) ** (1 / 0.3) - 1), rel=1e-9)


def test_factor_endowment_with_no_local_markets_pays_its_marginal_value_product(tmp_path):
    """Priced outside, the rent stays at the base marginal value product α·V/K = 0.3·100/30 = 1 per
    unit, so the owner's income rises by exactly units × MVP; output rises in proportion to land."""
    units = 6.0
    ds = run_world(tmp_path, [{"kind": "factor_endowment", "activity": "crops", "factor": "land",
                               "households": ["owner"], "amount": units}])
    mvp = 0.3 * 100.0 / 30.0
    d = changes(ds, "income")
    assert float(d.sel(household="owner")) == pytest.approx(units * mvp, rel=1e-9)
    assert float(d.sel(household="other")) == pytest.approx(0.0, abs=1e-10)
    assert float(changes(ds, "production").sel(good="crops", household="owner")) == pytest.approx(20.0, rel=1e-9)
    assert float(ds["cost"]) == units  # the value transferred at base rent 1


def test_factor_endowment_split_by_base_endowments_and_negative_amounts(tmp_path):
    """A total for two groups is split by their base land (30:10); a negative amount removes land."""
    ds = run_world(tmp_path, [{"kind": "factor_endowment", "activity": "crops", "factor": "land",
                               "households": ["owner", "other"], "amount": 8.0}])
    d = changes(ds, "income")
    assert float(d.sel(household="owner")) == pytest.approx(6.0, rel=1e-9)
    assert float(d.sel(household="other")) == pytest.approx(2.0, rel=1e-9)
    neg = run_world(tmp_path, [{"kind": "factor_endowment", "activity": "crops", "factor": "land",
                                "households": ["owner"], "amount": -3.0, "cost": 1.0}])
    assert float(changes(neg, "income").sel(household="owner")) == pytest.approx(-3.0, rel=1e-9)


def test_factor_endowment_that_removes_all_of_a_factor_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"interventions\[0\]\.amount.*'crops' of household 'owner' would be "
                                         r"left with 0 units of fixed factor 'land'"):
        run_world(tmp_path, [{"kind": "factor_endowment", "activity": "crops", "factor": "land",
                              "households": ["owner"], "amount": -30.0, "cost": 1.0}])


def test_input_budget_raises_output_in_closed_form(tmp_path):
    """+ΔB of input budget (credit, repaid within the year): V ∝ I^0.4 (see the cash transfer test);
    land earns 30% of V and the liquidity rent 20% of V less the extra inputs, so income changes by
    50·(1.25^0.4 − 1) − 5 < 0: with shadow price 1 the budget does not bind, extra inputs do not pay."""
    ds = run_world(tmp_path, [{"kind": "input_budget", "households": ["owner"], "activities": ["crops"],
                               "amount": 5.0}], input_budget={"factors": ["inputs"], "households": ["owner"]})
    assert float(changes(ds, "income").sel(household="owner")) == pytest.approx(50.0 * (1.25 ** 0.4 - 1) - 5.0, rel=1e-9)
    assert float(ds["cost"]) == 5.0


def test_input_budget_needs_a_budget_constraint(tmp_path):
    with pytest.raises(InputError, match=r"interventions\[0\]\.households\[0\].*household 'owner' has no "
                                         r"budget-constrained inputs"):
        run_world(tmp_path, [{"kind": "input_budget", "households": ["owner"], "activities": ["crops"],
                              "amount": 5.0}])


# ------------------------------------------------------------------------------------------------
# labour supply
# ------------------------------------------------------------------------------------------------
def test_labour_supply_priced_outside_adds_its_wage_bill(tmp_path):
    ds = run_world(tmp_path, [{"kind": "labour_supply", "households": ["other"], "factor": "labor",
                               "amount": 5.0, "cost": 1.0}])
    d = changes(ds, "income")
    assert float(d.sel(household="other")) == pytest.approx(5.0, rel=1e-9)
    assert float(d.sel(household="owner")) == pytest.approx(0.0, abs=1e-10)


def test_new_labour_in_a_village_labour_market_lowers_the_wage(tmp_path):
    """Fixed supply (elasticity 0), one local good made with labour: w·(L0 + ΔL) = cE/(1 − c), so
    w = 24.75/(0.55·50) = 0.9, nominal income E/(1 − c) = 100 is unchanged, real income rises."""
    sc = write_scenario(tmp_path, one_local_good_labour_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local", "labor"], "world": ["outside"]},
                        labour_supply={"elasticity": 0.0},
                        interventions=[{"kind": "labour_supply", "households": ["hh"], "factor": "labor",
                                        "amount": 5.0, "cost": 1.0}])
    ds = lewie.run(sc).sel(variant="all", draw=0)
    c, E, L0 = 0.45, 55.0, 45.0
    w = c * E / ((1 - c) * (L0 + 5.0))
    assert float(ds["wage"].sel(state="simulated", factor="labor", village="v")) == pytest.approx(w, rel=1e-9)
    assert float(changes(ds, "income").sum()) == pytest.approx(0.0, abs=1e-9)
    assert float(ds["real_income"].sel(state="simulated").sum()) == pytest.approx(100.0 / (c * w + 0.55), rel=1e-9)


def test_labour_supply_for_a_group_without_that_endowment_is_an_error(tmp_path):
    with pytest.raises(InputError, match=r"interventions\[0\]\.households\[0\].*household 'owner' has no "
                                         r"endowment of 'inputs'"):
        run_world(tmp_path, [{"kind": "labour_supply", "households": ["owner"], "factor": "inputs",
                              "amount": 5.0, "cost": 1.0}])


# ------------------------------------------------------------------------------------------------
# local procurement
# ------------------------------------------------------------------------------------------------
def test_local_procurement_of_a_good_in_fixed_supply_only_moves_its_price(tmp_path):
    """Supply L is fixed, so D bought from outside must come out of local consumption:
    P·(L − D) = c·(P·L + E) gives P = cE/(L(1 − c) − D); output does not move."""
    D = 5.0
    sc = write_scenario(tmp_path, fixed_supply_economy(), villages={"v": ["hh"]},
                        markets={"village": ["local"], "world": ["outside"]},
                        interventions=[{"kind": "local_procurement", "good": "local", "amount": D}])
    ds = lewie.run(sc).sel(variant="all", draw=0)
    c, E, L = 0.45, 55.0, 45.0
    price = c * E / (L * (1 - c) - D)
    assert float(ds["price"].sel(state="simulated", good="local", village="v")) == pytest.approx(price, rel=1e-9)
    assert float(abs(changes(ds, "production")).max()) <= 1e-9
    assert float(changes(ds, "consumption").sel(good="local").sum()) == pytest.approx(-D, rel=1e-9)
    assert float(changes(ds, "income").sum()) == pytest.approx(L * (price - 1), rel=1e-9)
    assert float(ds["cost"]) == D
    assert not ds["beneficiary"].any()  # bought from whoever sells: no direct beneficiary


def test_local_procurement_from_some_groups_buys_in_their_villages(tmp_path):
    """Two separate village markets: buying only from 'b' moves only village b's price; buying from
    everyone splits the demand by base output, which moves both prices alike (the villages are the
    same economy at different scales)."""
    sam = fixed_supply_economy((("a", 45.0, 55.0), ("b", 90.0, 110.0)))
    fields = dict(villages={"va": ["a"], "vb": ["b"]}, markets={"village": ["local"], "world": ["outside"]})
    only_b = lewie.run(write_scenario(tmp_path, sam, **fields, interventions=[
        {"kind": "local_procurement", "good": "local", "amount": 10.0, "households": ["b"]}])).sel(variant="all", draw=0)
    p = only_b["price"].sel(state="simulated", good="local")
    assert float(p.sel(village="va")) == pytest.approx(1.0, abs=1e-12)
    assert float(p.sel(village="vb")) == pytest.approx(0.45 * 110 / (90 * 0.55 - 10.0), rel=1e-9)
    assert only_b["beneficiary"].values.tolist() == [False, True]
    both = lewie.run(write_scenario(tmp_path, sam, **fields, interventions=[
        {"kind": "local_procurement", "good": "local", "amount": 15.0}])).sel(variant="all", draw=0)
    p = both["price"].sel(state="simulated", good="local")
    assert float(p.sel(village="va")) == pytest.approx(0.45 * 55 / (45 * 0.55 - 5.0), rel=1e-9)
    assert float(p.sel(village="vb")) == pytest.approx(float(p.sel(village="va")), rel=1e-9)


def test_interventions_in_one_variant_add_up_and_productivity_gains_multiply(tmp_path):
    from lewie.model.interventions import shocked_parameters
    sim = lewie.Simulation(write_scenario(tmp_path, world_economy(), **WORLD, interventions=[
        {"kind": "cash_transfer", "households": ["owner"], "amount": 3.0},
        {"kind": "cash_transfer", "households": ["owner"], "amount": 4.0},
        {"kind": "productivity", "activity": "crops", "households": ["owner"], "change": 0.1, "cost": 1.0},
        {"kind": "productivity", "activity": "crops", "households": ["owner"], "change": 0.2, "cost": 1.0},
    ])).load().validate().calibrate()
    new = shocked_parameters(sim.scenario.interventions, sim.calibration)
    base = sim.calibration.params
    assert new["exogenous_income"]["owner"] == pytest.approx(base["exogenous_income"]["owner"] + 7.0)
    assert new["tfp"]["crops", "owner"] == pytest.approx(base["tfp"]["crops", "owner"] * 1.1 * 1.2)
    assert math.isclose(sum(e.cost for e in sim.effects), 9.0)


# ------------------------------------------------------------------------------------------------
# price (a world price or wage shifts) and the GAMS transfer split
# ------------------------------------------------------------------------------------------------
def test_world_price_change_raises_land_rents_by_the_cobb_douglas_closed_form(tmp_path):
    """+10% on the world price of crops, every other price fixed: the owner's output value grows as
    p^(1/0.3) (land is 30% of value added, the rest adjusts), the other's as p^(1/0.2); land earns its
    share of it and nothing else changes in income (wages and the outside price are fixed)."""
    ds = run_world(tmp_path, [{"kind": "price", "good": "crops", "change": 0.1, "cost": 1.0}])
    d = changes(ds, "income")
    assert float(d.sel(household="owner")) == pytest.approx(30.0 * (1.1 ** (1 / 0.3) - 1), rel=1e-9)
    assert float(d.sel(household="other")) == pytest.approx(10.0 * (1.1 ** 5 - 1), rel=1e-9)
    assert float(ds["price"].sel(good="crops", state="simulated").max()) == pytest.approx(1.1, rel=1e-12)
    absolute = run_world(tmp_path, [{"kind": "price", "good": "crops", "absolute": 0.1, "cost": 1.0}])
    np.testing.assert_allclose(changes(absolute, "income").values, d.values, rtol=1e-12)


def test_world_wage_change_of_a_purchased_input(tmp_path):
    """Inputs 20% dearer: the owner's value added falls as (1.2)^(−0.2/0.3) (inputs are 20% of output)."""
    ds = run_world(tmp_path, [{"kind": "price", "factor": "inputs", "change": 0.2, "cost": 1.0}])
    assert float(changes(ds, "income").sel(household="owner")) == \
        pytest.approx(30.0 * (1.2 ** (-0.2 / 0.3) - 1), rel=1e-9)


def test_price_intervention_errors(tmp_path):
    with pytest.raises(InputError, match=r"give exactly one of 'good' and 'factor'"):
        run_world(tmp_path, [{"kind": "price", "good": "crops", "factor": "inputs", "change": 0.1, "cost": 1}])
    with pytest.raises(InputError, match=r"cost"):
        run_world(tmp_path, [{"kind": "price", "good": "crops", "change": 0.1}])
    sc_extra = {"markets": {"village": ["crops"], "world": ["outside", "labor", "inputs"]}}
    with pytest.raises(InputError, match=r"good 'crops' clears at the village market, so its price is set inside"):
        run_world(tmp_path, [{"kind": "price", "good": "crops", "change": 0.1, "cost": 1}], **sc_extra)
    with pytest.raises(InputError, match=r"factor 'land' is a fixed, activity-specific factor"):
        run_world(tmp_path, [{"kind": "price", "factor": "land", "change": 0.1, "cost": 1}])


def test_cash_transfer_with_input_budget_share_is_split_as_gams_does_with_gams_compat(tmp_path):
    """GAMS: exinc += (1 − σ)·T and pibudget += σ·T·pibsh; lewie's default adds all of T to income."""
    T, sigma = 10.0, 0.5
    ds = run_world(tmp_path, [{"kind": "cash_transfer", "households": ["owner"], "amount": T,
                               "input_budget_share": sigma}],
                   input_budget={"factors": ["inputs"], "households": ["owner"]}, gams_compat=True)
    expected = (1 - sigma) * T + 30.0 * ((1 + sigma * T / 20.0) ** 0.4 - 1)
    assert float(changes(ds, "income").sel(household="owner")) == pytest.approx(expected, rel=1e-9)
    assert float(changes(ds, "exogenous_income").sel(household="owner")) == pytest.approx((1 - sigma) * T, rel=1e-12)
