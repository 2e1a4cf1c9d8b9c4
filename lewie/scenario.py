"""Scenario files: TOML, validated by pydantic (unknown keys are errors), paths relative to the file.

A scenario names the economy (a SAM), the household → village map, the market level at which each
good and tradable factor clears, the labour supply elasticity and the interventions. Labels are
checked against the economy later (`lewie.structure.build_structure`), where the economy is known.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import InputError, did_you_mean


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Markets(_Strict):
    """Market level at which each good and each tradable factor clears.

    ``village``: a price per village clears the village market (its net trade with the rest is fixed);
    ``zone``: one price clears the local economy's market (its net trade with the outside is fixed);
    ``world``: the price is fixed by outside markets and trade is free. Factors not listed here are
    fixed, activity-specific factors (land, capital, ...) with their own rents.
    """

    village: list[str] = []
    zone: list[str] = []
    world: list[str] = []


class LabourSupply(_Strict):
    """Elasticity of household labour supply to the wage: a number, or a table per household group.

    100 is practically perfectly elastic (the published default), 0 is fixed supply.
    """

    elasticity: float | dict[str, float] = 100.0


class InputBudget(_Strict):
    """Purchased inputs bought with a fixed budget (liquidity constraint) instead of by the
    first-order condition. Defaults to every household group that uses the factors."""

    factors: list[str]
    households: list[str] | None = None


class _Intervention(_Strict):
    cost: float | None = Field(default=None, ge=0, description="Multiplier denominator; defaults to the value transferred.")


class CashTransfer(_Intervention):
    """Cash from outside the local economy, added to the beneficiaries' exogenous income.

    ``amount`` is the total (SAM units), shared among the listed groups in proportion to their base
    income unless ``shares`` says otherwise. ``input_budget_share`` of it relaxes the purchased-input
    budget constraint of the beneficiaries.
    """

    kind: Literal["cash_transfer"]
    households: list[str] = Field(min_length=1)
    amount: float = Field(ge=0)
    shares: dict[str, float] | None = None
    input_budget_share: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _shares_cover_households(self):
        if self.shares is not None:
            missing = set(self.households) - set(self.shares)
            extra = set(self.shares) - set(self.households)
            if missing or extra:
                raise ValueError(f"shares must name exactly the households {self.households}")
            if any(s < 0 for s in self.shares.values()):
                raise ValueError("shares must be non-negative")
        return self


Intervention = Annotated[Union[CashTransfer], Field(discriminator="kind")]


class Scenario(_Strict):
    """One scenario: an economy, its closure and the interventions to simulate."""

    name: str
    sam: Path
    villages: dict[str, list[str]] = Field(min_length=1)
    markets: Markets
    labour_supply: LabourSupply = LabourSupply()
    input_budget: InputBudget | None = None
    interventions: list[Intervention] = []
    source: Path | None = Field(default=None, exclude=True, description="File the scenario was read from.")

    def cost(self) -> float:
        """Total cost of the interventions (the multipliers' denominator)."""
        return sum(i.cost if i.cost is not None else i.amount for i in self.interventions)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; relative paths are resolved against its folder."""
    path = Path(path)
    if not path.exists():
        raise InputError("scenario file not found", file=path)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=path) from None
    return scenario_from_dict(data, base=path.parent, source=path, text=text)


def scenario_from_dict(data: dict, *, base: Path | None = None, source: Path | None = None,
                       text: str | None = None) -> Scenario:
    """Validate a scenario given as a dict (paths relative to ``base``)."""
    data = dict(data)
    if base is not None and "sam" in data and isinstance(data["sam"], str):
        data["sam"] = (base / data["sam"]).resolve()
    try:
        return Scenario.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise InputError(_explain(exc, text), file=source) from None


def _explain(exc: ValidationError, text: str | None) -> str:
    """One readable message per validation problem: the key path, its line, the closest valid key."""
    lines = []
    for err in exc.errors():
        raw = list(err["loc"])
        loc = [p for p in raw if not (isinstance(p, str) and p in _INTERVENTION_KINDS)]
        key = _format_loc(loc)
        where = _line_of(text, loc)
        if err["type"] == "extra_forbidden":
            parent = _model_at(raw[:-1])
            hint = did_you_mean(str(loc[-1]), parent.model_fields) if parent else ""
            lines.append(f"unknown key '{key}'{where}{hint}")
        elif err["type"] == "union_tag_invalid":
            kinds = ", ".join(sorted(_INTERVENTION_KINDS))
            tag = err.get("ctx", {}).get("tag", "?")
            lines.append(f"'{key}.kind'{where}: unknown intervention kind '{tag}'"
                         f"{did_you_mean(tag, _INTERVENTION_KINDS)}; valid: {kinds}")
        elif err["type"] == "missing":
            lines.append(f"missing key '{key}'")
        else:
            lines.append(f"'{key}'{where}: {err['msg']}")
    return "; ".join(lines)


_INTERVENTION_KINDS = {m.model_fields["kind"].annotation.__args__[0]: m for m in (CashTransfer,)}


def _format_loc(loc) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _model_at(loc) -> type[BaseModel] | None:
    """The pydantic model a location points into (for 'did you mean' on unknown keys)."""
    model: type[BaseModel] | None = Scenario
    for p in loc:
        if isinstance(p, int):
            continue
        if p in _INTERVENTION_KINDS:
            model = _INTERVENTION_KINDS[p]
            continue
        field = model.model_fields.get(p) if model else None
        if field is None:
            return None
        ann = field.annotation
        model = next((a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)
                      and issubclass(a, BaseModel)), None)
        if p == "interventions":
            model = None
    return model


def _line_of(text: str | None, loc) -> str:
    if not text:
        return ""
    keys = [p for p in loc if isinstance(p, str)]
    if not keys:
        return ""
    pattern = re.compile(rf"^\s*\"?{re.escape(keys[-1])}\"?\s*=", re.MULTILINE)
    m = pattern.search(text)
    return f" (line {text.count(chr(10), 0, m.start()) + 1})" if m else ""
