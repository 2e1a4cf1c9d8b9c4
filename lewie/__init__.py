"""lewie: local economy-wide impact evaluation (LEWIE) in Python.

    import lewie
    ds = lewie.run("scenarios/example_village.toml")
    lewie.analysis.income_multiplier(ds)

The names below are imported on first use (PEP 562), so that ``lewie --help`` or a command that
needs only part of the package does not pay for Pyomo, xarray and SciPy (see `lewie.lazy_imports`).
"""
from __future__ import annotations

import sys

from .version import __version__  # noqa: E402,F401

from lewie.errors import CalibrationError, InputError, LewieError, SAMError, SolveError, StageError  # noqa: E402
from lewie.lazy_imports import defer_scipy_stats, lazy_attribute  # noqa: E402

defer_scipy_stats()
if "xarray" in sys.modules:  # a notebook that already uses xarray gets ds.lewie at once
    from lewie.results import accessor  # noqa: E402,F401

_LAZY = {"analysis": ".results.analysis", "run": ".runs.engine", "Simulation": ".runs.stages",
         "Scenario": ".config.scenario", "load_scenario": ".config.scenario", "summarize": ".results.statistics",
         "testing": ".testing"}


def __getattr__(name: str):
    return lazy_attribute(__name__, _LAZY, name, globals())


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["__version__", "run", "summarize", "load_scenario", "Scenario", "Simulation", "analysis", "LewieError",
           "InputError", "SAMError", "CalibrationError", "SolveError", "StageError"]
