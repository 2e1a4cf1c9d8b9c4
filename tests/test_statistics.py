"""`lewie.summarize`: statistics over converged random draws, checked against numpy directly."""
from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import lewie
from lewie.results.statistics import STATISTICS, describe


def _fake(n_draws=41, seed=0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    draws = np.arange(n_draws)
    x = rng.normal(2.0, 0.3, size=(2, n_draws, 3))
    status = np.full((2, n_draws), "converged", dtype=object)
    if n_draws > 9:
        status[0, [4, 9]] = "failed: diverged"
        status[1, 9] = "failed: base check"
    x[status == "failed: diverged"] = np.nan  # as the results hold failed solves
    ds = xr.Dataset({"income": (("variant", "draw", "household"), x),
                     "status": (("variant", "draw"), status.astype(str)),
                     "parameter_value": (("draw", "entry"), rng.uniform(size=(n_draws, 2)))},
                    coords={"variant": ["a", "b"], "draw": draws, "household": ["h1", "h2", "h3"],
                            "entry": ["savings_rate||||h1", "savings_rate||||h2"]})
    return ds


def _numpy(x):
    """The statistics of a 1-D sample, straight from numpy."""
    x = x[~np.isnan(x)]
    n = x.size
    return {"mean": x.mean(), "std": x.std(ddof=1), "p05": np.percentile(x, 5), "p50": np.percentile(x, 50),
            "p95": np.percentile(x, 95), "mcse": x.std(ddof=1) / np.sqrt(n)}, n


def test_summary_matches_numpy_over_converged_random_draws():
    ds = _fake()
    out = lewie.summarize(ds)
    assert list(out["statistic"].values) == list(STATISTICS)
    assert set(out.data_vars) == {"income", "parameter_value", "n_draws"}
    ok = ds["status"].values == "converged"
    for v, name in enumerate(["a", "b"]):
        for h in range(3):
            sample = ds["income"].values[v, 1:, h][ok[v, 1:]]  # draws 1..N that converged
            want, n = _numpy(sample)
            got = out["income"].sel(variant=name).isel(household=h)
            for stat, value in want.items():
                assert float(got.sel(statistic=stat)) == pytest.approx(value, rel=1e-13, abs=1e-15), (name, h, stat)
        assert int(out["n_draws"].sel(variant=name)) == int(ok[v, 1:].sum())
    assert out.attrs["excluded_solves"] == 3 and out.attrs["excluded_draws"] == 2
    assert "draw 0" in out.attrs["statistics_over"]
    # a variable without the variant dim uses a draw only if every variant converged
    keep = ok[:, 1:].all(axis=0)
    want, _ = _numpy(ds["parameter_value"].values[1:, 0][keep])
    assert float(out["parameter_value"].isel(entry=0).sel(statistic="p95")) == pytest.approx(want["p95"], rel=1e-13)


def test_a_derived_quantity_and_the_point_estimate_option():
    ds = _fake()
    total = ds["income"].sum("household", skipna=False)
    out = lewie.summarize(ds, total.rename("total"))
    ok = ds["status"].values == "converged"
    want, _ = _numpy(total.values[1, 1:][ok[1, 1:]])
    assert float(out["total"].sel(variant="b", statistic="mean")) == pytest.approx(want["mean"], rel=1e-13)
    with_point = lewie.summarize(ds, "income", include_point_estimate=True)
    want, n = _numpy(ds["income"].values[1, :, 0][ok[1]])
    assert float(with_point["income"].sel(variant="b", household="h1", statistic="std")) == pytest.approx(want["std"])
    assert int(with_point["n_draws"].sel(variant="b")) == n


def test_only_the_point_estimate():
    ds = _fake(n_draws=1)
    out = lewie.summarize(ds, "income")
    assert float(out["income"].sel(variant="a", household="h1", statistic="mean")) == float(ds["income"][0, 0, 0])
    assert np.isnan(float(out["income"].sel(variant="a", household="h1", statistic="std")))


def test_describe_is_numpy_on_a_plain_array():
    x = xr.DataArray(np.random.default_rng(3).gamma(2.0, size=(4, 500)), dims=("g", "draw"))
    d = describe(x)
    for g in range(4):
        want, _ = _numpy(x.values[g])
        for stat, value in want.items():
            assert float(d.isel(g=g).sel(statistic=stat)) == pytest.approx(value, rel=1e-13)
    with pytest.raises(ValueError, match="no 'draw' dim"):
        describe(x.isel(draw=0))
