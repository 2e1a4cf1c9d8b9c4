"""Analytics over Monte Carlo draws: bands vs numpy on the same draws, failed draws excluded, Theil
by hand, variance decomposition on synthetic cases with a known answer, synergy draw by draw.

The draws are a real 80-draw Monte Carlo run of the Lesotho scenario in which one solve is marked
failed as test data (tests/draws_fixture.py).
"""
import numpy as np
import pytest
import xarray as xr

from lewie.results import analysis as A

from .draws_fixture import FAILED_VALUE, lesotho, lesotho_draws, lesotho_sweep


@pytest.fixture(scope="module")
def det():
    return lesotho()


@pytest.fixture(scope="module")
def mc():
    return lesotho_draws()


def _total_multiplier_by_numpy(ds, variant, *, real=False):
    """(draws,) total income multiplier straight from the arrays, NaN where the draw failed."""
    y = ds["real_income" if real else "income"].sel(variant=variant).transpose("draw", "state", "household").values
    m = (y[:, 1, :] - y[:, 0, :]).sum(axis=1) / float(ds["cost"].sel(variant=variant))
    ok = ds["status"].sel(variant=variant).values == "converged"
    return np.where(ok, m, np.nan)


# ------------------------------------------------------------------------------------------------
# bands
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("real", [False, True])
def test_bands_equal_numpy_on_the_same_draws(mc, real):
    b = A.bands(A.income_multiplier(mc, real=real))
    assert list(b["statistic"].values) == list(A.STATISTICS)
    for v in mc["variant"].values:
        m = _total_multiplier_by_numpy(mc, v, real=real)
        sample = m[1:][np.isfinite(m[1:])]  # random draws 1..N that converged
        got = b.sel(variant=v)
        assert float(got.sel(statistic="point")) == pytest.approx(m[0], rel=1e-12)
        assert float(got.sel(statistic="mean")) == pytest.approx(sample.mean(), rel=1e-12)
        assert float(got.sel(statistic="std")) == pytest.approx(sample.std(ddof=1), rel=1e-12)
        for s, q in (("p05", 5), ("p50", 50), ("p95", 95)):
            assert float(got.sel(statistic=s)) == pytest.approx(np.percentile(sample, q), rel=1e-12)
        assert float(got.sel(statistic="mcse")) == pytest.approx(sample.std(ddof=1) / np.sqrt(len(sample)), rel=1e-12)
        assert float(got.sel(statistic="n_draws")) == len(sample)


def test_a_failed_draw_is_excluded_and_counted(mc):
    m = A.income_multiplier(mc)
    assert np.isnan(float(m.sel(variant="springs", draw=3)))  # the failed solve
    assert np.isfinite(m.sel(variant="cgp", draw=3))  # other variants' draw 3 converged
    b = A.bands(m)
    assert b.sel(variant="springs", statistic="n_draws") == 79
    assert b.sel(variant="cgp", statistic="n_draws") == 80
    assert float(abs(b).max()) < 100  # the failed draw's absurd values (1e12) are nowhere
    assert int(A.n_failed(mc).sel(variant="springs")) == 1 and int(A.n_failed(mc).sum()) == 1
    # the same from the raw variable through `status`
    raw = mc["income"].sel(state="simulated").sum("household")
    assert float(raw.sel(variant="springs", draw=3)) > FAILED_VALUE
    masked = A.bands(raw, status=mc["status"])
    assert masked.sel(variant="springs", statistic="n_draws") == 79
    assert float(masked.sel(variant="springs", statistic="p95")) < FAILED_VALUE
    # every variable of converged_only is NaN there, and only there
    co = A.converged_only(mc)
    assert bool(co["production"].sel(variant="springs", draw=3).isnull().all())
    assert int(co["income"].isnull().sum()) == mc.sizes["state"] * mc.sizes["household"]


def test_without_draws_bands_are_the_point_values(det):
    m = A.income_multiplier(det)
    b = A.bands(m)
    np.testing.assert_array_equal(b.sel(statistic="point").values, m.sel(draw=0).values)
    assert bool(b.sel(statistic=["mean", "std", "p05", "p50", "p95", "mcse"]).isnull().all())
    assert bool((b.sel(statistic="n_draws") == 0).all())
    assert not A.has_draws(det)
    # draw 0 of a Monte Carlo run is the run of the point estimates
    np.testing.assert_allclose(A.income_multiplier(lesotho_draws()).sel(draw=0).values, m.sel(draw=0).values,
                               rtol=1e-9)


def test_running_mean_ends_at_the_mean(mc):
    m = A.income_multiplier(mc)
    rm = A.running_mean(m)
    assert rm.sizes["draw"] == 80
    np.testing.assert_allclose(rm.isel(draw=-1).values, A.bands(m).sel(statistic="mean").values, rtol=1e-12)
    first = m.sel(variant="cgp", draw=1)
    assert float(rm.sel(variant="cgp").isel(draw=0)) == pytest.approx(float(first))


def test_functions_keep_sweep_dims():
    sw = lesotho_sweep()
    for da in (A.income_multiplier(sw), A.income_multiplier(sw, by="group", real=True), A.value_added_multiplier(sw),
               A.price_change(sw), A.theil(sw), A.synergy(sw, by="total")):
        assert "labour_supply_elasticity" in da.dims and "draw" in da.dims
    b = A.bands(A.income_multiplier(sw))
    assert set(b.dims) == {"statistic", "labour_supply_elasticity", "variant"}
    assert bool((b.sel(statistic="n_draws") == 10).all())
    one, hundred = (float(b.sel(labour_supply_elasticity=e, variant="springs", statistic="point")) for e in (1.0, 100.0))
    assert one != pytest.approx(hundred, rel=1e-3)  # labour supply matters for the spillovers
    np.testing.assert_allclose(b.sel(labour_supply_elasticity=100.0, statistic="p95").values,
                               A.income_multiplier(sw.sel(labour_supply_elasticity=100.0)).isel(draw=slice(1, None))
                               .quantile(0.95, "draw").values, rtol=1e-12)


# ------------------------------------------------------------------------------------------------
# multipliers, prices, CPI
# ------------------------------------------------------------------------------------------------
def test_groups_are_named_direct_and_spillover_and_add_up_draw_by_draw(mc):
    g = A.income_multiplier(mc, by="group")
    assert list(g["group"].values) == ["beneficiaries", "non_beneficiaries"]
    assert list(g["effect"].values) == ["direct + indirect", "spillover"]
    np.testing.assert_allclose(g.sum("group", skipna=False).values, A.income_multiplier(mc).values, rtol=1e-12)
    assert bool(g.sel(variant="springs", draw=3).isnull().all())  # failed: NaN, not 0


def test_price_wage_and_cpi_changes_are_percent_changes_in_local_markets(det):
    p = A.price_change(det)
    assert list(p["good"].values) == ["vegetables", "retail", "services"]  # world-priced goods left out
    base, sim = det["price"].sel(state="base"), det["price"].sel(state="simulated")
    np.testing.assert_allclose(p.values, (100 * (sim / base - 1)).sel(good=p["good"]).values, rtol=1e-10)
    assert A.price_change(det, local=False).sizes["good"] == det.sizes["good"]
    w = A.wage_change(det)
    assert list(w["factor"].values) == ["labor"]  # fixed factors and world-priced inputs left out
    c = A.cpi_change(det)
    cb, cs = det["cpi"].sel(state="base"), det["cpi"].sel(state="simulated")
    np.testing.assert_allclose(c.values, (100 * (cs / cb - 1)).values, rtol=1e-10, atol=1e-12)
    assert c.attrs["units"] == "%" and p.attrs["units"] == "%"


# ------------------------------------------------------------------------------------------------
# Theil
# ------------------------------------------------------------------------------------------------
def _toy(incomes_base, incomes_sim, counts=None):
    h = [f"h{i}" for i in range(len(incomes_base))]
    ds = xr.Dataset({"real_income": (("state", "household"), np.array([incomes_base, incomes_sim], dtype=float)),
                     "income": (("state", "household"), np.array([incomes_base, incomes_sim], dtype=float))},
                    coords={"state": ["base", "simulated"], "household": h})
    if counts is not None:
        ds["household_count"] = ("household", np.array(counts, dtype=float))
    return ds


def test_theil_by_hand():
    # two groups: 10 households earning 100 in total, 30 households earning 300 in total -> equal per head
    assert float(A.theil(_toy([100, 300], [100, 300], counts=[10, 30])).sel(state="base")) == pytest.approx(0, abs=1e-15)
    # by hand: s = (0.25, 0.75), p = (0.5, 0.5) without counts: T = 0.25 ln 0.5 + 0.75 ln 1.5
    t = A.theil(_toy([100, 300], [200, 200]))
    assert float(t.sel(state="base")) == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5), rel=1e-14)
    assert float(t.sel(state="simulated")) == pytest.approx(0.0, abs=1e-15)
    assert float(A.inequality_change(_toy([100, 300], [200, 200]))) == pytest.approx(
        -(0.25 * np.log(0.5) + 0.75 * np.log(1.5)), rel=1e-14)
    # with counts: p = (0.2, 0.8); per-head incomes 100/20 = 5 and 300/80 = 3.75
    t = A.theil(_toy([100, 300], [100, 300], counts=[20, 80])).sel(state="base")
    y, n = np.array([100.0, 300.0]), np.array([20.0, 80.0])
    mu = y.sum() / n.sum()
    by_person = np.sum(n / n.sum() * (y / n / mu) * np.log(y / n / mu))
    assert float(t) == pytest.approx(by_person, rel=1e-14)
    assert float(t) == pytest.approx(0.25 * np.log(0.25 / 0.2) + 0.75 * np.log(0.75 / 0.8), rel=1e-14)
    # a group with no income adds nothing (s ln s -> 0): T = ln 2 for (0, x)
    assert float(A.theil(_toy([0, 50], [0, 50])).sel(state="base")) == pytest.approx(np.log(2), rel=1e-14)


def test_theil_of_a_run_and_its_change(det):
    det = det.sel(draw=0)
    t = A.theil(det)
    y = det["real_income"].sel(variant="cgp", state="simulated").values
    s = y / y.sum()
    assert float(t.sel(variant="cgp", state="simulated")) == pytest.approx(np.sum(s * np.log(s * len(y))), rel=1e-12)
    # a transfer to the poorest group (cgp_eligible) lowers inequality
    assert float(A.inequality_change(det).sel(variant="cgp")) < 0
    weighted = A.theil(det.assign(household_count=("household", [2299.0, 6900.0, 400.0])))
    assert float(weighted.sel(variant="cgp", state="base")) != pytest.approx(float(t.sel(variant="cgp", state="base")))


# ------------------------------------------------------------------------------------------------
# variance decomposition
# ------------------------------------------------------------------------------------------------
def _synthetic(n=2000, seed=1):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, n)
    b = rng.normal(5.0, 1.0, n)
    c = np.full(n, 0.3)  # drawn, but constant: explains nothing
    noise = rng.normal(0.0, 0.05, n)
    entries = ["a|x|||", "b|y|||", "c||||h"]
    ds = xr.Dataset({"parameter_value": (("draw", "entry"), np.column_stack([a, b, c]))},
                    coords={"draw": np.arange(n), "entry": entries,
                            "entry_parameter": ("entry", ["a", "b", "c"])})
    return ds, a, b, noise


def test_variance_decomposition_recovers_a_known_linear_case():
    ds, a, b, noise = _synthetic()
    y = xr.DataArray(2 * a + 0.1 * b + noise, dims="draw", coords={"draw": ds["draw"]})
    vd = A.variance_decomposition(ds, y, bins=0)
    sd_y = np.sqrt(4 + 0.01 + 0.05 ** 2)
    src = vd["src"].values
    assert src[0] == pytest.approx(2 / sd_y, abs=0.01)  # ≈ 0.998
    assert src[1] == pytest.approx(0.1 / sd_y, abs=0.01)  # ≈ 0.050
    assert src[2] == 0.0 and vd["share"].values[2] == 0.0
    assert float(vd["r_squared"]) == pytest.approx(1 - 0.05 ** 2 / sd_y ** 2, abs=2e-4)
    assert vd["share"].values[0] > 0.99 and vd["share"].values.sum() == pytest.approx(1.0)
    # SRC equal ordinary least squares of the standardised variables on the same draws
    X = np.column_stack([a, b])
    Z = (X - X.mean(0)) / X.std(0)
    yy = 2 * a + 0.1 * b + noise
    beta = np.linalg.lstsq(Z, (yy - yy.mean()) / yy.std(), rcond=None)[0]
    np.testing.assert_allclose(src[:2], beta, rtol=1e-10)
    # the binned first-order index sees the same ranking
    fo = vd["first_order"].values
    assert fo[0] > 0.95 and fo[1] < 0.05 and fo[2] == 0.0
    assert list(vd["entry_parameter"].values) == ["a", "b", "c"]
    assert int(vd["n_draws"]) == 2000


def test_variance_decomposition_per_variant_and_nonlinear():
    ds, a, b, noise = _synthetic()
    y = xr.DataArray(np.stack([2 * a + 0.1 * b, 0.1 * a + 2 * b, a ** 2]), dims=("variant", "draw"),
                     coords={"variant": ["x", "y", "square"], "draw": ds["draw"]})
    vd = A.variance_decomposition(ds, y)
    top = vd["share"].idxmax("entry")
    assert str(top.sel(variant="x").item()) == "a|x|||" and str(top.sel(variant="y").item()) == "b|y|||"
    # y = a² with a symmetric around 0: no linear signal, but a first-order effect of a
    sq = vd.sel(variant="square")
    assert float(sq["r_squared"]) < 0.05
    assert float(sq["first_order"].sel(entry="a|x|||")) > 0.8
    assert float(sq["first_order"].sel(entry="b|y|||")) < 0.05


def test_variance_decomposition_skips_failed_draws_and_needs_parameters(mc, det):
    vd = A.variance_decomposition(mc, A.income_multiplier(mc))
    n = mc.sizes["draw"]
    assert int(vd["n_draws"].sel(variant="springs")) == n - 1 and int(vd["n_draws"].sel(variant="cgp")) == n
    np.testing.assert_allclose(vd["share"].sum("entry").values, 1.0, rtol=1e-12)
    assert bool(((vd["r_squared"] >= 0) & (vd["r_squared"] <= 1)).all())
    assert vd["src"].dims == ("variant", "entry") and "entry_parameter" in vd.coords
    top = str(vd["share"].idxmax("entry").sel(variant="cgp").item())
    assert float(mc["parameter_value"].sel(entry=top).std()) > 0  # the top parameter is one that was drawn
    with pytest.raises(ValueError, match="parameter_value"):
        A.variance_decomposition(det.drop_vars("parameter_value"), A.income_multiplier(det))
    point_only = A.variance_decomposition(det, A.income_multiplier(det))  # draw 0 only: nothing to explain
    assert bool(point_only["src"].isnull().all()) and bool((point_only["n_draws"] == 1).all())
    few = mc.isel(draw=slice(0, 3))  # 3 draws, 3 parameters: not identified
    vd = A.variance_decomposition(few, A.income_multiplier(few))
    assert bool(vd["src"].isnull().all()) and bool(vd["r_squared"].isnull().all())


# ------------------------------------------------------------------------------------------------
# synergy draw by draw
# ------------------------------------------------------------------------------------------------
def test_synergy_band_is_computed_draw_by_draw(mc):
    syn = A.synergy(mc, by="total")
    assert list(syn["variant"].values) == ["cgp+springs"] and "draw" in syn.dims
    inc = mc["income"]
    d = (inc.sel(state="simulated") - inc.sel(state="base")).sum("household").values  # (variant, draw)
    v = list(mc["variant"].values)
    by_hand = d[v.index("cgp+springs")] - d[v.index("cgp")] - d[v.index("springs")]
    ok = (mc["status"].values == "converged").all(axis=0)
    by_hand = np.where(ok, by_hand, np.nan)
    np.testing.assert_allclose(syn.sel(variant="cgp+springs").values, by_hand, rtol=1e-9, atol=1e-6)
    assert np.isnan(by_hand[3])  # springs failed in draw 3, so the synergy is unknown there
    band = A.bands(syn).sel(variant="cgp+springs")
    sample = by_hand[1:][np.isfinite(by_hand[1:])]
    assert float(band.sel(statistic="p95")) == pytest.approx(np.percentile(sample, 95), rel=1e-9)
    assert float(band.sel(statistic="n_draws")) == 79
    # not the difference of the bands
    mb = A.bands(A.income_change(mc))
    diff = (mb.sel(variant="cgp+springs", statistic="p95") - mb.sel(variant="cgp", statistic="p95")
            - mb.sel(variant="springs", statistic="p95"))
    assert not np.isclose(float(diff), float(band.sel(statistic="p95")), rtol=1e-3)
    sm = A.synergy_multiplier(mc)
    np.testing.assert_allclose(sm.values, syn.values / float(mc["cost"].sel(variant="cgp+springs")), rtol=1e-12)
