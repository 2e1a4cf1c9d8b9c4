"""One calibration, vectorised over draws: the point calibration is draw 0 of the Monte Carlo engine to
the bit (SAM, liquidity and workbook routes), the rules give the SAM back, and the results read market
prices and wages where the declared model sets them."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

import lewie
from lewie.model.calibration import RECAL_BLOCK, CalibrationRules, base_shares
from lewie.model.declaration import factor_price, goods_price, market_price
from lewie.model.recalibration import _base_p, _base_x, recalibrate
from lewie.results.dataset import OutputMap, wage_snapshot
from lewie.runs.montecarlo import MonteCarlo
from lewie.sam.accounts import account

REPO = Path(__file__).resolve().parents[1]
ROUTES = {"sam": REPO / "scenarios" / "example_village.toml",
          "liquidity": REPO / "scenarios" / "example_liquidity.toml",  # shadow prices > 1: rents moved
          "workbook": REPO / "scenarios" / "example_workbook.toml"}  # labour endowments follow labour use


@pytest.fixture(scope="module", params=list(ROUTES), ids=list(ROUTES))
def mc(request):
    return MonteCarlo(ROUTES[request.param])


def test_the_point_calibration_is_draw_0_of_the_engine_to_the_bit(mc):
    cal = mc.points[0].calibration
    x, p = _base_x(mc.system, mc.sim.model, cal), _base_p(mc.system, mc.sim.model, cal)
    dr = mc.draws(0, 0)
    x0, p0 = mc._recalibrate(cal, [0], dr.values.to_numpy(dtype=float), np.ones(1, dtype=bool))
    differ = [mc.system.variables[j].name for j in np.flatnonzero(x0[0] != x)]
    differ += [mc.system.parameters[j].name for j in np.flatnonzero(p0[0] != p)]
    assert differ == []
    # and so the results' base state of draw 0 is the calibration itself
    ds = mc.solve(0, 0)
    base = mc.outputs.arrays(x[None], p[None])
    for name, (dims, arr, _) in base.items():
        got = ds[name].sel(state="base", draw=0)
        got = got.isel(variant=0) if "variant" in got.dims else got
        assert np.array_equal(got.transpose(*dims).values, arr[0], equal_nan=True), name


def test_recalibrating_the_point_estimates_in_a_block_gives_the_calibration(mc):
    cal, model = mc.points[0].calibration, mc.sim.model
    shares = base_shares(cal)
    block = replace(shares, **{k: np.repeat(v, RECAL_BLOCK, axis=0) for k, v in vars(shares).items() if v is not None})
    X0, P0 = recalibrate(model, cal, block)
    assert np.array_equal(X0, np.tile(_base_x(mc.system, model, cal), (RECAL_BLOCK, 1)))
    assert np.array_equal(P0, np.tile(_base_p(mc.system, model, cal), (RECAL_BLOCK, 1)))


def test_the_rules_give_back_the_sams_flows(mc):
    """What the rules derive (factor demands, consumption, leakages, exogenous income) is the SAM's."""
    cal, sam, s = mc.points[0].calibration, mc.sim.sam, mc.sim.structure
    scale = float(np.abs(sam.to_numpy()).max())
    for (g, f, h), v in cal.levels["factor_demand"].items():
        if f not in s.fixed_factors:  # fixed factors also pay the liquidity rent (tests/test_liquidity*)
            assert v == pytest.approx(sam.at[account("fac", f), account("act", g, h)], abs=1e-12 * scale)
    for (g, h), v in cal.levels["consumption"].items():
        assert v == pytest.approx(sam.at[account("com", g), account("hh", h)], abs=1e-12 * scale)
    for h in s.households:
        for leak, name in (("savings", "savings"), ("transfers", "transfers_out"), ("spending", "outside_spending")):
            assert cal.levels[name][h] == pytest.approx(sam.at[account("out", leak), account("hh", h)],
                                                        abs=1e-12 * scale)
    if not s.budget_constrained:  # (the liquidity rent is income the SAM books as exogenous)
        for h in s.households:
            assert cal.params["exogenous_income"][h] == pytest.approx(
                sam.at[account("hh", h), account("out", "world")], abs=1e-11 * scale)


def test_the_rules_of_many_draws_are_the_rules_of_each(mc):
    """Row d of a block of draws does not depend on the other rows' values."""
    cal = mc.points[0].calibration
    rules = CalibrationRules(cal)
    shares = {k: np.repeat(v, RECAL_BLOCK, axis=0) for k, v in vars(base_shares(cal)).items() if v is not None}
    rng = np.random.default_rng(3)
    other = {k: v * np.exp(0.05 * rng.standard_normal(v.shape)) for k, v in shares.items()}
    mixed = {k: np.where(np.arange(RECAL_BLOCK)[:, None] == 0, shares[k], other[k]) for k in shares}
    a, b = rules.evaluate(shares), rules.evaluate(mixed)
    for x, y in zip(a, b):
        for name in x:
            assert np.array_equal(x[name][0], y[name][0]), name


@pytest.mark.parametrize("level, expected", [("village", ("wage_village", ("labor", "north"))),
                                             ("zone", ("wage_zone", "labor")), ("world", ("world_wage", "labor"))])
def test_market_price_selection(level, expected):
    sim = lewie.Simulation(ROUTES["sam"]).load().validate()
    s = replace(sim.structure, market_level={**sim.structure.market_level, "labor": level})
    assert market_price(s, "factor", "labor", "north") == expected
    goods = {"village": ("price_village", ("retail", "north")), "zone": ("price_zone", "retail"),
             "world": ("world_price", "retail")}
    s = replace(sim.structure, market_level={**sim.structure.market_level, "retail": level})
    assert market_price(s, "good", "retail", "north") == goods[level]


@pytest.mark.parametrize("scenario", [ROUTES["sam"], REPO / "scenarios" / "ghana_leap.toml"], ids=["village", "zone"])
def test_equations_and_results_read_the_same_market_prices(scenario):
    """The declaration's prices and wages and the results' are the same model components."""
    from lewie.solvers.tape import compile_model
    sim = lewie.Simulation(scenario).load().validate().calibrate().build()
    m, s = sim.model, sim.structure
    for h in s.households:
        v = s.village_of[h]
        for g in s.goods:
            name, index = market_price(s, "good", g, v)
            assert goods_price(m, g, h) is getattr(m, name)[index]
        for f in s.tradable_factors:
            name, index = market_price(s, "factor", f, v)
            assert factor_price(m, f, h) is getattr(m, name)[index]
    system = compile_model(m)
    x, p = system.get_x(), system.get_p()
    x[:] = np.arange(1, x.size + 1)  # every variable its own value: a wrong pick shows
    system.set_x(x)
    wages = OutputMap(s, m, system).arrays(x[None], p[None])["wage"][1][0]
    snap = wage_snapshot(m, s)
    for (f, v), w in snap.items():
        assert wages[s.factors.index(f), s.villages.index(v)] == w
        h = s.members(v)[0]
        assert w == pyo.value(factor_price(m, f, h))
