"""The model's equations in readable form (Markdown with LaTeX), generated from the Pyomo model itself.

Each constraint block is listed with its doc string, its index set, how many equations it holds and
one instance rendered from the Pyomo expression tree, so the documentation cannot drift from the
model.
"""
from __future__ import annotations

import pyomo.environ as pyo
from pyomo.core.base.expression import ExpressionData
from pyomo.core.base.param import ParamData
from pyomo.core.base.var import VarData
from pyomo.core.expr import numeric_expr as ne
from pyomo.core.expr.relational_expr import EqualityExpression

from lewie.model.declaration import equation_components


def _name(comp) -> str:
    parent = comp.parent_component().name.replace("_", r"\_")
    idx = comp.index()
    if idx is None:
        return rf"\mathrm{{{parent}}}"
    idx = idx if isinstance(idx, tuple) else (idx,)
    sub = ",".join(str(i).replace("_", r"\_") for i in idx)
    return rf"\mathrm{{{parent}}}_{{\mathrm{{{sub}}}}}"


def to_latex(e) -> str:
    """LaTeX for a Pyomo expression (sums, products, quotients, powers, functions)."""
    if isinstance(e, (int, float)):
        return f"{e:g}"
    if isinstance(e, (VarData, ParamData)):
        return _name(e)
    if isinstance(e, ExpressionData):
        return to_latex(e.expr)
    if not getattr(e, "is_expression_type", lambda: False)():
        return f"{pyo.value(e):g}"
    if isinstance(e, EqualityExpression):
        return f"{to_latex(e.args[0])} = {to_latex(e.args[1])}"
    if isinstance(e, ne.SumExpression):
        out = ""
        for i, a in enumerate(e.args):
            if isinstance(a, ne.NegationExpression):
                out += f" - {_wrap(a.args[0], ne.SumExpression)}"
            elif isinstance(a, ne.MonomialTermExpression) and not a.args[0].__class__.__name__.startswith("NPV") \
                    and isinstance(a.args[0], (int, float)) and a.args[0] < 0:
                coef = -a.args[0]
                out += f" - {'' if coef == 1 else f'{coef:g}'}{to_latex(a.args[1])}"
            else:
                out += (" + " if i else "") + to_latex(a)
        return out
    if isinstance(e, (ne.ProductExpression, ne.MonomialTermExpression)):
        return r" \cdot ".join(_wrap(a, ne.SumExpression) for a in e.args)
    if isinstance(e, ne.DivisionExpression):
        return rf"\frac{{{to_latex(e.args[0])}}}{{{to_latex(e.args[1])}}}"
    if isinstance(e, ne.PowExpression):
        return rf"{_wrap(e.args[0], ne.ExpressionBase)}^{{{to_latex(e.args[1])}}}"
    if isinstance(e, ne.NegationExpression):
        return f"-{_wrap(e.args[0], ne.SumExpression)}"
    if isinstance(e, ne.UnaryFunctionExpression):
        return rf"\{e.getname()}\left({to_latex(e.args[0])}\right)"
    return str(e)


def _wrap(e, kinds) -> str:
    text = to_latex(e)
    return rf"\left({text}\right)" if isinstance(e, kinds) and not isinstance(e, (VarData, ParamData)) else text


def describe_equations(model: pyo.Block, *, fmt: str = "markdown") -> str:
    """Every equation block of the model: doc, index set, count, and one instance in LaTeX."""
    blocks = equation_components(model)
    if fmt == "latex":
        body = []
        for c in blocks:
            first = next(iter(c.values()), None)
            if first is not None:
                body.append(rf"% {c.name}: {c.doc}" + "\n" + rf"\begin{{equation}}{to_latex(first.expr)}\end{{equation}}")
        return "\n\n".join(body) + "\n"
    if fmt != "markdown":
        raise ValueError(f"fmt must be 'markdown' or 'latex', not {fmt!r}")
    lines = ["# LEWIE model equations", "",
             f"{len(blocks)} equation blocks, {sum(len(c) for c in blocks)} equations in "
             f"{sum(1 for _ in model.component_data_objects(pyo.Var))} variables "
             "(a square system; no objective). GAMS names in brackets.", ""]
    for c in blocks:
        first = next(iter(c.values()), None)
        lines += [f"## `{c.name}`", "", c.doc or "", "",
                  f"Defined over `{c.index_set().name}` ({len(c)} equations). Example instance:", ""]
        if first is not None:
            lines += ["$$", to_latex(first.expr), "$$", ""]
    return "\n".join(lines)
