"""lewie: local economy-wide impact evaluation (LEWIE) in Python.

    import lewie
    ds = lewie.run("scenarios/example_village.toml")
    lewie.analysis.income_multiplier(ds)
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import analysis  # noqa: E402
from .errors import CalibrationError, InputError, LewieError, SAMError, SolveError, StageError  # noqa: E402
from .engine import run  # noqa: E402
from .pipeline import Simulation  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402
from .statistics import summarize  # noqa: E402
from . import accessor  # noqa: E402,F401  (registers ds.lewie)

__all__ = ["__version__", "run", "summarize", "load_scenario", "Scenario", "Simulation", "analysis", "LewieError",
           "InputError", "SAMError", "CalibrationError", "SolveError", "StageError"]
