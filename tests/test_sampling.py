"""Parameter draws: the GAMS procedure, per-draw random streams, Dirichlet draws, supplied draws."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lewie
from lewie.errors import InputError
from lewie.runs.sampling import Sampler, entry_keys, entry_name, point_values, read_draws

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "example_workbook.toml"


@pytest.fixture(scope="module")
def sim():
    return lewie.Simulation(SCENARIO).load().validate().calibrate()


def _groups(sampler):
    return {g: np.flatnonzero(sampler.group == g) for g in np.unique(sampler.group)}


def test_draw_zero_is_the_calibrated_point_and_draws_follow_the_gams_rules(sim):
    s = Sampler(sim.parameters, sim.calibration, seed=4)
    assert s.method == "gams"
    dr = s.draw(0, 300)
    v = dr.values.to_numpy()
    np.testing.assert_array_equal(v[0], point_values(sim.calibration))
    assert list(dr.values.columns) == entry_keys(sim.calibration)
    assert ((v > 0) & (v < 1)).all()  # redrawn until inside (0, 1)
    for g, idx in _groups(s).items():
        if s.param[idx[0]] in ("factor_share", "budget_share"):
            np.testing.assert_allclose(v[:, idx].sum(axis=1), 1.0, rtol=0, atol=1e-14)
    for h in sim.structure.households:
        rates = [n for n, k in enumerate(s.keys) if k[4] == h and k[0].endswith("_rate")]
        assert (v[:, rates].sum(axis=1) <= 1).all()
    # drawn entries vary; the outside rate (no standard error) does not
    sav = s.keys.index(("savings_rate", "", "", "", "Elig"))
    out = s.keys.index(("outside_rate", "", "", "", "Elig"))
    assert v[1:, sav].std() > 0.005 and (v[:, out] == v[0, out]).all()
    # the draws are centred on the estimate (savings rate: 0.02, se 0.01, truncated at 0)
    assert abs(v[1:, sav].mean() - 0.0221) < 0.003


def test_each_draw_has_its_own_stream(sim):
    s = Sampler(sim.parameters, sim.calibration, seed=9)
    whole = s.draw(0, 12).values
    part = s.draw(5, 8).values
    pd.testing.assert_frame_equal(part, whole.loc[5:8])
    again = Sampler(sim.parameters, sim.calibration, seed=9).draw(0, 12).values
    pd.testing.assert_frame_equal(again, whole)
    other = Sampler(sim.parameters, sim.calibration, seed=10).draw(0, 12).values
    assert not np.array_equal(other.to_numpy()[1:], whole.to_numpy()[1:])
    np.testing.assert_array_equal(other.to_numpy()[0], whole.to_numpy()[0])


def test_zero_standard_errors_give_the_point_in_every_draw(sim):
    table = sim.parameters.assign(se=0.0)
    v = Sampler(table, sim.calibration, seed=1).draw(0, 20).values.to_numpy()
    assert (v == v[0]).all()
    v = Sampler(None, sim.calibration, seed=1).draw(0, 5).values.to_numpy()
    assert (v == v[0]).all()


def test_a_table_that_disagrees_with_the_sam_is_an_error(sim):
    table = sim.parameters.copy()
    row = table.index[table["parameter"] == "savings_rate"][0]
    table.loc[row, "value"] += 0.05
    with pytest.raises(InputError, match=r"estimate of savings_rate\|\|\|\|Elig is 0\.07.*calibrated value is 0\.02"):
        Sampler(table, sim.calibration)


def test_gams_compat_draws_around_an_estimate_outside_the_unit_interval(sim):
    """Draw 0 is the calibrated base (where the workbook calibration did any draw-0 redraw); the other
    draws are drawn around the table's estimate, truncated to (0, 1)."""
    table = sim.parameters.copy()
    fs = table.index[(table["parameter"] == "factor_share") & (table["se"] > 0)]
    row = fs[0]
    table.loc[row, "value"] = 1.0  # as a real workbook can have; calibration keeps it only with gams_compat
    with pytest.raises(InputError):
        Sampler(table, sim.calibration)
    s = Sampler(table, sim.calibration, seed=3, gams_compat=True)
    assert s.method == "gams-compat" and "redrawn" in s.log[0]
    np.testing.assert_array_equal(s.draw(0, 0).values.to_numpy()[0], point_values(sim.calibration))
    r = table.loc[row]
    n = s.keys.index(("factor_share", r.good, r.good2, r.factor, r.household))
    d = s.draw(1, 200).values.to_numpy()
    assert (d[:, n] > 0).all() and (d[:, n] < 1).all()
    # drawn around 1 (then rescaled): larger than the calibrated share in most draws
    assert (d[:, n] > point_values(sim.calibration)[n]).mean() > 0.9


def test_dirichlet_draws_match_means_and_standard_errors(sim):
    s = Sampler(sim.parameters, sim.calibration, seed=2, distribution="dirichlet")
    assert s.method == "dirichlet"
    v = s.draw(1, 4000).values.to_numpy()
    point = point_values(sim.calibration)
    for g, idx in _groups(s).items():
        if s.param[idx[0]] in ("factor_share", "budget_share"):
            np.testing.assert_allclose(v[:, idx].sum(axis=1), 1.0, atol=1e-12)
    j = s.keys.index(("budget_share", "crop", "", "", "Elig"))
    assert v[:, j].mean() == pytest.approx(point[j], abs=4 * s.se[j] / np.sqrt(4000))
    # one concentration per vector: the median of those its members' standard errors imply
    a = s.alpha[s.group[j]]
    members = s.group == s.group[j]
    implied = point[members] * (1 - point[members]) / s.se[members] ** 2 - 1
    assert a == pytest.approx(np.median(implied))
    assert v[:, j].std() == pytest.approx(np.sqrt(point[j] * (1 - point[j]) / (a + 1)), rel=0.05)
    r = s.keys.index(("savings_rate", "", "", "", "Trader"))  # a rate: beta with its own standard error
    assert v[:, r].mean() == pytest.approx(point[r], abs=4 * s.se[r] / np.sqrt(4000))
    assert v[:, r].std() == pytest.approx(s.se[r], rel=0.05)


# ---- supplied draws -----------------------------------------------------------------------------
def _wide(sim, n=3, seed=0):
    """Draws 0..n as a wide table: the point, then random factor shares of crop/Elig and savings rates."""
    keys = entry_keys(sim.calibration)
    point = point_values(sim.calibration, keys)
    v = np.tile(point, (n + 1, 1))
    rng = np.random.default_rng(seed)
    crop = [j for j, k in enumerate(keys) if k[0] == "factor_share" and k[1] == "crop" and k[4] == "Elig"]
    for d in range(1, n + 1):
        w = rng.dirichlet(np.ones(len(crop)))
        v[d, crop] = w / w.sum()
        v[d, keys.index(("savings_rate", "", "", "", "Elig"))] = 0.01 * d
    return pd.DataFrame(v, index=pd.Index(range(n + 1), name="draw"), columns=[entry_name(k) for k in keys])


def test_supplied_draws_are_used_exactly(sim, tmp_path):
    wide = _wide(sim)
    path = tmp_path / "draws.csv"
    wide.to_csv(path)
    s = Sampler(sim.parameters, sim.calibration)
    got = s.supplied(read_draws(path), 0, 3, file=path)
    assert got.method == "supplied" and not got.failed
    np.testing.assert_array_equal(got.values.to_numpy(), wide.to_numpy())


def test_supplied_draws_in_long_layout_with_gams_names_and_any_case(sim, tmp_path):
    long = pd.DataFrame([(0, "fshare", "CROP", "", "labor", "elig", 0.45), (1, "fshare", "crop", "", "Labor", "Elig", 0.40),
                         (1, "FSHARE", "crop", "", "Land", "Elig", 0.30), (1, "savsh", "", "", "", "ELIG", 0.03)],
                        columns=["draw", "parameter", "good", "good2", "factor", "household", "value"])
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    s = Sampler(sim.parameters, sim.calibration)
    got = s.supplied(read_draws(path), 0, 1, file=path)
    keys = s.keys
    row = got.values.loc[1]
    assert row[("factor_share", "crop", "", "Labor", "Elig")] == 0.40
    assert row[("factor_share", "crop", "", "Land", "Elig")] == 0.30
    assert row[("savings_rate", "", "", "", "Elig")] == 0.03
    assert "keep their point values" in got.log[-1]
    # crop/Elig shares given for draw 1 sum to 0.45+... : 0.40 + 0.30 + point capital 0.10 + input 0.20 = 1.0
    assert 1 not in got.failed
    assert row[("budget_share", "crop", "", "", "Elig")] == point_values(sim.calibration)[keys.index(
        ("budget_share", "crop", "", "", "Elig"))]


def test_supplied_draws_that_cannot_be_used(sim, tmp_path):
    wide = _wide(sim, n=4)
    crop = [c for c in wide.columns if c.startswith("factor_share|crop||") and c.endswith("|Elig")]
    wide.loc[2, crop] *= 0.8  # sums to 0.8: the draw fails, visibly
    wide.loc[3, crop] *= 1 + 5e-8  # within printing precision: rescaled, with a note
    s = Sampler(sim.parameters, sim.calibration)
    got = s.supplied(read_draws(wide.reset_index()), 0, 4)
    assert list(got.failed) == [2] and "sum to 0.8" in got.failed[2]
    assert list(got.notes) == [3] and "rescaled" in got.notes[3]
    np.testing.assert_allclose(got.values.loc[3, [tuple(c.split("|")) for c in crop]].sum(), 1.0, rtol=0, atol=1e-15)
    with pytest.raises(InputError, match="lack draw"):
        s.supplied(read_draws(wide.reset_index()), 0, 9)
    bad = wide.reset_index().assign(**{"factor_share|crop||Water|Elig": 0.1})
    with pytest.raises(InputError, match=r"factor_share\|crop\|\|Water\|Elig.*does not have"):
        s.supplied(read_draws(bad), 0, 4)
    with pytest.raises(InputError, match="draw 0"):
        read_draws(wide.reset_index().iloc[1:])
