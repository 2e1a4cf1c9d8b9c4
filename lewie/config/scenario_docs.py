"""The scenario file reference (docs/scenario.md), generated from the pydantic schema of `lewie.config.scenario`.

Every key of every table, and of every intervention kind in `lewie.config.scenario.INTERVENTION_KINDS`, with
its type, default, constraints and meaning (the field's ``description``); examples are quoted from
the bundled scenarios (``scenarios/*.toml``). A field or intervention kind added to the schema
appears here by itself. Regenerate with::

    python -m lewie.config.scenario_docs > docs/scenario.md

`tests/test_scenario_docs.py` checks that the committed file is current.
"""
from __future__ import annotations

import re
import sys
import types
import typing
from pathlib import Path

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lewie.config import scenario as S
from lewie.config.intervention_kinds import KIND_MODELS

ROOT = Path(__file__).resolve().parents[2]  # the repository (lewie/config/scenario_docs.py)
SCENARIOS = ROOT / "scenarios"
EXAMPLE = "example_village.toml"


def _type_name(ann) -> str:
    """A field's type in words: number, whole number, string, list of strings, table of numbers, ..."""
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        parts = [a for a in args if a is not type(None)]
        if all(isinstance(a, type) and issubclass(a, BaseModel) and "kind" in a.model_fields for a in parts):
            return "list of intervention tables"
        return " or ".join(dict.fromkeys(_type_name(a) for a in parts))
    if origin is typing.Literal:
        return "one of " + ", ".join(f'"{a}"' for a in args)
    if origin in (list, tuple):
        inner = _type_name(args[0] if args else str)
        return inner if inner == "list of intervention tables" else f"list of {_plural(inner)}"
    if origin is dict:
        return f"table of {_plural(_type_name(args[1]))}"
    if ann is float:
        return "number"
    if ann is int:
        return "whole number"
    if ann is bool:
        return "true or false"
    if ann is str:
        return "string"
    if isinstance(ann, type) and issubclass(ann, Path):
        return "path"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"table ({ann.__name__})"
    return str(ann)


def _plural(name: str) -> str:
    if name.startswith(("list", "table", "one of")) or " or " in name:
        return name
    return {"true or false": "true/false values", "whole number": "whole numbers"}.get(name, name + "s")


def _constraints(field) -> list[str]:
    """Range and length constraints of a field, from its metadata and its annotated type."""
    metas = list(field.metadata)
    stack = [field.annotation]
    while stack:
        ann = stack.pop()
        origin, args = typing.get_origin(ann), typing.get_args(ann)
        if origin is typing.Annotated:
            metas.extend(args[1:])
            stack.append(args[0])
        elif origin in (typing.Union, types.UnionType, dict, list):
            stack.extend(args)
    out = []
    for m in metas:
        if isinstance(m, FieldInfo):  # Annotated[float, Field(ge=0)]
            metas.extend(m.metadata)
            continue
        for cls, sym, attr in ((at.Ge, "≥", "ge"), (at.Gt, ">", "gt"), (at.Le, "≤", "le"), (at.Lt, "<", "lt")):
            if isinstance(m, cls):
                out.append(f"{sym} {getattr(m, attr):g}")
        if isinstance(m, at.MinLen) and m.min_length:
            out.append("not empty" if m.min_length == 1 else f"at least {m.min_length} entries")
        if getattr(m, "allow_inf_nan", True) is False:
            out.append("finite")
    return list(dict.fromkeys(out))


def _default(field) -> str:
    if field.is_required():
        return "required"
    d = field.default
    if d is PydanticUndefined or d is None:
        return "—"
    if isinstance(d, BaseModel):
        return "see the table"
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, str):
        return f'`"{d}"`'
    if isinstance(d, (list, tuple, dict)) and not d:
        return "`[]`" if not isinstance(d, dict) else "`{}`"
    return f"`{d}`"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def field_table(model: type[BaseModel], *, skip: tuple[str, ...] = ()) -> str:
    """A Markdown table of a model's keys: key, type, default, meaning (with constraints)."""
    rows = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, f in model.model_fields.items():
        if name in skip or f.exclude:
            continue
        cons = _constraints(f)
        meaning = (f.description or "").strip()
        if cons:
            meaning += f" ({', '.join(cons)})"
        rows.append(f"| `{name}` | {_cell(_type_name(f.annotation))} | {_default(f)} | {_cell(meaning)} |")
    return "\n".join(rows)


def _doc(model: type[BaseModel]) -> str:
    return " ".join((model.__doc__ or "").split())


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")


def _blocks(text: str) -> list[tuple[str, str]]:
    """A TOML file's tables as (header name, text of the block)."""
    lines = text.splitlines()
    starts = [(n, m.group(1)) for n, line in enumerate(lines) if (m := _HEADER.match(line))]
    out = []
    for k, (n, name) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        block = "\n".join(lines[n:end]).rstrip()
        out.append((name, block))
    return out


def _example(kind: str | None = None, table: str | None = None) -> tuple[str, str] | None:
    """The first block of a bundled scenario that is an intervention of ``kind`` or the table ``table``."""
    for path in sorted(SCENARIOS.glob("*.toml")):
        for name, block in _blocks(path.read_text(encoding="utf-8")):
            if kind is not None and name == "interventions" and re.search(
                    rf'^\s*kind\s*=\s*"{re.escape(kind)}"', block, re.M):
                return path.name, block
            if table is not None and name == table:
                return path.name, block
    return None


def _quote(found: tuple[str, str] | None) -> str:
    if found is None:
        return "_No bundled scenario uses it yet._"
    file, block = found
    return f"From `scenarios/{file}`:\n\n```toml\n{block}\n```"


def render() -> str:
    """docs/scenario.md."""
    sc = S.Scenario
    tables = [(n, f) for n, f in sc.model_fields.items() if not f.exclude and n != "sweeps"]
    nested = []
    for n, f in tables:
        model = next((a for a in _members(f.annotation) if isinstance(a, type) and issubclass(a, BaseModel)
                      and "kind" not in a.model_fields), None)
        if model is not None:
            nested.append((n, model))
    out = [
        "# Scenario file reference",
        "",
        "<!-- Generated by `python -m lewie.config.scenario_docs > docs/scenario.md` from the pydantic schema in "
        "lewie/config/scenario.py; do not edit by hand (tests/test_scenario_docs.py checks it is current). -->",
        "",
        " ".join((S.__doc__ or "").split("\n\n")[0].split()),
        "",
        "Rules that hold for every key:",
        "",
        "- Unknown keys are errors (with the closest valid key suggested).",
        "- Numbers are TOML integers or floats, finite: `true`, `\"480\"`, `nan` and `inf` are refused, "
        "never read as numbers.",
        "- Paths are relative to the scenario file. The file must be UTF-8 text.",
        "- A number of the labour supply elasticity or of an intervention given as a list "
        "(`elasticity = [0, 1, 100]`) is a sensitivity sweep: the results get a dim named after it "
        "and every value is validated.",
        "- Every variant's total cost (the multipliers' denominator) must be positive.",
        "- Labels (households, goods, factors, activities) are checked against the economy before "
        "anything is solved.",
        "",
        "## Top-level keys",
        "",
        field_table(sc, skip=("sweeps",)),
        "",
        f"A whole scenario (`scenarios/{EXAMPLE}`):",
        "",
        "```toml",
        (SCENARIOS / EXAMPLE).read_text(encoding="utf-8").rstrip() if (SCENARIOS / EXAMPLE).exists() else "",
        "```",
    ]
    for name, model in nested:
        out += ["", f"## [{name}]", "", _doc(model), "", field_table(model), "", _quote(_example(table=name))]
    out += ["", "## [[interventions]]", "",
            "Each `[[interventions]]` block has a `kind`, one of: "
            + ", ".join(f"`{k}`" for k in KIND_MODELS) + ". Keys of every kind:", ""]
    for kind, model in KIND_MODELS.items():
        out += [f"### kind = \"{kind}\"", "", _doc(model), "", field_table(model), "", _quote(_example(kind=kind)), ""]
    out += ["## [variants]", "",
            _cell(sc.model_fields["variants"].description or ""),
            "Each key is a variant's name, its value the list of the interventions' names it runs together.",
            "", _quote(_example(table="variants")), ""]
    return "\n".join(out).rstrip() + "\n"


def _members(ann):
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Annotated:
        return _members(args[0])
    if origin in (typing.Union, types.UnionType):
        return [m for a in args for m in _members(a)]
    return [ann]


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(render())
