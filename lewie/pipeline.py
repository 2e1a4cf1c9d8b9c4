"""The stages of a run, explicit and guarded: load → validate → calibrate (with the base check) →
build → solve → report. `run` chains them; `Simulation` lets a caller stop at any stage.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import xarray as xr

from . import __version__
from .calibrate import Calibration, calibrate
from .errors import CalibrationError, SolveError, StageError
from .interventions import beneficiaries, intervention_cost, shocked_parameters
from .model import build_model
from .results import snapshot, to_dataset
from .scenario import Scenario, load_scenario
from .social_accounts import net_flows, sam_from_model
from .structure import Structure, build_structure
from .verify import format_residuals, residual_table, verify

log = logging.getLogger("lewie")

BASE_TOL = 1e-9  # relative residual of every equation at the calibrated base
SOLUTION_TOL = 1e-8  # relative residual of every equation at a verified solution

_ORDER = ("new", "loaded", "validated", "calibrated", "built", "solved")


def check_base(model: pyo.Block, sam: pd.DataFrame, structure: Structure, *, tol: float = BASE_TOL,
               file=None) -> None:
    """The calibrated base must satisfy every equation and rebuild the input SAM exactly."""
    table = residual_table(model)
    worst = float(table["relative"].iloc[0]) if len(table) else 0.0
    if not worst <= tol:
        raise CalibrationError(f"{file or 'SAM'}: the calibrated base does not satisfy the model (worst "
                               f"relative residual {worst:.3g} > {tol:g}):\n" + format_residuals(table))
    rebuilt = net_flows(sam_from_model(model, structure)).reindex(index=sam.index, columns=sam.columns)
    scale = max(1.0, float(np.abs(sam.to_numpy()).max()))
    gap = (rebuilt.fillna(0.0) - sam).abs()
    if float(gap.to_numpy().max()) > tol * scale:
        cells = gap.stack().sort_values(ascending=False).head(5)
        listing = "; ".join(f"({r}, {c}): SAM {sam.at[r, c]:g}, model {rebuilt.at[r, c]:g}"
                            for (r, c), _ in cells.items())
        raise CalibrationError(f"{file or 'SAM'}: the SAM rebuilt from the calibrated base differs from the "
                               f"input: {listing}")


class Simulation:
    """One scenario taken through the stages; each stage checks that the one before it has run."""

    def __init__(self, scenario: Scenario | str | Path, *, solver: str = "newton"):
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.solver = solver
        self.stage = "new"
        self.sam: pd.DataFrame | None = None
        self.structure: Structure | None = None
        self.calibration: Calibration | None = None
        self.model: pyo.ConcreteModel | None = None
        self.states: dict[str, dict] = {}
        self.solve_info: dict = {}

    def _require(self, stage: str, doing: str) -> None:
        if _ORDER.index(self.stage) < _ORDER.index(stage):
            raise StageError(f"cannot {doing} before the '{stage}' stage (now at '{self.stage}')")

    def load(self) -> "Simulation":
        from lewie.sam.io import read_sam
        self.sam = read_sam(self.scenario.sam)
        self.stage = "loaded"
        return self

    def validate(self) -> "Simulation":
        self._require("loaded", "validate")
        from lewie.sam import check_sam
        check_sam(self.sam, file=self.scenario.sam).raise_if_errors(self.scenario.sam)
        self.structure = build_structure(self.sam, self.scenario, sam_file=self.scenario.sam)
        self.stage = "validated"
        return self

    def calibrate(self) -> "Simulation":
        self._require("validated", "calibrate")
        self.calibration = calibrate(self.sam, self.structure)
        self.stage = "calibrated"
        return self

    def build(self) -> "Simulation":
        self._require("calibrated", "build the model")
        if self.model is not None:
            raise StageError("the model is already built")
        self.model = build_model(self.calibration)
        check_base(self.model, self.sam, self.structure, file=self.scenario.sam)
        self.states["base"] = snapshot(self.model, self.structure)
        self.stage = "built"
        return self

    def solve(self) -> "Simulation":
        self._require("built", "solve")
        from lewie.solvers import get_backend
        backend = get_backend(self.solver)
        changes = shocked_parameters(self.scenario.interventions, self.calibration, file=self.scenario.source)
        for name, values in changes.items():
            comp = self.model.find_component(name)
            for k, v in values.items():
                comp[k] = v
        result = backend.solve(self.model)
        self.solve_info = {"solver": backend.name, "solver_status": result.status.value,
                           "solver_iterations": int(result.iterations), "solver_message": result.message}
        if not result.status.ok:
            table = residual_table(self.model)
            raise SolveError(f"{self.scenario.source or self.scenario.name}: solver '{backend.name}' did not "
                             f"converge ({result.status.value}: {result.message}); worst equations:\n"
                             + format_residuals(table), report=table)
        table = verify(self.model, tol=SOLUTION_TOL, what=f"the {backend.name} solution")
        self.solve_info["max_relative_residual"] = float(table["relative"].iloc[0]) if len(table) else 0.0
        self.states["simulated"] = snapshot(self.model, self.structure)
        self.stage = "solved"
        return self

    def report(self) -> xr.Dataset:
        self._require("solved", "report results")
        sc = self.scenario
        attrs = {
            "title": sc.name,
            "lewie_version": __version__,
            "scenario": sc.name,
            "scenario_file": str(sc.source) if sc.source else "",
            "scenario_json": sc.model_dump_json(),
            "sam_file": str(sc.sam),
            "sam_sha256": _sha256(sc.sam),
            "intervention_cost": intervention_cost(sc.interventions),
            "beneficiaries": ",".join(beneficiaries(sc.interventions)),
            **self.solve_info,
        }
        return to_dataset(self.structure, self.states, attrs)


def _sha256(path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def run(scenario: Scenario | str | Path, *, solver: str = "newton") -> xr.Dataset:
    """Load, validate, calibrate (checking the base), build, solve and report one scenario."""
    sim = Simulation(scenario, solver=solver)
    return sim.load().validate().calibrate().build().solve().report()
