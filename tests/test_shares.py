"""lewie.sam.shares: shares → SAM → shares round trips, balance, and the pairs of functions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lewie.sam.io import read_sam
from lewie.sam.shares import (EconomyShares, budget_shares, close_trade, consumption, factor_payments, factor_shares,
                              input_flows, input_shares, labour_endowments, labour_weights, net_trade,
                              sam_from_shares, shares_from_sam, value_added)
from lewie.testing import assert_sam_balanced

REPO = Path(__file__).resolve().parents[1]
KINDS = {"labor": "labour", "land": "fixed", "capital": "fixed", "inputs": "input"}


def _normalised(xs):
    total = sum(xs)
    return [x / total for x in xs]


@st.composite
def economies(draw, exact_shares: bool = True):
    """A random economy: 1-4 groups in 1-2 villages, 2-4 goods, a labour, two fixed and an input factor."""
    n_h = draw(st.integers(1, 4))
    H = [f"h{i}" for i in range(n_h)]
    n_v = draw(st.integers(1, min(2, n_h)))
    village_of = {h: f"v{min(i, n_v - 1)}" for i, h in enumerate(H)}
    G = [f"g{i}" for i in range(draw(st.integers(2, 4)))]
    pos = st.floats(0.05, 1.0)
    output = {}
    for h in H:
        for g in G:
            if draw(st.booleans()) or (g == G[0] and not any(k[1] == h for k in output)):
                output[g, h] = draw(st.floats(1.0, 1e4))
    idsh = {}
    for a in output:
        bought = draw(st.lists(st.floats(0.0, 0.2), min_size=len(G), max_size=len(G)))
        idsh[a] = dict(zip(G, bought))
    factors = list(KINDS)
    fshare = {}
    for a in output:
        ws = draw(st.lists(pos, min_size=len(factors), max_size=len(factors)))
        shares = _normalised(ws) if exact_shares else ws
        fshare[a] = dict(zip(factors, shares))
    income = {h: draw(st.floats(10.0, 1e5)) for h in H}
    beta = {}
    for h in H:
        ws = draw(st.lists(pos, min_size=len(G), max_size=len(G)))
        beta[h] = dict(zip(G, _normalised(ws) if exact_shares else ws))
    rates = {h: dict(zip(("savings", "transfers", "spending"),
                         draw(st.lists(st.floats(0.0, 0.15), min_size=3, max_size=3)))) for h in H}
    weights = {h: draw(pos) for h in H}
    rule = draw(st.sampled_from(["used", "zone", "ratio"]))
    total = ({v: draw(st.floats(0.5, 1.5)) for v in set(village_of.values())} if rule == "ratio" else rule)
    return EconomyShares(output=output, input_shares=idsh, factor_shares=fshare, income=income,
                         budget_shares=beta, leakage_rates=rates, factor_kinds=dict(KINDS), village_of=village_of,
                         labour_weights=weights, labour_total=total)


def _close(a: dict, b: dict, rtol=1e-9, atol=1e-12):
    assert set(a) == set(b), (set(a) ^ set(b))
    for k in a:
        if isinstance(a[k], dict):
            _close(a[k], b[k], rtol, atol)
        else:
            assert a[k] == pytest.approx(b[k], rel=rtol, abs=atol), k


def _nonzero(d: dict) -> dict:
    return {k: {kk: v for kk, v in inner.items() if v} for k, inner in d.items()}


@settings(max_examples=60, deadline=None)
@given(economies(), st.booleans())
def test_shares_to_sam_to_shares_round_trip(e, gams_order):
    sam = sam_from_shares(e, gams_order=gams_order)
    assert_sam_balanced(sam, rtol=1e-12)
    back = shares_from_sam(sam, factor_kinds=e.factor_kinds, village_of=e.village_of)
    _close(back.output, e.output)
    _close(back.input_shares, {a: s for a, s in _nonzero(e.input_shares).items() if s})
    _close(back.factor_shares, e.factor_shares)
    _close(back.budget_shares, e.budget_shares)
    _close(back.leakage_rates, e.leakage_rates, atol=1e-12)
    _close(back.income, e.income)
    # labour: the weights come back normalised within each village, the rule as each village's ratio
    given_w = {h: e.labour_weights[h] / sum(e.labour_weights[x] for x in e.village_of
                                             if e.village_of[x] == e.village_of[h]) for h in e.village_of}
    for (f, h), w in back.labour_weights.items():
        assert w == pytest.approx(given_w[h], rel=1e-9)
    # and the shares read back rebuild the same SAM
    again = sam_from_shares(back, activities=list(e.output), goods=[a.split(":")[1] for a in sam.index
                                                                    if a.startswith("com:")],
                            factors=[a.split(":")[1] for a in sam.index if a.startswith("fac:")],
                            households=list(e.income))
    np.testing.assert_allclose(again.to_numpy(), sam.to_numpy(), rtol=1e-9, atol=1e-9 * float(sam.abs().max().max()))


@settings(max_examples=40, deadline=None)
@given(economies(exact_shares=False))
def test_shares_not_summing_to_one_are_rescaled_and_the_sam_balances(e):
    sam = sam_from_shares(e)
    assert_sam_balanced(sam, rtol=1e-12)
    back = shares_from_sam(sam, factor_kinds=e.factor_kinds, village_of=e.village_of)
    for a, shares in e.factor_shares.items():
        total = sum(shares.values())
        _close(back.factor_shares[a], {f: s / total for f, s in shares.items()})
    for h, shares in e.budget_shares.items():
        total = sum(shares.values())
        _close(back.budget_shares[h], {g: s / total for g, s in shares.items()})


@settings(max_examples=30, deadline=None)
@given(economies())
def test_gams_order_differs_by_rounding_only_and_account_order_is_the_callers(e):
    plain, gams = sam_from_shares(e), sam_from_shares(e, gams_order=True)
    np.testing.assert_allclose(gams.to_numpy(), plain.to_numpy(), rtol=1e-12, atol=1e-9)
    acts = list(reversed(list(e.output)))
    hh = list(reversed(list(e.income)))
    reordered = sam_from_shares(e, activities=acts, households=hh)
    assert [a for a in reordered.index if a.startswith("act:")] == [f"act:{g}:{h}" for g, h in acts]
    assert [a for a in reordered.index if a.startswith("hh:")] == [f"hh:{h}" for h in hh]
    pd.testing.assert_frame_equal(reordered.loc[plain.index, plain.columns], plain, rtol=1e-12, atol=1e-9)


# ---------------------------------------------------------------- the pairs

def test_input_flows_and_value_added_and_their_inverse():
    output = {("crops", "a"): 100.0, ("retail", "b"): 50.0}
    idsh = {("crops", "a"): {"crops": 0.05, "outside": 0.1}, ("retail", "b"): {"outside": 0.5, "crops": 0.0}}
    flows = input_flows(output, idsh)
    assert flows == {("crops", "crops", "a"): 5.0, ("crops", "outside", "a"): 10.0, ("retail", "outside", "b"): 25.0}
    assert input_shares(output, flows) == {("crops", "a"): {"crops": 0.05, "outside": 0.1}, ("retail", "b"): {"outside": 0.5}}
    assert value_added(output, idsh) == pytest.approx({("crops", "a"): 85.0, ("retail", "b"): 25.0})
    assert value_added(output, idsh, gams_order=True) == pytest.approx({("crops", "a"): 85.0, ("retail", "b"): 25.0})


def test_factor_payments_rescale_the_shares_and_factor_shares_invert_them():
    pay = factor_payments({("crops", "a"): 80.0}, {("crops", "a"): {"labor": 0.6, "land": 0.6, "capital": 0.0}})
    assert pay == {("crops", "labor", "a"): 40.0, ("crops", "land", "a"): 40.0}  # rescaled: 0.6 / 1.2
    assert factor_shares(pay) == {("crops", "a"): {"labor": 0.5, "land": 0.5}}
    exact = factor_payments({("crops", "a"): 80.0}, {("crops", "a"): {"labor": 0.25, "land": 0.75}})
    assert exact == {("crops", "labor", "a"): 20.0, ("crops", "land", "a"): 60.0}


def test_consumption_and_budget_shares():
    qc, leak = consumption({"a": 1000.0}, {"a": {"crops": 0.75, "outside": 0.25}},
                           {"a": {"savings": 0.1, "spending": 0.1}})
    assert qc == {("crops", "a"): 600.0, ("outside", "a"): 200.0}
    assert leak == {("savings", "a"): 100.0, ("transfers", "a"): 0.0, ("spending", "a"): 100.0}
    income, beta, rates = budget_shares(qc, leak)
    assert income == {"a": 1000.0}
    assert beta == {"a": {"crops": 0.75, "outside": 0.25}}
    assert rates == {"a": {"savings": 0.1, "transfers": 0.0, "spending": 0.1}}


def test_labour_endowment_rules_and_their_inverse():
    pay = {("crops", "labor", "a"): 60.0, ("crops", "labor", "b"): 40.0, ("fish", "labor", "c"): 30.0}
    village_of = {"a": "north", "b": "north", "c": "south"}
    weights = {"a": 1.0, "b": 3.0, "c": 2.0}
    used = labour_endowments(pay, ["labor"], village_of, weights, "used")
    assert used == {("labor", "a"): 25.0, ("labor", "b"): 75.0, ("labor", "c"): 30.0}
    zone = labour_endowments(pay, ["labor"], village_of, weights, "zone")
    assert zone == {("labor", "a"): 32.5, ("labor", "b"): 97.5, ("labor", "c"): 130.0}
    ratio = labour_endowments(pay, ["labor"], village_of, weights, {"north": 1.2, "south": 0.5})
    assert ratio == pytest.approx({("labor", "a"): 30.0, ("labor", "b"): 90.0, ("labor", "c"): 15.0})
    w, r = labour_weights(ratio, pay, village_of)
    assert w == pytest.approx({("labor", "a"): 0.25, ("labor", "b"): 0.75, ("labor", "c"): 1.0})
    assert r == pytest.approx({("labor", "north"): 1.2, ("labor", "south"): 0.5})
    assert labour_endowments(pay, ["labor"], village_of, w, r) == pytest.approx(ratio)
    with pytest.raises(ValueError, match="village 'south' supplies labor but none of its groups"):
        labour_endowments(pay, ["labor"], village_of, {"a": 1.0, "b": 1.0, "c": 0.0})
    with pytest.raises(ValueError, match="labour total rule 'all'"):
        labour_endowments(pay, ["labor"], village_of, weights, "all")


def test_close_trade_and_net_trade():
    labels = ["com:crops", "fac:labor", "out:world"]
    sam = pd.DataFrame([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], index=labels, columns=labels)
    sam.at["com:crops", "fac:labor"] = 30.0  # crops receive 30 from labour: must be exported... or paid
    close_trade(sam, ["com:crops", "fac:labor"])
    assert net_trade(sam) == {"com:crops": 30.0, "fac:labor": -30.0}
    assert_sam_balanced(sam)


def test_a_flow_to_an_account_not_listed_is_an_error():
    e = EconomyShares(output={("crops", "a"): 10.0}, input_shares={}, factor_shares={("crops", "a"): {"labor": 1.0}},
                      income={"a": 10.0}, budget_shares={"a": {"crops": 1.0}}, leakage_rates={},
                      factor_kinds={"labor": "labour"}, village_of={"a": "v"}, labour_weights={"a": 1.0})
    assert_sam_balanced(sam_from_shares(e))
    with pytest.raises(ValueError, match="com:crops"):
        sam_from_shares(e, goods=["fish"])
    with pytest.raises(ValueError, match="kind 'labor'"):
        sam_from_shares(EconomyShares(**{**e.__dict__, "factor_kinds": {"labor": "labor"}}))


# ---------------------------------------------------------------- the committed example SAM

def test_the_example_sam_is_read_back_into_shares_that_rebuild_it():
    sam = read_sam(REPO / "sam" / "data" / "example_village" / "sam.csv")
    back = shares_from_sam(sam)  # kinds inferred from the SAM
    assert back.factor_kinds == KINDS
    assert back.budget_shares["eligible"] == pytest.approx(
        {"crops": 0.30, "livestock": 0.08, "retail": 0.25, "services": 0.07, "outside": 0.30}, rel=1e-6)
    assert back.factor_shares["crops", "eligible"] == pytest.approx(
        {"labor": 0.45, "land": 0.25, "capital": 0.10, "inputs": 0.20}, rel=1e-6)
    G = [a.split(":")[1] for a in sam.index if a.startswith("com:")]
    F = [a.split(":")[1] for a in sam.index if a.startswith("fac:")]
    rebuilt = sam_from_shares(back, goods=G, factors=F)
    np.testing.assert_allclose(rebuilt.to_numpy(), sam.to_numpy(), rtol=1e-9, atol=1e-5)


def test_the_example_generator_writes_the_committed_example_sam_byte_for_byte(tmp_path):
    import importlib.util
    import sys
    spec = importlib.util.spec_from_file_location("lewie_tools_make_example_sam", REPO / "tools" / "make_example_sam.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    from lewie.sam.io import write_sam
    out = write_sam(module.build(), tmp_path / "sam.csv")
    assert out.read_bytes() == (REPO / "sam" / "data" / "example_village" / "sam.csv").read_bytes()
