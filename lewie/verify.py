"""Independent verification of a solution: every Pyomo constraint evaluated by Pyomo itself."""
from __future__ import annotations

import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr import numeric_expr as ne

from .errors import SolveError

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


def _labels(con) -> str:
    comp = con.parent_component()
    idx = con.index()
    if idx is None:
        return ""
    idx = idx if isinstance(idx, tuple) else (idx,)
    dims = INDEX_DIMS.get(comp.index_set().name, tuple(f"i{k}" for k in range(len(idx))))
    return ", ".join(f"{d}={v}" for d, v in zip(dims, idx))


def _scale(con) -> float:
    body = con.body
    terms = body.args if isinstance(body, ne.SumExpression) else (body,)
    upper = abs(pyo.value(con.upper)) if con.upper is not None else 0.0
    return max(1.0, upper, *(abs(pyo.value(t)) for t in terms))


def residual_table(model: pyo.Block) -> pd.DataFrame:
    """Residual of every active constraint, with its labels and its scale, worst first."""
    rows = []
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        try:
            res = pyo.value(con.body) - pyo.value(con.upper)
            scale = _scale(con)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            res, scale = float("nan"), 1.0
        rows.append((con.parent_component().name, _labels(con), res, scale))
    df = pd.DataFrame(rows, columns=["equation", "labels", "residual", "scale"])
    df["relative"] = (df["residual"].abs() / df["scale"]).fillna(float("inf"))
    return df.sort_values("relative", ascending=False, kind="stable").reset_index(drop=True)


def format_residuals(table: pd.DataFrame, n: int = 8) -> str:
    head = table.head(n)
    lines = [f"  {r.equation}[{r.labels}]: residual {r.residual:.3g} (relative {r.relative:.3g})"
             for r in head.itertuples()]
    return "\n".join(lines)


def verify(model: pyo.Block, *, tol: float = 1e-8, what: str = "solution") -> pd.DataFrame:
    """Raise SolveError naming the worst equations unless every relative residual is ≤ tol."""
    table = residual_table(model)
    worst = table["relative"].iloc[0] if len(table) else 0.0
    if not worst <= tol:
        raise SolveError(f"{what} does not satisfy the model: worst relative residual {worst:.3g} > {tol:g}\n"
                         + format_residuals(table), report=table)
    return table
