"""Whether Monte Carlo results carry any parameter uncertainty, and what to say when they do not.

A Monte Carlo run whose parameter table gives no standard errors (or no table at all) solves every
draw at the point estimates: the draws are identical and a 5th–95th percentile "band" would have zero
width. lewie warns when such a run is made (`lewie.runs.montecarlo.run_draws`), and the text summary, the
report and the paper tables then say `NO_UNCERTAINTY` instead of showing bands.
"""
from __future__ import annotations

import numpy as np
import xarray as xr

NO_UNCERTAINTY = "no parameter uncertainty: bands are not computed"
WHY = ("the parameter table gives no standard errors (or the scenario has no parameter table), so every draw "
       "is the point estimates; add standard errors (docs/parameters.md) to get bands")


def random_draws(ds: xr.Dataset) -> bool:
    """The results have Monte Carlo draws besides draw 0."""
    return "draw" in ds.dims and bool((ds["draw"] != 0).any())


def parameter_uncertainty(ds: xr.Dataset) -> bool:
    """Some random draw differs from the point estimates (draw 0) in a drawn parameter (or, for results
    without ``parameter_value``, in nominal income). False without random draws."""
    if not random_draws(ds):
        return False
    da = ds["parameter_value"] if "parameter_value" in ds else ds.get("income")
    if da is None or "draw" not in da.dims:
        return True  # nothing to tell by: assume the draws differ
    if not bool((ds["draw"] == 0).any()):
        first = da.isel(draw=0)
    else:
        first = da.sel(draw=0)
    x = np.asarray(da.values, dtype=float)
    ref = np.asarray(first.broadcast_like(da).transpose(*da.dims).values, dtype=float)
    differ = ~((x == ref) | (np.isnan(x) & np.isnan(ref)) | np.isnan(x))
    return bool(differ.any())


def has_bands(ds: xr.Dataset) -> bool:
    """Bands are shown: there are random draws and they carry parameter uncertainty."""
    return random_draws(ds) and parameter_uncertainty(ds)


__all__ = ["NO_UNCERTAINTY", "WHY", "parameter_uncertainty", "has_bands", "random_draws"]
