"""``ds.lewie``: lewie's analysis functions as methods of a results Dataset, for notebooks.

Registered when ``lewie`` is imported::

    import lewie
    ds = lewie.run("scenarios/example_village.toml", draws=100)
    ds.lewie.multipliers()                 # income multipliers (nominal; real=True, by="group" ...)
    ds.lewie.bands(ds.lewie.multipliers()) # point estimate and band statistics
    ds.lewie.summarize()                   # `lewie.summarize` of every result variable
    print(ds.lewie.summary())              # the text summary `lewie run` prints
    ds.lewie.sam(state="simulated")        # the SAM of the simulated economy (no re-solve)

Every method calls the module function of the same job (`lewie.analysis`, `lewie.results.statistics`,
`lewie.report.text_summary`, `lewie.results.sam_export`); nothing is computed here.
"""
from __future__ import annotations

import pandas as pd
import xarray as xr


@xr.register_dataset_accessor("lewie")
class LewieAccessor:
    """Analysis of lewie results (see the module docstring)."""

    def __init__(self, ds: xr.Dataset):
        self._ds = ds

    def multipliers(self, *, real: bool = False, by: str = "total") -> xr.DataArray:
        """Income multiplier per variant (and draw): `lewie.analysis.income_multiplier`; ``by``:
        "total", "group" (beneficiaries / non-beneficiaries), "village" or "household"."""
        from lewie.results import analysis as A
        return A.income_multiplier(self._ds, real=real, by=by)

    def bands(self, da: xr.DataArray | None = None) -> xr.DataArray:
        """Point estimate and band statistics over the converged draws (`lewie.analysis.bands`) of
        ``da`` (default: the nominal income multiplier)."""
        from lewie.results import analysis as A
        return A.bands(self.multipliers() if da is None else da)

    def summarize(self, var: str | xr.DataArray | None = None, **kw) -> xr.Dataset:
        """`lewie.summarize` of the results (every variable, one, or a DataArray computed from them)."""
        from lewie.results.statistics import summarize
        return summarize(self._ds, var, **kw)

    def summary(self) -> str:
        """The plain-text summary `lewie run` prints (`lewie.report.text_summary.summary`)."""
        from lewie.report.text_summary import summary
        return summary(self._ds)

    def sam(self, variant=None, state: str = "simulated", draw: int = 0, *, net: bool = True, **at) -> pd.DataFrame:
        """The SAM of a stored state (`lewie.results.sam_export.sam_from_results`); sweep values as keywords."""
        from lewie.results.sam_export import sam_from_results
        return sam_from_results(self._ds, variant=variant, state=state, draw=draw, at=at or None, net=net)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tidy tables `lewie export` writes (`lewie.results.export.tidy_tables`)."""
        from lewie.results.export import tidy_tables
        return tidy_tables(self._ds)


__all__ = ["LewieAccessor"]
