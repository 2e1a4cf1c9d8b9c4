"""A parameter table to fill in: every drawable entry of an economy with the SAM's point estimate
and an empty standard error (`template`; `lewie params template SAM.csv --scenario S.toml --out
parameters.csv`). The table's format is described in docs/parameters.md.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from lewie.runs.sampling import DRAWN, LABELS, entry_keys, point_values

COLUMNS = LABELS + ["value", "se"]


def template(scenario, sam: str | Path | None = None) -> pd.DataFrame:
    """The parameter table of a scenario's economy (``sam``: another SAM file to use instead of the
    scenario's): one row per entry lewie can draw or read (`lewie.runs.sampling.entry_keys`: factor shares,
    budget shares, savings, transfer and outside-spending rates), ``value`` the SAM's calibrated value
    to full precision, ``se`` empty. The ``household_count`` rows of the scenario's own parameter
    table, if it has one, are kept (they are not in a SAM)."""
    from lewie.runs.stages import Simulation
    from lewie.config.scenario import Scenario, load_scenario
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    counts = None
    if sc.parameters is not None:
        from lewie.sam.workbook import read_parameters
        table = read_parameters(sc.parameters)
        counts = table[table["parameter"] == "household_count"]
    update = {"parameters": None, "interventions": [], "variants": None, "dashboard": None, "sweeps": ()}
    if sam is not None:
        update.update(sam=Path(sam).resolve(), workbook=None)
    sim = Simulation(sc.model_copy(update=update)).load().validate().calibrate()
    keys = entry_keys(sim.calibration)
    values = point_values(sim.calibration, keys)
    rows = [(*k, repr(float(v)), "") for k, v in zip(keys, values)]
    out = pd.DataFrame(rows, columns=COLUMNS)
    if counts is not None and len(counts):
        extra = counts.assign(value=counts["value"].map(lambda x: repr(float(x))),
                              se=counts["se"].map(lambda x: repr(float(x)) if float(x) else ""))
        out = pd.concat([out, extra[COLUMNS]], ignore_index=True)
    return out


def drawable(parameter: str) -> bool:
    """Whether lewie's sampler draws a parameter given a standard error (`lewie.runs.sampling.DRAWN`)."""
    return parameter in DRAWN


__all__ = ["template", "COLUMNS", "drawable"]
