"""The stages of a run, explicit and guarded: load → validate → calibrate (with the base check) →
build → solve. `Simulation` lets a caller stop at any stage; `lewie.runs.engine.run` takes a scenario
through the stages it needs (up to build) and solves every variant of every draw in one path
(`lewie.runs.montecarlo.MonteCarlo`), whose Dataset is the one results layout.
"""
from __future__ import annotations

import copy

import hashlib
import logging
from types import SimpleNamespace
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from lewie.solvers import get_backend

from lewie.version import __version__
from lewie.model.calibration import Calibration, calibrate
from lewie.errors import CalibrationError, InputError, SolveError, StageError, unknown_label
from lewie.model.interventions import Effect, apply, check_labels, resolve_all
from lewie.model.declaration import build_model
from lewie.results.dataset import snapshot
from lewie.config.scenario import Scenario, canonical_labels, load_scenario, with_dashboard
from lewie.config.scenario_errors import scenario_error
from lewie.model.social_accounts import net_flows, sam_from_model
from lewie.model.sets import Structure, build_structure, sam_sets
from lewie.runs.verify import BASE_TOL, SOLUTION_TOL, format_residuals, residual_table, verify

log = logging.getLogger("lewie")

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
    scale = float(np.abs(sam.to_numpy()).max()) or 1.0  # the SAM's own units: no floor of 1
    gap = (rebuilt.fillna(0.0) - sam).abs()
    if float(gap.to_numpy().max()) > tol * scale:
        cells = gap.stack().sort_values(ascending=False).head(5)
        listing = "; ".join(f"({r}, {c}): SAM {sam.at[r, c]:g}, model {rebuilt.at[r, c]:g}"
                            for (r, c), _ in cells.items())
        raise CalibrationError(f"{file or 'SAM'}: the SAM rebuilt from the calibrated base differs from the "
                               f"input: {listing}")


class Simulation:
    """One scenario taken through the stages; each stage checks that the one before it has run.

    Every variant is solved from the calibrated base with one built model: its parameters and
    variables are reset to the base before each variant, so a variant's result does not depend on
    which variants ran before it.
    """

    def __init__(self, scenario: Scenario | str | Path, *, solver: str = "newton"):
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.solver = solver
        self.stage = "new"
        self.sam: pd.DataFrame | None = None
        self.parameters: pd.DataFrame | None = None
        self.household_count: dict[str, float] = {}
        self.structure: Structure | None = None
        self.calibration: Calibration | None = None
        self.model: pyo.ConcreteModel | None = None
        self.effects: list[Effect] = []
        self.shocks: dict[str, dict] = {}  # variant -> parameter -> index -> value
        self.states: dict[str, dict] = {}  # 'base' -> snapshot
        self.solutions: dict[str, dict] = {}  # variant -> snapshot of its solution
        self.solve_info: dict[str, dict] = {}  # variant -> solver outcome
        self.economy_log: list[str] = []  # notes of the workbook calibration (GAMS-compat behaviour ...)
        self.workbook_skipped: list[str] = []  # what gdxxrw/$load semantics dropped from the workbook
        self.no_cost_variants: set[str] = set()  # a GAMS dashboard's sims that transfer nothing
        self.workbook_names: list[str] = []  # which workbook variables were read, missing, unused

    def _require(self, stage: str, doing: str) -> None:
        if _ORDER.index(self.stage) < _ORDER.index(stage):
            raise StageError(f"cannot {doing} before the '{stage}' stage (now at '{self.stage}')")

    def load(self) -> "Simulation":
        """Read the economy: a SAM (with an optional parameter table) or a GAMS LEWIE workbook,
        calibrated as the GAMS code does (`lewie.sam.workbook_calibration.calibrate_workbook`); then the shocks of
        a simulation dashboard, if the scenario names one, become variants."""
        from lewie.sam.io import read_sam
        sc = self.scenario
        if sc.workbook is not None:
            self._load_workbook()
        else:
            self.sam = read_sam(sc.sam)
            if sc.parameters is not None:
                from lewie.sam.workbook import read_parameters
                self.parameters = read_parameters(sc.parameters)
            if sc.dashboard is not None:
                from lewie.sam.dashboard import has_index
                if has_index(sc.dashboard.file, sc.dashboard.index):
                    self.scenario = _gams_dashboard(self.scenario, sc.dashboard.file, None)
                    self.no_cost_variants = _transfer_nothing(self.scenario, sc)
                else:
                    from lewie.sam.workbook import read_dashboard
                    rows = read_dashboard(sc.dashboard.file, sc.dashboard.sheet)
                    self.scenario = with_dashboard(self.scenario, rows, file=sc.dashboard.file)
        self.stage = "loaded"
        return self

    @property
    def economy_file(self) -> Path | None:
        """The file the economy comes from: the SAM or the workbook."""
        return self.scenario.sam if self.scenario.sam is not None else self.scenario.workbook

    def _load_workbook(self) -> None:
        from lewie.sam.workbook import read_dashboard, read_workbook
        from lewie.sam.workbook_calibration import calibrate_workbook
        sc = self.scenario
        from lewie.sam.workbook_names import resolve_names
        from lewie.sam.workbook_sheets import SheetsFile
        book = SheetsFile(sc.workbook)  # read once, for the workbook and a dashboard sheet in it
        wb = read_workbook(sc.workbook, index=sc.workbook_index, book=book)
        wb, names = resolve_names(wb, sc.workbook_names, file=sc.source)
        self.workbook_skipped, self.workbook_names = list(wb.skipped), names.lines()
        self.workbook_accounts = list(wb.accounts)
        for line in wb.skipped + names.lines():
            (log.warning if line.startswith("warning") or "dropped" in line else log.info)("%s: %s", sc.workbook, line)
        sc, notes = canonical_labels(sc, households=wb.households, goods=wb.goods, factors=wb.factors)
        tradable = [x for level in ("village", "zone", "world") for x in getattr(sc.markets, level)]
        for i, f in enumerate(sc.purchased_inputs):
            if f not in wb.factors:
                raise scenario_error(unknown_label("factor", f, wb.factors), file=sc.source,
                                     field=f"purchased_inputs[{i}]", label=f)
            if f not in tradable:
                raise scenario_error(f"purchased input '{f}' is bought at a market: list it under [markets] "
                                     "(usually world)", file=sc.source, field=f"purchased_inputs[{i}]", label=f)
        labour = [f for f in wb.factors if f in tradable and f not in sc.purchased_inputs]
        fixed = [f for f in wb.factors if f not in tradable]
        econ = calibrate_workbook(wb, villages=sc.villages, fixed_factors=fixed, labour_factors=labour,
                                  input_factors=list(sc.purchased_inputs), gams_compat=sc.gams_compat,
                                  seed=sc.montecarlo.seed)
        self.sam, self.parameters = econ.sam, econ.parameters
        self.economy_log = [f"scenario labels: {n}" for n in notes] + list(econ.log)
        for line in self.economy_log:  # with gams_compat, what the GAMS code would do matters: warn
            (log.warning if sc.gams_compat else log.info)("%s: %s", sc.workbook, line)
        if sc.dashboard is not None:
            from lewie.sam.dashboard import has_index
            file = sc.dashboard.file or sc.workbook
            if sc.dashboard.file is not None and has_index(file, sc.dashboard.index):
                before, sc = sc, _gams_dashboard(sc, file, wb)
                self.no_cost_variants = _transfer_nothing(sc, before)
            else:
                same = Path(file) == Path(sc.workbook)
                rows = read_dashboard(file, sc.dashboard.sheet, workbook=wb, book=book if same else None)
                sc = with_dashboard(sc, rows, file=file)
        book.close()
        self.scenario = sc

    def validate(self) -> "Simulation":
        self._require("loaded", "validate")
        from lewie.sam import check_sam
        sc = self.scenario
        check_sam(self.sam, file=self.economy_file).raise_if_errors(self.economy_file)
        check_labels(sc.interventions, SimpleNamespace(**sam_sets(self.sam)), file=sc.source,
                     names=sc.intervention_names())
        self.structure = build_structure(self.sam, sc, sam_file=self.economy_file)
        self.household_count = _household_counts(self.parameters, self.structure, sc.parameters)
        self.stage = "validated"
        return self

    def calibrate(self) -> "Simulation":
        """Calibrate, then resolve every intervention and variant against the economy (so a bad
        intervention is reported before anything is solved)."""
        self._require("validated", "calibrate")
        sc = self.scenario
        self.calibration = calibrate(self.sam, self.structure)
        self.effects = resolve_all(sc.interventions, self.calibration, household_count=self.household_count,
                                   file=sc.source, names=sc.intervention_names(), gams_compat=sc.gams_compat)
        self.shocks = {v: apply([self.effects[i] for i in idx], self.calibration, file=sc.source,
                                where=f"variants.{v}" if sc.variants is not None else "interventions")
                       for v, idx in sc.variant_map().items()}
        _check_costs(sc, self.effects, allowed=self.no_cost_variants)
        self.stage = "calibrated"
        return self

    def copy(self) -> "Simulation":
        """A copy sharing what was read and calibrated (never changed once made), with its own model,
        solutions and records: a calibrated simulation sent to several builds (a batch's chunks)."""
        other = copy.copy(self)
        other.states, other.solutions, other.solve_info = {}, {}, {}
        return other

    def build(self) -> "Simulation":
        self._require("calibrated", "build the model")
        if self.model is not None:
            raise StageError("the model is already built")
        self.model = build_model(self.calibration)
        check_base(self.model, self.sam, self.structure, file=self.economy_file)
        self.states["base"] = snapshot(self.model, self.structure)
        self.stage = "built"
        return self

    def reset(self) -> None:
        """Put the model back at the calibrated base: parameters any variant changes, and every variable."""
        m, cal = self.model, self.calibration
        for name in {n for shock in self.shocks.values() for n in shock}:
            comp = m.find_component(name)
            for k in {k for shock in self.shocks.values() for k in shock.get(name, {})}:
                comp[k] = cal.params[name][k]
        for name, values in cal.levels.items():
            comp = m.find_component(name)
            for k, v in values.items():
                comp[k].set_value(v)

    def solve(self, variants: list[str] | None = None) -> "Simulation":
        """Solve each variant (default: all, in file order) from the base and verify its solution."""
        self._require("built", "solve")
        backend = get_backend(self.solver)
        names = list(self.shocks) if variants is None else variants
        for v in names:
            if v not in self.shocks:
                raise InputError(unknown_label("variant", v, self.shocks))
        where = self.scenario.source or self.scenario.name
        for v in names:
            self.reset()
            for name, values in self.shocks[v].items():
                comp = self.model.find_component(name)
                for k, val in values.items():
                    comp[k] = val
            result = backend.solve(self.model)
            info = {"solver": backend.name, "status": result.status.value,
                    "iterations": int(result.iterations), "message": result.message}
            if not result.status.ok:
                table = residual_table(self.model)
                raise SolveError(f"{where}: variant '{v}': solver '{backend.name}' did not converge "
                                 f"({result.status.value}: {result.message}); worst equations:\n"
                                 + format_residuals(table), report=table)
            table = verify(self.model, tol=SOLUTION_TOL, what=f"variant '{v}': the {backend.name} solution")
            info["max_relative_residual"] = float(table["relative"].iloc[0]) if len(table) else 0.0
            self.solutions[v] = snapshot(self.model, self.structure)
            self.solve_info[v] = info
        self.stage = "solved"
        return self


def _gams_dashboard(sc: Scenario, file, workbook):
    """The scenario with the shocks of a GAMS dashboard read through its own index sheet."""
    from lewie.sam.dashboard import read_gams_dashboard
    from lewie.results.gams import with_gams_dashboard
    shocks, sims, notes = read_gams_dashboard(file, index=sc.dashboard.index, workbook=workbook)
    for line in notes:
        log.info("%s: %s", file, line)
    return with_gams_dashboard(sc, shocks, sims, file=file)


def _transfer_nothing(sc: Scenario, before: Scenario) -> set[str]:
    """The GAMS dashboard's sims (variants added to the scenario ``before``) whose shocks transfer
    nothing (world prices, productivity) and have no cost: GAMS reports their changes, and so does
    lewie; their multipliers are undefined (NaN)."""
    items, old = sc.interventions, before.variant_map()
    return {v for v, idx in sc.variant_map().items()
            if v not in old and idx and all(items[i].kind in ("price", "productivity") and items[i].cost == 0
                                               for i in idx)}


def _check_costs(sc: Scenario, effects: list[Effect], allowed: set[str] = frozenset()) -> None:
    """Every variant's total cost (the multipliers' denominator) is a positive, finite number, but
    for the ``allowed`` variants (a GAMS dashboard's sims that transfer nothing: no multipliers)."""
    import math
    names = sc.intervention_names()
    for v, idx in sc.variant_map().items():
        if not idx:
            continue
        if v in allowed and sum(effects[i].cost for i in idx) == 0:
            log.info("%s: sim '%s' transfers nothing (cost 0): its changes are reported, its multipliers are "
                     "not defined", sc.source or sc.name, v)
            continue
        total = sum(effects[i].cost for i in idx)
        if not (math.isfinite(total) and total > 0):
            listing = ", ".join(f"'{names[i]}' {effects[i].cost:g}" for i in idx)
            field = f"variants.{v}" if sc.variants is not None else f"interventions[{idx[0]}].cost"
            raise scenario_error(f"variant '{v}' costs {total:g} ({listing}): the multipliers divide by the "
                                 "cost, so it must be positive; give a 'cost' to an intervention that transfers "
                                 "nothing", file=sc.source, field=field, label=v)


def base_attrs(sim: Simulation) -> dict:
    """Attributes every results Dataset carries (plain strings and numbers): the scenario, the economy
    and how it was calibrated, and the Monte Carlo settings."""
    sc = sim.scenario
    econ = sim.economy_file
    mc = sc.montecarlo
    method = "dirichlet" if mc.distribution == "dirichlet" else ("gams-compat" if sc.gams_compat else "gams")
    from lewie.results.provenance import portable_path, scenario_base, scenario_json, sha256
    base = scenario_base(sc)  # file paths relative to the scenario's folder: no machine paths in results
    return {
        "title": sc.name,
        "lewie_version": __version__,
        "scenario": sc.name,
        "currency": sc.currency,
        "year": int(sc.year) if sc.year is not None else 0,
        "scenario_file": Path(sc.source).name if sc.source else "",
        "scenario_sha256": sha256(sc.source),
        "scenario_json": scenario_json(sc),
        "economy": "workbook" if sc.workbook is not None else "sam",
        "sam_file": portable_path(econ, base),
        "sam_sha256": _sha256(econ),
        "parameters_file": portable_path(sc.parameters, base),
        "parameters_sha256": sha256(sc.parameters),
        "gams_compat": int(sc.gams_compat),
        "calibration_log": "\n".join(sim.economy_log),
        "workbook_skipped": "\n".join(getattr(sim, "workbook_skipped", [])),
        "workbook_variables": "\n".join(getattr(sim, "workbook_names", [])),
        "workbook_accounts": ",".join(getattr(sim, "workbook_accounts", [])),
        "seed": int(mc.seed),
        "draws": int(mc.draws),
        "draw_method": method,
        "distribution": mc.distribution,
        "draws_file": "",
        "draws_file_sha256": "",
        "draws_log": "",
        "sweeps": ",".join(sw.dim for sw in sc.sweeps),
        "verification": "every solution: Pyomo's own evaluation of every constraint <= 1e-8 relative; the "
                        "calibrated base: <= 1e-9 and the SAM rebuilt exactly",
    }


def _household_counts(parameters: pd.DataFrame | None, s: Structure, file) -> dict[str, float]:
    """Number of households of each group, from the parameter table's ``household_count`` rows."""
    if parameters is None:
        return {}
    out: dict[str, float] = {}
    for r in parameters[parameters["parameter"] == "household_count"].itertuples():
        if r.household not in s.households:
            raise InputError(unknown_label("household", r.household, s.households), file=file,
                             field="household_count", label=r.household)
        if not float(r.value) > 0:
            raise InputError(f"household_count of '{r.household}' is {r.value}; it must be positive", file=file,
                             field="household_count", label=r.household)
        out[r.household] = float(r.value)
    return out


def _sha256(path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
