"""docs/scenario.md is generated from the scenario schema and must be current; every key is documented."""
from pathlib import Path

import typing

from pydantic import BaseModel

from lewie.config import scenario as S
from lewie.config.intervention_kinds import INTERVENTION_KINDS
from lewie.config.settings import Sweep
from lewie.config.scenario_docs import field_table, render

DOC = Path(__file__).resolve().parent.parent / "docs" / "scenario.md"


def test_committed_scenario_reference_is_current():
    assert DOC.read_text(encoding="utf-8") == render(), \
        "docs/scenario.md is stale: run `python -m lewie.config.scenario_docs > docs/scenario.md`"


def _models():
    seen, todo = [], [S.Scenario, *INTERVENTION_KINDS]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.append(m)
        for f in m.model_fields.values():
            stack = [f.annotation]
            while stack:
                a = stack.pop()
                stack.extend(typing.get_args(a))
                if isinstance(a, type) and issubclass(a, BaseModel):
                    todo.append(a)
    return seen


def test_every_field_has_a_description_and_appears_in_the_reference():
    text = render()
    for model in _models():
        if model is Sweep:
            continue
        for name, f in model.model_fields.items():
            if f.exclude or name == "sweeps":
                continue
            assert f.description, f"{model.__name__}.{name} has no description"
            assert f"| `{name}` |" in text, f"{model.__name__}.{name} is not in the reference"


def test_a_new_field_appears_automatically():
    class Extra(BaseModel):
        currency: str = "USD"
        year: int | None = None

    Extra.model_fields["currency"].description = "Currency of the SAM."
    table = field_table(Extra)
    assert "| `currency` | string | `\"USD\"` | Currency of the SAM. |" in table
    assert "| `year` | whole number | — |" in table


def test_constraints_are_listed():
    text = render()
    assert "| `seed` | whole number | `0` |" in text and "(≥ 0)" in text
    assert "finite" in text
