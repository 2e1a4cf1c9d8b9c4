"""Multipliers against closed forms derived by hand."""
import pytest

import lewie
from lewie.results import analysis as A
from lewie.config.scenario import scenario_from_dict

from .conftest import example_dict, sam_from_flows, write_scenario


def test_everything_priced_outside_gives_a_nominal_multiplier_of_exactly_one():
    """Prices and wages fixed outside: output cannot respond, so income rises by the transfer only."""
    data = example_dict(markets={"village": [], "zone": [],
                                 "world": ["crops", "livestock", "retail", "services", "outside", "labor", "inputs"]})
    ds = lewie.run(scenario_from_dict(data)).sel(variant="all", draw=0)  # a scenario without [variants]; draw 0: the point estimates
    assert float(A.income_multiplier(ds)) == pytest.approx(1.0, abs=1e-12)
    assert float(A.income_multiplier(ds, real=True)) == pytest.approx(1.0, abs=1e-12)
    assert float(abs(A.production_change(ds)).max()) <= 1e-10


def one_local_good_economy(tmp_path, elasticity):
    """One household; a local good made with labour only; an outside good; 10% of income leaks.

    Y = 100 = labour income 45 + exogenous income 55; spending: local 45, outside 45, leakages 10.
    """
    flows = {
        ("act:local:hh", "com:local"): 45.0,
        ("fac:labor", "act:local:hh"): 45.0,
        ("hh:hh", "fac:labor"): 45.0,
        ("hh:hh", "out:world"): 55.0,
        ("com:local", "hh:hh"): 45.0,
        ("com:outside", "hh:hh"): 45.0,
        ("out:world", "com:outside"): 45.0,
        ("out:savings", "hh:hh"): 5.0, ("out:transfers", "hh:hh"): 2.0, ("out:spending", "hh:hh"): 3.0,
        ("out:world", "out:savings"): 5.0, ("out:world", "out:transfers"): 2.0, ("out:world", "out:spending"): 3.0,
    }
    return write_scenario(tmp_path, sam_from_flows(flows), villages={"v": ["hh"]},
                          markets={"village": ["local", "labor"], "world": ["outside"]},
                          labour_supply={"elasticity": elasticity},
                          interventions=[{"kind": "cash_transfer", "households": ["hh"], "amount": 10.0}])


@pytest.mark.parametrize("elasticity", [0.0, 1.0, 100.0])
def test_one_local_good_keynesian_multiplier(tmp_path, elasticity):
    """With local spending share c = s(1 − leakage) = 0.5 × 0.9 = 0.45 and all local value added going
    to local labour, the local good market gives p·QC = c·Y = labour income, so
    Y = E / (1 − c) and the nominal multiplier is 1 / (1 − c) = 1 / 0.55 whatever the elasticity.

    The wage solves w^(1+e) · L0 = c·(E + T)/(1 − c) with L0 = 45, the local price equals the wage
    (one factor, share 1), and the CPI is 0.45·p + 0.45·1 + 0.10 (base-weight Laspeyres), so the
    real multiplier follows in closed form too.
    """
    ds = lewie.run(one_local_good_economy(tmp_path, elasticity)).sel(variant="all", draw=0)
    c, E, T, L0 = 0.45, 55.0, 10.0, 45.0
    assert float(A.income_multiplier(ds)) == pytest.approx(1 / (1 - c), rel=1e-10)
    wage = (c * (E + T) / (1 - c) / L0) ** (1 / (1 + elasticity))
    assert float(ds["wage"].sel(state="simulated", factor="labor", village="v")) == pytest.approx(wage, rel=1e-9)
    cpi = 0.45 * wage + 0.45 + 0.10
    real = ((E + T) / (1 - c) / cpi - E / (1 - c)) / T
    assert float(A.income_multiplier(ds, real=True)) == pytest.approx(real, rel=1e-8)
