"""Results shared by the analytics, report and export tests, each built once per test session.

* `lesotho`: the Lesotho scenario's point estimates only (draws = 0): three variants, one combined;
* `lesotho_draws`: the same with 80 real Monte Carlo draws (more than the 57 drawn parameters, so the
  regression of the variance decomposition is identified), in which one solve is then marked failed
  (TEST DATA: `mark_failed` sets its status and fills its values with 1e12, which every statistic must
  leave out);
* `lesotho_sweep`: Lesotho with a labour-supply-elasticity sweep and 10 draws.

The Datasets are shared: a test must not modify them (copy first).
"""
from __future__ import annotations

import functools

import xarray as xr

FAILED_VALUE = 1e12
FAILED = ("springs", 3)


def mark_failed(ds: xr.Dataset, variant: str, draw: int) -> xr.Dataset:
    """A copy of ``ds`` in which the solve (variant, draw) failed: status "failed: ..." and absurd
    values (TEST DATA)."""
    out = ds.copy(deep=True)
    out["status"].loc[{"variant": variant, "draw": draw}] = "failed: did not converge (test data)"
    for name in out.data_vars:
        da = out[name]
        if "state" in da.dims and "draw" in da.dims and da.dtype.kind == "f":
            da.loc[{"variant": variant, "draw": draw}] = FAILED_VALUE
    return out


@functools.cache
def lesotho() -> xr.Dataset:
    import lewie
    from .conftest import REPO
    return lewie.run(REPO / "scenarios" / "lesotho_cgp_springs.toml", draws=0)


@functools.cache
def lesotho_draws() -> xr.Dataset:
    import lewie
    from .conftest import REPO
    ds = lewie.run(REPO / "scenarios" / "lesotho_cgp_springs.toml", draws=80, seed=11)
    assert bool((ds["status"] == "converged").all()), "the Lesotho draws should all converge"
    return mark_failed(ds, *FAILED)


@functools.cache
def lesotho_sweep() -> xr.Dataset:
    """Lesotho with a labour-supply-elasticity sweep (1 and 100) and 10 draws."""
    import tomllib

    import lewie
    from lewie.config.scenario import scenario_from_dict
    from .conftest import REPO
    path = REPO / "scenarios" / "lesotho_cgp_springs.toml"
    data = tomllib.loads(path.read_text())
    data["labour_supply"] = {"elasticity": [1.0, 100.0]}
    data["montecarlo"] = {"draws": 10, "seed": 3}
    return lewie.run(scenario_from_dict(data, base=path.parent, source=path))


@functools.cache
def report(name: str) -> str:
    """The HTML report of `lesotho` ("point"), `lesotho_draws` ("draws") or `lesotho_sweep` ("sweep")."""
    from lewie.report.html_report import render_report
    return render_report({"point": lesotho, "draws": lesotho_draws, "sweep": lesotho_sweep}[name]())
