"""The per-draw rules of the GAMS calibration (4b_Calibration.gms, 5_Generic_Simulation.gms) as lewie
applies them: labour endowment from each draw's labour use, the 0.1 floor, GAMS draw labels."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lewie.model.recalibration import gams_fixed_factor_floor, labour_rule, recalibrate
from lewie.model.calibration import labour_endowments
from lewie.errors import InputError
from lewie.results.gams import draw_number, read_gams_draws
from lewie.runs.stages import Simulation
from lewie.runs.sampling import read_draws

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sim():
    return Simulation(ROOT / "scenarios" / "example_workbook.toml").load().validate().calibrate().build()


def _fd(cal, rng, n=5):
    base = np.array([cal.levels["factor_demand"][k] for k in cal.factor_uses])
    return base * np.exp(0.2 * rng.standard_normal((n, base.size)))


def test_labour_endowment_follows_each_draws_labour_use_as_gams_does(sim):
    """endow_dr(Labor, h) = shfl(h)·Σ_(hh,g) fd_dr(g, Labor, hh): the base split of the village's labour,
    applied to the draw's own labour use."""
    cal = sim.calibration
    fd = _fd(cal, np.random.default_rng(1))
    endow = labour_endowments(cal, fd, "village")
    pairs = list(cal.labour_supply)
    base = np.array([cal.levels["labour_supply"][k] for k in pairs])
    labour_cols = [j for j, (g, f, h) in enumerate(cal.factor_uses) if f == "Labor"]
    use = fd[:, labour_cols].sum(axis=1)
    shfl = base / base.sum()  # one village: the workbook's wrkagepop·HHNum shares
    np.testing.assert_allclose(endow, use[:, None] * shfl[None, :], rtol=1e-13)
    np.testing.assert_allclose(labour_endowments(cal, fd, "zone"), endow, rtol=1e-13)  # one village
    np.testing.assert_array_equal(labour_endowments(cal, fd, "kept"), np.tile(base, (5, 1)))
    with pytest.raises(ValueError, match="unknown labour endowment rule"):
        labour_endowments(cal, fd, "per-household")


def test_recalibrated_draws_use_the_recomputed_endowment_and_solve_their_own_model(sim):
    from lewie.model.calibration import ShareDraws, base_shares
    cal = sim.calibration
    rng = np.random.default_rng(2)
    fs = base_shares(cal).factor_share * np.exp(0.1 * rng.standard_normal((4, len(cal.factor_uses))))
    from lewie.model.recalibration import normalise
    draws = normalise(cal, ShareDraws(factor_share=fs))
    X0, P0 = recalibrate(sim.model, cal, draws, labour="village")  # checks every draw's base
    from lewie.solvers.tape import compile_model
    system = compile_model(sim.model)
    pos = system.param_positions(sim.model.labour_endowment)
    got = P0[:, [pos[k] for k in cal.labour_supply]]
    va = np.array([cal.levels["value_added"][(g, h)] for g, _, h in cal.factor_uses])
    np.testing.assert_allclose(got, labour_endowments(cal, va * draws.factor_share, "village"), rtol=1e-12)
    assert labour_rule(sim.scenario) == "village"


def test_the_gams_floor_on_a_shocked_fixed_factor():
    new, repaired = gams_fixed_factor_floor(np.array([-0.3, 0.0, 0.5, -1e-12]))
    np.testing.assert_array_equal(new, [0.1, 0.0, 0.5, 0.1])
    np.testing.assert_array_equal(repaired, [True, False, False, True])


def test_gams_draw_labels_are_accepted_in_draws_files(tmp_path):
    assert [draw_number(x) for x in ("dr0", "dr12", "12", 7, 3.0)] == [0, 12, 12, 7, 3]
    with pytest.raises(ValueError, match="neither a number nor a GAMS label"):
        draw_number("d1x")
    long = pd.DataFrame({"draw": ["dr0", "dr1"], "parameter": "fshare", "good": "crop", "good2": "",
                         "factor": "Labor", "household": "Elig", "value": [0.45, 0.5]})
    path = tmp_path / "draws.csv"
    long.to_csv(path, index=False)
    wide = read_draws(path)
    assert list(wide.index) == [0, 1]
    bad = long.assign(draw=["dr0", "first"])
    bad.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"whole numbers or GAMS draw labels \(dr0, dr1, ...\)"):
        read_draws(path)


def test_gams_dumps_become_a_draws_table():
    fix = ROOT / "tests" / "fixtures" / "aqua"
    tab = read_gams_draws({"fshare": fix / "gams_fshare_dr.csv", "eshare": fix / "gams_eshare_dr.csv"})
    assert set(tab["parameter"]) == {"factor_share", "budget_share"} and tab["draw"].max() == 199
    d0 = tab[(tab["draw"] == 0) & (tab["parameter"] == "factor_share") & (tab["good"] == "fish")
             & (tab["factor"] == "Capital") & (tab["household"] == "AqFSm")]
    assert d0["value"].iloc[0] > 0  # GAMS's draw-0 redraw of the workbook's −0.0427 (then rescaled)
    with pytest.raises(InputError, match="unknown GAMS drawn parameter 'pshift'"):
        read_gams_draws({"pshift": fix / "gams_fshare_dr.csv"})
