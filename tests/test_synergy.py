"""Synergy that explains itself: channels add up, and a cash transfer relaxing a binding liquidity
constraint on inputs that a productivity package makes more valuable gives positive synergy of the
size a hand computation gives."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lewie
from lewie.results import analysis as A

from .test_accounts import INP, LAB, LAND, VA, farm

REPO = Path(__file__).resolve().parents[1]


def cash_and_seeds(tmp_path, lam=1.4, T=10.0, sigma=0.3, x=0.1):
    itv = [{"name": "cash", "kind": "cash_transfer", "households": ["hh"], "amount": T, "input_budget_share": sigma},
           {"name": "seeds", "kind": "productivity", "activity": "crop", "households": ["hh"], "change": x,
            "cost": 5.0}]
    return farm(tmp_path, shadow_price=lam, interventions=itv,
                variants={"cash": ["cash"], "seeds": ["seeds"], "cash+seeds": ["cash", "seeds"]})


@pytest.mark.parametrize("lam", [1.0, 1.4])
def test_synergy_of_cash_for_inputs_and_productivity_in_closed_form(tmp_path, lam):
    """Everything priced outside; labour share a, land b, inputs c = λ0·B/VA. Productivity (1 + x)
    scales value added by (1 + x)^(1/(1−a)); σT more inputs by (1 + σT/B)^(c/(1−a)); income from the
    activity is (b + c)·QVA less input spending. The spending and the transfer add up, so the synergy is
    (b + c)·VA·[(1 + x)^(1/(1−a)) − 1]·[(1 + σT/B)^(c/(1−a)) − 1] > 0: land's part b/(b+c) of it, the
    liquidity constraint's c/(b+c)."""
    T, sigma, x = 10.0, 0.3, 0.1
    ds = lewie.run(cash_and_seeds(tmp_path, lam, T, sigma, x)).sel(draw=0)
    a, b, c = LAB / VA, (LAND - (lam - 1) * INP) / VA, lam * INP / VA
    prod = (1 + x) ** (1 / (1 - a)) - 1
    relax = (1 + sigma * T / INP) ** (c / (1 - a)) - 1
    expected = (b + c) * VA * prod * relax
    syn = A.synergy(ds, by="total").sel(variant="cash+seeds")
    assert float(syn) == pytest.approx(expected, rel=1e-8)
    assert expected > 0.3  # of a 10 + 5 programme: not rounding noise
    ch = A.synergy_by_channel(ds).sel(variant="cash+seeds")
    assert float(ch.sum("channel")) == pytest.approx(float(syn), rel=1e-10)
    assert float(ch.sel(channel="liquidity constraint")) == pytest.approx(c * VA * prod * relax, rel=1e-8)
    assert float(ch.sel(channel="crop: fixed-factor rents")) == pytest.approx(b * VA * prod * relax, rel=1e-8)
    assert abs(float(ch.sel(channel="transfers"))) <= 1e-10


def test_channels_add_up_to_the_income_change_in_every_bundled_case():
    for path in sorted((REPO / "scenarios").glob("*.toml")):
        ds = lewie.run(path, draws=0)
        by_channel = A.income_change_by_channel(ds).sum("channel")
        gap = abs(by_channel - A.change(ds, "income"))
        assert float(gap.max()) <= 1e-8 * float(abs(ds["income"]).max()), path.stem


def test_bundled_example_synergy_band_excludes_zero():
    """scenarios/example_liquidity.toml: cash relaxes the eligible farmers' binding input budget
    (shadow price 1.5) and improved seeds raise their crop productivity; over Monte Carlo draws the
    whole 5–95% band of the synergy is positive, and so is the band of its part that runs through
    the liquidity constraint (the rest: crop land's rents and the local labour the extra output hires)."""
    ds = lewie.run(REPO / "scenarios" / "example_liquidity.toml", draws=30)
    syn = A.synergy(ds, by="total").sel(variant="cash+seeds")
    band = A.bands(syn)
    assert float(band.sel(statistic="p05")) > 0, band
    assert int(band.sel(statistic="n_draws")) == 30
    ch = A.synergy_by_channel(ds).sel(variant="cash+seeds")
    np.testing.assert_allclose(ch.sum("channel"), syn, rtol=1e-9)
    liquidity = A.bands(ch.sel(channel="liquidity constraint"))
    assert float(liquidity.sel(statistic="p05")) > 0, liquidity
