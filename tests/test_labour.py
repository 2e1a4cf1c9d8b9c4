"""Several labour factors with their own supply elasticities (lewie.model.labour)."""
from __future__ import annotations

import math

import pytest

import lewie
from lewie.results import analysis as A
from lewie.errors import InputError
from lewie.model.labour import constrained_labour
from lewie.config.scenario import scenario_from_dict

from .conftest import example_dict, sam_from_flows, write_scenario


def two_labour_economy(tmp_path, elasticity, interventions=None):
    """One household; a local good made with family labour 30 and hired labour 15 (both village
    markets); an outside good. Y = 100 = family 30 + hired 15 + exogenous 55."""
    flows = {
        ("act:local:hh", "com:local"): 45.0,
        ("fac:family", "act:local:hh"): 30.0, ("fac:hired", "act:local:hh"): 15.0,
        ("hh:hh", "fac:family"): 30.0, ("hh:hh", "fac:hired"): 15.0,
        ("hh:hh", "out:world"): 55.0,
        ("com:local", "hh:hh"): 45.0, ("com:outside", "hh:hh"): 45.0, ("out:world", "com:outside"): 45.0,
        ("out:savings", "hh:hh"): 10.0, ("out:world", "out:savings"): 10.0,
    }
    return write_scenario(tmp_path, sam_from_flows(flows), villages={"v": ["hh"]},
                          markets={"village": ["local", "family", "hired"], "world": ["outside"]},
                          labour_supply={"elasticity": elasticity},
                          interventions=interventions or [{"kind": "cash_transfer", "households": ["hh"],
                                                           "amount": 10.0}])


def test_each_labour_factor_clears_with_its_own_elasticity(tmp_path):
    """Family labour fixed (ε = 0), hired labour elastic (ε = 2): the local good's value c·Y is paid
    to both factors in their base shares (2/3, 1/3), with Y = E/(1 − c), c = 0.45; so the family wage
    is w_f = (2/3)·c·Y/30 and hired supply 15·w_h^2 earns (1/3)·c·Y: w_h = ((1/3)·c·Y/15)^(1/3)."""
    ds = lewie.run(two_labour_economy(tmp_path, {"family": 0.0, "hired": 2.0})).sel(variant="all", draw=0)
    c, E = 0.45, 65.0
    Y = E / (1 - c)
    wage = ds["wage"].sel(state="simulated", village="v")
    assert float(wage.sel(factor="family")) == pytest.approx(2 / 3 * c * Y / 30.0, rel=1e-9)
    assert float(wage.sel(factor="hired")) == pytest.approx((1 / 3 * c * Y / 15.0) ** (1 / 3), rel=1e-9)
    supply = A.change(ds, "factor_supply").sel(household="hh")
    assert float(supply.sel(factor="family")) == pytest.approx(0.0, abs=1e-10)
    assert float(supply.sel(factor="hired")) > 0.5
    assert float(A.income_multiplier(ds)) == pytest.approx(1 / (1 - c), rel=1e-10)


def test_per_factor_table_equals_the_per_household_form_when_they_agree(tmp_path):
    a = lewie.run(two_labour_economy(tmp_path, {"hh": 1.0}))
    b = lewie.run(two_labour_economy(tmp_path, {"family": {"hh": 1.0}, "hired": 1.0}))
    assert float(abs(a["wage"] - b["wage"]).max()) == 0.0


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, {"family": -0.5, "hired": 1.0},
                                 {"family": {"hh": math.nan}, "hired": 1.0}])
def test_elasticities_must_be_finite_and_non_negative(tmp_path, bad):
    with pytest.raises(InputError, match=r"finite and >= 0|must be ≥ 0|must be a finite number|not nan|not inf"):
        two_labour_economy(tmp_path, bad)


def test_unknown_factor_or_household_in_the_table(tmp_path):
    with pytest.raises(InputError, match="did you mean 'hired'"):
        lewie.run(two_labour_economy(tmp_path, {"family": 0.0, "hird": 1.0}))
    with pytest.raises(InputError, match="elasticity of 'family' missing"):
        lewie.run(two_labour_economy(tmp_path, {"family": {}, "hired": 1.0}))
    with pytest.raises(InputError, match="does not name"):
        lewie.run(two_labour_economy(tmp_path, {"family": 0.0}))


def test_constrained_labour_sensitivity():
    """Fixed labour supply everywhere: no labour supply changes; the published default (100) is an
    upper bound on the nominal multiplier of the example."""
    sc = scenario_from_dict(example_dict())
    fixed = lewie.run(constrained_labour(sc, 0.0)).sel(variant="all", draw=0)
    assert float(abs(A.change(fixed, "factor_supply")).max()) <= 1e-10
    elastic = lewie.run(sc).sel(variant="all", draw=0)
    assert float(A.income_multiplier(fixed)) < float(A.income_multiplier(elastic))
    with pytest.raises(InputError, match="finite"):
        constrained_labour(sc, -1.0)
