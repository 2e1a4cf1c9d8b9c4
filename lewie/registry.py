"""The registry of the model's names: what every index set, variable and parameter is called, what
its dims are, and how each is labelled in reports (more in step 4 of issue 13).

A leaf module (it imports nothing of lewie), so the solvers, verification, results and exports can
all read it.
"""
from __future__ import annotations

# the dims of each index set of the model, so reports name households, goods, factors, villages
INDEX_DIMS = {
    "goods_h": ("good", "household"), "activities": ("good", "household"),
    "factor_uses": ("good", "factor", "household"), "fixed_uses": ("good", "factor", "household"),
    "budget_uses": ("good", "factor", "household"), "input_uses": ("good", "input", "household"),
    "consumption_pairs": ("good", "household"), "labour_pairs": ("factor", "household"),
    "households": ("household",), "goods": ("good",), "tradable_factors": ("factor",),
    "zone_goods": ("good",), "zone_factors": ("factor",), "village_goods_v": ("good", "village"),
    "village_factors_v": ("factor", "village"), "goods_v": ("good", "village"),
    "tradable_h": ("factor", "household"), "tradable_v": ("factor", "village"),
}


def constraint_labels(con) -> str:
    """The labels of one equation of the model, e.g. ``good=crops, household=eligible``."""
    comp = con.parent_component()
    idx = con.index()
    if idx is None:
        return ""
    idx = idx if isinstance(idx, tuple) else (idx,)
    dims = INDEX_DIMS.get(comp.index_set().name, tuple(f"i{k}" for k in range(len(idx))))
    return ", ".join(f"{d}={v}" for d, v in zip(dims, idx))
