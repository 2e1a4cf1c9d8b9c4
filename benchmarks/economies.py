"""A synthetic LEWIE economy the size of the published Myanmar study, and six programme shocks.

Five household groups in two villages, eight goods (one of them the outside good) and four factors
(labour, land, capital, purchased inputs). The numbers are invented but plausible (thousands of local
currency per year); the constants below are the source of every number. `benchmark_sam()` returns the
SAM in lewie's format (see sam/README.md), `benchmark_scenario(folder)` writes it with its scenario
and returns the validated `Scenario`, `SHOCKS` are the six programme variants, applied to a parameter
vector by `apply_shock`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lewie.sam.shares import EconomyShares, sam_from_shares

HOUSEHOLDS = ["landless", "smallholder", "largeholder", "fishers", "traders"]
VILLAGES = {"upland": ["landless", "smallholder", "largeholder"], "river": ["fishers", "traders"]}
GOODS = ["maize", "rice", "livestock", "fish", "crafts", "retail", "services", "outside"]
FACTORS = ["labor", "land", "capital", "inputs"]
MARKETS = {"village": ["crafts", "retail", "services", "labor"], "zone": ["livestock", "fish"],
           "world": ["maize", "rice", "outside", "inputs"]}
# output by activity (good, household group)
OUTPUT = {("crafts", "landless"): 500, ("services", "landless"): 300, ("livestock", "landless"): 200,
          ("maize", "smallholder"): 3000, ("rice", "smallholder"): 2000, ("livestock", "smallholder"): 800,
          ("crafts", "smallholder"): 300, ("maize", "largeholder"): 9000, ("rice", "largeholder"): 7000,
          ("livestock", "largeholder"): 3000, ("retail", "largeholder"): 1500, ("fish", "fishers"): 4000,
          ("crafts", "fishers"): 400, ("services", "fishers"): 600, ("retail", "traders"): 6000,
          ("services", "traders"): 1800, ("fish", "traders"): 500}
# intermediate input shares of output, by activity good
INTERMEDIATE = {"maize": {"maize": 0.04, "outside": 0.12}, "rice": {"rice": 0.05, "outside": 0.15},
                "livestock": {"maize": 0.10, "outside": 0.05}, "fish": {"outside": 0.10},
                "crafts": {"livestock": 0.05, "outside": 0.20}, "retail": {"retail": 0.02, "outside": 0.55},
                "services": {"outside": 0.15}}
# factor shares of value added, by activity good
FACTOR_SHARE = {"maize": {"labor": 0.45, "land": 0.25, "capital": 0.10, "inputs": 0.20},
                "rice": {"labor": 0.50, "land": 0.25, "capital": 0.05, "inputs": 0.20},
                "livestock": {"labor": 0.40, "capital": 0.45, "inputs": 0.15},
                "fish": {"labor": 0.55, "capital": 0.40, "inputs": 0.05},
                "crafts": {"labor": 0.70, "capital": 0.30},
                "retail": {"labor": 0.45, "capital": 0.55},
                "services": {"labor": 0.60, "capital": 0.40}}
INCOME = {"landless": 6000, "smallholder": 9000, "largeholder": 16000, "fishers": 7000, "traders": 12000}
BUDGET = {
    "landless": {"maize": .20, "rice": .22, "livestock": .05, "fish": .08, "crafts": .05, "retail": .15,
                 "services": .05, "outside": .20},
    "smallholder": {"maize": .12, "rice": .18, "livestock": .07, "fish": .08, "crafts": .05, "retail": .18,
                    "services": .07, "outside": .25},
    "largeholder": {"maize": .06, "rice": .10, "livestock": .10, "fish": .08, "crafts": .06, "retail": .20,
                    "services": .10, "outside": .30},
    "fishers": {"maize": .10, "rice": .20, "livestock": .05, "fish": .06, "crafts": .06, "retail": .18,
                "services": .07, "outside": .28},
    "traders": {"maize": .06, "rice": .12, "livestock": .08, "fish": .08, "crafts": .06, "retail": .15,
                "services": .12, "outside": .33}}
LEAK = {"landless": {"savings": 0.01, "transfers": 0.01, "spending": 0.03},
        "smallholder": {"savings": 0.04, "transfers": 0.02, "spending": 0.05},
        "largeholder": {"savings": 0.10, "transfers": 0.03, "spending": 0.08},
        "fishers": {"savings": 0.03, "transfers": 0.02, "spending": 0.05},
        "traders": {"savings": 0.12, "transfers": 0.03, "spending": 0.10}}
# labour supplied by each group, as a share of the labour its village uses (≠ 1 in total: net trade)
LABOUR_SPLIT = {"landless": 0.45, "smallholder": 0.35, "largeholder": 0.15, "fishers": 0.60, "traders": 0.30}
ELASTICITY = {"landless": 100.0, "smallholder": 100.0, "largeholder": 2.0, "fishers": 100.0, "traders": 5.0}
FIXED = ("land", "capital")


def benchmark_sam() -> pd.DataFrame:
    """The SAM of the benchmark economy (balanced; net trade with the outside closes each account)."""
    return _sam(HOUSEHOLDS, VILLAGES, OUTPUT, INCOME, BUDGET, LEAK, LABOUR_SPLIT)


def _sam(households, villages, output, income, budget, leak, labour_split) -> pd.DataFrame:
    """A balanced SAM from the constants' layout (see `benchmark_sam`; `scaled_economy` for a larger one),
    built by `lewie.sam.shares.sam_from_shares`: each village supplies the sum of its groups' labour split
    times the labour its activities use, split across its groups in proportion to it."""
    village_of = {h: v for v, hs in villages.items() for h in hs}
    economy = EconomyShares(
        output=dict(output), input_shares={(g, h): INTERMEDIATE[g] for g, h in output},
        factor_shares={(g, h): FACTOR_SHARE[g] for g, h in output},
        income={h: float(income[h]) for h in households}, budget_shares=budget, leakage_rates=leak,
        factor_kinds={f: "fixed" if f in FIXED else "input" if f == "inputs" else "labour" for f in FACTORS},
        village_of=village_of, labour_weights=labour_split,
        labour_total={v: sum(labour_split[h] for h in hs) for v, hs in villages.items()})
    sam = sam_from_shares(economy, goods=GOODS, factors=FACTORS, households=households)
    return sam.rename_axis(index=None, columns=None)


def scaled_economy(copies: int = 8, village_pairs: int = 2) -> tuple[pd.DataFrame, dict, tuple]:
    """A larger economy built the same way: ``copies`` copies of the five groups (5·copies groups) in
    2·``village_pairs`` villages; copy i of a group is named ``<group>_<i>``, lives in village
    ``upland_<i mod pairs>`` or ``river_<i mod pairs>``, and has output and income scaled by
    1 + 0.05·i (so the copies differ). Labour is split as in the benchmark economy, among the copies
    sharing a village. Returns the SAM, the scenario (as a dict, like `scenario_dict`) and the six
    `SHOCKS` aimed at copy 0. ``scaled_economy(8, 2)``: 40 groups, 4 villages.
    """
    households, villages, output, income, budget, leak, split = [], {}, {}, {}, {}, {}, {}
    per_village = {}
    for i in range(copies):
        for v, hs in VILLAGES.items():
            per_village[f"{v}_{i % village_pairs}"] = per_village.get(f"{v}_{i % village_pairs}", 0) + 1
    for i in range(copies):
        f = 1.0 + 0.05 * i
        for v, hs in VILLAGES.items():
            vname = f"{v}_{i % village_pairs}"
            for h in hs:
                name = f"{h}_{i}"
                households.append(name)
                villages.setdefault(vname, []).append(name)
                income[name] = INCOME[h] * f
                budget[name], leak[name] = BUDGET[h], LEAK[h]
                split[name] = LABOUR_SPLIT[h] / per_village[vname]
        for (g, h), qp in OUTPUT.items():
            output[g, f"{h}_{i}"] = qp * f
    sam = _sam(households, villages, output, income, budget, leak, split)
    scenario = {"name": f"scaled benchmark economy ({len(households)} household groups, {len(villages)} villages)",
                "sam": "sam.csv", "villages": villages, "markets": MARKETS,
                "labour_supply": {"elasticity": {h: ELASTICITY[h.rsplit("_", 1)[0]] for h in households}},
                "input_budget": {"factors": ["inputs"], "households": ["smallholder_0"]}}
    rename = {h: f"{h}_0" for h in HOUSEHOLDS} | {v: f"{v}_0" for v in VILLAGES}

    def moved(index):
        return tuple(rename.get(x, x) for x in index) if isinstance(index, tuple) else rename.get(index, index)

    shocks = tuple(Shock(sh.name, tuple((p, moved(ix), how, val) for p, ix, how, val in sh.changes)) for sh in SHOCKS)
    return sam, scenario, shocks


def scaled_scenario(folder: Path, copies: int = 8, village_pairs: int = 2):
    """Write the scaled economy's SAM into ``folder``; return its validated scenario and its shocks."""
    from lewie.sam.io import write_sam
    from lewie.config.scenario import scenario_from_dict
    sam, sc, shocks = scaled_economy(copies, village_pairs)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_sam(sam, folder / "sam.csv")
    return scenario_from_dict(sc, base=folder, source=folder / "scenario.toml"), shocks


def scenario_dict() -> dict:
    """The scenario of the benchmark economy (closure; no interventions: shocks are in `SHOCKS`)."""
    return {"name": "benchmark economy (5 household groups, 8 goods, 4 factors)", "sam": "sam.csv",
            "villages": VILLAGES, "markets": MARKETS, "labour_supply": {"elasticity": ELASTICITY},
            "input_budget": {"factors": ["inputs"], "households": ["smallholder"]}}


def benchmark_scenario(folder: Path):
    """Write the SAM and return the validated scenario (its SAM path inside ``folder``)."""
    from lewie.sam.io import write_sam
    from lewie.config.scenario import scenario_from_dict
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_sam(benchmark_sam(), folder / "sam.csv")
    return scenario_from_dict(scenario_dict(), base=folder, source=folder / "scenario.toml")


def benchmark_calibration():
    """Structure and calibration of the benchmark economy, without writing any file."""
    from lewie.model.calibration import calibrate
    from lewie.config.scenario import Scenario
    from lewie.model.sets import build_structure
    sam = benchmark_sam()
    scenario = Scenario.model_validate({**scenario_dict(), "sam": Path("sam.csv")})
    return sam, calibrate(sam, build_structure(sam, scenario))


@dataclass(frozen=True)
class Shock:
    """A programme variant: parameter changes, each ``(param, index, 'add' | 'mul', value)``."""

    name: str
    changes: tuple[tuple[str, object, str, float], ...]


SHOCKS = (
    Shock("transfer_landless", (("exogenous_income", "landless", "add", 600.0),)),
    Shock("transfer_smallholder", (("exogenous_income", "smallholder", "add", 900.0),
                                   ("input_budget", ("maize", "inputs", "smallholder"), "add", 100.0),
                                   ("input_budget", ("rice", "inputs", "smallholder"), "add", 80.0))),
    Shock("transfer_fishers", (("exogenous_income", "fishers", "add", 700.0),)),
    Shock("tfp_rice_smallholder", (("tfp", ("rice", "smallholder"), "mul", 1.10),)),
    Shock("land_largeholder_maize", (("fixed_factor", ("maize", "land", "largeholder"), "mul", 1.20),)),
    Shock("procurement_crafts", (("exogenous_demand", ("crafts", "upland"), "add", 200.0),)),
)


def apply_shock(P: np.ndarray, shock: Shock, positions: dict[str, dict]) -> np.ndarray:
    """A copy of parameter vectors P (..., k) with the shock applied.

    ``positions[param][index]`` is the position of a parameter in the compiled system's vector
    (`CompiledSystem.param_positions`).
    """
    out = np.array(P, dtype=float, copy=True)
    for param, index, how, value in shock.changes:
        j = positions[param][index]
        if how == "add":
            out[..., j] += value
        elif how == "mul":
            out[..., j] *= value
        else:
            raise ValueError(f"unknown change '{how}' in shock {shock.name}")
    return out
